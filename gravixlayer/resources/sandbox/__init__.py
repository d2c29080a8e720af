"""`client.sandbox`: sandboxes (`.sandboxes`) and the templates they start from (`.templates`), spec §8."""

from __future__ import annotations

from functools import cached_property

from ..._resource import AsyncAPIResource, SyncAPIResource
from .instance import AsyncFilesystem, AsyncSandboxInstance, Filesystem, SandboxInstance
from .sandboxes import AsyncSandboxes, Sandboxes
from .templates import AsyncTemplates, Templates

__all__ = [
    "Sandbox",
    "AsyncSandbox",
    "Sandboxes",
    "AsyncSandboxes",
    "Templates",
    "AsyncTemplates",
    "SandboxInstance",
    "AsyncSandboxInstance",
    "Filesystem",
    "AsyncFilesystem",
]


class Sandbox(SyncAPIResource):
    @cached_property
    def sandboxes(self) -> Sandboxes:
        return Sandboxes(self._client)

    @cached_property
    def templates(self) -> Templates:
        return Templates(self._client)


class AsyncSandbox(AsyncAPIResource):
    @cached_property
    def sandboxes(self) -> AsyncSandboxes:
        return AsyncSandboxes(self._client)

    @cached_property
    def templates(self) -> AsyncTemplates:
        return AsyncTemplates(self._client)
