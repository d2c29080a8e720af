"""The sandbox object returned by `client.sandbox.sandboxes.create(...)` / `.get(id)`.

It carries the sandbox's id and last known state and forwards every operation to `Sandboxes`
(so the wire logic exists once). `kill()` raises on failure, nothing happens on garbage collection,
and a `with` block kills the sandbox on exit.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Generator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from typing_extensions import Unpack

from ..._exceptions import GravixLayerNotFoundError
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import RequestOptions
from ..._warn import warn_user
from ...types.sandbox import (
    CodeContext,
    CodeContextDeleteResponse,
    DirectoryCreateResponse,
    Execution,
    FileDeleteResponse,
    FileList,
    FileUploadResponse,
    SandboxHostURL,
    SandboxInfo,
    SandboxKillResponse,
    SandboxMetrics,
    SandboxTimeoutResponse,
    SSHInfo,
    SSHStatus,
    WriteInfo,
)
from ...types.shared import CodeLanguage
from .sandboxes import (
    HOME,
    AsyncSandboxes,
    FileData,
    FileEntries,
    Sandboxes,
    TimedRequestOptions,
    WriteInfos,
    env_vars_argument,
)

if TYPE_CHECKING:
    from ..._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["SandboxInstance", "AsyncSandboxInstance", "Filesystem", "AsyncFilesystem", "AsyncSandboxCreation"]

log = logging.getLogger("gravixlayer")

S = TypeVar("S", bound="AsyncSandboxInstance")

RUNNING = "running"
STOPPED = "stopped"


def _describe(info: SandboxInfo, cls: str) -> str:
    return f"{cls}(sandbox_id={info.sandbox_id!r}, status={info.status!r}, template={info.template!r})"


def _exit_kill_failed(sandbox_id: str, error: BaseException, body_error: BaseException) -> None:
    """A kill that failed while the `with` body was already raising: keep the body's error, report the other."""
    log.warning("killing sandbox %s on exit failed: %s", sandbox_id, error)
    note = f"while handling this, killing sandbox {sandbox_id} also failed: {error!r}"
    if hasattr(body_error, "add_note"):
        body_error.add_note(note)


def _positional_order(env_vars: Any, timeout: Any) -> tuple[Any, Any]:
    """`run_code(code, language, context_id, 30)`: the order before env_vars came fourth (deprecated)."""
    if isinstance(env_vars, (int, float)) and not isinstance(env_vars, bool) and not isinstance(timeout, (int, float)):
        warn_user(
            "run_code's fourth positional argument is now env_vars; pass timeout= by name",
            DeprecationWarning,
        )
        return timeout, env_vars
    return env_vars, timeout


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _local_path(local_path: str | Path) -> Path:
    return Path(local_path)


def _save(data: bytes, local_path: Path) -> Path:
    local_path.parent.mkdir(parents=True, exist_ok=True)
    local_path.write_bytes(data)
    return local_path


class _InfoMixin:
    """The attributes both twins read from the last known `SandboxInfo`."""

    _info: SandboxInfo

    @property
    def info(self) -> SandboxInfo:
        """The sandbox as last seen (updated by `refresh()`, `is_alive()` and `kill()`)."""
        return self._info

    @property
    def sandbox_id(self) -> str:
        return self._info.sandbox_id

    @property
    def id(self) -> str:
        return self._info.sandbox_id

    @property
    def status(self) -> str | None:
        return self._info.status

    @property
    def template(self) -> str | None:
        return self._info.template

    @property
    def isolation(self) -> str | None:
        """How GravixLayer Local isolates this sandbox (None from the cloud); see the README."""
        return self._info.isolation

    @property
    def name(self) -> str | None:
        return self._info.name

    @property
    def started_at(self) -> str | None:
        return self._info.started_at

    @property
    def timeout_at(self) -> str | None:
        return self._info.timeout_at

    @property
    def timeout(self) -> int | None:
        """The sandbox's lifetime in seconds (`started_at` to `timeout_at`); None when it has no timeout."""
        start, end = _timestamp(self._info.started_at), _timestamp(self._info.timeout_at)
        if start is None or end is None:
            return None
        return round((end - start).total_seconds())

    @property
    def metadata(self) -> dict[str, Any]:
        return self._info.metadata

    def _mark(self, status: str) -> None:
        self._info = self._info.model_copy(update={"status": status})


class Filesystem(SyncAPIResource):
    """`sandbox.filesystem`: files of one sandbox. Relative paths are under /home/user."""

    def __init__(self, client: SyncAPIClient, sandbox_id: str) -> None:
        super().__init__(client)
        self._sandbox_id = sandbox_id
        self._sandboxes = Sandboxes(client)

    def write(self, path: str, data: FileData, **options: Unpack[RequestOptions]) -> WriteInfo:
        """Write text (as UTF-8) or bytes to `path`, creating parent directories."""
        return self._sandboxes.write(self._sandbox_id, path, data, **options)

    def write_files(self, files: FileEntries, **options: Unpack[RequestOptions]) -> WriteInfos:
        """Write several files (`{path: data}`) in one request; entries with `error` set failed."""
        return self._sandboxes.write_files(self._sandbox_id, files, **options)

    def read(self, path: str, **options: Unpack[RequestOptions]) -> str:
        """A text file's content."""
        return self._sandboxes.read_file(self._sandbox_id, path, **options).content

    def read_bytes(self, path: str, **options: Unpack[RequestOptions]) -> bytes:
        """A file's exact bytes."""
        return self._sandboxes.download_file(self._sandbox_id, path, **options)

    def list(self, path: str = HOME, **options: Unpack[RequestOptions]) -> FileList:
        """The entries of a directory (name, path, size, is_dir, modified)."""
        return self._sandboxes.list_files(self._sandbox_id, path, **options)

    def create_directory(self, path: str, **options: Unpack[RequestOptions]) -> DirectoryCreateResponse:
        """Create a directory and any missing parents."""
        return self._sandboxes.make_directory(self._sandbox_id, path, **options)

    def delete(self, path: str, **options: Unpack[RequestOptions]) -> FileDeleteResponse:
        """Delete a file, or a directory with everything in it."""
        return self._sandboxes.delete_file(self._sandbox_id, path, **options)

    def upload(
        self, local_path: str | Path, remote_path: str | None = None, **options: Unpack[RequestOptions]
    ) -> FileUploadResponse:
        """Copy a local file into the sandbox (default: same name in /home/user)."""
        return self._sandboxes.upload_file(self._sandbox_id, _local_path(local_path), remote_path, **options)

    def download(self, remote_path: str, local_path: str | Path, **options: Unpack[RequestOptions]) -> Path:
        """Copy a sandbox file to `local_path` byte for byte; returns the local path."""
        return _save(
            self._sandboxes.download_file(self._sandbox_id, remote_path, **options), _local_path(local_path)
        )


class AsyncFilesystem(AsyncAPIResource):
    """`sandbox.filesystem`: files of one sandbox. Relative paths are under /home/user."""

    def __init__(self, client: AsyncAPIClient, sandbox_id: str) -> None:
        super().__init__(client)
        self._sandbox_id = sandbox_id
        self._sandboxes = AsyncSandboxes(client)

    async def write(self, path: str, data: FileData, **options: Unpack[RequestOptions]) -> WriteInfo:
        """Write text (as UTF-8) or bytes to `path`, creating parent directories."""
        return await self._sandboxes.write(self._sandbox_id, path, data, **options)

    async def write_files(self, files: FileEntries, **options: Unpack[RequestOptions]) -> WriteInfos:
        """Write several files (`{path: data}`) in one request; entries with `error` set failed."""
        return await self._sandboxes.write_files(self._sandbox_id, files, **options)

    async def read(self, path: str, **options: Unpack[RequestOptions]) -> str:
        """A text file's content."""
        return (await self._sandboxes.read_file(self._sandbox_id, path, **options)).content

    async def read_bytes(self, path: str, **options: Unpack[RequestOptions]) -> bytes:
        """A file's exact bytes."""
        return await self._sandboxes.download_file(self._sandbox_id, path, **options)

    async def list(self, path: str = HOME, **options: Unpack[RequestOptions]) -> FileList:
        """The entries of a directory (name, path, size, is_dir, modified)."""
        return await self._sandboxes.list_files(self._sandbox_id, path, **options)

    async def create_directory(self, path: str, **options: Unpack[RequestOptions]) -> DirectoryCreateResponse:
        """Create a directory and any missing parents."""
        return await self._sandboxes.make_directory(self._sandbox_id, path, **options)

    async def delete(self, path: str, **options: Unpack[RequestOptions]) -> FileDeleteResponse:
        """Delete a file, or a directory with everything in it."""
        return await self._sandboxes.delete_file(self._sandbox_id, path, **options)

    async def upload(
        self, local_path: str | Path, remote_path: str | None = None, **options: Unpack[RequestOptions]
    ) -> FileUploadResponse:
        """Copy a local file into the sandbox (default: same name in /home/user)."""
        return await self._sandboxes.upload_file(
            self._sandbox_id, _local_path(local_path), remote_path, **options
        )

    async def download(
        self, remote_path: str, local_path: str | Path, **options: Unpack[RequestOptions]
    ) -> Path:
        """Copy a sandbox file to `local_path` byte for byte; returns the local path."""
        data = await self._sandboxes.download_file(self._sandbox_id, remote_path, **options)
        return _save(data, _local_path(local_path))


class SandboxInstance(_InfoMixin, SyncAPIResource):
    """One sandbox: run code and commands in it, reach its files, kill it.

    `with client.sandbox.sandboxes.create(...) as sandbox:` kills it when the block ends.
    """

    def __init__(self, client: SyncAPIClient, info: SandboxInfo) -> None:
        super().__init__(client)
        self._info = info
        self._sandboxes = Sandboxes(client)
        self._killed = False
        self.filesystem = Filesystem(client, info.sandbox_id)
        self.files = self.filesystem  # the spelling some vendor docs use

    def __repr__(self) -> str:
        return _describe(self._info, type(self).__name__)

    def refresh(self, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Read the sandbox's current state from the service."""
        self._info = self._sandboxes.get(self.sandbox_id, **options).info
        return self._info

    def is_alive(self, **options: Unpack[RequestOptions]) -> bool:
        """True while the sandbox is running (asks the service; a sandbox it no longer knows is not alive)."""
        try:
            return self.refresh(**options).status == RUNNING
        except GravixLayerNotFoundError:
            self._mark(STOPPED)
            return False

    def kill(self, **options: Unpack[RequestOptions]) -> SandboxKillResponse:
        """Stop the sandbox and remove its files; errors are raised, not hidden."""
        answer = self._sandboxes.kill(self.sandbox_id, **options)
        self._killed = True
        self._mark(STOPPED)
        return answer

    def run_code(
        self, code: str, language: CodeLanguage = "python", context_id: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        env: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run code (`timeout` in seconds); the final expression's value comes back in `results`.

        Arguments are in the order of `client.sandbox.sandboxes.run_code`; `env=` is a deprecated
        spelling of `env_vars=`.
        """
        env_vars, timeout = _positional_order(env_vars, timeout)
        env_vars = env_vars_argument(env_vars, env=env)
        return self._sandboxes.run_code(
            self.sandbox_id, code, language, context_id, env_vars, timeout, **options
        )

    def run_command(
        self, command: str, args: Sequence[str] | None = None, working_dir: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        env: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run a command with `args` (or a whole shell line without them); `timeout` in seconds.

        `env=` is a deprecated spelling of `env_vars=`.
        """
        env_vars = env_vars_argument(env_vars, env=env)
        return self._sandboxes.run_command(
            self.sandbox_id, command, args, working_dir, env_vars, timeout, **options
        )

    def create_code_context(
        self, language: CodeLanguage = "python", cwd: str | None = None, **options: Unpack[RequestOptions]
    ) -> CodeContext:
        """A persistent interpreter: pass its `id` as `context_id` to keep variables between runs."""
        return self._sandboxes.create_code_context(self.sandbox_id, language, cwd, **options)

    def get_code_context(self, context_id: str, **options: Unpack[RequestOptions]) -> CodeContext:
        """A persistent interpreter's id, language and working directory."""
        return self._sandboxes.get_code_context(self.sandbox_id, context_id, **options)

    def delete_code_context(
        self, context_id: str, **options: Unpack[RequestOptions]
    ) -> CodeContextDeleteResponse:
        """Stop a persistent interpreter; its state is lost."""
        return self._sandboxes.delete_code_context(self.sandbox_id, context_id, **options)

    def set_timeout(self, timeout: int, **options: Unpack[TimedRequestOptions]) -> SandboxTimeoutResponse:
        """Make the sandbox stop `timeout` seconds from now (0: never)."""
        answer = self._sandboxes.set_timeout(self.sandbox_id, timeout, **options)
        self._info = self._info.model_copy(update={"timeout_at": answer.timeout_at})
        return answer

    def get_metrics(self, **options: Unpack[RequestOptions]) -> SandboxMetrics:
        """CPU, memory and disk use of the sandbox's processes."""
        return self._sandboxes.get_metrics(self.sandbox_id, **options)

    def get_host_url(self, port: int, **options: Unpack[RequestOptions]) -> str:
        """The URL at which a server listening on `port` inside the sandbox is reached."""
        answer: SandboxHostURL = self._sandboxes.get_host_url(self.sandbox_id, port, **options)
        return answer.url

    def enable_ssh(self, regenerate_keys: bool = False, **options: Unpack[RequestOptions]) -> SSHInfo:
        """Start SSH for this sandbox: port, user, `connect_cmd` and the private key to log in with."""
        return self._sandboxes.enable_ssh(self.sandbox_id, regenerate_keys, **options)

    def disable_ssh(self, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Stop this sandbox's SSH server."""
        return self._sandboxes.disable_ssh(self.sandbox_id, **options)

    def ssh_status(self, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Whether SSH is enabled for this sandbox, and where."""
        return self._sandboxes.ssh_status(self.sandbox_id, **options)

    def pause(self, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Suspend the sandbox's processes."""
        self._info = self._sandboxes.pause(self.sandbox_id, **options)
        return self._info

    def resume(self, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Continue a paused sandbox."""
        self._info = self._sandboxes.resume(self.sandbox_id, **options)
        return self._info

    def __enter__(self) -> SandboxInstance:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._killed:
            return
        try:
            self.kill()
        except Exception as error:
            if exc is None:
                raise
            _exit_kill_failed(self.sandbox_id, error, exc)


class AsyncSandboxInstance(_InfoMixin, AsyncAPIResource):
    """One sandbox: run code and commands in it, reach its files, kill it.

    `async with` kills it when the block ends.
    """

    def __init__(self, client: AsyncAPIClient, info: SandboxInfo) -> None:
        super().__init__(client)
        self._info = info
        self._sandboxes = AsyncSandboxes(client)
        self._killed = False
        self.filesystem = AsyncFilesystem(client, info.sandbox_id)
        self.files = self.filesystem  # the spelling some vendor docs use

    def __repr__(self) -> str:
        return _describe(self._info, type(self).__name__)

    async def refresh(self, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Read the sandbox's current state from the service."""
        self._info = (await self._sandboxes.get(self.sandbox_id, **options)).info
        return self._info

    async def is_alive(self, **options: Unpack[RequestOptions]) -> bool:
        """True while the sandbox is running (asks the service; a sandbox it no longer knows is not alive)."""
        try:
            return (await self.refresh(**options)).status == RUNNING
        except GravixLayerNotFoundError:
            self._mark(STOPPED)
            return False

    async def kill(self, **options: Unpack[RequestOptions]) -> SandboxKillResponse:
        """Stop the sandbox and remove its files; errors are raised, not hidden."""
        answer = await self._sandboxes.kill(self.sandbox_id, **options)
        self._killed = True
        self._mark(STOPPED)
        return answer

    async def run_code(
        self, code: str, language: CodeLanguage = "python", context_id: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        env: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run code (`timeout` in seconds); the final expression's value comes back in `results`.

        Arguments are in the order of `client.sandbox.sandboxes.run_code`; `env=` is a deprecated
        spelling of `env_vars=`.
        """
        env_vars, timeout = _positional_order(env_vars, timeout)
        env_vars = env_vars_argument(env_vars, env=env)
        return await self._sandboxes.run_code(
            self.sandbox_id, code, language, context_id, env_vars, timeout, **options
        )

    async def run_command(
        self, command: str, args: Sequence[str] | None = None, working_dir: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        env: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run a command with `args` (or a whole shell line without them); `timeout` in seconds.

        `env=` is a deprecated spelling of `env_vars=`.
        """
        env_vars = env_vars_argument(env_vars, env=env)
        return await self._sandboxes.run_command(
            self.sandbox_id, command, args, working_dir, env_vars, timeout, **options
        )

    async def create_code_context(
        self, language: CodeLanguage = "python", cwd: str | None = None, **options: Unpack[RequestOptions]
    ) -> CodeContext:
        """A persistent interpreter: pass its `id` as `context_id` to keep variables between runs."""
        return await self._sandboxes.create_code_context(self.sandbox_id, language, cwd, **options)

    async def get_code_context(self, context_id: str, **options: Unpack[RequestOptions]) -> CodeContext:
        """A persistent interpreter's id, language and working directory."""
        return await self._sandboxes.get_code_context(self.sandbox_id, context_id, **options)

    async def delete_code_context(
        self, context_id: str, **options: Unpack[RequestOptions]
    ) -> CodeContextDeleteResponse:
        """Stop a persistent interpreter; its state is lost."""
        return await self._sandboxes.delete_code_context(self.sandbox_id, context_id, **options)

    async def set_timeout(
        self, timeout: int, **options: Unpack[TimedRequestOptions]
    ) -> SandboxTimeoutResponse:
        """Make the sandbox stop `timeout` seconds from now (0: never)."""
        answer = await self._sandboxes.set_timeout(self.sandbox_id, timeout, **options)
        self._info = self._info.model_copy(update={"timeout_at": answer.timeout_at})
        return answer

    async def get_metrics(self, **options: Unpack[RequestOptions]) -> SandboxMetrics:
        """CPU, memory and disk use of the sandbox's processes."""
        return await self._sandboxes.get_metrics(self.sandbox_id, **options)

    async def get_host_url(self, port: int, **options: Unpack[RequestOptions]) -> str:
        """The URL at which a server listening on `port` inside the sandbox is reached."""
        answer: SandboxHostURL = await self._sandboxes.get_host_url(self.sandbox_id, port, **options)
        return answer.url

    async def enable_ssh(self, regenerate_keys: bool = False, **options: Unpack[RequestOptions]) -> SSHInfo:
        """Start SSH for this sandbox: port, user, `connect_cmd` and the private key to log in with."""
        return await self._sandboxes.enable_ssh(self.sandbox_id, regenerate_keys, **options)

    async def disable_ssh(self, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Stop this sandbox's SSH server."""
        return await self._sandboxes.disable_ssh(self.sandbox_id, **options)

    async def ssh_status(self, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Whether SSH is enabled for this sandbox, and where."""
        return await self._sandboxes.ssh_status(self.sandbox_id, **options)

    async def pause(self, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Suspend the sandbox's processes."""
        self._info = await self._sandboxes.pause(self.sandbox_id, **options)
        return self._info

    async def resume(self, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Continue a paused sandbox."""
        self._info = await self._sandboxes.resume(self.sandbox_id, **options)
        return self._info

    async def __aenter__(self) -> AsyncSandboxInstance:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._killed:
            return
        try:
            await self.kill()
        except Exception as error:
            if exc is None:
                raise
            _exit_kill_failed(self.sandbox_id, error, exc)


class AsyncSandboxCreation(Generic[S]):
    """What `AsyncSandboxes.create(...)` returns: await it for the sandbox, or `async with` it directly."""

    def __init__(self, pending: Coroutine[Any, Any, S]) -> None:
        self._pending = pending
        self._sandbox: S | None = None

    def __await__(self) -> Generator[Any, None, S]:
        return self._resolve().__await__()

    async def _resolve(self) -> S:
        if self._sandbox is None:
            self._sandbox = await self._pending
        return self._sandbox

    async def __aenter__(self) -> S:
        sandbox = await self._resolve()
        await sandbox.__aenter__()
        return sandbox

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        sandbox = await self._resolve()
        await sandbox.__aexit__(exc_type, exc, tb)
