"""`client.sandbox`: sandboxes (`.sandboxes`), the templates they start from (`.templates`), spec §8,
and the vendor's `Sandbox` class (§8.10, also `from gravixlayer import Sandbox`).

`client.sandbox.create/list/get/kill` are shortcuts of `client.sandbox.sandboxes.*` (the spelling the
vendor's docs use); both spellings take the same arguments and return the same objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from typing_extensions import Unpack

from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import RequestOptions, TimedRequestOptions
from ...types.sandbox import SandboxKillResponse, SandboxList
from .facade import AsyncSandbox, Sandbox
from .instance import AsyncFilesystem, AsyncSandboxCreation, AsyncSandboxInstance, Filesystem, SandboxInstance
from .sandboxes import DEFAULT_TEMPLATE, AsyncSandboxes, Sandboxes
from .templates import AsyncTemplates, Templates

__all__ = [
    "Sandbox",
    "AsyncSandbox",
    "SandboxService",
    "AsyncSandboxService",
    "Sandboxes",
    "AsyncSandboxes",
    "Templates",
    "AsyncTemplates",
    "SandboxInstance",
    "AsyncSandboxInstance",
    "Filesystem",
    "AsyncFilesystem",
]


class SandboxService(SyncAPIResource):
    """`client.sandbox`."""

    @cached_property
    def sandboxes(self) -> Sandboxes:
        return Sandboxes(self._client)

    @cached_property
    def templates(self) -> Templates:
        return Templates(self._client)

    def create(
        self, provider: str | None = None, region: str | None = None, template: str = DEFAULT_TEMPLATE,
        name: str | None = None, timeout: int | None = None, env_vars: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None, *, internet_access: bool | None = None,
        agent_id: str | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Sandbox:  # fmt: skip
        """`client.sandbox.sandboxes.create(...)`: start a sandbox (a `with` block kills it on exit)."""
        return self.sandboxes.create(
            provider, region, template, name, timeout, env_vars, metadata,
            internet_access=internet_access, agent_id=agent_id, **options,
        )  # fmt: skip

    def list(self, limit: int = 100, offset: int = 0, **options: Unpack[RequestOptions]) -> SandboxList:
        """`client.sandbox.sandboxes.list(...)`: this key's sandboxes."""
        return self.sandboxes.list(limit, offset, **options)

    def get(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> Sandbox:
        """`client.sandbox.sandboxes.get(...)`: a sandbox by id."""
        return self.sandboxes.get(sandbox_id, **options)

    def kill(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxKillResponse:
        """`client.sandbox.sandboxes.kill(...)`: stop a sandbox."""
        return self.sandboxes.kill(sandbox_id, **options)


class AsyncSandboxService(AsyncAPIResource):
    """`client.sandbox` of the async client."""

    @cached_property
    def sandboxes(self) -> AsyncSandboxes:
        return AsyncSandboxes(self._client)

    @cached_property
    def templates(self) -> AsyncTemplates:
        return AsyncTemplates(self._client)

    def create(
        self, provider: str | None = None, region: str | None = None, template: str = DEFAULT_TEMPLATE,
        name: str | None = None, timeout: int | None = None, env_vars: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None, *, internet_access: bool | None = None,
        agent_id: str | None = None, **options: Unpack[TimedRequestOptions],
    ) -> AsyncSandboxCreation[AsyncSandbox]:  # fmt: skip
        """`client.sandbox.sandboxes.create(...)`: awaitable, and an async context manager that kills it."""
        return self.sandboxes.create(
            provider, region, template, name, timeout, env_vars, metadata,
            internet_access=internet_access, agent_id=agent_id, **options,
        )  # fmt: skip

    async def list(self, limit: int = 100, offset: int = 0, **options: Unpack[RequestOptions]) -> SandboxList:
        """`client.sandbox.sandboxes.list(...)`: this key's sandboxes."""
        return await self.sandboxes.list(limit, offset, **options)

    async def get(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> AsyncSandbox:
        """`client.sandbox.sandboxes.get(...)`: a sandbox by id."""
        return await self.sandboxes.get(sandbox_id, **options)

    async def kill(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxKillResponse:
        """`client.sandbox.sandboxes.kill(...)`: stop a sandbox."""
        return await self.sandboxes.kill(sandbox_id, **options)
