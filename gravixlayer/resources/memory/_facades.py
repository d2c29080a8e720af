"""`Memory` and `AsyncMemory`: the two thin twins over `_MemoryCore` (each method drives one `Step`)."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any

from typing_extensions import Unpack

from ..._base_client import AsyncAPIClient, SyncAPIClient
from ..._resource import wrap_public_methods
from ..._types import RequestOptions
from ...types.memory import MemoryAddResult, MemoryDeleteResult, MemoryItem, MemoryResults
from ._core import _MemoryCore

__all__ = ["Memory", "AsyncMemory"]


class _MemoryBase:
    _core: _MemoryCore

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_public_methods(cls)  # a misspelt keyword raises TypeError instead of vanishing into **options

    @property
    def embedding_model(self) -> str:
        return self._core.embedding_model

    @property
    def inference_model(self) -> str:
        return self._core.inference_model

    @property
    def index_name(self) -> str:
        return self._core.index_name

    @property
    def index_id(self) -> str | None:
        """The memory index's id once an operation has found or created it."""
        return self._core.index_id

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} index_name={self.index_name!r} embedding_model={self.embedding_model!r} "
            f"inference_model={self.inference_model!r}>"
        )


class Memory(_MemoryBase):
    """Long-term memories of users in the vector index `index_name` (created on first write)."""

    def __init__(
        self,
        client: SyncAPIClient,
        *,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool = False,
    ) -> None:
        self._client = client
        self._core = _MemoryCore(
            client, embedding_model=embedding_model, inference_model=inference_model, index_name=index_name,
            cloud_provider=cloud_provider, region=region, delete_protection=delete_protection,
        )  # fmt: skip

    def add(
        self,
        messages: str | Iterable[Mapping[str, Any]],
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        infer: bool = True,
        **options: Unpack[RequestOptions],
    ) -> MemoryAddResult:
        """Remember a statement, or what a conversation (`[{"role", "content"}, ...]`) says about the user.

        A string is stored as one factual memory. A conversation with `infer=True` is turned into
        atomic memories by the inference model (falling back to one episodic memory, with a logged
        warning, when its answer is unusable); with `infer=False` it is stored as one episodic memory.
        """
        return self._client.run(self._core.add(messages, user_id, metadata, infer, options))

    def search(
        self,
        query: str,
        user_id: str,
        limit: int = 10,
        threshold: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryResults:
        """The user's memories closest to `query`, best first; `threshold` drops those scoring below it."""
        return self._client.run(self._core.search(query, user_id, limit, threshold, options))

    def get(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryItem | None:
        """One memory of the user, or None when it does not exist or belongs to someone else.

        Cost: one `GET` of the vector, which carries its embedding (the wire cannot leave it out).
        """
        return self._client.run(self._core.get(memory_id, user_id, options))

    def get_all(self, user_id: str, limit: int | None = 100, **options: Unpack[RequestOptions]) -> MemoryResults:
        """The user's memories, newest first (at most `limit`; None for all). A listing, not a search.

        Cost: below 1000 memories of the user, one search filtered on the server that downloads their
        metadata only (about 0.4 KB a memory; no embeddings, nothing of other users). From 1000 on,
        every vector of the index is fetched with its embedding (the wire's fetch cannot leave values
        out): about 20 bytes per dimension per vector of the index, other users' included.
        """
        return self._client.run(self._core.get_all(user_id, limit, options))

    def update(
        self,
        memory_id: str,
        user_id: str,
        data: str,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryItem:
        """Replace a memory's text (re-embedded) and merge `metadata`; `GravixLayerNotFoundError` if not the user's.

        Cost: the ownership check `GET`s the vector with its embedding, then one text upsert.
        """
        return self._client.run(self._core.update(memory_id, user_id, data, metadata, options))

    def delete(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete one memory of the user; `GravixLayerNotFoundError` when it is not theirs or does not exist.

        Cost: the ownership check `GET`s the vector with its embedding, then one delete.
        """
        return self._client.run(self._core.delete(memory_id, user_id, options))

    def delete_all(self, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete every memory of the user, however many; other users' memories are untouched.

        Cost: rounds of what `get_all` downloads (then deletes in batches of 1000) until none remain.
        """
        return self._client.run(self._core.delete_all(user_id, options))


class AsyncMemory(_MemoryBase):
    """Long-term memories of users in the vector index `index_name` (created on first write)."""

    def __init__(
        self,
        client: AsyncAPIClient,
        *,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool = False,
    ) -> None:
        self._client = client
        self._core = _MemoryCore(
            client, embedding_model=embedding_model, inference_model=inference_model, index_name=index_name,
            cloud_provider=cloud_provider, region=region, delete_protection=delete_protection,
        )  # fmt: skip

    def __await__(self) -> Generator[Any, None, AsyncMemory]:
        """`await client.memory(...)` (the vendor's async form) gives the same object; nothing is sent."""
        return self._self().__await__()

    async def _self(self) -> AsyncMemory:
        return self

    async def add(
        self,
        messages: str | Iterable[Mapping[str, Any]],
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        infer: bool = True,
        **options: Unpack[RequestOptions],
    ) -> MemoryAddResult:
        """Remember a statement, or what a conversation (`[{"role", "content"}, ...]`) says about the user.

        A string is stored as one factual memory. A conversation with `infer=True` is turned into
        atomic memories by the inference model (falling back to one episodic memory, with a logged
        warning, when its answer is unusable); with `infer=False` it is stored as one episodic memory.
        """
        return await self._client.run(self._core.add(messages, user_id, metadata, infer, options))

    async def search(
        self,
        query: str,
        user_id: str,
        limit: int = 10,
        threshold: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryResults:
        """The user's memories closest to `query`, best first; `threshold` drops those scoring below it."""
        return await self._client.run(self._core.search(query, user_id, limit, threshold, options))

    async def get(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryItem | None:
        """One memory of the user, or None when it does not exist or belongs to someone else.

        Cost: one `GET` of the vector, which carries its embedding (the wire cannot leave it out).
        """
        return await self._client.run(self._core.get(memory_id, user_id, options))

    async def get_all(
        self, user_id: str, limit: int | None = 100, **options: Unpack[RequestOptions]
    ) -> MemoryResults:
        """The user's memories, newest first (at most `limit`; None for all). A listing, not a search.

        Cost: below 1000 memories of the user, one search filtered on the server that downloads their
        metadata only (about 0.4 KB a memory; no embeddings, nothing of other users). From 1000 on,
        every vector of the index is fetched with its embedding (the wire's fetch cannot leave values
        out): about 20 bytes per dimension per vector of the index, other users' included.
        """
        return await self._client.run(self._core.get_all(user_id, limit, options))

    async def update(
        self,
        memory_id: str,
        user_id: str,
        data: str,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryItem:
        """Replace a memory's text (re-embedded) and merge `metadata`; `GravixLayerNotFoundError` if not the user's.

        Cost: the ownership check `GET`s the vector with its embedding, then one text upsert.
        """
        return await self._client.run(self._core.update(memory_id, user_id, data, metadata, options))

    async def delete(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete one memory of the user; `GravixLayerNotFoundError` when it is not theirs or does not exist.

        Cost: the ownership check `GET`s the vector with its embedding, then one delete.
        """
        return await self._client.run(self._core.delete(memory_id, user_id, options))

    async def delete_all(self, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete every memory of the user, however many; other users' memories are untouched.

        Cost: rounds of what `get_all` downloads (then deletes in batches of 1000) until none remain.
        """
        return await self._client.run(self._core.delete_all(user_id, options))
