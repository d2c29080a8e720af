"""The one SQLite storage layer shared by every GravixLayer Local service.

Durability: WAL journal with ``synchronous=FULL``, so a write is on disk
before its transaction returns; an acknowledged write survives SIGKILL (and
power loss), and a killed process never leaves a half-written transaction
visible.

Conventions for services (files, deployments, vectors, sandboxes, ...):

* Register tables with ``Storage.register_schema(component, steps)``, or set
  a module-level ``SCHEMA: list[str]`` in a router module (``create_app``
  registers it under the module's name). ``steps`` is an append-only list of
  SQL scripts: step *i* runs exactly once, in order, inside a transaction,
  so adding a step later is a migration. Never edit a step that shipped.
* Every table holding user resources has a ``tenant TEXT NOT NULL`` column
  and every query filters on it. The tenant of a request is
  ``tenant_of(request)`` (a digest of the API key; keys are never stored).
* Prefix table names with the component (``files_``, ``vectors_``, ...).
* Writes go through ``with storage.transaction() as db:`` (one writer at a
  time, ``BEGIN IMMEDIATE``); reads use ``storage.query`` / ``query_one``
  or ``with storage.read() as db:`` for a consistent multi-statement snapshot.
* Large payloads live as files: ``storage.blob_dir(component, tenant)`` and
  ``storage.blob_writer(path)`` (temp file, fsync, atomic rename), so no
  partial blob is ever visible. Write the blob first, then commit its row.

The calls block; from async routes, run heavy work via
``anyio.to_thread.run_sync`` (connections are per thread).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from starlette.requests import Request

from .errors import LocalAPIError, logger

__all__ = ["Storage", "tenant_of", "SCHEMA_TABLE"]

SCHEMA_TABLE = "schema_migrations"
_BUSY_TIMEOUT_MS = 30_000
Params = Sequence[Any] | dict[str, Any]


def tenant_of(request: Request) -> str:
    """The tenant id the auth middleware attached to this request."""
    tenant = request.scope.get("state", {}).get("tenant")
    if not isinstance(tenant, str):
        raise LocalAPIError(401, "unauthorized", "missing API key")
    return tenant


class Storage:
    """Thread-safe access to ``data_dir/local.sqlite3`` plus a blob directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "local.sqlite3"
        self._schemas: dict[str, list[str]] = {}
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._open = False

    def __repr__(self) -> str:
        return f"Storage({str(self.path)!r}, open={self._open})"

    # -- lifecycle ---------------------------------------------------------

    def open(self) -> Storage:
        """Create the data directory and database, and apply pending migrations."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "blobs").mkdir(exist_ok=True)
        self._open = True
        db = self._connection()
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("SQLite refused WAL mode (got %s) at %s", mode, self.path)
        with self.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
                " component TEXT NOT NULL, step INTEGER NOT NULL,"
                " applied_at REAL NOT NULL,"
                " PRIMARY KEY (component, step))"
            )
        for component in list(self._schemas):
            self._migrate(component)
        return self

    def close(self) -> None:
        """Close every thread's connection (call once no request is running)."""
        self._open = False
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for db in connections:
            try:
                db.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                logger.debug("error closing a SQLite connection", exc_info=True)
        self._local = threading.local()

    @property
    def is_open(self) -> bool:
        return self._open

    # -- schema ------------------------------------------------------------

    def register_schema(self, component: str, steps: str | Sequence[str]) -> None:
        """Declare ``component``'s tables as ordered migration steps.

        Applied now if the storage is open, otherwise by ``open()``.
        Registering again with more steps applies the new ones only.
        """
        if isinstance(steps, str):
            steps = [steps]
        self._schemas[component] = list(steps)
        if self._open:
            self._migrate(component)

    def _migrate(self, component: str) -> None:
        steps = self._schemas[component]
        with self.transaction() as db:
            done = {
                row[0]
                for row in db.execute(f"SELECT step FROM {SCHEMA_TABLE} WHERE component = ?", (component,))
            }
            for number, script in enumerate(steps, start=1):
                if number in done:
                    continue
                for statement in _split_statements(script):
                    db.execute(statement)
                db.execute(
                    f"INSERT INTO {SCHEMA_TABLE} (component, step, applied_at) VALUES (?, ?, ?)",
                    (component, number, time.time()),
                )
                logger.debug("applied schema step %s/%d", component, number)

    # -- connections and transactions ----------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if not self._open:
            raise RuntimeError("Storage is not open")
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
                timeout=_BUSY_TIMEOUT_MS / 1000,
            )
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed (durably) on exit, rolled back on error."""
        with self._write_lock:
            db = self._connection()
            if db.in_transaction:  # nested use on the same thread joins the outer one
                yield db
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every statement inside sees the same snapshot."""
        db = self._connection()
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN DEFERRED")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement in its own transaction; returns rows changed."""
        with self.transaction() as db:
            return db.execute(sql, params).rowcount

    def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._connection().execute(sql, params).fetchone()
        return row

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` for a healthy database."""
        return str(self._connection().execute("PRAGMA integrity_check").fetchone()[0])

    # -- blobs ----------------------------------------------------------------

    def blob_dir(self, component: str, tenant: str) -> Path:
        """``data_dir/blobs/<component>/<tenant>/``, created on first use."""
        for part in (component, tenant):
            if not part or "/" in part or "\\" in part or part in (".", ".."):
                raise ValueError(f"invalid blob path part {part!r}")
        path = self.data_dir / "blobs" / component / tenant
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def blob_writer(self, path: Path) -> Iterator[IO[bytes]]:
        """Write ``path`` atomically: a temp file, fsynced, renamed on success only."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            with open(tmp, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        finally:
            if tmp.exists():
                tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    """Persist a rename (POSIX needs the directory itself synced)."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _split_statements(script: str) -> list[str]:
    """Split an SQL script on complete statements (handles ``;`` inside strings)."""
    statements: list[str] = []
    current = ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):
                statements.append(current.strip())
            current = ""
    if current.strip(" \t\r\n;"):
        statements.append(current.strip().removesuffix(";"))
    return statements
