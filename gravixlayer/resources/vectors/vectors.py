"""`client.vectors.index(id)`: the vectors of one index, as a sync and an async resource (spec §6.2).

The two classes are facades: every method checks nothing itself and builds no request; it hands the
`Step` from `_steps` (which uses `_inputs` to check and batch what the caller gave) to its client,
and the async twin only awaits. The names this module exported before the split (limits, input
types, `as_embedding`, `fetch_step`, ...) are still importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from ..._base_client import AsyncAPIClient, SyncAPIClient
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import RequestOptions
from ..._validation import require_str
from ...types.vectors import (
    BatchUpsertResponse,
    SearchResponse,
    TextVector,
    Vector,
    VectorDeleteResponse,
    VectorIdList,
    VectorList,
)
from ._inputs import (
    FETCH_IDS_PER_REQUEST,
    FETCH_URL_BUDGET,
    MAX_BATCH_BYTES,
    MAX_BATCH_VECTORS,
    MAX_DELETE_IDS,
    MAX_TOP_K,
    TextInput,
    VectorInput,
    as_embedding,
    fetch_chunks,
    ids_argument,
)
from ._steps import (
    delete_all_step,
    delete_step,
    fetch_step,
    get_step,
    list_ids_step,
    list_step,
    search_request,
    search_step,
    search_text_request,
    update_step,
    upsert_dataframe_step,
    upsert_many_step,
    upsert_step,
    upsert_text_many_step,
    upsert_text_step,
)

__all__ = [
    "IndexVectors",
    "AsyncIndexVectors",
    "MAX_BATCH_VECTORS",
    "MAX_BATCH_BYTES",
    "MAX_TOP_K",
    "MAX_DELETE_IDS",
    "FETCH_IDS_PER_REQUEST",
    "FETCH_URL_BUDGET",
    "VectorInput",
    "TextInput",
    "as_embedding",
    "fetch_chunks",
    "fetch_step",
    "list_step",
    "delete_all_step",
]


class _Bound:
    index_id: str

    def __repr__(self) -> str:
        return f"<{type(self).__name__} index_id={self.index_id!r}>"


class IndexVectors(_Bound, SyncAPIResource):
    """The vectors of one index: `client.vectors.index(index_id)`."""

    def __init__(self, client: SyncAPIClient, index_id: str) -> None:
        super().__init__(client)
        self.index_id = require_str("index_id", index_id)

    def upsert(
        self,
        embedding: Any,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Insert or replace one vector (a list or numpy array); without `id` the server assigns one."""
        return self._client.run(upsert_step(self.index_id, embedding, id, metadata, delete_protection, options))

    def upsert_text(
        self,
        text: str,
        model: str,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> TextVector:
        """Embed `text` with `model` on the server and store it; without `id` the server assigns one."""
        return self._client.run(
            upsert_text_step(self.index_id, text, model, id, metadata, delete_protection, options)
        )

    def upsert_many(
        self,
        vectors: Iterable[VectorInput],
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert any number of vectors, split into requests the server accepts; `progress=True` shows tqdm.

        Items: `{"embedding", "id"?, "metadata"?}`, `(id, embedding[, metadata])` or a bare embedding.
        Items without an id get a UUID4; `.ids` lists every id written, in input order.
        """
        return self._client.run(upsert_many_step(self.index_id, vectors, batch_size, progress, options))

    def upsert_text_many(
        self,
        texts: Iterable[TextInput],
        model: str,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Embed and store any number of texts in server-sized batches; `.ids` lists the ids written.

        Items: a string, `{"text", "id"?, "metadata"?, "model"?}` or `(id, text[, metadata])`.
        """
        return self._client.run(
            upsert_text_many_step(self.index_id, texts, model, batch_size, progress, options)
        )

    def upsert_dataframe(
        self,
        df: Any,
        id_column: str | None = None,
        text_column: str | None = None,
        embedding_column: str | None = None,
        metadata_columns: Sequence[str] | None = None,
        model: str | None = None,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert the rows of a pandas DataFrame in batches (a progress bar in notebooks; `progress=`).

        Give `text_column=` (embedded on the server with `model=`) or `embedding_column=`; `id_column=`
        names the ids (missing ones get a UUID4). Metadata: `metadata_columns=`, or by default every
        `metadata.*` column, so a frame from `to_pandas(embeddings=True)` goes back unchanged.
        """
        return self._client.run(
            upsert_dataframe_step(
                self.index_id, df, id_column, text_column, embedding_column, metadata_columns, model,
                batch_size, progress, options,
            )  # fmt: skip
        )

    def batch_upsert(self, vectors: Iterable[VectorInput], **options: Unpack[RequestOptions]) -> BatchUpsertResponse:
        """The vendor SDK's name for `upsert_many` (split into server-sized batches as well)."""
        return self._client.run(upsert_many_step(self.index_id, vectors, MAX_BATCH_VECTORS, False, options))

    def batch_upsert_text(
        self, vectors: Iterable[Mapping[str, Any]], **options: Unpack[RequestOptions]
    ) -> BatchUpsertResponse:
        """The vendor SDK's form of `upsert_text_many`: items `{"text", "model", "id"?, "metadata"?}`."""
        return self._client.run(
            upsert_text_many_step(self.index_id, vectors, None, MAX_BATCH_VECTORS, False, options)
        )

    def search(
        self,
        embedding: Any = None,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        vector: Any = None,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """The `limit` (at most 1000) nearest vectors, best first.

        `filter` matches metadata: `{"k": v}` is equality, `{"k": [a, b]}` any of. `vector=` and
        `top_k=` (the wire names) are accepted for `embedding=` and `limit=`.
        """
        request = search_request(
            self.index_id, embedding, limit, filter, include_metadata, include_values, vector, top_k, options
        )
        return self._client.run(search_step(request))

    def search_text(
        self,
        query: str,
        model: str,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """Embed `query` with `model` on the server and search with it; `.usage` holds the tokens used."""
        request = search_text_request(
            self.index_id, query, model, limit, filter, include_metadata, include_values, top_k, options
        )
        return self._client.run(search_step(request))

    def get(self, id: str, **options: Unpack[RequestOptions]) -> Vector:
        """One vector with its embedding; `GravixLayerNotFoundError` when there is none."""
        return self._client.run(get_step(self.index_id, id, options))

    def list(self, vector_ids: Sequence[str] | None = None, **options: Unpack[RequestOptions]) -> VectorList:
        """Every vector of the index (or those in `vector_ids`), with embeddings and metadata, in a few requests."""
        ids = None if vector_ids is None else ids_argument(vector_ids)
        return self._client.run(list_step(self.index_id, ids, options))

    def list_ids(self, **options: Unpack[RequestOptions]) -> VectorIdList:
        """The ids of every vector of the index."""
        return self._client.run(list_ids_step(self.index_id, options))

    def update(
        self,
        id: str,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Replace a vector's metadata and/or switch its delete protection; returns the vector."""
        return self._client.run(update_step(self.index_id, id, metadata, delete_protection, options))

    def delete(self, ids: str | Iterable[str], **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete one vector or many (any number; sent in batches). Unknown ids are ignored."""
        return self._client.run(delete_step(self.index_id, ids_argument(ids), options))

    def batch_delete(self, vector_ids: Iterable[str], **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """The vendor SDK's name for deleting several vectors."""
        return self._client.run(delete_step(self.index_id, ids_argument(vector_ids), options))

    def delete_all(self, **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete every vector of the index (the index stays): lists ids and deletes until none remain."""
        return self._client.run(delete_all_step(self.index_id, options))


class AsyncIndexVectors(_Bound, AsyncAPIResource):
    """The vectors of one index: `client.vectors.index(index_id)`."""

    def __init__(self, client: AsyncAPIClient, index_id: str) -> None:
        super().__init__(client)
        self.index_id = require_str("index_id", index_id)

    async def upsert(
        self,
        embedding: Any,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Insert or replace one vector (a list or numpy array); without `id` the server assigns one."""
        return await self._client.run(upsert_step(self.index_id, embedding, id, metadata, delete_protection, options))

    async def upsert_text(
        self,
        text: str,
        model: str,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> TextVector:
        """Embed `text` with `model` on the server and store it; without `id` the server assigns one."""
        return await self._client.run(
            upsert_text_step(self.index_id, text, model, id, metadata, delete_protection, options)
        )

    async def upsert_many(
        self,
        vectors: Iterable[VectorInput],
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert any number of vectors, split into requests the server accepts; `progress=True` shows tqdm.

        Items: `{"embedding", "id"?, "metadata"?}`, `(id, embedding[, metadata])` or a bare embedding.
        Items without an id get a UUID4; `.ids` lists every id written, in input order.
        """
        return await self._client.run(upsert_many_step(self.index_id, vectors, batch_size, progress, options))

    async def upsert_text_many(
        self,
        texts: Iterable[TextInput],
        model: str,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Embed and store any number of texts in server-sized batches; `.ids` lists the ids written.

        Items: a string, `{"text", "id"?, "metadata"?, "model"?}` or `(id, text[, metadata])`.
        """
        return await self._client.run(
            upsert_text_many_step(self.index_id, texts, model, batch_size, progress, options)
        )

    async def upsert_dataframe(
        self,
        df: Any,
        id_column: str | None = None,
        text_column: str | None = None,
        embedding_column: str | None = None,
        metadata_columns: Sequence[str] | None = None,
        model: str | None = None,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert the rows of a pandas DataFrame in batches (a progress bar in notebooks; `progress=`).

        Give `text_column=` (embedded on the server with `model=`) or `embedding_column=`; `id_column=`
        names the ids (missing ones get a UUID4). Metadata: `metadata_columns=`, or by default every
        `metadata.*` column, so a frame from `to_pandas(embeddings=True)` goes back unchanged.
        """
        return await self._client.run(
            upsert_dataframe_step(
                self.index_id, df, id_column, text_column, embedding_column, metadata_columns, model,
                batch_size, progress, options,
            )  # fmt: skip
        )

    async def batch_upsert(
        self, vectors: Iterable[VectorInput], **options: Unpack[RequestOptions]
    ) -> BatchUpsertResponse:
        """The vendor SDK's name for `upsert_many` (split into server-sized batches as well)."""
        return await self._client.run(upsert_many_step(self.index_id, vectors, MAX_BATCH_VECTORS, False, options))

    async def batch_upsert_text(
        self, vectors: Iterable[Mapping[str, Any]], **options: Unpack[RequestOptions]
    ) -> BatchUpsertResponse:
        """The vendor SDK's form of `upsert_text_many`: items `{"text", "model", "id"?, "metadata"?}`."""
        return await self._client.run(
            upsert_text_many_step(self.index_id, vectors, None, MAX_BATCH_VECTORS, False, options)
        )

    async def search(
        self,
        embedding: Any = None,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        vector: Any = None,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """The `limit` (at most 1000) nearest vectors, best first.

        `filter` matches metadata: `{"k": v}` is equality, `{"k": [a, b]}` any of. `vector=` and
        `top_k=` (the wire names) are accepted for `embedding=` and `limit=`.
        """
        request = search_request(
            self.index_id, embedding, limit, filter, include_metadata, include_values, vector, top_k, options
        )
        return await self._client.run(search_step(request))

    async def search_text(
        self,
        query: str,
        model: str,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """Embed `query` with `model` on the server and search with it; `.usage` holds the tokens used."""
        request = search_text_request(
            self.index_id, query, model, limit, filter, include_metadata, include_values, top_k, options
        )
        return await self._client.run(search_step(request))

    async def get(self, id: str, **options: Unpack[RequestOptions]) -> Vector:
        """One vector with its embedding; `GravixLayerNotFoundError` when there is none."""
        return await self._client.run(get_step(self.index_id, id, options))

    async def list(self, vector_ids: Sequence[str] | None = None, **options: Unpack[RequestOptions]) -> VectorList:
        """Every vector of the index (or those in `vector_ids`), with embeddings and metadata, in a few requests."""
        ids = None if vector_ids is None else ids_argument(vector_ids)
        return await self._client.run(list_step(self.index_id, ids, options))

    async def list_ids(self, **options: Unpack[RequestOptions]) -> VectorIdList:
        """The ids of every vector of the index."""
        return await self._client.run(list_ids_step(self.index_id, options))

    async def update(
        self,
        id: str,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Replace a vector's metadata and/or switch its delete protection; returns the vector."""
        return await self._client.run(update_step(self.index_id, id, metadata, delete_protection, options))

    async def delete(self, ids: str | Iterable[str], **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete one vector or many (any number; sent in batches). Unknown ids are ignored."""
        return await self._client.run(delete_step(self.index_id, ids_argument(ids), options))

    async def batch_delete(
        self, vector_ids: Iterable[str], **options: Unpack[RequestOptions]
    ) -> VectorDeleteResponse:
        """The vendor SDK's name for deleting several vectors."""
        return await self._client.run(delete_step(self.index_id, ids_argument(vector_ids), options))

    async def delete_all(self, **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete every vector of the index (the index stays): lists ids and deletes until none remain."""
        return await self._client.run(delete_all_step(self.index_id, options))
