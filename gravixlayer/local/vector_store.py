"""The storage layer of GravixLayer Local's vector database (spec §6): SQLite rows plus search matrices.

Indexes and vectors live in SQLite (vectors as little-endian float32 blobs); every write is
committed (``synchronous=FULL``) before it returns, so an answered write survives SIGKILL.
Searches are served from one in-memory float32 matrix per index (``vector_index.IndexMatrix``),
built from SQLite the first time an index is used after a start, and searched exactly with numpy.
A write commits to SQLite and then updates the matrix, both under the matrix's lock, so a search
never sees a vector that is not durable.

``VectorStore`` is all the vector router talks to: its methods take checked values, block (run them
in a worker thread), raise ``LocalAPIError`` (404 / 409) for what the rows say, and return the wire
objects of decision 16 (index, vector, search answer). Each tenant sees only its own indexes.

Speed: an index's immutable facts (dimension, metric) are cached, and a small idle index
(<= 16M floats, e.g. 16k x 1024) can be searched on the event loop (``search_inline``), skipping a
worker-thread hop that would cost as much as the search.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import LocalAPIError
from .storage import Storage
from .vector_index import IndexMatrix

if TYPE_CHECKING:
    import sqlite3

    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

__all__ = ["SCHEMA", "IndexInfo", "NewIndex", "NewVector", "SearchOptions", "VectorStore", "stored_json"]

_INLINE_SEARCH_FLOATS = 16 * 1024 * 1024
"""Indexes up to this many floats (16k x 1024) are searched on the event loop (about 1-2 ms)."""
_INLINE_FILTER_ROWS = 2000
"""A filter is evaluated per row in Python; above this many rows that runs in a worker thread."""

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
"""Migration steps of the ``vectors`` component (append-only; ``routers/vectors.py`` exports them)."""

_SELECT_INDEX = "SELECT * FROM vectors_indexes WHERE tenant = ? AND id = ?"
_SELECT_VECTOR = "SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? AND id = ?"


@dataclass(frozen=True)
class IndexInfo:
    """The immutable facts about an index that vector operations need."""

    id: str
    dimension: int
    metric: str


@dataclass(frozen=True)
class NewIndex:
    """A checked index to create (the router applies the documented defaults)."""

    name: str
    dimension: int
    metric: str
    vector_type: str
    cloud_provider: str
    region: str
    index_type: str
    delete_protection: bool
    metadata: dict[str, Any]


@dataclass(frozen=True)
class NewVector:
    """The stored fields of one vector to upsert, beside its row of the upsert's matrix."""

    id: str
    metadata: dict[str, Any]
    delete_protection: bool


@dataclass(frozen=True)
class SearchOptions:
    top_k: int
    filter: dict[str, Any] | None
    include_metadata: bool
    include_values: bool


# -- rows in and out ------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def stored_json(text: str) -> Any:
    """A stored JSON column. Rows written before every input was checked may hold ``Infinity``;
    they read back as ``null`` rather than breaking every later answer about their index."""
    return json.loads(text, parse_constant=lambda name: None)


def _store_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


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


def _index_missing(index_id: str) -> LocalAPIError:
    return LocalAPIError(404, "not_found", f"index {index_id!r} not found")


def _check_index(db: sqlite3.Connection, tenant: str, index_id: str) -> None:
    """Inside a write transaction: the index still exists (it may have been deleted meanwhile)."""
    found = db.execute("SELECT 1 FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id)).fetchone()
    if found is None:
        raise _index_missing(index_id)


def _fetch_one(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> sqlite3.Row:
    row: sqlite3.Row = db.execute(sql, params).fetchone()
    return row


@contextmanager
def _locked(state: IndexMatrix | None) -> Iterator[None]:
    with state.lock if state is not None else nullcontext():
        yield


def _hits(state: IndexMatrix, query: FloatArray, options: SearchOptions) -> dict[str, Any]:
    """The search answer; the caller holds ``state.lock``."""
    started = time.perf_counter()
    found = state.search(query, options.top_k, options.filter)
    elapsed = (time.perf_counter() - started) * 1000.0
    hits = []
    for hit in found:
        item: dict[str, Any] = {"id": hit.id, "score": hit.score}
        if options.include_values:
            item["values"] = state.matrix[hit.position].tolist()
        if options.include_metadata:
            item["metadata"] = state.metadata[hit.position]
        hits.append(item)
    return {"hits": hits, "query_time_ms": round(elapsed, 3)}


class VectorStore:
    """Every index and vector of every tenant: SQLite rows plus one ``IndexMatrix`` per loaded index."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._matrices: dict[tuple[str, str], IndexMatrix] = {}
        self._indexes: dict[tuple[str, str], IndexInfo] = {}
        self._loaded: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    # -- the in-memory matrices -------------------------------------------------------------------

    def index(self, tenant: str, index_id: str) -> IndexInfo:
        """What vector routes need of an index, cached (those fields never change); 404 if missing."""
        key = (tenant, index_id)
        info = self._indexes.get(key)
        if info is None:
            row = self._index_row(tenant, index_id)
            info = IndexInfo(str(row["id"]), int(row["dimension"]), str(row["metric"]))
            with self._lock:
                self._indexes[key] = info
        return info

    def cached_index(self, tenant: str, index_id: str) -> IndexInfo | None:
        """``index`` when it needs no database read (safe on the event loop), else None."""
        return self._indexes.get((tenant, index_id))

    def _ready(self, tenant: str, index_id: str) -> IndexMatrix | None:
        """The index's matrix if it is already loaded (never loads)."""
        key = (tenant, index_id)
        return self._matrices.get(key) if key in self._loaded else None

    def _matrix(self, tenant: str, index: IndexInfo) -> IndexMatrix:
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

    def _drop(self, tenant: str, index_id: str) -> None:
        with self._lock:
            self._indexes.pop((tenant, index_id), None)
            self._matrices.pop((tenant, index_id), None)
            self._loaded.discard((tenant, index_id))

    # -- indexes ----------------------------------------------------------------------------------

    def _index_row(self, tenant: str, index_id: str) -> sqlite3.Row:
        row = self.storage.query_one(_SELECT_INDEX, (tenant, index_id))
        if row is None:
            raise _index_missing(index_id)
        return row

    def get_index(self, tenant: str, index_id: str) -> dict[str, Any]:
        return _index_object(self._index_row(tenant, index_id))

    def create_index(self, tenant: str, new: NewIndex) -> dict[str, Any]:
        """The created index; 409 if the tenant already has one of that name."""
        index_id = str(uuid.uuid4())
        values = (
            tenant, index_id, new.name, new.dimension, new.metric, new.vector_type, new.cloud_provider, new.region,
            new.index_type, int(new.delete_protection), _store_json(new.metadata), _now(),
        )  # fmt: skip
        with self.storage.transaction() as db:
            taken = db.execute(
                "SELECT id FROM vectors_indexes WHERE tenant = ? AND name = ?", (tenant, new.name)
            ).fetchone()
            if taken is not None:
                raise LocalAPIError(409, "conflict", f"an index named {new.name!r} already exists (id {taken['id']})")
            db.execute(
                "INSERT INTO vectors_indexes (tenant, id, name, dimension, metric, vector_type, cloud_provider,"
                " region, index_type, delete_protection, metadata, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                values,
            )
            return _index_object(_fetch_one(db, _SELECT_INDEX, (tenant, index_id)))

    def list_indexes(self, tenant: str, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
        """One page of the tenant's indexes, oldest first, and how many there are in all."""
        with self.storage.read() as db:
            total = int(db.execute("SELECT COUNT(*) FROM vectors_indexes WHERE tenant = ?", (tenant,)).fetchone()[0])
            rows = db.execute(
                "SELECT * FROM vectors_indexes WHERE tenant = ? ORDER BY created_at, rowid LIMIT ? OFFSET ?",
                (tenant, page_size, (page - 1) * page_size),
            ).fetchall()
        return [_index_object(row) for row in rows], total

    def update_index(
        self, tenant: str, index_id: str, metadata: dict[str, Any] | None, delete_protection: bool | None
    ) -> dict[str, Any]:
        """Set what is given (``metadata`` None: unchanged); the caller gives at least one."""
        changes: dict[str, Any] = {}
        if metadata is not None:
            changes["metadata"] = _store_json(metadata)
        if delete_protection is not None:
            changes["delete_protection"] = int(delete_protection)
        with self.storage.transaction() as db:
            _check_index(db, tenant, index_id)
            sets = ", ".join(f"{column} = ?" for column in changes)
            db.execute(
                f"UPDATE vectors_indexes SET {sets}, updated_at = ? WHERE tenant = ? AND id = ?",
                (*changes.values(), _now(), tenant, index_id),
            )
            return _index_object(_fetch_one(db, _SELECT_INDEX, (tenant, index_id)))

    def delete_index(self, tenant: str, index_id: str) -> None:
        """Delete an index and its vectors; 409 while it has delete protection on."""
        with self._lock:
            loaded = self._matrices.get((tenant, index_id))
        with _locked(loaded), self.storage.transaction() as db:
            row = db.execute(
                "SELECT delete_protection FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id)
            ).fetchone()
            if row is None:
                raise _index_missing(index_id)
            if row["delete_protection"]:
                raise LocalAPIError(
                    409, "delete_protected",
                    f"index {index_id!r} has delete protection on; update it with delete_protection=false first",
                )  # fmt: skip
            db.execute("DELETE FROM vectors_items WHERE tenant = ? AND index_id = ?", (tenant, index_id))
            db.execute("DELETE FROM vectors_indexes WHERE tenant = ? AND id = ?", (tenant, index_id))
            self._drop(tenant, index_id)

    # -- vector writes ----------------------------------------------------------------------------

    def upsert(self, tenant: str, index: IndexInfo, vectors: Sequence[NewVector], matrix: FloatArray) -> None:
        """Commit the vectors (ids distinct; row i of ``matrix`` is ``vectors[i]``), then show them to
        searches (both under the index's lock)."""
        index_id = index.id
        state = self._matrix(tenant, index)
        now = _now()
        rows = [
            (tenant, index_id, item.id, matrix[i].astype("<f4").tobytes(), _store_json(item.metadata),
             int(item.delete_protection), now, now)
            for i, item in enumerate(vectors)
        ]  # fmt: skip
        with state.lock:
            with self.storage.transaction() as db:
                _check_index(db, tenant, index_id)
                db.executemany(
                    "INSERT INTO vectors_items (tenant, index_id, id, embedding, metadata, delete_protection,"
                    " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (tenant, index_id, id) DO UPDATE SET embedding = excluded.embedding,"
                    " metadata = excluded.metadata, delete_protection = excluded.delete_protection,"
                    " updated_at = excluded.updated_at",
                    rows,
                )
            state.upsert([item.id for item in vectors], matrix, [item.metadata for item in vectors])

    def delete_vectors(self, tenant: str, index: IndexInfo, ids: Sequence[str]) -> list[str]:
        """Delete the given ids that exist (all or none: 409 if any has delete protection on);
        returns the deleted ids in the order asked."""
        index_id = index.id
        state = self._matrix(tenant, index)
        with state.lock:
            with self.storage.transaction() as db:
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

    def update_vector(
        self, tenant: str, index: IndexInfo, vector_id: str, metadata: dict[str, Any] | None,
        delete_protection: bool | None,
    ) -> dict[str, Any]:  # fmt: skip
        """Set what is given (``metadata`` None: unchanged); 404 if the vector does not exist."""
        index_id = index.id
        state = self._matrix(tenant, index)
        sets: list[str] = ["updated_at = ?"]
        values: list[Any] = [_now()]
        if metadata is not None:
            sets.append("metadata = ?")
            values.append(_store_json(metadata))
        if delete_protection is not None:
            sets.append("delete_protection = ?")
            values.append(int(delete_protection))
        with state.lock:
            with self.storage.transaction() as db:
                _check_index(db, tenant, index_id)
                changed = db.execute(
                    f"UPDATE vectors_items SET {', '.join(sets)} WHERE tenant = ? AND index_id = ? AND id = ?",
                    (*values, tenant, index_id, vector_id),
                ).rowcount
                if not changed:
                    raise _vector_missing(vector_id, index_id)
                row = _fetch_one(db, _SELECT_VECTOR, (tenant, index_id, vector_id))
            if metadata is not None:
                state.set_metadata(vector_id, metadata)
        return _vector_object(row)

    # -- vector reads -----------------------------------------------------------------------------

    def get_vector(self, tenant: str, index: IndexInfo, vector_id: str) -> dict[str, Any]:
        row = self.storage.query_one(_SELECT_VECTOR, (tenant, index.id, vector_id))
        if row is None:
            raise _vector_missing(vector_id, index.id)
        return _vector_object(row)

    def list_ids(self, tenant: str, index: IndexInfo) -> list[str]:
        rows = self.storage.query(
            "SELECT id FROM vectors_items WHERE tenant = ? AND index_id = ? ORDER BY rowid", (tenant, index.id)
        )
        return [row["id"] for row in rows]

    def fetch(self, tenant: str, index: IndexInfo, wanted: Sequence[str] | None) -> list[dict[str, Any]]:
        """The vectors asked for, in the order asked (unknown ids skipped); None: every vector."""
        if wanted is None:
            rows = self.storage.query(
                "SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? ORDER BY rowid", (tenant, index.id)
            )
            return [_vector_object(row) for row in rows]
        if not wanted:
            return []
        rows = self.storage.query(
            f"SELECT * FROM vectors_items WHERE tenant = ? AND index_id = ? AND id IN ({_placeholders(len(wanted))})",
            (tenant, index.id, *wanted),
        )
        by_id: Mapping[str, sqlite3.Row] = {row["id"]: row for row in rows}
        return [_vector_object(by_id[vector_id]) for vector_id in wanted if vector_id in by_id]

    def search(self, tenant: str, index: IndexInfo, query: FloatArray, options: SearchOptions) -> dict[str, Any]:
        """The exact ``top_k`` (loads the index's matrix on first use)."""
        state = self._matrix(tenant, index)
        with state.lock:
            return _hits(state, query, options)

    def search_inline(
        self, tenant: str, index: IndexInfo, query: FloatArray, options: SearchOptions
    ) -> dict[str, Any] | None:
        """``search`` when it costs about a millisecond (a loaded, small, idle index), so it may run on
        the event loop: a worker-thread hop would cost as much as the search. None: use ``search``."""
        state = self._ready(tenant, index.id)
        if state is None or len(state) * state.dimension > _INLINE_SEARCH_FLOATS:
            return None
        if (options.filter and len(state) > _INLINE_FILTER_ROWS) or options.include_values:
            return None
        if not state.lock.acquire(blocking=False):  # a write is in progress: never wait on the loop
            return None
        try:
            return _hits(state, query, options)
        finally:
            state.lock.release()


def _vector_missing(vector_id: str, index_id: str) -> LocalAPIError:
    return LocalAPIError(404, "not_found", f"vector {vector_id!r} not found in index {index_id!r}")
