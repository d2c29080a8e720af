"""`client.sandbox.sandboxes`: lifecycle, files, commands and code of sandboxes (spec §8.2-8.9).

Each method sends what one builder of `_requests` makes and reads the answer with its reader, so the
sync and async twins differ only by `await`. Public helpers of `_requests` are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from ..._parse import parse_model
from ..._request import single
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import RequestOptions, TimedRequestOptions
from ...types.sandbox import (
    CodeContext,
    CodeContextDeleteResponse,
    DirectoryCreateResponse,
    Execution,
    FileDeleteResponse,
    FileList,
    FileReadResponse,
    FileUploadResponse,
    FileWriteResponse,
    SandboxConnectResponse,
    SandboxHostURL,
    SandboxInfo,
    SandboxKillResponse,
    SandboxList,
    SandboxMetrics,
    SandboxTimeoutResponse,
    SSHInfo,
    SSHStatus,
    WriteInfo,
)
from ...types.shared import CodeLanguage
from ._requests import (
    DEFAULT_TEMPLATE,
    HOME,
    FileData,
    FileEntries,
    FileSource,
    WriteInfos,
    _bytes_answer,
    _code_answer,
    _code_request,
    _command_answer,
    _command_request,
    _context_create_request,
    _context_request,
    _create_request,
    _delete_request,
    _download_request,
    _file_list_answer,
    _get_request,
    _host_request,
    _kill_request,
    _list_files_request,
    _list_request,
    _metrics_request,
    _mkdir_request,
    _parse_info,
    _post_request,
    _read_request,
    _state_change_step,
    _timeout_request,
    _upload_request,
    _write_answer,
    _write_file_request,
    _write_files_answer,
    _write_files_request,
    _write_request,
    check_path,
    code_timeout_seconds,
    command_timeout_ms,
    env_vars_argument,
)
from ._requests import _request_options as _request_options
from ._ssh import parse_ssh_info, parse_ssh_status, ssh_disable_step, ssh_enable_request, ssh_status_request

if TYPE_CHECKING:
    from .facade import AsyncSandbox, Sandbox
    from .instance import AsyncSandboxCreation

__all__ = [
    "Sandboxes",
    "AsyncSandboxes",
    "DEFAULT_TEMPLATE",
    "HOME",
    "FileSource",
    "FileData",
    "FileEntries",
    "WriteInfos",
    "TimedRequestOptions",
    "check_path",
    "command_timeout_ms",
    "code_timeout_seconds",
    "env_vars_argument",
]


class Sandboxes(SyncAPIResource):
    """`client.sandbox.sandboxes`: every sandbox operation, each taking the sandbox id first."""

    def create(
        self,
        provider: str | None = None,
        region: str | None = None,
        template: str = DEFAULT_TEMPLATE,
        name: str | None = None,
        timeout: int | None = None,
        env_vars: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        internet_access: bool | None = None,
        agent_id: str | None = None,
        **options: Unpack[TimedRequestOptions],
    ) -> Sandbox:
        """Start a sandbox; `timeout` is its lifetime in seconds (none: until killed).

        `provider` / `region` default to the client's `cloud` / `region`, then to `GRAVIXLAYER_CLOUD` /
        `GRAVIXLAYER_REGION`. The answer is a sandbox object: run code and commands on it, use its
        `filesystem`, and `kill()` it (or use it in a `with` block, which kills it on exit).
        """
        from .facade import Sandbox

        request = _create_request(
            client=self._client, provider=provider, region=region, template=template, name=name, timeout=timeout,
            env_vars=env_vars, metadata=metadata, internet_access=internet_access, agent_id=agent_id,
            options=_request_options(options),
        )  # fmt: skip
        return Sandbox(self._client, self._client.run(single(request, _parse_info)))

    def list(self, limit: int = 100, offset: int = 0, **options: Unpack[RequestOptions]) -> SandboxList:
        """This key's sandboxes, with their status."""
        request = _list_request(limit=limit, offset=offset, options=options)
        return self._client.run(single(request, partial(parse_model, SandboxList)))

    def get(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> Sandbox:
        """A sandbox by id, as an object you can run code on."""
        from .facade import Sandbox

        return Sandbox(
            self._client, self._client.run(single(_get_request(sandbox_id, options), _parse_info))
        )

    def kill(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxKillResponse:
        """Stop a sandbox: its processes end and its files are removed."""
        request = _kill_request(sandbox_id, options)
        return self._client.run(single(request, partial(parse_model, SandboxKillResponse)))

    def connect(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxConnectResponse:
        """Reconnect to a sandbox (resuming it when paused)."""
        request = _post_request(sandbox_id, "connect", options)
        return self._client.run(single(request, partial(parse_model, SandboxConnectResponse)))

    def pause(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Suspend a sandbox's processes; `resume` continues them."""
        return self._client.run(_state_change_step(sandbox_id, "pause", options))

    def resume(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Continue a paused sandbox."""
        return self._client.run(_state_change_step(sandbox_id, "resume", options))

    def set_timeout(
        self, sandbox_id: str, timeout: int, **options: Unpack[TimedRequestOptions]
    ) -> SandboxTimeoutResponse:
        """Make the sandbox stop `timeout` seconds from now (0: never)."""
        request = _timeout_request(sandbox_id, timeout, _request_options(options))
        return self._client.run(single(request, partial(parse_model, SandboxTimeoutResponse)))

    def get_metrics(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxMetrics:
        """CPU, memory and disk use of the sandbox's processes."""
        request = _metrics_request(sandbox_id, options)
        return self._client.run(single(request, partial(parse_model, SandboxMetrics)))

    def get_host_url(self, sandbox_id: str, port: int, **options: Unpack[RequestOptions]) -> SandboxHostURL:
        """The URL at which a server listening on `port` inside the sandbox is reached."""
        request = _host_request(sandbox_id, port, options)
        return self._client.run(single(request, partial(parse_model, SandboxHostURL)))

    def enable_ssh(
        self, sandbox_id: str, regenerate_keys: bool = False, **options: Unpack[RequestOptions]
    ) -> SSHInfo:
        """Start SSH for the sandbox: port, user, `connect_cmd` and the private key to log in with."""
        request = ssh_enable_request(sandbox_id, regenerate_keys, options)
        return self._client.run(single(request, parse_ssh_info))

    def disable_ssh(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Stop the sandbox's SSH server (its sessions end)."""
        return self._client.run(ssh_disable_step(sandbox_id, options))

    def ssh_status(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Whether SSH is enabled, its port and user, and whether the server runs."""
        return self._client.run(single(ssh_status_request(sandbox_id, options), parse_ssh_status))

    def read_file(self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]) -> FileReadResponse:
        """A text file's content; relative paths are under /home/user."""
        request = _read_request(sandbox_id, path, options)
        return self._client.run(single(request, partial(parse_model, FileReadResponse)))

    def write_file(
        self, sandbox_id: str, path: str, content: str, **options: Unpack[RequestOptions]
    ) -> FileWriteResponse:
        """Write a text file (parents are created)."""
        request = _write_file_request(sandbox_id, path, content, options)
        return self._client.run(single(request, partial(parse_model, FileWriteResponse)))

    def list_files(self, sandbox_id: str, path: str = HOME, **options: Unpack[RequestOptions]) -> FileList:
        """The entries of a directory: name, path, size, is_dir, modified."""
        request = _list_files_request(sandbox_id, path, options)
        return self._client.run(single(request, partial(_file_list_answer, path)))

    def delete_file(
        self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]
    ) -> FileDeleteResponse:
        """Delete a file or a directory with everything in it."""
        request = _delete_request(sandbox_id, path, options)
        return self._client.run(single(request, partial(parse_model, FileDeleteResponse)))

    def make_directory(
        self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]
    ) -> DirectoryCreateResponse:
        """Create a directory and any missing parents."""
        request = _mkdir_request(sandbox_id, path, options)
        return self._client.run(single(request, partial(parse_model, DirectoryCreateResponse)))

    def upload_file(
        self, sandbox_id: str, file: FileSource, path: str | None = None, **options: Unpack[RequestOptions]
    ) -> FileUploadResponse:
        """Upload a local file (path, bytes or binary file object) to `path` (default: its name in /home/user)."""
        request = _upload_request(sandbox_id, file, path, options)
        return self._client.run(single(request, partial(parse_model, FileUploadResponse)))

    def download_file(self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]) -> bytes:
        """A file's exact bytes."""
        return self._client.run(single(_download_request(sandbox_id, path, options), _bytes_answer))

    def write(
        self, sandbox_id: str, path: str, data: FileData, user: str | None = None, mode: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> WriteInfo:  # fmt: skip
        """Write text (UTF-8) or bytes to `path` as multipart upload; `mode` like 0o755."""
        request, size = _write_request(sandbox_id, path, data, user, mode, options)
        return self._client.run(single(request, partial(_write_answer, size)))

    def write_files(
        self, sandbox_id: str, files: FileEntries, user: str | None = None, **options: Unpack[RequestOptions]
    ) -> WriteInfos:
        """Write several files in one request; an entry whose `error` is set was not written."""
        request = _write_files_request(sandbox_id, files, user, options)
        return self._client.run(single(request, _write_files_answer))

    def run_command(
        self, sandbox_id: str, command: str, args: Sequence[str] | None = None, working_dir: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        environment: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run a command (with `args`, or a whole shell line) and wait for it; `timeout` in seconds.

        `env_vars` are set for the command (`environment=` is a deprecated spelling of it).
        """
        request = _command_request(
            sandbox_id,
            command,
            args,
            working_dir,
            env_vars_argument(env_vars, environment=environment),
            timeout,
            _request_options(options),
            self._client.timeout,
        )
        return self._client.run(single(request, _command_answer))

    def run_code(
        self, sandbox_id: str, code: str, language: CodeLanguage = "python", context_id: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        environment: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run code; with `context_id` the interpreter state persists between runs. `timeout` in seconds.

        `env_vars` are set for the run (`environment=` is a deprecated spelling of it).
        """
        request = _code_request(
            sandbox_id,
            code,
            language,
            context_id,
            env_vars_argument(env_vars, environment=environment),
            timeout,
            _request_options(options),
            self._client.timeout,
        )
        return self._client.run(single(request, _code_answer))

    def create_code_context(
        self,
        sandbox_id: str,
        language: CodeLanguage = "python",
        cwd: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CodeContext:
        """Start a persistent interpreter in the sandbox."""
        request = _context_create_request(sandbox_id, language, cwd, options)
        return self._client.run(single(request, partial(parse_model, CodeContext)))

    def get_code_context(
        self, sandbox_id: str, context_id: str, **options: Unpack[RequestOptions]
    ) -> CodeContext:
        """A persistent interpreter's id, language and working directory."""
        request = _context_request("GET", sandbox_id, context_id, options)
        return self._client.run(single(request, partial(parse_model, CodeContext)))

    def delete_code_context(
        self, sandbox_id: str, context_id: str, **options: Unpack[RequestOptions]
    ) -> CodeContextDeleteResponse:
        """Stop a persistent interpreter; its state is lost."""
        request = _context_request("DELETE", sandbox_id, context_id, options)
        return self._client.run(single(request, partial(parse_model, CodeContextDeleteResponse)))


class AsyncSandboxes(AsyncAPIResource):
    """`client.sandbox.sandboxes`: every sandbox operation, each taking the sandbox id first."""

    def create(
        self,
        provider: str | None = None,
        region: str | None = None,
        template: str = DEFAULT_TEMPLATE,
        name: str | None = None,
        timeout: int | None = None,
        env_vars: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        internet_access: bool | None = None,
        agent_id: str | None = None,
        **options: Unpack[TimedRequestOptions],
    ) -> AsyncSandboxCreation[AsyncSandbox]:
        """Start a sandbox; `timeout` is its lifetime in seconds (none: until killed).

        `provider` / `region` default to the client's `cloud` / `region`, then to `GRAVIXLAYER_CLOUD` /
        `GRAVIXLAYER_REGION`. The answer is a sandbox object: run code and commands on it, use its
        `filesystem`, and `kill()` it (or use it in a `with` block, which kills it on exit).
        """
        from .facade import AsyncSandbox
        from .instance import AsyncSandboxCreation

        request = _create_request(
            client=self._client, provider=provider, region=region, template=template, name=name, timeout=timeout,
            env_vars=env_vars, metadata=metadata, internet_access=internet_access, agent_id=agent_id,
            options=_request_options(options),
        )  # fmt: skip

        async def create() -> AsyncSandbox:
            return AsyncSandbox(self._client, await self._client.run(single(request, _parse_info)))

        # Awaitable (`sandbox = await create(...)`) and an async context manager (`async with create(...) as s`).
        return AsyncSandboxCreation(create())

    async def list(self, limit: int = 100, offset: int = 0, **options: Unpack[RequestOptions]) -> SandboxList:
        """This key's sandboxes, with their status."""
        request = _list_request(limit=limit, offset=offset, options=options)
        return await self._client.run(single(request, partial(parse_model, SandboxList)))

    async def get(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> AsyncSandbox:
        """A sandbox by id, as an object you can run code on."""
        from .facade import AsyncSandbox

        info = await self._client.run(single(_get_request(sandbox_id, options), _parse_info))
        return AsyncSandbox(self._client, info)

    async def kill(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxKillResponse:
        """Stop a sandbox: its processes end and its files are removed."""
        request = _kill_request(sandbox_id, options)
        return await self._client.run(single(request, partial(parse_model, SandboxKillResponse)))

    async def connect(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxConnectResponse:
        """Reconnect to a sandbox (resuming it when paused)."""
        request = _post_request(sandbox_id, "connect", options)
        return await self._client.run(single(request, partial(parse_model, SandboxConnectResponse)))

    async def pause(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Suspend a sandbox's processes; `resume` continues them."""
        return await self._client.run(_state_change_step(sandbox_id, "pause", options))

    async def resume(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxInfo:
        """Continue a paused sandbox."""
        return await self._client.run(_state_change_step(sandbox_id, "resume", options))

    async def set_timeout(
        self, sandbox_id: str, timeout: int, **options: Unpack[TimedRequestOptions]
    ) -> SandboxTimeoutResponse:
        """Make the sandbox stop `timeout` seconds from now (0: never)."""
        request = _timeout_request(sandbox_id, timeout, _request_options(options))
        return await self._client.run(single(request, partial(parse_model, SandboxTimeoutResponse)))

    async def get_metrics(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SandboxMetrics:
        """CPU, memory and disk use of the sandbox's processes."""
        request = _metrics_request(sandbox_id, options)
        return await self._client.run(single(request, partial(parse_model, SandboxMetrics)))

    async def get_host_url(
        self, sandbox_id: str, port: int, **options: Unpack[RequestOptions]
    ) -> SandboxHostURL:
        """The URL at which a server listening on `port` inside the sandbox is reached."""
        request = _host_request(sandbox_id, port, options)
        return await self._client.run(single(request, partial(parse_model, SandboxHostURL)))

    async def enable_ssh(
        self, sandbox_id: str, regenerate_keys: bool = False, **options: Unpack[RequestOptions]
    ) -> SSHInfo:
        """Start SSH for the sandbox: port, user, `connect_cmd` and the private key to log in with."""
        request = ssh_enable_request(sandbox_id, regenerate_keys, options)
        return await self._client.run(single(request, parse_ssh_info))

    async def disable_ssh(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Stop the sandbox's SSH server (its sessions end)."""
        return await self._client.run(ssh_disable_step(sandbox_id, options))

    async def ssh_status(self, sandbox_id: str, **options: Unpack[RequestOptions]) -> SSHStatus:
        """Whether SSH is enabled, its port and user, and whether the server runs."""
        return await self._client.run(single(ssh_status_request(sandbox_id, options), parse_ssh_status))

    async def read_file(
        self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]
    ) -> FileReadResponse:
        """A text file's content; relative paths are under /home/user."""
        request = _read_request(sandbox_id, path, options)
        return await self._client.run(single(request, partial(parse_model, FileReadResponse)))

    async def write_file(
        self, sandbox_id: str, path: str, content: str, **options: Unpack[RequestOptions]
    ) -> FileWriteResponse:
        """Write a text file (parents are created)."""
        request = _write_file_request(sandbox_id, path, content, options)
        return await self._client.run(single(request, partial(parse_model, FileWriteResponse)))

    async def list_files(
        self, sandbox_id: str, path: str = HOME, **options: Unpack[RequestOptions]
    ) -> FileList:
        """The entries of a directory: name, path, size, is_dir, modified."""
        request = _list_files_request(sandbox_id, path, options)
        return await self._client.run(single(request, partial(_file_list_answer, path)))

    async def delete_file(
        self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]
    ) -> FileDeleteResponse:
        """Delete a file or a directory with everything in it."""
        request = _delete_request(sandbox_id, path, options)
        return await self._client.run(single(request, partial(parse_model, FileDeleteResponse)))

    async def make_directory(
        self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]
    ) -> DirectoryCreateResponse:
        """Create a directory and any missing parents."""
        request = _mkdir_request(sandbox_id, path, options)
        return await self._client.run(single(request, partial(parse_model, DirectoryCreateResponse)))

    async def upload_file(
        self, sandbox_id: str, file: FileSource, path: str | None = None, **options: Unpack[RequestOptions]
    ) -> FileUploadResponse:
        """Upload a local file (path, bytes or binary file object) to `path` (default: its name in /home/user)."""
        request = _upload_request(sandbox_id, file, path, options)
        return await self._client.run(single(request, partial(parse_model, FileUploadResponse)))

    async def download_file(self, sandbox_id: str, path: str, **options: Unpack[RequestOptions]) -> bytes:
        """A file's exact bytes."""
        return await self._client.run(single(_download_request(sandbox_id, path, options), _bytes_answer))

    async def write(
        self, sandbox_id: str, path: str, data: FileData, user: str | None = None, mode: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> WriteInfo:  # fmt: skip
        """Write text (UTF-8) or bytes to `path` as multipart upload; `mode` like 0o755."""
        request, size = _write_request(sandbox_id, path, data, user, mode, options)
        return await self._client.run(single(request, partial(_write_answer, size)))

    async def write_files(
        self, sandbox_id: str, files: FileEntries, user: str | None = None, **options: Unpack[RequestOptions]
    ) -> WriteInfos:
        """Write several files in one request; an entry whose `error` is set was not written."""
        request = _write_files_request(sandbox_id, files, user, options)
        return await self._client.run(single(request, _write_files_answer))

    async def run_command(
        self, sandbox_id: str, command: str, args: Sequence[str] | None = None, working_dir: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        environment: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run a command (with `args`, or a whole shell line) and wait for it; `timeout` in seconds.

        `env_vars` are set for the command (`environment=` is a deprecated spelling of it).
        """
        request = _command_request(
            sandbox_id,
            command,
            args,
            working_dir,
            env_vars_argument(env_vars, environment=environment),
            timeout,
            _request_options(options),
            self._client.timeout,
        )
        return await self._client.run(single(request, _command_answer))

    async def run_code(
        self, sandbox_id: str, code: str, language: CodeLanguage = "python", context_id: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        environment: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """Run code; with `context_id` the interpreter state persists between runs. `timeout` in seconds.

        `env_vars` are set for the run (`environment=` is a deprecated spelling of it).
        """
        request = _code_request(
            sandbox_id,
            code,
            language,
            context_id,
            env_vars_argument(env_vars, environment=environment),
            timeout,
            _request_options(options),
            self._client.timeout,
        )
        return await self._client.run(single(request, _code_answer))

    async def create_code_context(
        self,
        sandbox_id: str,
        language: CodeLanguage = "python",
        cwd: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CodeContext:
        """Start a persistent interpreter in the sandbox."""
        request = _context_create_request(sandbox_id, language, cwd, options)
        return await self._client.run(single(request, partial(parse_model, CodeContext)))

    async def get_code_context(
        self, sandbox_id: str, context_id: str, **options: Unpack[RequestOptions]
    ) -> CodeContext:
        """A persistent interpreter's id, language and working directory."""
        request = _context_request("GET", sandbox_id, context_id, options)
        return await self._client.run(single(request, partial(parse_model, CodeContext)))

    async def delete_code_context(
        self, sandbox_id: str, context_id: str, **options: Unpack[RequestOptions]
    ) -> CodeContextDeleteResponse:
        """Stop a persistent interpreter; its state is lost."""
        request = _context_request("DELETE", sandbox_id, context_id, options)
        return await self._client.run(single(request, partial(parse_model, CodeContextDeleteResponse)))
