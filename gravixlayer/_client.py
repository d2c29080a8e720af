"""`GravixLayer` and `AsyncGravixLayer`: configuration plus one attribute per service.

Resources are created on first access (and their modules imported then), which keeps
`import gravixlayer` fast.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ._base_client import _NOT_GIVEN, AsyncAPIClient, SyncAPIClient, normalize_base_url
from ._constants import DEFAULT_MAX_RETRIES
from ._exceptions import GravixLayerValidationError
from ._types import TimeoutTypes

if TYPE_CHECKING:
    from .resources.accelerators import Accelerators, AsyncAccelerators
    from .resources.chat import AsyncChat, Chat
    from .resources.completions import AsyncCompletions, Completions
    from .resources.deployments import AsyncDeployments, Deployments
    from .resources.embeddings import AsyncEmbeddings, Embeddings
    from .resources.files import AsyncFiles, Files
    from .resources.memory import AsyncMemory, Memory
    from .resources.models import AsyncModels, Models
    from .resources.sandbox import AsyncSandboxService, SandboxService
    from .resources.templates import AsyncTemplates, Templates
    from .resources.vectors import AsyncVectors, Vectors

__all__ = ["GravixLayer", "AsyncGravixLayer"]


class GravixLayer(SyncAPIClient):
    """The synchronous client.

    `api_key` defaults to `GRAVIXLAYER_API_KEY`, `base_url` to `GRAVIXLAYER_BASE_URL` or
    `https://api.gravixlayer.com` (the seed's `.../v1/inference` form is accepted too). One pooled
    connection set serves every call; close it with `close()` or a `with` block.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = _NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        cloud: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )
        self.cloud = cloud
        self.region = region

    @cached_property
    def chat(self) -> Chat:
        from .resources.chat import Chat

        return Chat(self)

    @cached_property
    def completions(self) -> Completions:
        from .resources.completions import Completions

        return Completions(self)

    @cached_property
    def embeddings(self) -> Embeddings:
        from .resources.embeddings import Embeddings

        return Embeddings(self)

    @cached_property
    def models(self) -> Models:
        from .resources.models import Models

        return Models(self)

    @cached_property
    def files(self) -> Files:
        from .resources.files import Files

        return Files(self)

    @cached_property
    def deployments(self) -> Deployments:
        from .resources.deployments import Deployments

        return Deployments(self)

    @cached_property
    def accelerators(self) -> Accelerators:
        from .resources.accelerators import Accelerators

        return Accelerators(self)

    @cached_property
    def vectors(self) -> Vectors:
        from .resources.vectors import Vectors

        return Vectors(self)

    @cached_property
    def sandbox(self) -> SandboxService:
        from .resources.sandbox import SandboxService

        return SandboxService(self)

    @cached_property
    def templates(self) -> Templates:
        """Template builds (spec §9): `build`, `build_and_wait`, `get_build_status`, `list`, `get`, ..."""
        from .resources.templates import Templates

        return Templates(self)

    def memory(
        self,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool = False,
    ) -> Memory:
        """Long-term memory for users, stored as vectors in the index `index_name` (spec §7)."""
        from .resources.memory import Memory

        return Memory(
            self,
            embedding_model=embedding_model,
            inference_model=inference_model,
            index_name=index_name,
            cloud_provider=cloud_provider,
            region=region,
            delete_protection=delete_protection,
        )

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.Client | None = None,
        timeout: TimeoutTypes = _NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> GravixLayer:
        """A copy with other settings; it shares this client's connection pool unless given `http_client`.

        Closing the copy never closes the shared pool (the original owns it); `default_headers` are
        added to this client's.
        """
        clone: GravixLayer = _copy_with(
            self, api_key=api_key, base_url=base_url, http_client=http_client, timeout=timeout,
            max_retries=max_retries, default_headers=default_headers,
        )  # fmt: skip
        return clone

    def __enter__(self) -> GravixLayer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncGravixLayer(AsyncAPIClient):
    """The asynchronous client: the same services as `GravixLayer`, each method awaited."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = _NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        cloud: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )
        self.cloud = cloud
        self.region = region

    @cached_property
    def chat(self) -> AsyncChat:
        from .resources.chat import AsyncChat

        return AsyncChat(self)

    @cached_property
    def completions(self) -> AsyncCompletions:
        from .resources.completions import AsyncCompletions

        return AsyncCompletions(self)

    @cached_property
    def embeddings(self) -> AsyncEmbeddings:
        from .resources.embeddings import AsyncEmbeddings

        return AsyncEmbeddings(self)

    @cached_property
    def models(self) -> AsyncModels:
        from .resources.models import AsyncModels

        return AsyncModels(self)

    @cached_property
    def files(self) -> AsyncFiles:
        from .resources.files import AsyncFiles

        return AsyncFiles(self)

    @cached_property
    def deployments(self) -> AsyncDeployments:
        from .resources.deployments import AsyncDeployments

        return AsyncDeployments(self)

    @cached_property
    def accelerators(self) -> AsyncAccelerators:
        from .resources.accelerators import AsyncAccelerators

        return AsyncAccelerators(self)

    @cached_property
    def vectors(self) -> AsyncVectors:
        from .resources.vectors import AsyncVectors

        return AsyncVectors(self)

    @cached_property
    def sandbox(self) -> AsyncSandboxService:
        from .resources.sandbox import AsyncSandboxService

        return AsyncSandboxService(self)

    @cached_property
    def templates(self) -> AsyncTemplates:
        """Template builds (spec §9): `build`, `build_and_wait`, `get_build_status`, `list`, `get`, ..."""
        from .resources.templates import AsyncTemplates

        return AsyncTemplates(self)

    def memory(
        self,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool = False,
    ) -> AsyncMemory:
        """Long-term memory for users (spec §7); `await client.memory(...)` works too, as in the vendor SDK."""
        from .resources.memory import AsyncMemory

        return AsyncMemory(
            self,
            embedding_model=embedding_model,
            inference_model=inference_model,
            index_name=index_name,
            cloud_provider=cloud_provider,
            region=region,
            delete_protection=delete_protection,
        )

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: TimeoutTypes = _NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> AsyncGravixLayer:
        """A copy with other settings; it shares this client's connection pool unless given `http_client`.

        Closing the copy never closes the shared pool (the original owns it); `default_headers` are
        added to this client's.
        """
        clone: AsyncGravixLayer = _copy_with(
            self, api_key=api_key, base_url=base_url, http_client=http_client, timeout=timeout,
            max_retries=max_retries, default_headers=default_headers,
        )  # fmt: skip
        return clone

    async def __aenter__(self) -> AsyncGravixLayer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _copy_with(
    client: Any, *, api_key: str | None, base_url: str | None, http_client: Any, timeout: Any,
    max_retries: int | None, default_headers: Mapping[str, str] | None,
) -> Any:  # fmt: skip
    if api_key is not None and (not isinstance(api_key, str) or not api_key.strip()):
        raise GravixLayerValidationError("api_key must be a non-empty string")
    if max_retries is not None and max_retries < 0:
        raise GravixLayerValidationError(f"max_retries must be >= 0, got {max_retries}")
    clone = copy.copy(client)
    # Cached resources point at the original; drop them so the copy builds its own.
    for name in list(vars(clone)):
        if name in type(client).__dict__ and isinstance(type(client).__dict__[name], cached_property):
            del clone.__dict__[name]
    clone._owns_http = False
    if http_client is not None:
        clone._http = http_client
    if api_key is not None:
        clone._api_key = api_key
    if base_url is not None:
        clone.base_url = normalize_base_url(base_url)
    if timeout is not _NOT_GIVEN:
        clone.timeout = timeout
    if max_retries is not None:
        clone.max_retries = max_retries
    if default_headers is not None:
        clone._default_headers = {**client._default_headers, **default_headers}
    return clone
