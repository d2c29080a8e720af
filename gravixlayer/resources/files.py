"""`/v1/files`: upload, list, retrieve, read, download and delete files (spec §3, rulings 9-11).

Uploads stream from the source (a path, bytes or a binary file object) in chunks, so a file of any
size costs the client only a chunk of memory; downloads stream to disk the same way.
"""

from __future__ import annotations

import email.utils
import io
import logging
import os
import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import cached_property, partial
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote

import httpx
from typing_extensions import Unpack

from .._base_client import connection_error
from .._exceptions import GravixLayerValidationError
from .._parse import json_body, parse_model, to_model
from .._request import APIRequest, Step, single
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from .._types import RequestOptions
from .._validation import require_in, require_positive_int, require_str
from ..types.files import FILE_PURPOSES, FileDeleteResponse, FileList, FileObject, FileUploadResponse
from ..types.shared import FilePurpose
from ._listing import parse_list
from ._progress import progress_bar

__all__ = ["Files", "AsyncFiles", "FileInput", "FILE_PURPOSES"]

log = logging.getLogger("gravixlayer.files")

FileInput = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""What `files.create(file=...)` accepts: a path, the content itself, or a binary file object."""

DEFAULT_FILENAME = "uploaded_file"
READ_CHUNK = 1024 * 1024
"""Bytes read from the source per multipart chunk (httpx asks for 64 KiB; larger reads cost fewer calls)."""

_ANY = "application/octet-stream, */*"


def _file_path(file_id: str) -> str:
    return quote(require_str("file_id", file_id), safe="")


# -- upload sources ----------------------------------------------------------------------------------


class _UploadReader:
    """What httpx reads the file part from: the source from its start offset, counting what was read.

    httpx seeks to 0 before sending and measures the length with seek/tell, so offsets are relative
    to where the caller's file object stood when it was handed over. A source that cannot seek is
    sent with chunked transfer encoding and cannot be sent twice.
    """

    def __init__(self, raw: IO[bytes], start: int | None, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._start = start
        self._on_read = on_read
        self.consumed = 0

    @property
    def can_rewind(self) -> bool:
        return self._start is not None

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(max(size, READ_CHUNK) if size > 0 else size)
        if isinstance(chunk, str):
            raise GravixLayerValidationError("file must be opened in binary mode ('rb'), not text mode")
        if chunk:
            self.consumed += len(chunk)
            self._on_read(len(chunk))
        return bytes(chunk) if chunk else b""

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self._start is None:
            raise io.UnsupportedOperation("this upload source cannot seek")
        target = self._start + offset if whence == os.SEEK_SET else offset
        position = self._raw.seek(target, whence)
        if whence == os.SEEK_SET and offset == 0:
            self.consumed = 0
        return position - self._start

    def tell(self) -> int:
        if self._start is None:
            raise io.UnsupportedOperation("this upload source cannot tell its position")
        return self._raw.tell() - self._start


class _UploadSource:
    """One upload's content, re-readable from the start for each attempt (`parts` is the callable
    given to `APIRequest.files`). Files opened here are closed when the upload step ends."""

    def __init__(self, file: Any, filename: str | None, progress: bool, stack: ExitStack) -> None:
        self._stack = stack
        self._path: Path | None = None
        self._reader: _UploadReader | None = None
        self._attempts = 0
        if isinstance(file, (str, os.PathLike)):
            path = Path(file)
            if not path.is_file():
                raise GravixLayerValidationError(f"file {str(path)!r} does not exist or is not a regular file")
            self._path = path
            self.size: int | None = path.stat().st_size
            default = path.name
        elif isinstance(file, (bytes, bytearray, memoryview)):
            data = bytes(file) if not isinstance(file, bytes) else file
            self.size = len(data)
            self._reader = _UploadReader(io.BytesIO(data), 0, self._advance)
            default = DEFAULT_FILENAME
        elif callable(getattr(file, "read", None)):
            if isinstance(file, io.TextIOBase) or "b" not in str(getattr(file, "mode", "b")):
                raise GravixLayerValidationError("file must be opened in binary mode ('rb'), not text mode")
            start = self._start_of(file)
            self.size = None
            if start is not None:
                end = file.seek(0, os.SEEK_END)
                file.seek(start)
                self.size = end - start
            self._reader = _UploadReader(file, start, self._advance)
            name = getattr(file, "name", None)
            default = Path(name).name if isinstance(name, str) and name else DEFAULT_FILENAME
        else:
            raise GravixLayerValidationError(
                "file must be a path (str or pathlib.Path), bytes, or a file object opened with 'rb'; "
                f"got {type(file).__name__}"
            )
        if self.size == 0:
            raise GravixLayerValidationError("file is empty; the files service stores files of at least 1 byte")
        self.filename = require_str("filename", filename) if filename is not None else default
        self._bar = progress_bar(progress, total=self.size, desc=self.filename)
        if self._bar is not None:
            stack.callback(self._bar.close)

    @staticmethod
    def _start_of(file: Any) -> int | None:
        seekable = getattr(file, "seekable", None)
        try:
            if seekable is not None and not seekable():
                return None
            return int(file.tell())
        except (OSError, ValueError, AttributeError):
            return None

    def _advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def parts(self) -> dict[str, tuple[str, Any]]:
        """Fresh multipart parts for one attempt."""
        self._attempts += 1
        if self._path is not None:
            handle = self._stack.enter_context(open(self._path, "rb"))
            self._reader = _UploadReader(handle, 0, self._advance)
        assert self._reader is not None
        if self._reader.consumed and not self._reader.can_rewind:
            raise GravixLayerValidationError(
                "the upload must be sent again but its source cannot seek back to the start; "
                "pass a path, bytes or a seekable file object"
            )
        if self._attempts > 1 and self._bar is not None:
            self._bar.reset(total=self.size)
        return {"file": (self.filename, self._reader)}


# -- finding the id of an upload whose answer has none ------------------------------------------------


def _server_time(response: httpx.Response) -> float | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _find_upload(
    files: FileList, *, filename: str, purpose: str, size: int | None, since: float
) -> FileObject | None:
    candidates = [
        f
        for f in files
        if f.id
        and f.filename == filename
        and f.purpose == purpose
        and (size is None or f.bytes is None or f.bytes == size)
        and (f.created_at is None or f.created_at >= since)
    ]
    candidates.sort(key=lambda f: f.created_at or 0, reverse=True)
    return candidates[0] if candidates else None


def _create_step(
    file: FileInput,
    purpose: str,
    filename: str | None,
    expires_after: int | None,
    progress: bool,
    options: RequestOptions,
) -> Step[FileUploadResponse]:
    require_in("purpose", purpose, FILE_PURPOSES)
    form = {"purpose": purpose}
    if expires_after is not None:
        form["expires_after"] = str(require_positive_int("expires_after", expires_after))
    form.update({k: str(v) for k, v in (options.get("extra_body") or {}).items()})
    with ExitStack() as stack:
        source = _UploadSource(file, filename, progress, stack)
        began_client = time.time()
        began = time.monotonic()
        response = yield APIRequest(
            "POST", "files", files=source.parts, data=form, options=options, idempotent=False
        )
        elapsed = time.monotonic() - began
    raw = json_body(response)
    upload = to_model(FileUploadResponse, raw if isinstance(raw, dict) else {}, response)
    if upload.id:
        return upload
    # No id in the answer (spec §3.1): list the files and take the newest one with this name, purpose
    # and size created since the upload began, timed by the server's own clock (its Date header less
    # the upload's duration, with a second of slack for whole-second timestamps).
    server_now = _server_time(response)
    since = (server_now - elapsed if server_now is not None else began_client) - 1.0
    listing = yield APIRequest("GET", "files", options=options)
    found = _find_upload(
        parse_list(FileList, listing, keys=("data", "files")),
        filename=upload.file_name or upload.filename or source.filename,
        purpose=upload.purpose or purpose,
        size=source.size,
        since=since,
    )
    if found is None:
        log.warning(
            "uploaded %r but the files listing shows no matching file; returning the answer without an id",
            source.filename,
        )
        return upload
    merged = to_model(FileUploadResponse, {**(raw or {}), **found.model_dump(exclude_none=True)}, response)
    return merged


# -- requests ------------------------------------------------------------------------------------------


def _list_request(options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "files", options=options)


def _retrieve_request(file_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "files", _file_path(file_id), options=options)


def _content_request(file_id: str, options: RequestOptions, *, stream: bool = False) -> APIRequest:
    return APIRequest(
        "GET", "files", f"{_file_path(file_id)}/content", headers={"Accept": _ANY}, options=options, stream=stream
    )


def _delete_request(file_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("DELETE", "files", _file_path(file_id), options=options)


def _parse_file_list(response: httpx.Response) -> FileList:
    return parse_list(FileList, response, keys=("data", "files"))


def _parse_delete(response: httpx.Response) -> FileDeleteResponse:
    body = json_body(response)
    return to_model(FileDeleteResponse, body if isinstance(body, dict) else {}, response)


# -- download to disk ------------------------------------------------------------------------------------

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)")
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?')


def _disposition_name(response: httpx.Response) -> str | None:
    header = response.headers.get("content-disposition", "")
    match = _FILENAME_STAR.search(header)
    name = unquote(match.group(1)) if match else None
    if name is None:
        match = _FILENAME.search(header)
        name = match.group(1).strip() if match else None
    if name:
        name = Path(name.replace("\\", "/")).name
    return name if name and name not in (".", "..") else None


class _Download:
    """Writes a streamed body to a temporary file beside the target, renamed into place when complete,
    so an interrupted download never leaves a partial file under the target's name."""

    def __init__(self, file_id: str, path: str | os.PathLike[str], progress: bool) -> None:
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise GravixLayerValidationError(f"path must be a file or directory path, got {path!r}")
        self.file_id = file_id
        self.path = Path(path)
        self.progress = progress
        self._handle: IO[bytes] | None = None
        self._tmp: Path | None = None
        self._bar: Any = None

    def start(self, response: httpx.Response) -> None:
        if self.path.is_dir():
            self.path = self.path / (_disposition_name(response) or self.file_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{id(self):x}.part")
        self._handle = open(self._tmp, "wb")
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        self._bar = progress_bar(self.progress, total=total, desc=self.path.name)

    def write(self, chunk: bytes) -> None:
        assert self._handle is not None
        self._handle.write(chunk)
        if self._bar is not None:
            self._bar.update(len(chunk))

    def finish(self) -> Path:
        assert self._handle is not None and self._tmp is not None
        self._handle.close()
        os.replace(self._tmp, self.path)
        self._close_bar()
        return self.path

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# -- resources -----------------------------------------------------------------------------------------


class Files(SyncAPIResource):
    @cached_property
    def with_raw_response(self) -> FilesWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return FilesWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> FilesWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return FilesWithStreamingResponse(self)

    def create(
        self,
        file: FileInput,
        purpose: FilePurpose,
        *,
        filename: str | None = None,
        expires_after: int | None = None,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> FileUploadResponse:
        """Upload `file` (a path, bytes, or a binary file object read from its current position).

        The content is streamed in chunks, never read whole into memory. `purpose` must be one of
        `FILE_PURPOSES`; `filename` defaults to the path's or file object's name; `expires_after` is in
        seconds; `progress=True` shows a tqdm bar. The upload is never repeated after the server may
        have stored it. When the service's answer carries no id (spec §3.1), the id is found by
        listing the files and taking the newest one with the same filename, purpose and size created
        since the upload began (timed by the server's Date header); `id` stays None only if none matches.
        """
        return self._client.run(_create_step(file, purpose, filename, expires_after, progress, options))

    upload = create

    def list(self, **options: Unpack[RequestOptions]) -> FileList:
        """Every file of this account; iterate the result or read `.data`."""
        return self._client.run(single(_list_request(options), _parse_file_list))

    def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> FileObject:
        """One file's metadata; `GravixLayerNotFoundError` if there is no such file."""
        return self._client.run(single(_retrieve_request(file_id, options), partial(parse_model, FileObject)))

    def content(self, file_id: str, **options: Unpack[RequestOptions]) -> bytes:
        """The file's content as bytes (held in memory: use `download` for large files)."""
        return self._client.run(single(_content_request(file_id, options), lambda r: r.content))

    def download(
        self,
        file_id: str,
        path: str | os.PathLike[str],
        *,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Path:
        """Stream the file's content to `path` (into it, under the file's name, if it is a directory).

        Written to a temporary file beside the target and renamed when complete; returns the path written.
        """
        request = _content_request(file_id, options, stream=True)
        target = _Download(file_id, path, progress)
        response = self._client.send(request)
        try:
            target.start(response)
            for chunk in response.iter_bytes():
                target.write(chunk)
        except httpx.TransportError as exc:
            target.abort()
            raise connection_error(exc, request) from exc
        except BaseException:
            target.abort()
            raise
        finally:
            response.close()
        return target.finish()

    def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> FileDeleteResponse:
        """Delete a file; the answer's `.message` says so."""
        return self._client.run(single(_delete_request(file_id, options), _parse_delete))


class AsyncFiles(AsyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AsyncFilesWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncFilesWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncFilesWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncFilesWithStreamingResponse(self)

    async def create(
        self,
        file: FileInput,
        purpose: FilePurpose,
        *,
        filename: str | None = None,
        expires_after: int | None = None,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> FileUploadResponse:
        """Upload `file` (a path, bytes, or a binary file object read from its current position).

        The content is streamed in chunks, never read whole into memory. `purpose` must be one of
        `FILE_PURPOSES`; `filename` defaults to the path's or file object's name; `expires_after` is in
        seconds; `progress=True` shows a tqdm bar. The upload is never repeated after the server may
        have stored it. When the service's answer carries no id (spec §3.1), the id is found by
        listing the files and taking the newest one with the same filename, purpose and size created
        since the upload began (timed by the server's Date header); `id` stays None only if none matches.
        """
        return await self._client.run(_create_step(file, purpose, filename, expires_after, progress, options))

    upload = create

    async def list(self, **options: Unpack[RequestOptions]) -> FileList:
        """Every file of this account; iterate the result or read `.data`."""
        return await self._client.run(single(_list_request(options), _parse_file_list))

    async def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> FileObject:
        """One file's metadata; `GravixLayerNotFoundError` if there is no such file."""
        return await self._client.run(
            single(_retrieve_request(file_id, options), partial(parse_model, FileObject))
        )

    async def content(self, file_id: str, **options: Unpack[RequestOptions]) -> bytes:
        """The file's content as bytes (held in memory: use `download` for large files)."""
        return await self._client.run(single(_content_request(file_id, options), lambda r: r.content))

    async def download(
        self,
        file_id: str,
        path: str | os.PathLike[str],
        *,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Path:
        """Stream the file's content to `path` (into it, under the file's name, if it is a directory).

        Written to a temporary file beside the target and renamed when complete; returns the path written.
        """
        request = _content_request(file_id, options, stream=True)
        target = _Download(file_id, path, progress)
        response = await self._client.send(request)
        try:
            target.start(response)
            async for chunk in response.aiter_bytes():
                target.write(chunk)
        except httpx.TransportError as exc:
            target.abort()
            raise connection_error(exc, request) from exc
        except BaseException:
            target.abort()
            raise
        finally:
            await response.aclose()
        return target.finish()

    async def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> FileDeleteResponse:
        """Delete a file; the answer's `.message` says so."""
        return await self._client.run(single(_delete_request(file_id, options), _parse_delete))


class FilesWithRawResponse:
    """Each method of `Files` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Files) -> None:
        self.create = to_raw_response_wrapper(resource.create)
        self.list = to_raw_response_wrapper(resource.list)
        self.retrieve = to_raw_response_wrapper(resource.retrieve)
        self.content = to_raw_response_wrapper(resource.content)
        self.delete = to_raw_response_wrapper(resource.delete)


class FilesWithStreamingResponse:
    """Each method of `Files` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Files) -> None:
        self.create = to_streamed_response_wrapper(resource.create)
        self.list = to_streamed_response_wrapper(resource.list)
        self.retrieve = to_streamed_response_wrapper(resource.retrieve)
        self.content = to_streamed_response_wrapper(resource.content)
        self.delete = to_streamed_response_wrapper(resource.delete)


class AsyncFilesWithRawResponse:
    """Each method of `AsyncFiles` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncFiles) -> None:
        self.create = async_to_raw_response_wrapper(resource.create)
        self.list = async_to_raw_response_wrapper(resource.list)
        self.retrieve = async_to_raw_response_wrapper(resource.retrieve)
        self.content = async_to_raw_response_wrapper(resource.content)
        self.delete = async_to_raw_response_wrapper(resource.delete)


class AsyncFilesWithStreamingResponse:
    """Each method of `AsyncFiles` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncFiles) -> None:
        self.create = async_to_streamed_response_wrapper(resource.create)
        self.list = async_to_streamed_response_wrapper(resource.list)
        self.retrieve = async_to_streamed_response_wrapper(resource.retrieve)
        self.content = async_to_streamed_response_wrapper(resource.content)
        self.delete = async_to_streamed_response_wrapper(resource.delete)
