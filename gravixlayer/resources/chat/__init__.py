"""`client.chat` (only `completions` lives under it)."""

from __future__ import annotations

from functools import cached_property

from ..._resource import AsyncAPIResource, SyncAPIResource
from .completions import AsyncCompletions, Completions

__all__ = ["Chat", "AsyncChat", "Completions", "AsyncCompletions"]


class Chat(SyncAPIResource):
    @cached_property
    def completions(self) -> Completions:
        return Completions(self._client)


class AsyncChat(AsyncAPIResource):
    @cached_property
    def completions(self) -> AsyncCompletions:
        return AsyncCompletions(self._client)
