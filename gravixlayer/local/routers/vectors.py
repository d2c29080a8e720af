"""Vector database service of GravixLayer Local (spec §6; decisions 15-20).

Indexes and vectors live in SQLite (vectors as little-endian float32 blobs); every write is
committed (``synchronous=FULL``) before it is acknowledged, so an answered write survives SIGKILL.
Searches are served from one in-memory float32 matrix per index (``vector_index.IndexMatrix``),
built from SQLite the first time an index is used after a start, and searched exactly with numpy.

Answers carry exactly the keys the vendor's strict readers accept (decision 16): index =
``id, name, dimension, metric, vector_type, cloud_provider, region, index_type, delete_protection,
created_at, metadata, updated_at, status``; vector = ``id, embedding, metadata, delete_protection,
created_at, updated_at``; hit = ``id, score`` (+ ``values`` / ``metadata`` when asked); search =
``hits, query_time_ms`` (+ ``usage``). Single upserts answer ``upserted_count, failed_count, errors,
ids, count`` (+ ``usage``); batch upserts ``upserted_count, failed_count, errors`` (+ ``usage``).

Limits: at most ``MAX_BATCH`` (1000) vectors per upsert request, ids per delete and ids per fetch;
``top_k`` 1-1000; dimension 1-2000; upsert bodies up to ``MAX_UPSERT_BYTES`` (64 MiB: the SDK splits
batches at about 32 MiB), other bodies up to ``_body.MAX_JSON_BYTES``. Every input is checked by
``_validate`` before anything is written (finite numbers, float32 range for vectors, valid Unicode,
ids and names without control characters), so a refused request changes nothing. Each API key is a tenant: another tenant's index is a 404.
Scores: cosine in [-1, 1], dot product as is, euclidean as ``1 / (1 + distance)`` in (0, 1];
``query_time_ms`` is the measured time of the exact search itself (a float, in milliseconds).

Speed: an index's immutable facts (dimension, metric) are cached, and a small idle index
(<= 16M floats, e.g. 16k x 1024) is searched on the event loop, skipping a worker-thread hop that
would cost as much as the search; everything heavier runs in worker threads.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._body import MAX_JSON_BYTES, read_buffer
from .._validate import check_name, decode_body
from .._validate import loads as strict_loads
from ..embedding import Embedder
from ..errors import LocalAPIError
from ..storage import Storage, tenant_of
from ..upsert_body import check_value_count, parse_upsert
from ..upsert_body import embeddings as _embeddings
from ..vector_index import METRICS, IndexMatrix

if TYPE_CHECKING:
    import sqlite3

    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

__all__ = ["routes", "SCHEMA", "startup", "MAX_BATCH", "MAX_TOP_K", "MAX_DIMENSION"]

PREFIX = "/v1/vectors"
MAX_BATCH = 1000
MAX_TOP_K = 1000
MAX_DIMENSION = 2000
MAX_NAME = 255
MAX_ID = 512
MAX_REGION = 100
MAX_MODEL = 200
MAX_TEXT = 100_000
MAX_UPSERT_BYTES = 64 * 1024 * 1024
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
_INLINE_SEARCH_FLOATS = 16 * 1024 * 1024
"""Indexes up to this many floats (16k x 1024) are searched on the event loop (about 1-2 ms)."""
_INLINE_FILTER_ROWS = 2000
"""A filter is evaluated per row in Python; above this many rows that runs in a worker thread."""
_INLINE_JSON_BYTES = 256 * 1024
"""Bodies and answers larger than this are (de)serialised in a worker thread, off the event loop."""

CLOUD_PROVIDERS = {"aws": "AWS", "gcp": "GCP", "azure": "Azure", "gravix": "Gravix"}
INDEX_TYPES = ("serverless", "dedicated")
_QUERY_INT = re.compile(r"-?[0-9]{1,18}")
_METRIC_ALIASES = {"dotproduct": "dot_product", "dot-product": "dot_product"}

SCHEMA = [
    """
    CREATE TABLE vectors_indexes (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        dimension INTEGER NOT NULL,
        metric TEXT NOT NULL,
        vector_type TEXT NOT NULL,
        cloud_provider TEXT NOT NULL,
        region TEXT NOT NULL,
        index_type TEXT NOT NULL,
        delete_protection INTEGER NOT NULL DEFAULT 0,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT,
        PRIMARY KEY (tenant, id),
        UNIQUE (tenant, name)
    );
    CREATE TABLE vectors_items (
        tenant TEXT NOT NULL,
        index_id TEXT NOT NULL,
        id TEXT NOT NULL,
        embedding BLOB NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        delete_protection INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, index_id, id),
        FOREIGN KEY (tenant, index_id) REFERENCES vectors_indexes (tenant, id) ON DELETE CASCADE
    );
    """
]

T = TypeVar("T")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _bad(message: str, code: str = "invalid_request") -> LocalAPIError:
    return LocalAPIError(400, code, message)


# -- the in-memory matrices ------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexInfo:
    """The immutable facts about an index that vector operations need."""

    id: str
    dimension: int
    metric: str


class VectorStore:
    """One ``IndexMatrix`` per (tenant, index), loaded from SQLite on first use."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._matrices: dict[tuple[str, str], IndexMatrix] = {}
        self._indexes: dict[tuple[str, str], IndexInfo] = {}
        self._loaded: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def loaded(self, tenant: str, index_id: str) -> IndexMatrix | None:
        with self._lock:
            return self._matrices.get((tenant, index_id))

    def index(self, tenant: str, index_id: str) -> IndexInfo:
        """What vector routes need of an index, cached (those fields never change); 404 if missing."""
        key = (tenant, index_id)
        info = self._indexes.get(key)
        if info is None:
            row = _find_index(self.storage, tenant, index_id)
            info = IndexInfo(str(row["id"]), int(row["dimension"]), str(row["metric"]))
            with self._lock:
                self._indexes[key] = info
        return info

    def ready(self, tenant: str, index_id: str) -> IndexMatrix | None:
        """The index's matrix if it is already loaded (never loads)."""
        key = (tenant, index_id)
        return self._matrices.get(key) if key in self._loaded else None

    def cached_index(self, tenant: str, index_id: str) -> IndexInfo | None:
        return self._indexes.get((tenant, index_id))

    def matrix(self, tenant: str, index: IndexInfo) -> IndexMatrix:
        key = (tenant, index.id)
        with self._lock:
            state = self._matrices.get(key)
            if state is None:
                state = self._matrices[key] = IndexMatrix(index.dimension, index.metric)
        if key not in self._loaded:
            with state.lock:
                if key not in self._loaded:
                    self._load(state, tenant, key[1])
                    self._loaded.add(key)
        return state

    def _load(self, state: IndexMatrix, tenant: str, index_id: str) -> None:
        rows = self.storage.query(
            "SELECT id, embedding, metadata FROM vectors_items WHERE tenant = ? AND index_id = ? ORDER BY rowid",
            (tenant, index_id),
        )
        if not rows:
            return
        blob = b"".join(row["embedding"] for row in rows)
        matrix = np.frombuffer(blob, dtype="<f4").reshape(len(rows), state.dimension).astype(np.float32)
        state.upsert([row["id"] for row in rows], matrix, [stored_json(row["metadata"]) for row in rows])

    def drop(self, tenant: str, index_id: str) -> None:
        with self._lock:
            self._indexes.pop((tenant, index_id), None)
            self._matrices.pop((tenant, index_id), None)
            self._loaded.discard((tenant, index_id))


async def startup(app: Starlette) -> None:
    app.state.vector_store = VectorStore(app.state.storage)


def _store(request: Request) -> VectorStore:
    store: VectorStore = request.app.state.vector_store
    return store


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def _run(func: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(func, *args)


# -- JSON in and out -------------------------------------------------------------------------------


def stored_json(text: str) -> Any:
    """A stored JSON column. Rows written before every input was checked may hold ``Infinity``;
    they read back as ``null`` rather than breaking every later answer about their index."""
    return json.loads(text, parse_constant=lambda name: None)


def _store_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


async def _upsert_body(request: Request, dimension: int | None) -> dict[str, Any]:
    """An upsert body, decoded item by item (``upsert_body``): text plus float32 rows, never a
    Python object per number. ``dimension`` None (text routes): embeddings are not converted."""
    raw = await read_buffer(request, MAX_UPSERT_BYTES)
    if not raw or raw.isspace():
        raise _bad("request body is empty; expected a JSON object", "invalid_json")
    check_value_count(raw, MAX_BATCH * (MAX_DIMENSION + 256))
    text = decode_body(raw)
    del raw
    if len(text) <= _INLINE_JSON_BYTES:
        return parse_upsert(text, dimension, MAX_BATCH)
    return await _run(parse_upsert, text, dimension, MAX_BATCH)


async def _body(request: Request, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    raw = await read_buffer(request, max_bytes)
    if not raw or raw.isspace():
        raise _bad("request body is empty; expected a JSON object", "invalid_json")
    text = decode_body(raw)
    del raw  # a large body is held once: as text, while it is parsed
    data = strict_loads(text) if len(text) <= _INLINE_JSON_BYTES else await _run(strict_loads, text)
    del text
    if not isinstance(data, dict):
        raise _bad("request body must be a JSON object", "invalid_json")
    return data


def _dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _json(content: Any, status: int = 200) -> Response:
    return Response(_dumps(content), status_code=status, media_type="application/json")


async def _json_heavy(content: Any, status: int = 200) -> Response:
    """A large answer (many floats), rendered in a worker thread."""
    return Response(await _run(_dumps, content), status_code=status, media_type="application/json")


# -- field checks (400 naming the field) -----------------------------------------------------------


def _get_bool(body: dict[str, Any], key: str, default: bool, where: str = "") -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(f"{where}{key}: must be a boolean")
    return value


def _get_int(body: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int:
    value = body.get(key, default)
    if value is None:
        raise _bad(f"{key}: field required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{key}: must be an integer")
    if not low <= value <= high:
        raise _bad(f"{key}: must be between {low} and {high}, got {value}")
    return value


def _get_name(body: dict[str, Any], key: str, max_len: int, where: str = "") -> str:
    """An id or name: non-empty, at most ``max_len`` characters, no control characters."""
    return check_name(body.get(key), f"{where}{key}", max_len=max_len)


def _get_str(body: dict[str, Any], key: str, where: str = "", *, required: bool = True, max_len: int = 10_000) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{where}{key}: {'field required' if value is None else 'must be a non-empty string'}")
    if len(value) > max_len:
        raise _bad(f"{where}{key}: at most {max_len} characters")
    return value


def _get_object(body: dict[str, Any], key: str, where: str = "") -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise _bad(f"{where}{key}: must be a JSON object")
    return value


def _metric(value: Any) -> str:
    name = value.strip().lower() if isinstance(value, str) else ""
    name = _METRIC_ALIASES.get(name, name)
    if name not in METRICS:
        raise _bad(f"metric: must be one of {', '.join(METRICS)}, got {value!r}")
    return name


DEFAULT_CLOUD_PROVIDER = "AWS"
DEFAULT_REGION = "us-east-1"
"""Where an index created without `cloud_provider` / `region` says it lives (the SDK's defaults too)."""


def _cloud_provider(value: Any) -> str:
    provider = CLOUD_PROVIDERS.get(value.strip().lower()) if isinstance(value, str) else None
    if provider is None:
        raise _bad(f"cloud_provider: must be one of AWS, GCP, Azure, Gravix (any case), got {value!r}")
    return provider


# -- rows to wire objects --------------------------------------------------------------------------


def _index_object(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "dimension": row["dimension"],
        "metric": row["metric"],
        "vector_type": row["vector_type"],
        "cloud_provider": row["cloud_provider"],
        "region": row["region"],
        "index_type": row["index_type"],
        "delete_protection": bool(row["delete_protection"]),
        "created_at": row["created_at"],
        "metadata": stored_json(row["metadata"]),
        "updated_at": row["updated_at"],
        "status": "ready",
    }


def _vector_object(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "embedding": np.frombuffer(row["embedding"], dtype="<f4").tolist(),
        "metadata": stored_json(row["metadata"]),
        "delete_protection": bool(row["delete_protection"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _find_index(storage: Storage, tenant: str, index_id: str) -> sqlite3.Row:
    row = storage.query_one("SELECT * FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id))
    if row is None:
        raise LocalAPIError(404, "not_found", f"index {index_id!r} not found")
    return row


async def _index(request: Request, tenant: str) -> IndexInfo:
    """The index named in the path: from the cache on the event loop, else read in a worker thread."""
    store, index_id = _store(request), request.path_params["index_id"]
    cached = store.cached_index(tenant, index_id)
    return cached if cached is not None else await _run(store.index, tenant, index_id)


def _check_index(db: sqlite3.Connection, tenant: str, index_id: str) -> None:
    """Inside a write transaction: the index still exists (it may have been deleted meanwhile)."""
    found = db.execute("SELECT 1 FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id)).fetchone()
    if found is None:
        raise LocalAPIError(404, "not_found", f"index {index_id!r} not found")


@contextmanager
def _locked(state: IndexMatrix | None) -> Iterator[None]:
    with state.lock if state is not None else nullcontext():
        yield


# -- index routes ----------------------------------------------------------------------------------


async def create_index(request: Request) -> Response:
    tenant = tenant_of(request)
    body = await _body(request)
    name = _get_name(body, "name", MAX_NAME)
    dimension = _get_int(body, "dimension", None, 1, MAX_DIMENSION)
    metric = _metric(body.get("metric"))
    vector_type = body.get("vector_type") or "dense"
    if vector_type != "dense":
        raise _bad(f"vector_type: only 'dense' is supported, got {vector_type!r}")
    # The platform accepts an index given only name, dimension and metric; so does Local (spec §1.3 defaults).
    given_provider = body.get("cloud_provider")
    provider = _cloud_provider(DEFAULT_CLOUD_PROVIDER if given_provider is None else given_provider)
    region = _get_name(body, "region", MAX_REGION) if body.get("region") is not None else DEFAULT_REGION
    index_type = body.get("index_type") or "serverless"
    if index_type not in INDEX_TYPES:
        raise _bad(f"index_type: must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    metadata = _get_object(body, "metadata") or {}
    protect = _get_bool(body, "delete_protection", False)
    row_values = (
        tenant, str(uuid.uuid4()), name, dimension, metric, vector_type, provider, region, index_type,
        int(protect), _store_json(metadata), _now(),
    )  # fmt: skip
    storage = _storage(request)

    def insert() -> sqlite3.Row:
        with storage.transaction() as db:
            taken = db.execute(
                "SELECT id FROM vectors_indexes WHERE tenant = ? AND name = ?", (tenant, name)
            ).fetchone()
            if taken is not None:
                raise LocalAPIError(409, "conflict", f"an index named {name!r} already exists (id {taken['id']})")
            db.execute(
                "INSERT INTO vectors_indexes (tenant, id, name, dimension, metric, vector_type, cloud_provider,"
                " region, index_type, delete_protection, metadata, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                row_values,
            )
            row: sqlite3.Row = db.execute(
                "SELECT * FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, row_values[1])
            ).fetchone()
            return row

    return _json(_index_object(await _run(insert)), 201)


async def list_indexes(request: Request) -> Response:
    tenant = tenant_of(request)
    params: dict[str, Any] = {}
    for key in ("page", "page_size"):
        raw = request.query_params.get(key)
        if raw is not None:
            if not _QUERY_INT.fullmatch(raw.strip()):
                raise _bad(f"{key}: must be an integer, got {raw[:40]!r}")
            params[key] = int(raw)
    page = _get_int(params, "page", 1, 1, 10**9)
    page_size = _get_int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    storage = _storage(request)

    def read() -> tuple[list[sqlite3.Row], int]:
        with storage.read() as db:
            total = int(db.execute("SELECT COUNT(*) FROM vectors_indexes WHERE tenant = ?", (tenant,)).fetchone()[0])
            rows = db.execute(
                "SELECT * FROM vectors_indexes WHERE tenant = ? ORDER BY created_at, rowid LIMIT ? OFFSET ?",
                (tenant, page_size, (page - 1) * page_size),
            ).fetchall()
        return rows, total

    rows, total = await _run(read)
    return _json(
        {
            "indexes": [_index_object(row) for row in rows],
            "pagination": {"page": page, "page_size": page_size, "total": total},
        }
    )


async def get_index(request: Request) -> Response:
    tenant = tenant_of(request)
    row = await _run(_find_index, _storage(request), tenant, request.path_params["index_id"])
    return _json(_index_object(row))


async def update_index(request: Request) -> Response:
    tenant = tenant_of(request)
    index_id = request.path_params["index_id"]
    body = await _body(request)
    changes: dict[str, Any] = {}
    if "metadata" in body:
        changes["metadata"] = _store_json(_get_object(body, "metadata") or {})
    if "delete_protection" in body and body["delete_protection"] is not None:
        changes["delete_protection"] = int(_get_bool(body, "delete_protection", False))
    if not changes:
        raise _bad("give metadata and/or delete_protection to update")
    storage = _storage(request)

    def update() -> sqlite3.Row:
        with storage.transaction() as db:
            _check_index(db, tenant, index_id)
            sets = ", ".join(f"{column} = ?" for column in changes)
            db.execute(
                f"UPDATE vectors_indexes SET {sets}, updated_at = ? WHERE tenant = ? AND id = ?",
                (*changes.values(), _now(), tenant, index_id),
            )
            row: sqlite3.Row = db.execute(
                "SELECT * FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id)
            ).fetchone()
            return row

    return _json(_index_object(await _run(update)))


async def delete_index(request: Request) -> Response:
    tenant = tenant_of(request)
    index_id = request.path_params["index_id"]
    storage, store = _storage(request), _store(request)

    def delete() -> None:
        with _locked(store.loaded(tenant, index_id)), storage.transaction() as db:
            row = db.execute(
                "SELECT delete_protection FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id)
            ).fetchone()
            if row is None:
                raise LocalAPIError(404, "not_found", f"index {index_id!r} not found")
            if row["delete_protection"]:
                raise LocalAPIError(
                    409, "delete_protected",
                    f"index {index_id!r} has delete protection on; update it with delete_protection=false first",
                )  # fmt: skip
            db.execute("DELETE FROM vectors_items WHERE tenant = ? AND index_id = ?", (tenant, index_id))
            db.execute("DELETE FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id))
            store.drop(tenant, index_id)

    await _run(delete)
    return _json({"message": f"index {index_id} deleted"})


# -- vector writes ---------------------------------------------------------------------------------


def _read_items(body: dict[str, Any], *, text: bool) -> list[dict[str, Any]]:
    """The ``vectors`` list, checked item by item; later items win over earlier ones with the same id."""
    items = body.get("vectors")
    if not isinstance(items, list) or not items:
        raise _bad("vectors: must be a non-empty list")
    if len(items) > MAX_BATCH:
        raise _bad(f"vectors: at most {MAX_BATCH} per request, got {len(items)}; send several requests")
    by_id: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        where = f"vectors[{i}]."
        if not isinstance(item, dict):
            raise _bad(f"vectors[{i}]: must be a JSON object")
        raw_id = item.get("id")
        if raw_id is None:
            vector_id = str(uuid.uuid4())
        else:
            vector_id = _get_name(item, "id", MAX_ID, where)
        checked: dict[str, Any] = {
            "id": vector_id,
            "metadata": _get_object(item, "metadata", where) or {},
            "delete_protection": _get_bool(item, "delete_protection", False, where),
            "position": i,
        }
        if text:
            checked["text"] = _get_str(item, "text", where, max_len=MAX_TEXT)
            checked["model"] = _get_name(item, "model", MAX_MODEL, where)
        else:
            values = item.get("embedding", item.get("values"))
            if values is None:
                raise _bad(f"{where}embedding: field required")
            checked["embedding"] = values
        by_id.pop(vector_id, None)
        by_id[vector_id] = checked
    return list(by_id.values())


def _embed_items(embedder: Embedder, items: list[dict[str, Any]], dimension: int) -> tuple[FloatArray, int]:
    """Embed the texts of ``items`` (grouped by model) into one matrix; returns it and the tokens read."""
    out = np.empty((len(items), dimension), dtype=np.float32)
    tokens = 0
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(embedder.resolve(item["model"]), []).append(i)
    for model, rows in groups.items():
        model_dimension = embedder.dimension(model)
        if model_dimension != dimension:
            raise _bad(
                f"model {model!r} makes {model_dimension}-dimensional vectors but the index dimension is {dimension}",
                "dimension_mismatch",
            )
        vectors, used = embedder.embed_with_usage([items[i]["text"] for i in rows], model)
        out[rows] = vectors
        tokens += used
    return out, tokens


def _write(
    storage: Storage, store: VectorStore, tenant: str, index: IndexInfo, items: list[dict[str, Any]],
    matrix: FloatArray,
) -> None:  # fmt: skip
    """Commit the vectors, then show them to searches (both under the index's lock)."""
    index_id = index.id
    state = store.matrix(tenant, index)
    now = _now()
    rows = [
        (tenant, index_id, item["id"], matrix[i].astype("<f4").tobytes(), _store_json(item["metadata"]),
         int(item["delete_protection"]), now, now)
        for i, item in enumerate(items)
    ]  # fmt: skip
    with state.lock:
        with storage.transaction() as db:
            _check_index(db, tenant, index_id)
            db.executemany(
                "INSERT INTO vectors_items (tenant, index_id, id, embedding, metadata, delete_protection,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)"
                " ON CONFLICT (tenant, index_id, id) DO UPDATE SET embedding = excluded.embedding,"
                " metadata = excluded.metadata, delete_protection = excluded.delete_protection,"
                " updated_at = excluded.updated_at",
                rows,
            )
        state.upsert([item["id"] for item in items], matrix, [item["metadata"] for item in items])


def _label(text: str) -> Callable[[int], str]:
    return lambda _: text


def _stack(rows: list[Any], dimension: int, items: list[dict[str, Any]]) -> FloatArray:
    """The float32 rows ``_upsert_body`` made, as one matrix; an item whose embedding was not a list
    gets the same 400 as anywhere else."""
    for row, item in zip(rows, items, strict=True):
        if not isinstance(row, np.ndarray):
            _embeddings([row], dimension, _label(f"vectors[{item['position']}].embedding"))
    return np.stack(rows) if rows else np.empty((0, dimension), dtype=np.float32)


def _upsert_handler(*, text: bool, single: bool) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        tenant = tenant_of(request)
        storage, store = _storage(request), _store(request)
        index = await _index(request, tenant)
        dimension = index.dimension
        body = await _upsert_body(request, None if text else dimension)
        items = _read_items(body, text=text)
        del body
        tokens: int | None = None
        if text:
            matrix, tokens = await _run(_embed_items, request.app.state.embedder, items, dimension)
        else:
            matrix = _stack([item["embedding"] for item in items], dimension, items)
        await _run(_write, storage, store, tenant, index, items, matrix)
        answer: dict[str, Any] = {"upserted_count": len(items), "failed_count": 0, "errors": []}
        if single:
            answer["ids"] = [item["id"] for item in items]
            answer["count"] = len(items)
        if tokens is not None:
            answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return _json(answer)

    return handler


def _ids_from(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _bad(f"{key}: must be a non-empty list of ids")
    if len(value) > MAX_BATCH:
        raise _bad(f"{key}: at most {MAX_BATCH} ids per request, got {len(value)}")
    for i, item in enumerate(value):
        check_name(item, f"{key}[{i}]", max_len=MAX_ID)
    return list(dict.fromkeys(value))


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


async def delete_vectors(request: Request) -> Response:
    tenant = tenant_of(request)
    storage, store = _storage(request), _store(request)
    index = await _index(request, tenant)
    index_id = index.id
    ids = _ids_from((await _body(request)).get("vector_ids"), "vector_ids")

    def delete() -> list[str]:
        state = store.matrix(tenant, index)
        with state.lock:
            with storage.transaction() as db:
                _check_index(db, tenant, index_id)
                found = db.execute(
                    f"SELECT id, delete_protection FROM vectors_items WHERE tenant = ? AND index_id = ?"
                    f" AND id IN ({_placeholders(len(ids))})",
                    (tenant, index_id, *ids),
                ).fetchall()
                protected = [row["id"] for row in found if row["delete_protection"]]
                if protected:
                    raise LocalAPIError(
                        409, "delete_protected",
                        f"{len(protected)} vector(s) have delete protection on (e.g. {protected[0]!r}); nothing was deleted",
                    )  # fmt: skip
                present = [row["id"] for row in found]
                if present:
                    db.execute(
                        f"DELETE FROM vectors_items WHERE tenant = ? AND index_id = ?"
                        f" AND id IN ({_placeholders(len(present))})",
                        (tenant, index_id, *present),
                    )
            state.delete(present)
        order = {vector_id: i for i, vector_id in enumerate(ids)}
        return sorted(present, key=order.__getitem__)

    deleted = await _run(delete)
    return _json({"deleted_ids": deleted, "deleted_count": len(deleted)})


async def update_vector(request: Request) -> Response:
    tenant = tenant_of(request)
    storage, store = _storage(request), _store(request)
    index = await _index(request, tenant)
    index_id, vector_id = index.id, request.path_params["vector_id"]
    body = await _body(request)
    metadata = _get_object(body, "metadata") if "metadata" in body else None
    protect = _get_bool(body, "delete_protection", False) if body.get("delete_protection") is not None else None
    if "metadata" not in body and protect is None:
        raise _bad("give metadata and/or delete_protection to update")

    def update() -> sqlite3.Row:
        state = store.matrix(tenant, index)
        with state.lock:
            with storage.transaction() as db:
                _check_index(db, tenant, index_id)
                sets: list[str] = ["updated_at = ?"]
                values: list[Any] = [_now()]
                if "metadata" in body:
                    sets.append("metadata = ?")
                    values.append(_store_json(metadata or {}))
                if protect is not None:
                    sets.append("delete_protection = ?")
                    values.append(int(protect))
                changed = db.execute(
                    f"UPDATE vectors_items SET {', '.join(sets)} WHERE tenant = ? AND index_id = ? AND id = ?",
                    (*values, tenant, index_id, vector_id),
                ).rowcount
                if not changed:
                    raise LocalAPIError(404, "not_found", f"vector {vector_id!r} not found in index {index_id!r}")
                row: sqlite3.Row = db.execute(
                    "SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? AND id = ?",
                    (tenant, index_id, vector_id),
                ).fetchone()
            if "metadata" in body:
                state.set_metadata(vector_id, metadata or {})
        return row

    return _json(_vector_object(await _run(update)))


# -- vector reads ----------------------------------------------------------------------------------


async def get_vector(request: Request) -> Response:
    tenant = tenant_of(request)
    storage = _storage(request)
    index = await _index(request, tenant)
    vector_id = request.path_params["vector_id"]
    row = await _run(
        storage.query_one,
        "SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? AND id = ?",
        (tenant, index.id, vector_id),
    )
    if row is None:
        raise LocalAPIError(404, "not_found", f"vector {vector_id!r} not found in index {index.id!r}")
    return _json(_vector_object(row))


async def list_ids(request: Request) -> Response:
    tenant = tenant_of(request)
    storage = _storage(request)
    index = await _index(request, tenant)
    rows = await _run(
        storage.query,
        "SELECT id FROM vectors_items WHERE tenant = ? AND index_id = ? ORDER BY rowid",
        (tenant, index.id),
    )
    ids = [row["id"] for row in rows]
    return _json({"vector_ids": ids, "count": len(ids)})


async def fetch_vectors(request: Request) -> Response:
    tenant = tenant_of(request)
    storage = _storage(request)
    index = await _index(request, tenant)
    wanted: list[str] | None = None
    given = request.query_params.getlist("vector_ids")
    if given:
        wanted = list(dict.fromkeys(part.strip() for value in given for part in value.split(",") if part.strip()))
        if len(wanted) > MAX_BATCH:
            raise _bad(f"vector_ids: at most {MAX_BATCH} ids per request, got {len(wanted)}")

    def read() -> list[dict[str, Any]]:
        if wanted is None:
            rows = storage.query(
                "SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? ORDER BY rowid", (tenant, index.id)
            )
            return [_vector_object(row) for row in rows]
        if not wanted:
            return []
        rows = storage.query(
            f"SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? AND id IN ({_placeholders(len(wanted))})",
            (tenant, index.id, *wanted),
        )
        by_id = {row["id"]: row for row in rows}
        return [_vector_object(by_id[vector_id]) for vector_id in wanted if vector_id in by_id]

    return await _json_heavy({"vectors": await _run(read)})


def _hits(
    state: IndexMatrix, query: FloatArray, top_k: int, flt: dict[str, Any] | None, include_metadata: bool,
    include_values: bool,
) -> dict[str, Any]:  # fmt: skip
    """The search answer; the caller holds ``state.lock``."""
    started = time.perf_counter()
    found = state.search(query, top_k, flt)
    elapsed = (time.perf_counter() - started) * 1000.0
    hits = []
    for hit in found:
        item: dict[str, Any] = {"id": hit.id, "score": hit.score}
        if include_values:
            item["values"] = state.matrix[hit.position].tolist()
        if include_metadata:
            item["metadata"] = state.metadata[hit.position]
        hits.append(item)
    return {"hits": hits, "query_time_ms": round(elapsed, 3)}


def _search(
    store: VectorStore, tenant: str, index: IndexInfo, query: FloatArray, top_k: int,
    flt: dict[str, Any] | None, include_metadata: bool, include_values: bool,
) -> dict[str, Any]:  # fmt: skip
    state = store.matrix(tenant, index)
    with state.lock:
        return _hits(state, query, top_k, flt, include_metadata, include_values)


def _search_inline(
    store: VectorStore, tenant: str, index: IndexInfo, query: FloatArray, top_k: int,
    flt: dict[str, Any] | None, include_metadata: bool, include_values: bool,
) -> dict[str, Any] | None:  # fmt: skip
    """Answer on the event loop when that costs about a millisecond (a loaded, small, idle index):
    a worker-thread hop would cost as much as the search. None: use a worker thread."""
    state = store.ready(tenant, index.id)
    if state is None or len(state) * state.dimension > _INLINE_SEARCH_FLOATS:
        return None
    if (flt and len(state) > _INLINE_FILTER_ROWS) or include_values:
        return None
    if not state.lock.acquire(blocking=False):  # a write is in progress: never wait on the loop
        return None
    try:
        return _hits(state, query, top_k, flt, include_metadata, include_values)
    finally:
        state.lock.release()


async def _search_answer(
    store: VectorStore, tenant: str, index: IndexInfo, query: FloatArray,
    options: tuple[int, dict[str, Any] | None, bool, bool],
) -> dict[str, Any]:  # fmt: skip
    answer = _search_inline(store, tenant, index, query, *options)
    return answer if answer is not None else await _run(_search, store, tenant, index, query, *options)


def _search_options(body: dict[str, Any]) -> tuple[int, dict[str, Any] | None, bool, bool]:
    top_k = _get_int(body, "top_k", 10, 1, MAX_TOP_K)
    flt = _get_object(body, "filter")
    return top_k, flt, _get_bool(body, "include_metadata", True), _get_bool(body, "include_values", False)


async def search(request: Request) -> Response:
    tenant = tenant_of(request)
    store = _store(request)
    index = await _index(request, tenant)
    body = await _body(request)
    raw = body.get("vector", body.get("embedding"))
    if raw is None:
        raise _bad("vector: field required")
    query = _embeddings([raw], index.dimension, lambda i: "vector")[0]
    options = _search_options(body)
    answer = await _search_answer(store, tenant, index, query, options)
    return await _json_heavy(answer) if options[3] else _json(answer)


async def search_text(request: Request) -> Response:
    tenant = tenant_of(request)
    store = _store(request)
    index = await _index(request, tenant)
    body = await _body(request)
    text = _get_str(body, "query", max_len=MAX_TEXT)
    model = _get_name(body, "model", MAX_MODEL)
    options = _search_options(body)
    embedder: Embedder = request.app.state.embedder
    vectors, tokens = await _run(
        _embed_items, embedder, [{"text": text, "model": model}], index.dimension
    )
    answer = await _search_answer(store, tenant, index, vectors[0], options)
    answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return await _json_heavy(answer) if options[3] else _json(answer)


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
