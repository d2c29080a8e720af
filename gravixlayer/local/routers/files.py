"""Files service (spec §3, rulings 9-11).

Metadata lives in SQLite (``files_items``), contents in
``<data dir>/blobs/files/<tenant>/<file id>``. An upload is parsed as it
arrives (python-multipart's streaming parser, no spooling to /tmp, at most
about a megabyte in memory) and written through ``Storage.blob_writer``: a
temporary file in the blob directory, fsynced and renamed only when the whole
upload has arrived and been validated, and only then is the row committed.
A dropped or refused upload leaves nothing behind; a server killed mid-upload
leaves a ``.part`` file that the next start removes. The size limit is enforced
as bytes arrive (``Content-Length`` or chunked alike), never after the fact.

Names: a file name is any valid UTF-8 (the directory part a client may send is
dropped); one with control characters or invalid UTF-8 is refused with 400, and
a download names the file in ``Content-Disposition`` twice, as an ASCII fallback
and as RFC 5987 ``filename*=UTF-8''...`` (RFC 6266), so any Unicode name
survives. ``expires_after`` is 1 to ``MAX_EXPIRES_AFTER`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...types.files import FILE_PURPOSES
from .._validate import has_control
from ..errors import LocalAPIError, logger
from ..storage import Storage, tenant_of

__all__ = ["routes", "SCHEMA", "startup", "FILE_PURPOSES"]

PREFIX = "/v1/files"
COMPONENT = "files"
DEFAULT_FILENAME = "uploaded_file"
MAX_FIELDS = 16
MAX_FIELD_BYTES = 64 * 1024
MAX_FILENAME = 255
MAX_EXPIRES_AFTER = 2**31 - 1
"""Seconds (about 68 years): what a 32-bit field holds; a larger value is refused, not overflowed."""
MULTIPART_SLACK = 64 * 1024
"""Bytes of multipart framing (boundaries, part headers, small fields) allowed on top of the file limit."""
WRITE_BATCH = 1024 * 1024
READ_CHUNK = 1024 * 1024
DRAIN_LIMIT = 256 * 1024 * 1024
"""After refusing an upload, up to this many more body bytes are read and discarded so the client,
still sending, gets to read the refusal instead of a reset connection."""

SCHEMA = [
    """
    CREATE TABLE files_items (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        filename TEXT NOT NULL,
        purpose TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at REAL NOT NULL,
        expires_after INTEGER,
        expires_at REAL
    );
    CREATE INDEX files_items_tenant ON files_items (tenant, created_at);
    """
]

_DIGITS = re.compile(r"[0-9]{1,20}")


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _public(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "object": "file",
        "bytes": row["bytes"],
        "created_at": int(row["created_at"]),
        "filename": row["filename"],
        "purpose": row["purpose"],
    }
    if row["expires_after"] is not None:
        out["expires_after"] = row["expires_after"]
    return out


def _clean_filename(raw: bytes | None) -> str:
    """The name to keep: the last path segment of what the client sent; 400 for a name no one could use."""
    if not raw:
        return DEFAULT_FILENAME
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LocalAPIError(400, "invalid_request", "the file name is not valid UTF-8") from None
    if has_control(name):
        raise LocalAPIError(400, "invalid_request", "the file name must not contain control characters")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(name) > MAX_FILENAME:
        raise LocalAPIError(400, "invalid_request", f"the file name is longer than {MAX_FILENAME} characters")
    return name if name and name not in (".", "..") else DEFAULT_FILENAME


# -- receiving an upload --------------------------------------------------------------------------------


class _BlobSink:
    """``Storage.blob_writer`` driven from async code: writes and the final fsync+rename run in a worker
    thread; an abort (which only closes and unlinks the temporary file) runs inline, so it also
    happens when the request is cancelled."""

    def __init__(self, storage: Storage, path: Path) -> None:
        self._writer = storage.blob_writer(path)
        self._handle: IO[bytes] | None = None

    async def open(self) -> None:
        self._handle = await anyio.to_thread.run_sync(self._writer.__enter__)

    async def write(self, data: bytes) -> None:
        assert self._handle is not None
        await anyio.to_thread.run_sync(self._handle.write, data)

    async def commit(self) -> None:
        if self._handle is not None:
            self._handle = None
            await anyio.to_thread.run_sync(self._writer.__exit__, None, None, None)

    def abort(self, exc: BaseException) -> None:
        if self._handle is not None:
            self._handle = None
            self._writer.__exit__(type(exc), exc, exc.__traceback__)


class _Upload:
    """Streaming multipart receiver: one ``file`` part into the blob sink, small text fields in memory."""

    def __init__(self, boundary: bytes, sink: _BlobSink, limit: int) -> None:
        self.sink = sink
        self.limit = limit
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.received = 0
        self.complete = False
        self._pending = bytearray()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._part_name: str | None = None
        self._in_file = False
        self._value = bytearray()
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_val,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    # parser callbacks (synchronous; file bytes are queued in _pending and written by feed())

    def _part_begin(self) -> None:
        self._disposition = b""
        self._part_name = None
        self._in_file = False
        self._value = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header_size()

    def _header_val(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header_size()

    def _check_header_size(self) -> None:
        if len(self._header_name) + len(self._header_value) > MAX_FIELD_BYTES:
            raise LocalAPIError(400, "invalid_request", "a multipart part header is too long")

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        name = params.get(b"name")
        if name is None:
            raise LocalAPIError(400, "invalid_request", "a multipart part has no Content-Disposition name")
        self._part_name = name.decode("utf-8", errors="replace")
        if self._part_name == "file":
            if self.filename is not None:
                raise LocalAPIError(400, "invalid_request", "send exactly one 'file' part per upload")
            self.filename = _clean_filename(params.get(b"filename"))
            self._in_file = True
        elif len(self.fields) >= MAX_FIELDS:
            raise LocalAPIError(400, "invalid_request", f"too many form fields (at most {MAX_FIELDS})")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.size += end - start
            if self.size > self.limit:
                raise LocalAPIError(413, "payload_too_large", f"file exceeds the upload limit of {self.limit} bytes")
            self._pending += data[start:end]
        else:
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                raise LocalAPIError(400, "invalid_request", f"form field {self._part_name!r} is too long")

    def _part_end(self) -> None:
        if not self._in_file and self._part_name is not None:
            value = self._value.decode("utf-8", errors="replace")
            self.fields[self._part_name] = value
            if self._part_name == "purpose":
                _check_purpose(value)  # refuse early, before a large file part is received
            elif self._part_name == "expires_after":
                _expires_after(value)
        self._in_file = False

    def _end(self) -> None:
        self.complete = True

    async def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.limit + MULTIPART_SLACK:  # framing past any sane size (chunked bodies too)
            raise LocalAPIError(413, "payload_too_large", f"file exceeds the upload limit of {self.limit} bytes")
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise LocalAPIError(400, "invalid_request", f"malformed multipart body: {exc}") from None
        if len(self._pending) >= WRITE_BATCH:
            await self.flush()

    async def flush(self) -> None:
        if self._pending:
            data, self._pending = bytes(self._pending), bytearray()
            await self.sink.write(data)


def _check_purpose(purpose: str | None) -> str:
    if purpose is None or purpose == "":
        raise LocalAPIError(400, "invalid_request", f"'purpose' is required; one of: {', '.join(FILE_PURPOSES)}")
    if purpose not in FILE_PURPOSES:
        raise LocalAPIError(
            400, "invalid_request", f"purpose {purpose!r} is not supported; use one of: {', '.join(FILE_PURPOSES)}"
        )
    return purpose


def _expires_after(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    digits = value.strip()
    seconds = int(digits) if _DIGITS.fullmatch(digits) else 0
    if not 0 < seconds <= MAX_EXPIRES_AFTER:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise LocalAPIError(
            400, "invalid_request",
            f"expires_after must be a whole number of seconds from 1 to {MAX_EXPIRES_AFTER}, got {shown!r}",
        )  # fmt: skip
    return seconds


async def _drain(stream: AsyncIterator[bytes]) -> None:
    """Read and discard the rest of a refused upload (bounded), so the refusal reaches the client."""
    drained = 0
    with contextlib.suppress(Exception):
        async for chunk in stream:
            drained += len(chunk)
            if drained > DRAIN_LIMIT:
                break


def _boundary(request: Request) -> bytes:
    media, params = parse_options_header(request.headers.get("content-type", ""))
    if media != b"multipart/form-data":
        raise LocalAPIError(
            415,
            "unsupported_media_type",
            "upload a file as multipart/form-data with a 'file' part and a 'purpose' field",
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise LocalAPIError(400, "invalid_request", "the multipart Content-Type has no boundary")
    return boundary


async def upload_file(request: Request) -> Response:
    tenant = tenant_of(request)
    storage = _storage(request)
    limit = int(request.app.state.config.max_upload_bytes)
    stream = request.stream()
    try:
        boundary = _boundary(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
            raise LocalAPIError(413, "payload_too_large", f"file exceeds the upload limit of {limit} bytes")
    except LocalAPIError:
        await _drain(stream)
        raise
    file_id = str(uuid.uuid4())
    sink = _BlobSink(storage, storage.blob_dir(COMPONENT, tenant) / file_id)
    upload = _Upload(boundary, sink, limit)
    try:
        await sink.open()
        try:
            async for chunk in stream:
                await upload.feed(chunk)
        except LocalAPIError:
            await _drain(stream)
            raise
        await upload.flush()
        if not upload.complete:
            raise LocalAPIError(400, "invalid_request", "the multipart body ended before its closing boundary")
        if upload.filename is None:
            raise LocalAPIError(400, "invalid_request", "the upload has no 'file' part")
        purpose = _check_purpose(upload.fields.get("purpose"))
        expires_after = _expires_after(upload.fields.get("expires_after"))
        if upload.size == 0:
            raise LocalAPIError(400, "invalid_request", "the file is empty; upload at least 1 byte")
        await sink.commit()
    except BaseException as exc:
        sink.abort(exc)
        raise
    created = time.time()
    row = {
        "id": file_id, "tenant": tenant, "filename": upload.filename, "purpose": purpose, "bytes": upload.size,
        "created_at": created, "expires_after": expires_after,
        "expires_at": created + expires_after if expires_after else None,
    }  # fmt: skip
    try:
        with storage.transaction() as db:
            db.execute(
                "INSERT INTO files_items (id, tenant, filename, purpose, bytes, created_at, expires_after,"
                " expires_at) VALUES (:id, :tenant, :filename, :purpose, :bytes, :created_at,"
                " :expires_after, :expires_at)",
                row,
            )
    except BaseException:
        _unlink_blob(storage, tenant, file_id)
        raise
    stored = storage.query_one("SELECT * FROM files_items WHERE id = ?", (file_id,))
    assert stored is not None
    return JSONResponse(
        {"message": "File uploaded successfully", "file_name": upload.filename, "purpose": purpose, **_public(stored)}
    )


# -- reading, listing, deleting --------------------------------------------------------------------------

_LIVE = "tenant = ? AND (expires_at IS NULL OR expires_at > ?)"


def _row(request: Request) -> sqlite3.Row:
    tenant = tenant_of(request)
    file_id = request.path_params["file_id"]
    row = _storage(request).query_one(f"SELECT * FROM files_items WHERE id = ? AND {_LIVE}", (file_id, tenant, time.time()))
    if row is None:
        raise LocalAPIError(404, "not_found", f"file {file_id!r} not found")
    return row


def _blob_path(storage: Storage, tenant: str, file_id: str) -> Path:
    return storage.blob_dir(COMPONENT, tenant) / file_id


def _unlink_blob(storage: Storage, tenant: str, file_id: str) -> None:
    try:
        _blob_path(storage, tenant, file_id).unlink(missing_ok=True)
    except OSError:
        logger.warning("could not remove the blob of file %s", file_id, exc_info=True)


def _purge_expired(storage: Storage, tenant: str | None = None) -> None:
    now = time.time()
    where = "expires_at IS NOT NULL AND expires_at <= ?" + (" AND tenant = ?" if tenant else "")
    params: tuple[Any, ...] = (now, tenant) if tenant else (now,)
    expired = storage.query(f"SELECT id, tenant FROM files_items WHERE {where}", params)
    if not expired:
        return
    with storage.transaction() as db:
        db.executemany("DELETE FROM files_items WHERE id = ?", [(r["id"],) for r in expired])
    for r in expired:
        _unlink_blob(storage, r["tenant"], r["id"])


async def list_files(request: Request) -> Response:
    tenant = tenant_of(request)
    storage = _storage(request)
    _purge_expired(storage, tenant)
    rows = storage.query(f"SELECT * FROM files_items WHERE {_LIVE} ORDER BY created_at DESC, id", (tenant, time.time()))
    return JSONResponse({"object": "list", "data": [_public(r) for r in rows]})


async def retrieve_file(request: Request) -> Response:
    return JSONResponse(_public(_row(request)))


async def file_content(request: Request) -> Response:
    row = _row(request)
    path = _blob_path(_storage(request), row["tenant"], row["id"])
    try:
        # Opened before answering: a delete racing this download cannot cut it short (POSIX keeps
        # an open file's data), and a missing blob is a clean 404 rather than a broken stream.
        handle: IO[bytes] = await anyio.to_thread.run_sync(open, path, "rb")
    except FileNotFoundError:
        logger.warning("file %s has metadata but no content at %s", row["id"], path)
        raise LocalAPIError(404, "not_found", f"the content of file {row['id']!r} is missing") from None
    size = os.fstat(handle.fileno()).st_size

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, READ_CHUNK):
                yield chunk
        finally:
            handle.close()

    name = row["filename"]
    fallback = name.encode("ascii", "replace").decode("ascii").replace("\\", "_").replace('"', "_")
    headers = {
        "content-length": str(size),
        "content-disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
    }
    return StreamingResponse(body(), media_type="application/octet-stream", headers=headers)


async def delete_file(request: Request) -> Response:
    row = _row(request)
    storage = _storage(request)
    with storage.transaction() as db:
        db.execute("DELETE FROM files_items WHERE id = ? AND tenant = ?", (row["id"], row["tenant"]))
    _unlink_blob(storage, row["tenant"], row["id"])
    return JSONResponse({"message": "File deleted", "file_id": row["id"], "file_name": row["filename"]})


# -- startup ---------------------------------------------------------------------------------------------


def _sweep(storage: Storage) -> None:
    """Remove what a killed server left: temporary ``.part`` files, blobs without a row, expired files."""
    _purge_expired(storage)
    root = storage.data_dir / "blobs" / COMPONENT
    if not root.is_dir():
        return
    known = {r["id"] for r in storage.query("SELECT id FROM files_items")}
    for tenant_dir in root.iterdir():
        if not tenant_dir.is_dir():
            continue
        for path in tenant_dir.iterdir():
            if path.is_file() and (path.name.endswith(".part") or path.name not in known):
                logger.info("removing leftover upload data %s", path)
                path.unlink(missing_ok=True)


async def startup(app: Starlette) -> None:
    await anyio.to_thread.run_sync(_sweep, app.state.storage)


routes: list[BaseRoute] = [
    Route(PREFIX, upload_file, methods=["POST"]),
    Route(PREFIX, list_files, methods=["GET"]),
    Route(f"{PREFIX}/{{file_id}}", retrieve_file, methods=["GET"]),
    Route(f"{PREFIX}/{{file_id}}", delete_file, methods=["DELETE"]),
    Route(f"{PREFIX}/{{file_id}}/content", file_content, methods=["GET"]),
    Route(f"{PREFIX}/{{file_id}}/download", file_content, methods=["GET"]),
]
