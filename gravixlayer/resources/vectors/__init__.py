"""The vector database: `client.vectors.indexes` (index CRUD) and `client.vectors.index(id)` (its vectors)."""

from __future__ import annotations

from functools import cached_property

from ..._resource import AsyncAPIResource, SyncAPIResource
from ...types.vectors import VectorIndex
from .indexes import AsyncIndexes, Indexes
from .vectors import AsyncIndexVectors, IndexVectors

__all__ = ["Vectors", "AsyncVectors", "Indexes", "AsyncIndexes", "IndexVectors", "AsyncIndexVectors"]


def _index_id(index: str | VectorIndex) -> str:
    return index.id if isinstance(index, VectorIndex) else index


class Vectors(SyncAPIResource):
    """`client.vectors`: `.indexes` manages indexes, `.index(id)` reaches one index's vectors."""

    @cached_property
    def indexes(self) -> Indexes:
        return Indexes(self._client)

    def index(self, index_id: str | VectorIndex) -> IndexVectors:
        """The vectors of one index (an id, or the `VectorIndex` that `indexes.create` returned). No request is sent."""
        return IndexVectors(self._client, _index_id(index_id))


class AsyncVectors(AsyncAPIResource):
    """`client.vectors`: `.indexes` manages indexes, `.index(id)` reaches one index's vectors."""

    @cached_property
    def indexes(self) -> AsyncIndexes:
        return AsyncIndexes(self._client)

    def index(self, index_id: str | VectorIndex) -> AsyncIndexVectors:
        """The vectors of one index (an id, or the `VectorIndex` that `indexes.create` returned). No request is sent."""
        return AsyncIndexVectors(self._client, _index_id(index_id))
