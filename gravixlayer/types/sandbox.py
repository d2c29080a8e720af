"""Sandbox service responses (spec §8) and the typed execution returned by code and command runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, overload

import pydantic

from .._models import BaseModel

__all__ = [
    "Template",
    "TemplateList",
    "SandboxInfo",
    "SandboxList",
    "SandboxKillResponse",
    "SandboxTimeoutResponse",
    "SandboxMetrics",
    "SandboxHostURL",
    "SandboxConnectResponse",
    "FileInfo",
    "FileList",
    "FileReadResponse",
    "FileWriteResponse",
    "FileDeleteResponse",
    "DirectoryCreateResponse",
    "FileUploadResponse",
    "WriteInfo",
    "CodeContext",
    "CodeContextDeleteResponse",
    "ExecutionError",
    "ExecutionLogs",
    "ExecutionResult",
    "Execution",
    "code_run_fields",
    "command_run_fields",
    "SSHInfo",
    "SSHStatus",
]


class _Listing(BaseModel):
    """A list answer that behaves like its list: iterate it, index it, take its `len`."""

    _items: ClassVar[str]

    def _list(self) -> list[Any]:
        items: list[Any] = getattr(self, self._items)
        return items

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __contains__(self, item: object) -> bool:
        """An item of the list, or (for a name) a set field: `"files" in listing`."""
        return item in self._list() or self._has_key(item)

    def __bool__(self) -> bool:
        return bool(self._list())

    def __repr__(self) -> str:
        items = self._list()
        shown = ", ".join(repr(item) for item in items[:5])
        if len(items) > 5:
            shown += f", ... {len(items) - 5} more"
        return f"{type(self).__name__}([{shown}])"

    __str__ = __repr__


class Template(BaseModel):
    """A sandbox template: what a new sandbox starts from and the resources it gets."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    vcpu_count: int | None = None
    memory_mb: int | None = None
    disk_size_mb: int | None = None
    visibility: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    provider: str | None = None
    region: str | None = None


class TemplateList(_Listing):
    """`GET /templates`: iterate it, index it or take its `len` (the templates are in `.templates`)."""

    _items = "templates"
    templates: list[Template] = pydantic.Field(default_factory=list)
    limit: int | None = None
    offset: int | None = None

    def __iter__(self) -> Iterator[Template]:  # type: ignore[override]
        return iter(self.templates)

    @overload
    def __getitem__(self, index: int) -> Template: ...
    @overload
    def __getitem__(self, index: str) -> Any: ...
    def __getitem__(self, index: int | str) -> Any:
        """`listing[0]` (an item) or `listing["templates"]` (a field, as dict-based code reads it)."""
        if isinstance(index, str):
            return self._item(index)
        return self.templates[index]


class SandboxInfo(BaseModel):
    """A sandbox as the service describes it; `status` is `running`, `paused` or `stopped`."""

    _repr_fields = ("sandbox_id", "status", "template", "name", "started_at", "timeout_at")

    sandbox_id: str
    status: str | None = None
    name: str | None = None
    template: str | None = None
    template_id: str | None = None
    provider: str | None = None
    region: str | None = None
    started_at: str | None = None
    timeout_at: str | None = None
    ended_at: str | None = None
    cpu_count: int | None = None
    memory_mb: int | None = None
    disk_size_mb: int | None = None
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    ip_address: str | None = None
    ssh_enabled: bool | None = None
    isolation: str | None = None
    """GravixLayer Local only: how the sandbox is isolated (``namespaces``, ``namespaces-no-proc``,
    ``landlock`` or ``best-effort``; see the README). The cloud runs sandboxes in their own VMs."""
    internet_access: bool | None = None

    @pydantic.field_validator("metadata", mode="before")
    @classmethod
    def _null_metadata(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def id(self) -> str:
        return self.sandbox_id


class SandboxList(_Listing):
    """`GET /sandboxes`: iterate it, index it or take its `len` (the sandboxes are in `.sandboxes`)."""

    _items = "sandboxes"
    sandboxes: list[SandboxInfo] = pydantic.Field(default_factory=list)
    total: int | None = None

    def __iter__(self) -> Iterator[SandboxInfo]:  # type: ignore[override]
        return iter(self.sandboxes)

    @overload
    def __getitem__(self, index: int) -> SandboxInfo: ...
    @overload
    def __getitem__(self, index: str) -> Any: ...
    def __getitem__(self, index: int | str) -> Any:
        """`listing[0]` (an item) or `listing["sandboxes"]` (a field, as dict-based code reads it)."""
        if isinstance(index, str):
            return self._item(index)
        return self.sandboxes[index]


class SandboxKillResponse(BaseModel):
    message: str | None = None
    sandbox_id: str | None = None


class SandboxTimeoutResponse(BaseModel):
    message: str | None = None
    timeout: int | None = None
    timeout_at: str | None = None


class SandboxMetrics(BaseModel):
    """Resource use: `cpu_usage` in percent of one CPU, memory in MB, disk and network counters in bytes."""

    timestamp: str | None = None
    cpu_usage: float | None = None
    memory_usage: float | None = None
    memory_total: float | None = None
    disk_read: int | None = None
    disk_write: int | None = None
    network_rx: int | None = None
    network_tx: int | None = None


class SandboxHostURL(BaseModel):
    url: str


class SandboxConnectResponse(BaseModel):
    sandbox_id: str | None = None
    status: str | None = None
    domain: str | None = None
    message: str | None = None


class FileInfo(BaseModel):
    """One directory entry; `modified` is read from `modified`, `mod_time` or `modified_at`."""

    _repr_fields = ("name", "path", "size", "is_dir", "modified")

    name: str
    path: str | None = None
    size: int | None = None
    is_dir: bool = False
    modified: str | None = pydantic.Field(
        default=None, validation_alias=pydantic.AliasChoices("modified", "mod_time", "modified_at")
    )
    mode: str | None = None


class FileList(_Listing):
    """`files/list`: iterate it, index it or take its `len` (the entries are in `.files`)."""

    _items = "files"
    files: list[FileInfo] = pydantic.Field(default_factory=list)

    def __iter__(self) -> Iterator[FileInfo]:  # type: ignore[override]
        return iter(self.files)

    @overload
    def __getitem__(self, index: int) -> FileInfo: ...
    @overload
    def __getitem__(self, index: str) -> Any: ...
    def __getitem__(self, index: int | str) -> Any:
        """`listing[0]` (an item) or `listing["files"]` (a field, as dict-based code reads it)."""
        if isinstance(index, str):
            return self._item(index)
        return self.files[index]

    def names(self) -> list[str]:
        return [entry.name for entry in self.files]

    def __contains__(self, item: object) -> bool:
        """An entry, an entry's name (older vendor SDKs listed names: `"a.txt" in listing`) or a set field."""
        return item in self.files or item in self.names() or self._has_key(item)


class FileReadResponse(BaseModel):
    content: str
    path: str | None = None
    size: int | None = None


class FileWriteResponse(BaseModel):
    message: str | None = None
    path: str | None = None
    bytes_written: int | None = None


class FileDeleteResponse(BaseModel):
    message: str | None = None
    path: str | None = None


class DirectoryCreateResponse(BaseModel):
    message: str | None = None
    path: str | None = None


class FileUploadResponse(BaseModel):
    message: str | None = None
    path: str | None = None
    size: int | None = None


class WriteInfo(BaseModel):
    """One file written by the multipart `write` / `write_files`; `error` is set when that file failed."""

    path: str | None = None
    name: str | None = None
    type: str | None = None
    size: int | None = None
    error: str | None = None


class CodeContext(BaseModel):
    """A persistent interpreter: pass its `id` as `context_id` and variables survive between runs."""

    id: str = pydantic.Field(validation_alias=pydantic.AliasChoices("id", "context_id"))
    language: str | None = None
    cwd: str | None = None
    created_at: str | None = None
    last_used: str | None = None

    @property
    def context_id(self) -> str:
        return self.id


class CodeContextDeleteResponse(BaseModel):
    message: str | None = None
    context_id: str | None = None


class ExecutionError(BaseModel):
    """Why a run failed: exception class name, its message, and the formatted traceback."""

    name: str
    value: str = ""
    traceback: str = ""


class ExecutionLogs(BaseModel):
    """Output, one entry per line (without the line break)."""

    stdout: list[str] = pydantic.Field(default_factory=list)
    stderr: list[str] = pydantic.Field(default_factory=list)


class ExecutionResult(BaseModel):
    """A displayed value (the final expression of a code run), in every representation the kernel made."""

    _repr_fields = ("text", "html", "markdown", "png", "is_main_result")

    text: str | None = None
    html: str | None = None
    markdown: str | None = None
    svg: str | None = None
    png: str | None = None
    jpeg: str | None = None
    latex: str | None = None
    json_data: Any = pydantic.Field(default=None, alias="json")
    chart: dict[str, Any] | None = None
    is_main_result: bool | None = None


class Execution(BaseModel):
    """What a code or command run produced.

    `stdout` / `stderr` are the joined text, `logs` the same output line by line. `exit_code` is the
    command's exit status; for code runs it is 0 without an error and 1 with one. `success` is true
    when the run finished without error (and, for commands, with the status the service reported).
    """

    _repr_fields = ("stdout", "stderr", "exit_code", "error", "results", "success")

    stdout: str = ""
    stderr: str = ""
    logs: ExecutionLogs = pydantic.Field(default_factory=ExecutionLogs)
    exit_code: int | None = None
    error: ExecutionError | None = None
    results: list[ExecutionResult] = pydantic.Field(default_factory=list)
    success: bool = True
    duration_ms: int | None = None
    execution_id: str | None = None

    @property
    def text(self) -> str | None:
        """The text of the main result (the value of the final expression), if there was one."""
        for result in self.results:
            if result.is_main_result or result.is_main_result is None:
                return result.text
        return None


def code_run_fields(data: Any) -> Any:
    """A `code/run` answer (spec §8.8) as `Execution` fields; anything but an object is left to fail validation."""
    if not isinstance(data, dict):
        return data
    body = dict(data)
    raw_logs = body.get("logs")
    logs: dict[str, Any] = raw_logs if isinstance(raw_logs, dict) else {}
    stdout = [str(line) for line in logs.get("stdout") or []]
    stderr = [str(line) for line in logs.get("stderr") or []]
    error = _error_object(body.get("error"), default_name="ExecutionError")
    results = body.get("results")
    if isinstance(results, dict):  # older servers sent a single object
        results = [results] if results else []
    body.update(
        logs={"stdout": stdout, "stderr": stderr},
        stdout=body["stdout"] if isinstance(body.get("stdout"), str) else "\n".join(stdout),
        stderr=body["stderr"] if isinstance(body.get("stderr"), str) else "\n".join(stderr),
        error=error,
        results=results or [],
        exit_code=body.get("exit_code", 0 if error is None else 1),
        success=body.get("success", error is None),
    )
    return body


def command_run_fields(data: Any) -> Any:
    """A `commands/run` answer (spec §8.7) as `Execution` fields; `logs` are its output split into lines."""
    if not isinstance(data, dict):
        return data
    body = dict(data)
    stdout = body["stdout"] if isinstance(body.get("stdout"), str) else ""
    stderr = body["stderr"] if isinstance(body.get("stderr"), str) else ""
    text = str(body.get("error") or "")
    timed_out = body.get("timed_out") is True or "timed out" in text.lower()
    name = "TimeoutError" if timed_out else "CommandError"
    error = _error_object(body.get("error"), default_name=name)
    success = body.get("success")
    if not isinstance(success, bool):
        success = error is None and body.get("exit_code") in (0, None)
    body.update(
        stdout=stdout,
        stderr=stderr,
        logs={"stdout": stdout.splitlines(), "stderr": stderr.splitlines()},
        error=error,
        success=success,
    )
    return body


def _error_object(error: Any, *, default_name: str) -> dict[str, Any] | None:
    """An error as `{name, value, traceback}`, whether it came as an object or as plain text."""
    if error is None or error == "" or error == {}:
        return None
    if isinstance(error, str):
        return {"name": default_name, "value": error, "traceback": ""}
    if isinstance(error, dict):
        traceback = error.get("traceback", "")
        if isinstance(traceback, list):
            traceback = "\n".join(str(line) for line in traceback)
        value = error.get("value") if error.get("value") is not None else error.get("message", "")
        return {
            **error,
            "name": str(error.get("name") or default_name),
            "value": str(value),
            "traceback": str(traceback or ""),
        }
    return {"name": default_name, "value": str(error), "traceback": ""}


class SSHInfo(BaseModel):
    """`enable_ssh` (spec §8.9): where to connect and, on enable or regenerate, the private key.

    The private key is left out of the repr (it logs in to the sandbox); save it with mode 600 and pass it
    to `ssh -i`.
    """

    _repr_fields = ("sandbox_id", "enabled", "port", "username", "key_fingerprint")

    sandbox_id: str | None = None
    enabled: bool = False
    port: int | None = None
    username: str | None = None
    connect_cmd: str | None = None
    key_fingerprint: str | None = None
    private_key: str | None = None
    public_key: str | None = None
    ssh_config: str | None = None
    message: str | None = None
    host: str | None = None


class SSHStatus(BaseModel):
    """`ssh_status` (spec §8.9); `disable_ssh` answers the same shape with `enabled` false."""

    sandbox_id: str | None = None
    enabled: bool = False
    port: int | None = None
    username: str | None = None
    daemon_running: bool | None = None
    key_fingerprint: str | None = None
    message: str | None = None
