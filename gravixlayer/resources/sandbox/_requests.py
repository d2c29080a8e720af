"""The requests of `/v1/agents/sandboxes/...` and the readers of their answers (spec §8.2-8.9).

Every operation is one request-building function here; `Sandboxes` / `AsyncSandboxes` (and the
`Sandbox` class) only send what it builds. Units are converted here and nowhere else: sandbox and code
timeouts are whole seconds on the wire, command timeouts are taken in seconds and sent in milliseconds
(decision 22).
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

import httpx

from ... import _defaults
from ..._exceptions import GravixLayerValidationError
from ..._parse import json_body, parse_model, to_model
from ..._request import APIRequest, Step, without_none
from ..._types import RequestOptions, TimedRequestOptions, TimeoutTypes, as_request_options
from ..._validation import require_positive_int, require_str
from ..._warn import warn_user
from ...types.sandbox import (
    Execution,
    FileList,
    SandboxInfo,
    WriteInfo,
    code_run_fields,
    command_run_fields,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "HOME",
    "FileSource",
    "FileData",
    "FileEntries",
    "TimedRequestOptions",
    "command_timeout_ms",
    "code_timeout_seconds",
    "env_vars_argument",
]

DEFAULT_TEMPLATE = "python-base-v1"
HOME = "/home/user"
"""Relative sandbox paths are relative to this directory (decision 23)."""

MAX_SANDBOX_TIMEOUT = 43200
"""Documented maximum sandbox lifetime, in seconds (spec §8.2)."""

HTTP_MARGIN = 30.0
"""Seconds added to an execution timeout so the HTTP request outlives the run it waits for."""

FileData = str | bytes
FileSource = str | os.PathLike[str] | bytes | IO[bytes]
FileEntries = Mapping[str, FileData] | Sequence[tuple[str, FileData]]
WriteInfos = list[WriteInfo]


_request_options = as_request_options


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# -- units -------------------------------------------------------------------------------------------


def command_timeout_ms(seconds: float) -> int:
    """A command timeout given in seconds, as the milliseconds the service expects (decision 22, D46)."""
    _require_seconds("timeout", seconds)
    return max(1, round(seconds * 1000))


def code_timeout_seconds(seconds: float) -> int:
    """A code timeout given in seconds, as the whole seconds the service expects (rounded up)."""
    _require_seconds("timeout", seconds)
    return max(1, math.ceil(seconds))


def _require_seconds(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise GravixLayerValidationError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _read_timeout(timeout: TimeoutTypes) -> float | None:
    if isinstance(timeout, httpx.Timeout):
        return timeout.read
    return timeout


def _outlive(options: RequestOptions, seconds: float | None, client_timeout: TimeoutTypes) -> RequestOptions:
    """Options whose HTTP timeout is long enough to wait for a run of `seconds` (a caller's timeout wins)."""
    if seconds is None or "timeout" in options:
        return options
    needed = seconds + HTTP_MARGIN
    current = _read_timeout(client_timeout)
    if current is None or current >= needed:
        return options
    connect = client_timeout.connect if isinstance(client_timeout, httpx.Timeout) else current
    return {**options, "timeout": httpx.Timeout(needed, connect=connect)}


# -- argument checks ---------------------------------------------------------------------------------


def _identifier(name: str, value: Any) -> str:
    """An id that is safe as one URL path segment (server-made ids are UUIDs, decision 6)."""
    text = require_str(name, value)
    if not _ID.match(text):
        raise GravixLayerValidationError(f"{name} must be an id such as a UUID, got {value!r}")
    return text


def _sandbox_id(value: Any) -> str:
    return _identifier("sandbox_id", value)


def _context_id(value: Any) -> str:
    return _identifier("context_id", value)


def check_path(value: Any, name: str = "path") -> str:
    """A sandbox path: non-empty, no NUL byte, no `..` segment (the service refuses those too)."""
    if not isinstance(value, (str, os.PathLike)):
        raise GravixLayerValidationError(f"{name} must be a string, got {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str) or not path.strip():
        raise GravixLayerValidationError(f"{name} must be a non-empty path, got {value!r}")
    if "\x00" in path:
        raise GravixLayerValidationError(f"{name} must not contain a NUL byte")
    if ".." in path.replace("\\", "/").split("/"):
        raise GravixLayerValidationError(f"{name} must not contain '..' segments, got {path!r}")
    return path


def _str_map(name: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise GravixLayerValidationError(f"{name} must be a mapping of strings to strings")
    return dict(value) or None


def _sandbox_path(sandbox_id: str, *parts: str) -> str:
    return "/".join(("sandboxes", _sandbox_id(sandbox_id), *parts))


def _as_bytes(data: Any, name: str = "data") -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise GravixLayerValidationError(f"{name} must be str or bytes, got {type(data).__name__}")


def _mode_text(mode: int | None) -> str | None:
    if mode is None:
        return None
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
        raise GravixLayerValidationError(f"mode must be a permission number such as 0o755, got {mode!r}")
    return oct(mode)  # the vendor's spelling, e.g. "0o755" (spec §8.6)


# -- names ------------------------------------------------------------------------------------------

ENV_VARS_ALIASES = ("environment", "env")
"""Deprecated spellings of `env_vars` (kept for one minor version): the wire says `env_vars` on create
and `environment` on runs, and the instance methods said `env`; the SDK now says `env_vars` everywhere."""


def env_vars_argument(env_vars: Mapping[str, str] | None, **aliases: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """`env_vars`, or the value given under a deprecated alias (with a `DeprecationWarning`)."""
    for alias, value in aliases.items():
        if value is None:
            continue
        warn_user(
            f"{alias}= is deprecated and will be removed in the next minor version; use env_vars=",
            DeprecationWarning,
        )
        if env_vars is not None and env_vars != value:
            raise GravixLayerValidationError(f"pass env_vars= or {alias}=, not both")
        env_vars = value
    return env_vars


# -- lifecycle ---------------------------------------------------------------------------------------


def _create_request(
    *, client: Any, provider: str | None, region: str | None, template: str, name: str | None,
    timeout: int | None, env_vars: Mapping[str, str] | None, metadata: Mapping[str, Any] | None,
    internet_access: bool | None, agent_id: str | None, options: RequestOptions,
) -> APIRequest:  # fmt: skip
    if timeout is not None:
        require_positive_int("timeout", timeout, allow_zero=True)
    if metadata is not None and not isinstance(metadata, Mapping):
        raise GravixLayerValidationError("metadata must be a mapping")
    body = {
        "provider": _defaults.cloud(provider, client),
        "region": _defaults.region(region, client),
        "template": require_str("template", template),
        **without_none(
            name=require_str("name", name) if name is not None else None,
            timeout=timeout,
            env_vars=_str_map("env_vars", env_vars),
            metadata=dict(metadata) if metadata else None,
            internet_access=internet_access,
            agent_id=agent_id,
        ),
    }
    return APIRequest("POST", "agents", "sandboxes", options=options, idempotent=False).with_body(body)


def _list_request(*, limit: int, offset: int, options: RequestOptions) -> APIRequest:
    params = {
        "limit": require_positive_int("limit", limit),
        "offset": require_positive_int("offset", offset, allow_zero=True),
    }
    return APIRequest("GET", "agents", "sandboxes", params=params, options=options)


def _get_request(sandbox_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "agents", _sandbox_path(sandbox_id), options=options)


def _kill_request(sandbox_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("DELETE", "agents", _sandbox_path(sandbox_id), options=options)


def _post_request(sandbox_id: str, action: str, options: RequestOptions) -> APIRequest:
    return APIRequest("POST", "agents", _sandbox_path(sandbox_id, action), options=options)


def _timeout_request(sandbox_id: str, timeout: int, options: RequestOptions) -> APIRequest:
    body = {"timeout": require_positive_int("timeout", timeout, allow_zero=True)}
    return APIRequest("POST", "agents", _sandbox_path(sandbox_id, "timeout"), options=options).with_body(body)


def _metrics_request(sandbox_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "agents", _sandbox_path(sandbox_id, "metrics"), options=options)


def _host_request(sandbox_id: str, port: int, options: RequestOptions) -> APIRequest:
    require_positive_int("port", port)
    if port > 65535:
        raise GravixLayerValidationError(f"port must be between 1 and 65535, got {port}")
    return APIRequest("GET", "agents", _sandbox_path(sandbox_id, "host", str(port)), options=options)


# -- files -------------------------------------------------------------------------------------------


def _file_json_request(
    sandbox_id: str, action: str, body: dict[str, Any], options: RequestOptions, *, idempotent: bool = True
) -> APIRequest:
    return APIRequest(
        "POST", "agents", _sandbox_path(sandbox_id, "files", action), options=options, idempotent=idempotent
    ).with_body(body)


def _read_request(sandbox_id: str, path: str, options: RequestOptions) -> APIRequest:
    return _file_json_request(sandbox_id, "read", {"path": check_path(path)}, options)


def _write_file_request(sandbox_id: str, path: str, content: str, options: RequestOptions) -> APIRequest:
    if not isinstance(content, str):
        raise GravixLayerValidationError("content must be a string; use write() for bytes")
    return _file_json_request(sandbox_id, "write", {"path": check_path(path), "content": content}, options)


def _list_files_request(sandbox_id: str, path: str, options: RequestOptions) -> APIRequest:
    return _file_json_request(sandbox_id, "list", {"path": check_path(path)}, options)


def _delete_request(sandbox_id: str, path: str, options: RequestOptions) -> APIRequest:
    # Not retried once the server may have acted: a repeated delete would report 404 for a success.
    return _file_json_request(sandbox_id, "delete", {"path": check_path(path)}, options, idempotent=False)


def _mkdir_request(sandbox_id: str, path: str, options: RequestOptions) -> APIRequest:
    return _file_json_request(sandbox_id, "mkdir", {"path": check_path(path)}, options)


def _file_source(file: Any) -> tuple[str, bytes]:
    """A local upload source as (file name, bytes); paths are read now, so a retry sends the same bytes."""
    if isinstance(file, (str, os.PathLike)):
        local = Path(file)
        if not local.is_file():
            raise GravixLayerValidationError(f"no such local file: {str(local)!r}")
        return local.name, local.read_bytes()
    if isinstance(file, (bytes, bytearray, memoryview)):
        return "file", bytes(file)
    if hasattr(file, "read"):
        data = file.read()
        name = os.path.basename(str(getattr(file, "name", "") or "")) or "file"
        return name, _as_bytes(data, "file contents")
    raise GravixLayerValidationError(
        f"file must be a local path, bytes or a binary file object, got {type(file).__name__}"
    )


def _upload_request(sandbox_id: str, file: Any, path: str | None, options: RequestOptions) -> APIRequest:
    filename, data = _file_source(file)
    form = {"path": check_path(path)} if path is not None else None

    def parts() -> dict[str, Any]:
        return {"file": (filename, data, "application/octet-stream")}

    return APIRequest(
        "POST", "agents", _sandbox_path(sandbox_id, "upload"), files=parts, data=form, options=options
    )


def _download_request(sandbox_id: str, path: str, options: RequestOptions) -> APIRequest:
    params = {"path": check_path(path)}
    return APIRequest(
        "GET", "agents", _sandbox_path(sandbox_id, "download"), params=params, options=options,
        headers={"Accept": "application/octet-stream"},
    )  # fmt: skip


def _write_request(
    sandbox_id: str, path: str, data: Any, user: str | None, mode: int | None, options: RequestOptions
) -> tuple[APIRequest, int]:
    path = check_path(path)
    content = _as_bytes(data)
    params = without_none(path=path, username=user, mode=_mode_text(mode))
    name = posixpath.basename(path.rstrip("/")) or "file"

    def parts() -> dict[str, Any]:
        return {"file": (name, content, "application/octet-stream")}

    request = APIRequest(
        "POST", "agents", _sandbox_path(sandbox_id, "files"), params=params, files=parts, options=options
    )
    return request, len(content)


def _write_files_request(
    sandbox_id: str, files: FileEntries, user: str | None, options: RequestOptions
) -> APIRequest:
    if not isinstance(files, (Mapping, Iterable)) or isinstance(files, (str, bytes)):
        raise GravixLayerValidationError("files must be a mapping or a list of (path, data) pairs")
    items = list(files.items()) if isinstance(files, Mapping) else list(files)
    if not items:
        raise GravixLayerValidationError("files must name at least one file")
    entries: list[tuple[str, bytes]] = []
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise GravixLayerValidationError("files must be a mapping or a list of (path, data) pairs")
        entries.append((check_path(item[0], "file path"), _as_bytes(item[1])))

    def parts() -> list[tuple[str, Any]]:
        return [("file", (path, data, "application/octet-stream")) for path, data in entries]

    params = without_none(username=user)
    return APIRequest(
        "POST",
        "agents",
        _sandbox_path(sandbox_id, "files"),
        params=params or None,
        files=parts,
        options=options,
    )


def _write_answer(size: int, response: httpx.Response) -> WriteInfo:
    body = json_body(response)
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, dict) and "files" in first and isinstance(first["files"], list) and first["files"]:
        first = first["files"][0]
    data = dict(first) if isinstance(first, dict) else {}
    data.setdefault("size", size)
    return to_model(WriteInfo, data, response)


def _write_files_answer(response: httpx.Response) -> list[WriteInfo]:
    body = json_body(response)
    if isinstance(body, dict):
        body = body.get("files") or []
    if not isinstance(body, list):
        body = []
    return [to_model(WriteInfo, item, response) for item in body]


def _file_list_answer(path: str, response: httpx.Response) -> FileList:
    body = json_body(response)
    if isinstance(body, list):
        body = {"files": body}
    listing = to_model(FileList, body if isinstance(body, dict) else {}, response)
    base = path if path.startswith("/") else posixpath.join(HOME, path)
    for entry in listing.files:
        if entry.path is None:  # some servers send only names; the path follows from what was listed
            entry.path = posixpath.join(base, entry.name)
    return listing


def _bytes_answer(response: httpx.Response) -> bytes:
    return response.content


# -- commands and code -------------------------------------------------------------------------------


def _command_request(
    sandbox_id: str, command: str, args: Sequence[str] | None, working_dir: str | None,
    environment: Mapping[str, str] | None, timeout: float | None, options: RequestOptions, client_timeout: TimeoutTypes,
) -> APIRequest:  # fmt: skip
    if args is not None and (isinstance(args, str) or not all(isinstance(a, str) for a in args)):
        raise GravixLayerValidationError("args must be a list of strings")
    body = {
        "command": require_str("command", command),
        **without_none(
            args=list(args) if args is not None else None,
            working_dir=check_path(working_dir, "working_dir") if working_dir is not None else None,
            environment=_str_map("env_vars", environment),
            timeout=command_timeout_ms(timeout) if timeout is not None else None,
        ),
    }
    options = _outlive(options, timeout, client_timeout)
    path = _sandbox_path(sandbox_id, "commands", "run")
    return APIRequest("POST", "agents", path, options=options, idempotent=False).with_body(body)


def _code_request(
    sandbox_id: str, code: str, language: str, context_id: str | None, environment: Mapping[str, str] | None,
    timeout: float | None, options: RequestOptions, client_timeout: TimeoutTypes,
) -> APIRequest:  # fmt: skip
    if not isinstance(code, str):
        raise GravixLayerValidationError(f"code must be a string, got {type(code).__name__}")
    body = {
        "code": code,
        "language": require_str("language", language),
        **without_none(
            context_id=_context_id(context_id) if context_id is not None else None,
            environment=_str_map("env_vars", environment),
            timeout=code_timeout_seconds(timeout) if timeout is not None else None,
        ),
    }
    options = _outlive(options, timeout, client_timeout)
    path = _sandbox_path(sandbox_id, "code", "run")
    return APIRequest("POST", "agents", path, options=options, idempotent=False).with_body(body)


def _code_answer(response: httpx.Response) -> Execution:
    return to_model(Execution, code_run_fields(json_body(response)), response)


def _command_answer(response: httpx.Response) -> Execution:
    return to_model(Execution, command_run_fields(json_body(response)), response)


def _context_create_request(
    sandbox_id: str, language: str, cwd: str | None, options: RequestOptions
) -> APIRequest:
    body = {
        "language": require_str("language", language),
        **without_none(cwd=check_path(cwd, "cwd") if cwd is not None else None),
    }
    path = _sandbox_path(sandbox_id, "code", "contexts")
    return APIRequest("POST", "agents", path, options=options, idempotent=False).with_body(body)


def _context_request(method: str, sandbox_id: str, context_id: str, options: RequestOptions) -> APIRequest:
    path = _sandbox_path(sandbox_id, "code", "contexts", _context_id(context_id))
    return APIRequest(method, "agents", path, options=options)


_parse_info = partial(parse_model, SandboxInfo)


def _state_change_step(sandbox_id: str, action: str, options: RequestOptions) -> Step[SandboxInfo]:
    """`pause` / `resume`, then the sandbox's state.

    The service's reply is not relied on (spec §8.9: it may be a message, a sandbox object or a 204):
    a sandbox object is used as it is; anything else is followed by a GET of the sandbox.
    """
    response = yield _post_request(sandbox_id, action, options)
    if _is_sandbox_object(response):
        return _parse_info(response)
    return _parse_info((yield _get_request(sandbox_id, options)))


def _is_sandbox_object(response: httpx.Response) -> bool:
    if not response.content or "json" not in response.headers.get("content-type", ""):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("sandbox_id"), str) and "status" in body


