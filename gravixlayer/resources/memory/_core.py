"""The one implementation of memory: the index, and every operation as a `Step` (`_MemoryCore`).

Every request is built by the vector steps (`vectors._steps`): memories are written with
`upsert_text_many_step` / `upsert_text_step`, searched with `search_text_request`, read with
`get_step`, listed with a metadata-only `search_request` (or `list_ids_step` + `fetch_step` from 1000
memories of one user on), and deleted with `delete_step`. What is
memory's own is the index, ownership (`user_id`) and the stored record form (`_records`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..._base_client import AsyncAPIClient, SyncAPIClient
from ..._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerConflictError,
    GravixLayerNotFoundError,
    GravixLayerResponseValidationError,
    GravixLayerValidationError,
)
from ..._parse import json_body, parse_model
from ..._request import APIRequest, Step
from ..._types import RequestOptions
from ..._validation import as_message_dicts, require_positive_int, require_str
from ...types.memory import MemoryAddResult, MemoryDeleteResult, MemoryEvent, MemoryItem, MemoryResults
from ...types.vectors import Vector, VectorIndex
from ..vectors._inputs import MAX_BATCH_VECTORS, MAX_TOP_K, fetch_chunks, top_k_of
from ..vectors._steps import (
    delete_step,
    fetch_step,
    get_step,
    list_ids_step,
    search_request,
    search_step,
    search_text_request,
    upsert_text_many_step,
    upsert_text_step,
)
from ..vectors.indexes import create_index_request, find_index_step, normalize_cloud_provider
from ._extraction import episodic, infer_step
from ._records import MAX_MEMORY_CHARS, Draft, caller_metadata, item, newest_first, now, record, revised

__all__ = ["_MemoryCore"]

log = logging.getLogger("gravixlayer.memory")

_MAX_DELETE_ROUNDS = 100


class _MemoryCore:
    """Configuration, the cached index id, and every operation as a `Step`."""

    def __init__(
        self,
        client: SyncAPIClient | AsyncAPIClient,
        *,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool,
    ) -> None:
        self.client = client
        self.embedding_model = require_str("embedding_model", embedding_model)
        self.inference_model = require_str("inference_model", inference_model)
        self.index_name = require_str("index_name", index_name)
        self.cloud_provider = normalize_cloud_provider(cloud_provider, client)
        self.region = require_str("region", region)
        self.delete_protection = bool(delete_protection)
        self.index_id: str | None = None
        self.dimension: int | None = None
        """The memory index's dimension, when the server said: `get_all` needs it for its metadata-only search."""

    # -- the index ---------------------------------------------------------------------------------


    def resolve_index(self, options: RequestOptions, *, create: bool) -> Step[str | None]:
        """The memory index's id: looked up once (all pages), created when `create` and missing."""
        if self.index_id is not None:
            return self.index_id
        found = yield from find_index_step(self.index_name, options)
        if found is None and create:
            found = yield from self._create_index(options)
        if found is not None:
            self.index_id, self.dimension = found.id, found.dimension
        return self.index_id

    def _forget_deleted_index(self, exc: GravixLayerNotFoundError) -> None:
        """A read found the cached index gone: it holds no memories; the next call looks it up again."""
        if exc.code == "model_not_found":
            raise exc
        self.index_id = None

    def _require_index(self, options: RequestOptions) -> Step[str]:
        index_id = yield from self.resolve_index(options, create=True)
        assert index_id is not None
        return index_id

    def _create_index(self, options: RequestOptions) -> Step[VectorIndex]:
        dimension = yield from self._model_dimension(options)
        request = create_index_request(
            self.client, name=self.index_name, dimension=dimension, metric="cosine",
            cloud_provider=self.cloud_provider, region=self.region, vector_type="dense", index_type="serverless",
            metadata={
                "type": "unified_memory_store", "embedding_model": self.embedding_model, "dimension": dimension,
                "created_at": now(), "description": "GravixLayer memory store (one vector per memory)",
            },
            delete_protection=self.delete_protection, options=options,
        )  # fmt: skip
        try:
            response = yield request
        except GravixLayerConflictError:
            # Created meanwhile by another process: use that one rather than a second index.
            found = yield from find_index_step(self.index_name, options)
            if found is None:
                raise
            return found
        index = parse_model(VectorIndex, response)
        if index.dimension is None:
            index.dimension = dimension  # the answer left it out; it is the one asked for
        log.info("created memory index %r (%s, %d dimensions)", self.index_name, index.id, dimension)
        return index

    def _model_dimension(self, options: RequestOptions) -> Step[int]:
        """The embedding model's dimension, asked of the model itself (tables go stale, D45)."""
        request = APIRequest("POST", "inference", "embeddings", options=options).with_body(
            {"model": self.embedding_model, "input": "dimension probe", "encoding_format": "float"}
        )
        response = yield request
        data = json_body(response)
        try:
            vector = data["data"][0]["embedding"]
        except (KeyError, IndexError, TypeError):
            vector = None
        if not isinstance(vector, list) or not vector:
            raise GravixLayerResponseValidationError(
                f"the embeddings answer for {self.embedding_model!r} holds no vector; cannot size the memory index",
                status_code=response.status_code, body=data, response=response,
            )  # fmt: skip
        return len(vector)

    def _write(self, index_id: str, records: list[dict[str, Any]], options: RequestOptions) -> Step[None]:
        """Store records through `text/batch`; each carries its id, so a retry rewrites the same memories."""
        result = yield from upsert_text_many_step(index_id, records, None, MAX_BATCH_VECTORS, False, options)
        if result.failed_count or result.upserted_count < len(records):
            raise GravixLayerBadRequestError(
                f"the server stored {result.upserted_count} of {len(records)} memories: {result.errors}",
                request_id=result.request_id,
            )

    # -- add ---------------------------------------------------------------------------------------


    def add(
        self, messages: Any, user_id: str, metadata: Mapping[str, Any] | None, infer: bool, options: RequestOptions
    ) -> Step[MemoryAddResult]:
        user_id = require_str("user_id", user_id)
        extra = caller_metadata(metadata)
        if isinstance(messages, str):
            content = require_str("messages", messages)
            if len(content) > MAX_MEMORY_CHARS:
                raise GravixLayerValidationError(f"a memory is at most {MAX_MEMORY_CHARS} characters")
            drafts = [Draft(content, "factual", {"source": "direct", **extra})]
        else:
            conversation = as_message_dicts(messages)
            if infer:
                drafts = yield from infer_step(self.inference_model, conversation, extra, options)
            else:
                drafts = [episodic(conversation, extra, "conversation")]
        if not drafts:
            return MemoryAddResult(results=[])
        index_id = yield from self._require_index(options)
        written = now()
        records = [record(draft, user_id, self.embedding_model, written) for draft in drafts]
        try:
            yield from self._write(index_id, records, options)
        except GravixLayerNotFoundError as exc:
            if exc.code == "model_not_found":
                raise
            # The cached index was deleted meanwhile: find or create it again, once.
            self.index_id = None
            index_id = yield from self._require_index(options)
            yield from self._write(index_id, records, options)
        return MemoryAddResult(
            results=[
                MemoryEvent(id=r["id"], memory=r["text"], event="ADD", memory_type=r["metadata"]["memory_type"])
                for r in records
            ]
        )

    # -- reads -------------------------------------------------------------------------------------


    def search(
        self, query: str, user_id: str, limit: int, threshold: float | None, options: RequestOptions
    ) -> Step[MemoryResults]:
        query = require_str("query", query)
        user_id = require_str("user_id", user_id)
        require_positive_int("limit", limit)
        top_k_of(limit, None)  # the same bounds as a vector search, checked before any request
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise GravixLayerValidationError(f"threshold must be a number or None, got {threshold!r}")
        index_id = yield from self.resolve_index(options, create=False)
        if index_id is None:
            return MemoryResults(results=[])
        request = search_text_request(
            index_id, query, self.embedding_model, limit, {"user_id": user_id}, True, False, None, options
        )
        try:
            hits = yield from search_step(request)
        except GravixLayerNotFoundError as exc:
            self._forget_deleted_index(exc)
            return MemoryResults(results=[])
        results = []
        for hit in hits:
            metadata = hit.metadata or {}
            if metadata.get("user_id") != user_id:
                log.warning("the server's search returned a memory of another user; it was dropped")
                continue
            if threshold is not None and hit.score < threshold:
                continue
            results.append(item(hit.id, metadata, hit.score))
        out = MemoryResults(results=results)
        out._set_request_id(hits.request_id)
        return out

    def _owned(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[Vector | None]:
        """The memory if it exists and belongs to `user_id`; None otherwise (the two are not told apart).

        Cost: one `GET /{id}`, which answers with the vector's embedding too (the wire cannot leave it out).
        """
        memory_id = require_str("memory_id", memory_id)
        user_id = require_str("user_id", user_id)
        index_id = yield from self.resolve_index(options, create=False)
        if index_id is None:
            return None
        try:
            vector = yield from get_step(index_id, memory_id, options)
        except GravixLayerNotFoundError:
            return None
        if (vector.metadata or {}).get("user_id") != user_id:
            return None
        return vector

    def _must_own(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[Vector]:
        vector = yield from self._owned(memory_id, user_id, options)
        if vector is None:
            raise GravixLayerNotFoundError(
                f"memory {memory_id!r} not found for user {user_id!r}", status_code=404, code="not_found"
            )
        return vector

    def get(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[MemoryItem | None]:
        vector = yield from self._owned(memory_id, user_id, options)
        return None if vector is None else item(vector.id, vector.metadata or {})

    def _all_of(self, user_id: str, options: RequestOptions) -> Step[list[MemoryItem]]:
        """Every memory of the user, in no particular order.

        Cost: while the user has fewer than 1000 (`MAX_TOP_K`) memories, one search filtered on
        `user_id` on the server that asks for metadata only (`include_values: false`): about half a
        kilobyte a memory, nothing of other users and no embedding. A search answers at most 1000
        hits, so from 1000 memories on this falls back to listing the ids of the whole index and
        fetching every vector, other users' included, each with its embedding (the wire's `fetch`
        cannot leave values out): about 20 bytes per dimension per vector of the index.
        """
        index_id = yield from self.resolve_index(options, create=False)
        if index_id is None:
            return []
        try:
            if self.dimension:
                found = yield from self._owned_by_search(index_id, user_id, self.dimension, options)
                if found is not None:
                    return found
            return (yield from self._owned_by_listing(index_id, user_id, options))
        except GravixLayerNotFoundError as exc:
            self._forget_deleted_index(exc)
            return []

    @staticmethod
    def _owned_by_search(
        index_id: str, user_id: str, dimension: int, options: RequestOptions
    ) -> Step[list[MemoryItem] | None]:
        """The user's memories from one metadata-only search, or None when there may be more than it can answer.

        The query is a unit vector: the order of the hits does not matter (`get_all` sorts by time), only
        that the filter selects the user's memories and the search returns every match below `top_k`.
        """
        probe = [1.0] + [0.0] * (dimension - 1)
        hits = yield from search_step(
            search_request(index_id, probe, MAX_TOP_K, {"user_id": user_id}, True, False, None, None, options)
        )
        if len(hits) >= MAX_TOP_K:
            return None
        return [item(hit.id, hit.metadata or {}) for hit in hits if (hit.metadata or {}).get("user_id") == user_id]

    @staticmethod
    def _owned_by_listing(index_id: str, user_id: str, options: RequestOptions) -> Step[list[MemoryItem]]:
        """The user's memories from all ids of the index, fetched in bounded chunks, kept when owned."""
        ids = (yield from list_ids_step(index_id, options)).data
        owned: list[MemoryItem] = []
        for chunk in fetch_chunks(ids):
            for vector in (yield from fetch_step(index_id, chunk, options)):
                metadata = vector.metadata or {}
                if metadata.get("user_id") == user_id:  # only the owner's, so memory use stays bounded
                    owned.append(item(vector.id, metadata))
        return owned

    def get_all(self, user_id: str, limit: int | None, options: RequestOptions) -> Step[MemoryResults]:
        user_id = require_str("user_id", user_id)
        if limit is not None:
            require_positive_int("limit", limit)
        items = newest_first((yield from self._all_of(user_id, options)))
        return MemoryResults(results=items if limit is None else items[:limit])

    # -- writes ------------------------------------------------------------------------------------


    def update(
        self, memory_id: str, user_id: str, data: str, metadata: Mapping[str, Any] | None, options: RequestOptions
    ) -> Step[MemoryItem]:
        content = require_str("data", data)
        if len(content) > MAX_MEMORY_CHARS:
            raise GravixLayerValidationError(f"a memory is at most {MAX_MEMORY_CHARS} characters")
        extra = caller_metadata(metadata)
        vector = yield from self._must_own(memory_id, user_id, options)
        stored = revised(vector.metadata, extra, content, user_id)
        index_id = yield from self._require_index(options)
        yield from upsert_text_step(
            index_id, content, self.embedding_model, vector.id, stored, bool(vector.delete_protection), options
        )  # raises when the server did not store it
        return item(vector.id, stored)

    def delete(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[MemoryDeleteResult]:
        vector = yield from self._must_own(memory_id, user_id, options)
        index_id = yield from self._require_index(options)
        yield from delete_step(index_id, [vector.id], options)
        return MemoryDeleteResult(message=f"Memory {vector.id} deleted", deleted_count=1)

    def delete_all(self, user_id: str, options: RequestOptions) -> Step[MemoryDeleteResult]:
        user_id = require_str("user_id", user_id)
        total = 0
        previous: set[str] | None = None
        for _ in range(_MAX_DELETE_ROUNDS):
            ids = [m.id for m in (yield from self._all_of(user_id, options))]
            if not ids:
                return MemoryDeleteResult(message=f"Deleted {total} memories for user {user_id}", deleted_count=total)
            if previous is not None and set(ids) >= previous:
                raise GravixLayerBadRequestError(
                    f"delete_all made no progress: {len(ids)} memories of user {user_id!r} remain after deleting them"
                )
            assert self.index_id is not None
            yield from delete_step(self.index_id, ids, options)
            total += len(ids)
            previous = set(ids)
        raise GravixLayerBadRequestError(f"delete_all gave up after {_MAX_DELETE_ROUNDS} rounds for user {user_id!r}")
