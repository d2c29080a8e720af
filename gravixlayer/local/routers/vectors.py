"""Vector database service of GravixLayer Local (spec §6; decisions 15-20): HTTP to ``VectorStore`` calls.

This module reads requests (request models of ``_body``; upsert bodies through ``upsert_body``, which
turns embeddings into float32 rows without a Python object per number), applies the documented
defaults, and shapes answers; rows, matrices, locks and searches are ``vector_store``'s.

Answers carry exactly the keys the vendor's strict readers accept (decision 16): index =
``id, name, dimension, metric, vector_type, cloud_provider, region, index_type, delete_protection,
created_at, metadata, updated_at, status``; vector = ``id, embedding, metadata, delete_protection,
created_at, updated_at``; hit = ``id, score`` (+ ``values`` / ``metadata`` when asked); search =
``hits, query_time_ms`` (+ ``usage``). Single upserts answer ``upserted_count, failed_count, errors,
ids, count`` (+ ``usage``); batch upserts ``upserted_count, failed_count, errors`` (+ ``usage``).

Limits: at most ``MAX_BATCH`` (1000) vectors per upsert request, ids per delete and ids per fetch;
``top_k`` 1-1000; dimension 1-2000; upsert bodies up to ``MAX_UPSERT_BYTES`` (64 MiB: the SDK splits
batches at about 32 MiB), other bodies up to ``_body.MAX_JSON_BYTES``. Every input is checked
(``_validate``'s rules: finite numbers, float32 range for vectors, valid Unicode, ids and names
without control characters) before anything is written, so a refused request changes nothing; each
refusal is a 400 naming the field. Each API key is a tenant: another tenant's index is a 404.
Scores: cosine in [-1, 1], dot product as is, euclidean as ``1 / (1 + distance)`` in (0, 1];
``query_time_ms`` is the measured time of the exact search itself (a float, in milliseconds).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._body import RequestModel, read_json, validate_data
from ..embedding import Embedder
from ..errors import LocalAPIError
from ..storage import tenant_of
from ..upsert_body import embeddings as _embeddings
from ..upsert_body import parse_upsert
from ..vector_requests import (
    DEFAULT_REGION,
    MAX_BATCH,
    MAX_DIMENSION,
    MAX_TOP_K,
    CreateIndex,
    DeleteVectors,
    Item,
    Search,
    SearchText,
    TextUpsert,
    Update,
    VectorItem,
    VectorUpsert,
    between,
)
from ..vector_store import SCHEMA, IndexInfo, NewIndex, NewVector, SearchOptions, VectorStore

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

__all__ = ["routes", "SCHEMA", "startup", "MAX_BATCH", "MAX_TOP_K", "MAX_DIMENSION"]

PREFIX = "/v1/vectors"
MAX_UPSERT_BYTES = 64 * 1024 * 1024
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
_INLINE_JSON_BYTES = 256 * 1024
"""Bodies and answers larger than this are (de)serialised in a worker thread, off the event loop."""
_QUERY_INT = re.compile(r"-?[0-9]{1,18}")

T = TypeVar("T")
M = TypeVar("M", bound=RequestModel)
ItemT = TypeVar("ItemT", bound=Item)


def _bad(message: str, code: str = "invalid_request") -> LocalAPIError:
    return LocalAPIError(400, code, message)


async def _run(func: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(func, *args)


async def startup(app: Starlette) -> None:
    app.state.vector_store = VectorStore(app.state.storage)


def _store(request: Request) -> VectorStore:
    store: VectorStore = request.app.state.vector_store
    return store


# -- JSON in and out ------------------------------------------------------------------------------


async def _upsert_body(request: Request, dimension: int | None) -> dict[str, Any]:
    """An upsert body, decoded item by item (``upsert_body``): text plus float32 rows, never a
    Python object per number. ``dimension`` None (text routes): embeddings are not converted."""

    def parse(text: str) -> dict[str, Any]:
        return parse_upsert(text, dimension, MAX_BATCH, MAX_BATCH * (MAX_DIMENSION + 256))

    return await read_json(request, max_bytes=MAX_UPSERT_BYTES, offload_bytes=_INLINE_JSON_BYTES, parse=parse)


def _dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _json(content: Any, status: int = 200) -> Response:
    return Response(_dumps(content), status_code=status, media_type="application/json")


async def _json_heavy(content: Any, status: int = 200) -> Response:
    """A large answer (many floats), rendered in a worker thread."""
    return Response(await _run(_dumps, content), status_code=status, media_type="application/json")


async def _parse(request: Request, model: type[M]) -> M:
    """The body as ``model`` (``_body.read_json`` then ``validate_data``)."""
    return validate_data(await read_json(request, offload_bytes=_INLINE_JSON_BYTES), model)


async def _index(request: Request, tenant: str) -> IndexInfo:
    """The index named in the path: from the cache on the event loop, else read in a worker thread."""
    store, index_id = _store(request), request.path_params["index_id"]
    cached = store.cached_index(tenant, index_id)
    return cached if cached is not None else await _run(store.index, tenant, index_id)


# -- index routes ---------------------------------------------------------------------------------


async def create_index(request: Request) -> Response:
    tenant = tenant_of(request)
    body = await _parse(request, CreateIndex)
    new = NewIndex(
        body.name, body.dimension, body.metric, body.vector_type, body.cloud_provider, body.region or DEFAULT_REGION,
        body.index_type, bool(body.delete_protection), body.metadata or {},
    )  # fmt: skip
    return _json(await _run(_store(request).create_index, tenant, new), 201)


def _query_int(request: Request, key: str, default: int, high: int) -> int:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    if not _QUERY_INT.fullmatch(raw.strip()):
        raise _bad(f"{key}: must be an integer, got {raw[:40]!r}")
    try:
        return between(1, high)(int(raw))
    except ValueError as exc:
        raise _bad(f"{key}: {exc}") from None


async def list_indexes(request: Request) -> Response:
    tenant = tenant_of(request)
    page = _query_int(request, "page", 1, 10**9)
    page_size = _query_int(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    indexes, total = await _run(_store(request).list_indexes, tenant, page, page_size)
    return _json({"indexes": indexes, "pagination": {"page": page, "page_size": page_size, "total": total}})


async def get_index(request: Request) -> Response:
    tenant = tenant_of(request)
    return _json(await _run(_store(request).get_index, tenant, request.path_params["index_id"]))


async def update_index(request: Request) -> Response:
    tenant = tenant_of(request)
    index_id = request.path_params["index_id"]
    metadata, protect = (await _parse(request, Update)).changes()
    return _json(await _run(_store(request).update_index, tenant, index_id, metadata, protect))


async def delete_index(request: Request) -> Response:
    tenant = tenant_of(request)
    index_id = request.path_params["index_id"]
    await _run(_store(request).delete_index, tenant, index_id)
    return _json({"message": f"index {index_id} deleted"})


# -- vector writes --------------------------------------------------------------------------------


def _latest(items: Sequence[ItemT]) -> dict[str, tuple[int, ItemT]]:
    """The items by id (a new random id where none is given) with their positions in the request;
    a later item wins over an earlier one with the same id and takes its place at the end."""
    by_id: dict[str, tuple[int, ItemT]] = {}
    for position, item in enumerate(items):
        vector_id = str(uuid.uuid4()) if item.id is None else item.id
        by_id.pop(vector_id, None)
        by_id[vector_id] = (position, item)
    return by_id


def _given_embedding(item: VectorItem) -> Any:
    return item.embedding if "embedding" in item.model_fields_set else item.values


def _label(text: str) -> Callable[[int], str]:
    return lambda _: text


def _vector_rows(body: VectorUpsert, dimension: int) -> tuple[dict[str, tuple[int, VectorItem]], FloatArray]:
    """The vectors to write and their float32 rows (``upsert_body`` made them); an embedding that was
    not a list of numbers gets the same 400 as anywhere else."""
    for position, item in enumerate(body.vectors):
        if _given_embedding(item) is None:
            raise _bad(f"vectors[{position}].embedding: field required")
    latest = _latest(body.vectors)
    rows = []
    for position, item in latest.values():
        row = _given_embedding(item)
        if not isinstance(row, np.ndarray):
            _embeddings([row], dimension, _label(f"vectors[{position}].embedding"))
        rows.append(row)
    return latest, np.stack(rows)


def _embed(embedder: Embedder, texts: list[str], models: list[str], dimension: int) -> tuple[FloatArray, int]:
    """Embed ``texts`` (grouped by model) into one matrix; returns it and the tokens read."""
    out = np.empty((len(texts), dimension), dtype=np.float32)
    tokens = 0
    groups: dict[str, list[int]] = {}
    for i, model in enumerate(models):
        groups.setdefault(embedder.resolve(model), []).append(i)
    for model, rows in groups.items():
        model_dimension = embedder.dimension(model)
        if model_dimension != dimension:
            raise _bad(
                f"model {model!r} makes {model_dimension}-dimensional vectors but the index dimension is {dimension}",
                "dimension_mismatch",
            )
        vectors, used = embedder.embed_with_usage([texts[i] for i in rows], model)
        out[rows] = vectors
        tokens += used
    return out, tokens


def _new_vectors(latest: Mapping[str, tuple[int, Item]]) -> list[NewVector]:
    return [NewVector(vector_id, item.metadata or {}, bool(item.delete_protection)) for vector_id, (_, item) in latest.items()]


def _upsert_handler(*, text: bool, single: bool) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        tenant = tenant_of(request)
        index = await _index(request, tenant)
        raw = await _upsert_body(request, None if text else index.dimension)
        tokens: int | None = None
        if text:
            latest_texts = _latest(validate_data(raw, TextUpsert).vectors)
            del raw
            items = [item for _, item in latest_texts.values()]
            matrix, tokens = await _run(
                _embed, request.app.state.embedder, [item.text for item in items], [item.model for item in items],
                index.dimension,
            )  # fmt: skip
            vectors = _new_vectors(latest_texts)
        else:
            latest_rows, matrix = _vector_rows(validate_data(raw, VectorUpsert), index.dimension)
            del raw
            vectors = _new_vectors(latest_rows)
        await _run(_store(request).upsert, tenant, index, vectors, matrix)
        answer: dict[str, Any] = {"upserted_count": len(vectors), "failed_count": 0, "errors": []}
        if single:
            answer["ids"] = [vector.id for vector in vectors]
            answer["count"] = len(vectors)
        if tokens is not None:
            answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return _json(answer)

    return handler


async def delete_vectors(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    body = await _parse(request, DeleteVectors)
    ids = list(dict.fromkeys(body.vector_ids))
    deleted = await _run(_store(request).delete_vectors, tenant, index, ids)
    return _json({"deleted_ids": deleted, "deleted_count": len(deleted)})


async def update_vector(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    metadata, protect = (await _parse(request, Update)).changes()
    vector_id = request.path_params["vector_id"]
    return _json(await _run(_store(request).update_vector, tenant, index, vector_id, metadata, protect))


# -- vector reads ---------------------------------------------------------------------------------


async def get_vector(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    return _json(await _run(_store(request).get_vector, tenant, index, request.path_params["vector_id"]))


async def list_ids(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    ids = await _run(_store(request).list_ids, tenant, index)
    return _json({"vector_ids": ids, "count": len(ids)})


async def fetch_vectors(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    wanted: list[str] | None = None
    given = request.query_params.getlist("vector_ids")
    if given:
        wanted = list(dict.fromkeys(part.strip() for value in given for part in value.split(",") if part.strip()))
        if len(wanted) > MAX_BATCH:
            raise _bad(f"vector_ids: at most {MAX_BATCH} ids per request, got {len(wanted)}")
    return await _json_heavy({"vectors": await _run(_store(request).fetch, tenant, index, wanted)})


async def _search_answer(
    request: Request, tenant: str, index: IndexInfo, query: FloatArray, options: SearchOptions
) -> dict[str, Any]:
    store = _store(request)
    answer = store.search_inline(tenant, index, query, options)
    return answer if answer is not None else await _run(store.search, tenant, index, query, options)


async def search(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    body = await _parse(request, Search)
    raw = body.vector if "vector" in body.model_fields_set else body.embedding
    if raw is None:
        raise _bad("vector: field required")
    query = _embeddings([raw], index.dimension, lambda i: "vector")[0]
    options = body.options()
    answer = await _search_answer(request, tenant, index, query, options)
    return await _json_heavy(answer) if options.include_values else _json(answer)


async def search_text(request: Request) -> Response:
    tenant = tenant_of(request)
    index = await _index(request, tenant)
    body = await _parse(request, SearchText)
    options = body.options()
    embedder: Embedder = request.app.state.embedder
    vectors, tokens = await _run(_embed, embedder, [body.query], [body.model], index.dimension)
    answer = await _search_answer(request, tenant, index, vectors[0], options)
    answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return await _json_heavy(answer) if options.include_values else _json(answer)


routes: list[BaseRoute] = [
    Route(f"{PREFIX}/indexes", list_indexes, methods=["GET"]),
    Route(f"{PREFIX}/indexes", create_index, methods=["POST"]),
    Route(f"{PREFIX}/indexes/{{index_id}}", get_index, methods=["GET"]),
    Route(f"{PREFIX}/indexes/{{index_id}}", update_index, methods=["PUT", "PATCH"]),
    Route(f"{PREFIX}/indexes/{{index_id}}", delete_index, methods=["DELETE"]),
    Route(f"{PREFIX}/{{index_id}}/upsert", _upsert_handler(text=False, single=True), methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/batch", _upsert_handler(text=False, single=False), methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/text/upsert", _upsert_handler(text=True, single=True), methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/text/batch", _upsert_handler(text=True, single=False), methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/search", search, methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/search/text", search_text, methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/delete", delete_vectors, methods=["POST"]),
    Route(f"{PREFIX}/{{index_id}}/list", list_ids, methods=["GET"]),
    Route(f"{PREFIX}/{{index_id}}/fetch", fetch_vectors, methods=["GET"]),
    Route(f"{PREFIX}/{{index_id}}/{{vector_id:path}}", get_vector, methods=["GET"]),
    Route(f"{PREFIX}/{{index_id}}/{{vector_id:path}}", update_vector, methods=["PUT", "PATCH"]),
]
