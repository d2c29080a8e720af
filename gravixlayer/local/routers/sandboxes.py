"""Sandbox service (spec §8) under ``/v1/agents``: templates, sandboxes, files, commands, code.

The work is done by ``sandbox.SandboxManager`` (one isolated environment per sandbox); this module only reads requests and shapes answers. Each API key sees only its own sandboxes
(another key's sandbox is 404). Answers carry exactly the keys the vendor's readers expect.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio.to_thread
from pydantic import Field, field_validator
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from .._body import RequestModel, parse_body, read_body, validate_json
from ..errors import LocalAPIError
from ..sandbox import (
    DEFAULT_RUN_TIMEOUT,
    HOME,
    MAX_RUN_TIMEOUT,
    MAX_SANDBOX_TIMEOUT,
    SCHEMA,
    SandboxFiles,
    SandboxManager,
    iso_time,
)
from ..storage import tenant_of

__all__ = ["routes", "startup", "shutdown", "SCHEMA"]

PREFIX = "/v1/agents"
MAX_LIST_LIMIT = 1000
MAX_MULTIPART_FILES = 1000

M = TypeVar("M", bound=RequestModel)

NonEmpty = Annotated[str, Field(min_length=1)]


def _no_nul(value: str, what: str) -> str:
    if "\x00" in value:
        raise ValueError(f"{what} must not contain a NUL byte")
    return value


def _check_env(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    for key, item in value.items():
        if not key or "=" in key or "\x00" in key:
            raise ValueError(f"{key!r} is not a valid environment variable name")
        _no_nul(item, f"the value of {key}")
    return value


class CreateSandbox(RequestModel):
    provider: str | None = None
    region: str | None = None
    template: NonEmpty = "python-base-v1"
    name: Annotated[str, Field(max_length=256)] | None = None
    timeout: Annotated[int, Field(ge=0, le=MAX_SANDBOX_TIMEOUT)] | None = None
    env_vars: dict[str, str] | None = None
    metadata: dict[str, Any] | None = None
    internet_access: bool | None = None
    agent_id: str | None = None

    _env = field_validator("env_vars")(_check_env)


class SetTimeout(RequestModel):
    timeout: Annotated[int, Field(ge=0, le=MAX_SANDBOX_TIMEOUT)]


class PathBody(RequestModel):
    path: str


class ListBody(RequestModel):
    path: str = HOME


class WriteBody(RequestModel):
    path: str
    content: str


class RunCommand(RequestModel):
    command: NonEmpty
    args: list[str] | None = None
    working_dir: str | None = None
    environment: dict[str, str] | None = None
    timeout: Annotated[int, Field(gt=0, le=int(MAX_RUN_TIMEOUT * 1000))] | None = None
    """Milliseconds (decision 22)."""

    _env = field_validator("environment")(_check_env)

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        return _no_nul(value, "command")

    @field_validator("args")
    @classmethod
    def _args(cls, value: list[str] | None) -> list[str] | None:
        for arg in value or []:
            _no_nul(arg, "args")
        return value


class RunCode(RequestModel):
    code: str
    language: NonEmpty = "python"
    context_id: str | None = None
    environment: dict[str, str] | None = None
    timeout: Annotated[float, Field(gt=0, le=MAX_RUN_TIMEOUT)] | None = None
    """Seconds (decision 22)."""

    _env = field_validator("environment")(_check_env)


class CreateContext(RequestModel):
    language: NonEmpty = "python"
    cwd: str | None = None


# -- helpers ---------------------------------------------------------------------------------------------


def manager(request: Request) -> SandboxManager:
    found = getattr(request.app.state, "sandboxes", None)
    if not isinstance(found, SandboxManager):
        raise LocalAPIError(503, "unavailable", "the sandbox service is not running")
    return found


def _param(request: Request, name: str) -> str:
    return str(request.path_params[name])


def _int_query(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LocalAPIError(400, "invalid_request", f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise LocalAPIError(400, "invalid_request", f"{name} must be between {low} and {high}, got {value}")
    return value


async def _optional_body(request: Request, model: type[M]) -> M:
    """A JSON body that may also be empty (then every field has its default)."""
    raw = await read_body(request)
    return validate_json(raw if raw.strip() else b"{}", model)


def _max_bytes(request: Request) -> int:
    return int(getattr(request.app.state.config, "max_upload_bytes", 512 * 1024 * 1024))


def _check_length(request: Request) -> None:
    declared = request.headers.get("content-length")
    limit = _max_bytes(request)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LocalAPIError(413, "payload_too_large", f"request body exceeds {limit} bytes")


def _mode(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    text = raw.strip().lower().removeprefix("0o")
    try:
        value = int(text, 8)
    except ValueError:
        raise LocalAPIError(
            400, "invalid_request", f"mode must be an octal permission like 0o755, got {raw!r}"
        ) from None
    if not 0 <= value <= 0o7777:
        raise LocalAPIError(400, "invalid_request", f"mode {raw!r} is out of range")
    return value


async def _thread(fn: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)


def _check_destination(path: str) -> None:
    if not path.strip() or "\x00" in path or ".." in path.split("/"):
        raise LocalAPIError(400, "invalid_path", f"path {path!r} must be non-empty, without NUL bytes or '..'")


def content_disposition(name: str) -> str:
    """An attachment header any name survives: an ASCII fallback plus RFC 5987's UTF-8 `filename*`."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name) or "download"
    encoded = quote(name.encode("utf-8", "surrogateescape"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


# -- templates and lifecycle --------------------------------------------------------------------------------


async def list_templates(request: Request) -> Response:
    limit = _int_query(request, "limit", 100, 1, MAX_LIST_LIMIT)
    offset = _int_query(request, "offset", 0, 0, 1 << 31)
    templates = [t.to_json() for t in manager(request).templates.values()]
    built = getattr(request.app.state, "template_layers", None)  # templates this key built (sandbox_templates)
    if built is not None:
        templates += [layer.to_json() for layer in built.list(tenant_of(request))]
    return JSONResponse({"templates": templates[offset : offset + limit], "limit": limit, "offset": offset})


async def create_sandbox(request: Request) -> Response:
    body = await parse_body(request, CreateSandbox)
    record = await manager(request).create(
        tenant_of(request),
        template=body.template,
        name=body.name,
        provider=body.provider,
        region=body.region,
        timeout=body.timeout,
        env_vars=body.env_vars or {},
        internet_access=bool(body.internet_access),
        metadata=body.metadata or {},
    )
    return JSONResponse(record.to_json(), status_code=201)


async def list_sandboxes(request: Request) -> Response:
    limit = _int_query(request, "limit", 100, 1, MAX_LIST_LIMIT)
    offset = _int_query(request, "offset", 0, 0, 1 << 31)
    sandboxes = manager(request)
    tenant = tenant_of(request)
    for record in sandboxes.list(tenant):
        await sandboxes.fresh(tenant, record.id)
    records = sandboxes.list(tenant)
    page = [r.to_json() for r in records[offset : offset + limit]]
    return JSONResponse({"sandboxes": page, "total": len(records)})


async def get_sandbox(request: Request) -> Response:
    record = await manager(request).fresh(tenant_of(request), _param(request, "sandbox_id"))
    return JSONResponse(record.to_json())


async def kill_sandbox(request: Request) -> Response:
    sandbox_id = _param(request, "sandbox_id")
    message = await manager(request).kill(tenant_of(request), sandbox_id)
    return JSONResponse({"message": message, "sandbox_id": sandbox_id})


async def connect_sandbox(request: Request) -> Response:
    sandboxes = manager(request)
    record = await sandboxes.fresh(tenant_of(request), _param(request, "sandbox_id"))
    if record.status == "stopped":
        raise LocalAPIError(409, "sandbox_not_running", f"sandbox {record.id} is stopped")
    record = await sandboxes.resume(tenant_of(request), record.id)
    return JSONResponse(
        {
            "sandbox_id": record.id,
            "status": record.status,
            "domain": request.url.hostname,
            "message": "connected",
        }
    )


async def pause_sandbox(request: Request) -> Response:
    record = await manager(request).pause(tenant_of(request), _param(request, "sandbox_id"))
    return JSONResponse(record.to_json())


async def resume_sandbox(request: Request) -> Response:
    record = await manager(request).resume(tenant_of(request), _param(request, "sandbox_id"))
    return JSONResponse(record.to_json())


async def set_timeout(request: Request) -> Response:
    body = await parse_body(request, SetTimeout)
    record = await manager(request).set_timeout(
        tenant_of(request), _param(request, "sandbox_id"), body.timeout
    )
    timeout_at = iso_time(record.timeout_at) if record.timeout_at is not None else None
    message = f"sandbox stops at {timeout_at}" if timeout_at else "sandbox has no timeout"
    return JSONResponse({"message": message, "timeout": body.timeout, "timeout_at": timeout_at})


async def metrics(request: Request) -> Response:
    return JSONResponse(await manager(request).metrics(tenant_of(request), _param(request, "sandbox_id")))


async def host_url(request: Request) -> Response:
    tenant, sandbox_id = tenant_of(request), _param(request, "sandbox_id")
    raw = _param(request, "port")
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise LocalAPIError(400, "invalid_request", f"port must be a number between 1 and 65535, got {raw!r}")
    host = request.url.hostname or "127.0.0.1"
    port = await manager(request).host_port(tenant, sandbox_id, int(raw), bind=request.scope.get("server", ("127.0.0.1",))[0])
    if ":" in host:
        host = f"[{host}]"
    return JSONResponse({"url": f"http://{host}:{port}"})


# -- files -------------------------------------------------------------------------------------------------


async def _files(request: Request) -> SandboxFiles:
    return await manager(request).files(tenant_of(request), _param(request, "sandbox_id"))


async def read_file(request: Request) -> Response:
    body = await parse_body(request, PathBody)
    files = await _files(request)
    data, path = await files.read(body.path, _max_bytes(request))
    return JSONResponse({"content": data.decode("utf-8", errors="replace"), "path": path, "size": len(data)})


async def write_file(request: Request) -> Response:
    body = await parse_body(request, WriteBody, max_bytes=_max_bytes(request))  # a file, not a request
    files = await _files(request)
    path, size = await files.write(body.path, body.content.encode("utf-8"), None)
    return JSONResponse({"message": "File written", "path": path, "bytes_written": size})


async def list_files(request: Request) -> Response:
    body = await _optional_body(request, ListBody)
    files = await _files(request)
    return JSONResponse({"files": await files.list(body.path)})


async def delete_file(request: Request) -> Response:
    body = await parse_body(request, PathBody)
    files = await _files(request)
    path = await files.delete(body.path)
    return JSONResponse({"message": "Deleted", "path": path})


async def make_directory(request: Request) -> Response:
    body = await parse_body(request, PathBody)
    files = await _files(request)
    path = await files.make_directory(body.path)
    return JSONResponse({"message": "Directory created", "path": path})


async def _uploads(request: Request) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """The file parts (filename, bytes) and text fields of a multipart body."""
    _check_length(request)
    limit = _max_bytes(request)
    parts: list[tuple[str, bytes]] = []
    fields: dict[str, str] = {}
    total = 0
    async with request.form(max_files=MAX_MULTIPART_FILES, max_fields=MAX_MULTIPART_FILES) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "file":
                    continue
                data = await value.read()
                total += len(data)
                if total > limit:
                    raise LocalAPIError(413, "payload_too_large", f"request body exceeds {limit} bytes")
                parts.append((value.filename or "", data))
            else:
                fields[name] = value
    if not parts:
        raise LocalAPIError(
            400, "invalid_request", "send the file as a multipart/form-data part named 'file'"
        )
    return parts, fields


async def upload(request: Request) -> Response:
    files = await _files(request)
    parts, fields = await _uploads(request)
    if len(parts) != 1:
        raise LocalAPIError(400, "invalid_request", "upload takes exactly one 'file' part")
    filename, data = parts[0]
    name = posixpath.basename(filename.replace("\\", "/"))
    target = fields.get("path") or ""
    if not target or target.endswith("/"):
        if not name or name in (".", ".."):
            raise LocalAPIError(400, "invalid_request", "the file part has no file name; send a 'path' field")
        target = posixpath.join(target or HOME, name)
    elif name:
        if await files.is_directory(target):
            target = posixpath.join(target, name)
    path, size = await files.write(target, data, None)
    return JSONResponse({"message": "File uploaded", "path": path, "size": size})


async def write_multipart(request: Request) -> Response:
    """`write` (one file, destination in `?path=`) and `write_files` (each part's filename is its path)."""
    files = await _files(request)
    mode = _mode(request.query_params.get("mode"))
    single = request.query_params.get("path")
    if single is not None:
        _check_destination(single)  # a bad destination is a 400 before the body is read
    parts, _fields = await _uploads(request)
    if single is not None:
        if len(parts) != 1:
            raise LocalAPIError(400, "invalid_request", "with ?path= send exactly one 'file' part")
        path, _size = await files.write(single, parts[0][1], mode)
        return JSONResponse([{"path": path, "name": posixpath.basename(path), "type": "file"}])
    answers: list[dict[str, Any]] = []
    failed = False
    for filename, data in parts:
        try:
            path, _size = await files.write(filename, data, mode)
            answers.append({"path": path, "name": posixpath.basename(path), "type": "file"})
        except LocalAPIError as exc:
            failed = True
            answers.append(
                {"path": filename, "name": posixpath.basename(filename), "type": "file", "error": exc.message}
            )
    return JSONResponse(answers, status_code=207 if failed else 200)


class _DescriptorResponse(StreamingResponse):
    """Streams an open file and closes it however the exchange ends (sent, failed, client gone)."""

    def __init__(self, fd: int, size: int, name: str) -> None:
        self.fd: int | None = fd
        headers = {"content-length": str(size), "content-disposition": content_disposition(name)}
        super().__init__(self._chunks(), media_type="application/octet-stream", headers=headers)

    async def _chunks(self) -> AsyncIterator[bytes]:
        while self.fd is not None:
            chunk = await _thread(os.read, self.fd, 1024 * 1024)
            if not chunk:
                return
            yield chunk

    def _close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._close()


async def download(request: Request) -> Response:
    path = request.query_params.get("path")
    if not path:
        raise LocalAPIError(400, "invalid_request", "the 'path' query parameter is required")
    files = await _files(request)
    fd, size, visible = await files.open_read(path, 1 << 62)
    try:
        return _DescriptorResponse(fd, size, posixpath.basename(visible))
    except BaseException:
        os.close(fd)
        raise


# -- commands and code ----------------------------------------------------------------------------------------


async def run_command(request: Request) -> Response:
    body = await parse_body(request, RunCommand)
    timeout = body.timeout / 1000 if body.timeout is not None else DEFAULT_RUN_TIMEOUT
    answer = await manager(request).run_command(
        tenant_of(request),
        _param(request, "sandbox_id"),
        command=body.command,
        args=body.args,
        working_dir=body.working_dir,
        env=body.environment or {},
        timeout=timeout,
    )
    return JSONResponse(answer)


async def run_code(request: Request) -> Response:
    body = await parse_body(request, RunCode)
    answer = await manager(request).run_code(
        tenant_of(request),
        _param(request, "sandbox_id"),
        code=body.code,
        language=body.language,
        context_id=body.context_id,
        env=body.environment or {},
        timeout=body.timeout if body.timeout is not None else DEFAULT_RUN_TIMEOUT,
    )
    return JSONResponse(answer)


async def create_context(request: Request) -> Response:
    body = await _optional_body(request, CreateContext)
    kernel = await manager(request).create_context(
        tenant_of(request), _param(request, "sandbox_id"), language=body.language, cwd=body.cwd
    )
    return JSONResponse(kernel.to_json(), status_code=201)


async def get_context(request: Request) -> Response:
    kernel = await manager(request).get_context(
        tenant_of(request), _param(request, "sandbox_id"), _param(request, "context_id")
    )
    return JSONResponse(kernel.to_json())


async def delete_context(request: Request) -> Response:
    context_id = _param(request, "context_id")
    await manager(request).delete_context(tenant_of(request), _param(request, "sandbox_id"), context_id)
    return JSONResponse({"message": "Context deleted", "context_id": context_id})


_S = f"{PREFIX}/sandboxes/{{sandbox_id}}"

routes: list[BaseRoute] = [
    Route(f"{PREFIX}/templates", list_templates, methods=["GET"]),
    Route(f"{PREFIX}/sandboxes", create_sandbox, methods=["POST"]),
    Route(f"{PREFIX}/sandboxes", list_sandboxes, methods=["GET"]),
    Route(_S, get_sandbox, methods=["GET"]),
    Route(_S, kill_sandbox, methods=["DELETE"]),
    Route(f"{_S}/connect", connect_sandbox, methods=["POST"]),
    Route(f"{_S}/pause", pause_sandbox, methods=["POST"]),
    Route(f"{_S}/resume", resume_sandbox, methods=["POST"]),
    Route(f"{_S}/timeout", set_timeout, methods=["POST"]),
    Route(f"{_S}/metrics", metrics, methods=["GET"]),
    Route(f"{_S}/host/{{port}}", host_url, methods=["GET"]),
    Route(f"{_S}/files/read", read_file, methods=["POST"]),
    Route(f"{_S}/files/write", write_file, methods=["POST"]),
    Route(f"{_S}/files/list", list_files, methods=["POST"]),
    Route(f"{_S}/files/delete", delete_file, methods=["POST"]),
    Route(f"{_S}/files/mkdir", make_directory, methods=["POST"]),
    Route(f"{_S}/files", write_multipart, methods=["POST"]),
    Route(f"{_S}/upload", upload, methods=["POST"]),
    Route(f"{_S}/download", download, methods=["GET"]),
    Route(f"{_S}/commands/run", run_command, methods=["POST"]),
    Route(f"{_S}/code/run", run_code, methods=["POST"]),
    Route(f"{_S}/code/contexts", create_context, methods=["POST"]),
    Route(f"{_S}/code/contexts/{{context_id}}", get_context, methods=["GET"]),
    Route(f"{_S}/code/contexts/{{context_id}}", delete_context, methods=["DELETE"]),
]


async def startup(app: Starlette) -> None:
    config = app.state.config
    sandboxes = SandboxManager(
        app.state.storage, config.data_dir, started_at=app.state.started_at,
        isolation=config.sandbox_isolation, disk_mb=config.sandbox_disk_mb,
    )
    await sandboxes.start()
    app.state.sandboxes = sandboxes


async def shutdown(app: Starlette) -> None:
    sandboxes = getattr(app.state, "sandboxes", None)
    if isinstance(sandboxes, SandboxManager):
        await sandboxes.close()
