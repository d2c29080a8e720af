"""`Sandbox` / `AsyncSandbox`: the vendor's convenience class (spec §8.10), `from gravixlayer import Sandbox`.

`Sandbox.create(...)` makes its own client from `api_key` / `base_url` (or their environment variables)
unless given `client=`, starts a sandbox with the same defaults as `client.sandbox.sandboxes.create`
(template `python-base-v1`, cloud and region from spec §1.3) and returns it; a `with` block kills it on
exit and closes the client it made. Every sandbox object the SDK hands out is a `Sandbox`, so the flat
file methods of the vendor class (`write_file`, `read_file`, `list_files`, ...) and `run_cmd` work on
`client.sandbox.sandboxes.create(...)` too. Unlike the vendor class, `kill()` raises when it fails
(spec §10 D52: hidden failures leave sandboxes running and billing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from typing_extensions import Self, Unpack

from ..._exceptions import GravixLayerValidationError
from ..._request import single
from ..._types import RequestOptions
from ...types.sandbox import (
    DirectoryCreateResponse,
    Execution,
    FileDeleteResponse,
    FileList,
    FileUploadResponse,
    FileWriteResponse,
    WriteInfo,
)
from ._requests import (
    DEFAULT_TEMPLATE,
    HOME,
    FileData,
    FileEntries,
    TimedRequestOptions,
    WriteInfos,
    _create_request,
    _get_request,
    _parse_info,
    _request_options,
)
from .instance import AsyncSandboxCreation, AsyncSandboxInstance, SandboxInstance

if TYPE_CHECKING:
    from ..._client import AsyncGravixLayer, GravixLayer

__all__ = ["Sandbox", "AsyncSandbox"]


def _check_client_arguments(client: object, api_key: str | None, base_url: str | None) -> None:
    if client is not None and (api_key is not None or base_url is not None):
        raise GravixLayerValidationError("pass client= or api_key=/base_url=, not both")


def _cloud(cloud: str | None, provider: str | None) -> str | None:
    """`cloud=` (spec §8.10) and `provider=` (the wire's name, used by the vendor's cookbooks) are one setting."""
    if cloud is not None and provider is not None and cloud != provider:
        raise GravixLayerValidationError(f"cloud={cloud!r} and provider={provider!r} disagree; pass one")
    return cloud if cloud is not None else provider


def _sync_client(
    client: GravixLayer | None, api_key: str | None, base_url: str | None
) -> tuple[GravixLayer, GravixLayer | None]:
    """The client to use, and the same client again when this call made it (so the sandbox closes it)."""
    _check_client_arguments(client, api_key, base_url)
    if client is not None:
        return client, None
    from ..._client import GravixLayer

    made = GravixLayer(api_key=api_key, base_url=base_url)
    return made, made


def _async_client(
    client: AsyncGravixLayer | None, api_key: str | None, base_url: str | None
) -> tuple[AsyncGravixLayer, AsyncGravixLayer | None]:
    """The async twin of `_sync_client`."""
    _check_client_arguments(client, api_key, base_url)
    if client is not None:
        return client, None
    from ..._client import AsyncGravixLayer

    made = AsyncGravixLayer(api_key=api_key, base_url=base_url)
    return made, made


class Sandbox(SandboxInstance):
    """One sandbox, with the vendor's convenience spellings; `Sandbox.create(...)` starts one.

    ```python
    from gravixlayer import Sandbox

    with Sandbox.create(template="python-base-v1") as sandbox:
        print(sandbox.run_code("print('hi')").stdout)
        sandbox.write_file("notes.txt", "hello")
        print(sandbox.read_file("notes.txt"))
    ```
    """

    _owned_client: GravixLayer | None = None

    @classmethod
    def create(
        cls, template: str = DEFAULT_TEMPLATE, cloud: str | None = None, region: str | None = None,
        timeout: int | None = None, metadata: Mapping[str, Any] | None = None, *, provider: str | None = None,
        env_vars: Mapping[str, str] | None = None, name: str | None = None, internet_access: bool | None = None,
        agent_id: str | None = None, api_key: str | None = None, base_url: str | None = None,
        client: GravixLayer | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Self:  # fmt: skip
        """Start a sandbox; `timeout` is its lifetime in seconds (none: until killed).

        Without `client=`, a client is made from `api_key` / `base_url` (default: `GRAVIXLAYER_API_KEY` /
        `GRAVIXLAYER_BASE_URL`) and closed when the `with` block ends or `close()` is called.
        `cloud` (or `provider`, the same setting) / `region` default to the client's, then
        `GRAVIXLAYER_CLOUD` / `GRAVIXLAYER_REGION`, then `aws` / `us-east-1`.
        """
        client, owned = _sync_client(client, api_key, base_url)
        try:
            request = _create_request(
                client=client, provider=_cloud(cloud, provider), region=region, template=template, name=name, timeout=timeout,
                env_vars=env_vars, metadata=metadata, internet_access=internet_access, agent_id=agent_id,
                options=_request_options(options),
            )  # fmt: skip
            sandbox = cls(client, client.run(single(request, _parse_info)))
        except BaseException:
            if owned is not None:
                owned.close()
            raise
        sandbox._owned_client = owned
        return sandbox

    @classmethod
    def connect(
        cls, sandbox_id: str, *, api_key: str | None = None, base_url: str | None = None,
        client: GravixLayer | None = None, **options: Unpack[RequestOptions],
    ) -> Self:  # fmt: skip
        """An existing sandbox by id (with its own client unless `client=` is given)."""
        client, owned = _sync_client(client, api_key, base_url)
        try:
            sandbox = cls(client, client.run(single(_get_request(sandbox_id, options), _parse_info)))
        except BaseException:
            if owned is not None:
                owned.close()
            raise
        sandbox._owned_client = owned
        return sandbox

    def close(self) -> None:
        """Close the client `create()` made for this sandbox (the sandbox keeps running)."""
        if self._owned_client is not None:
            self._owned_client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            self.close()

    def run_cmd(
        self, command: str, args: Sequence[str] | None = None, working_dir: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        env: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """The vendor's short name of `run_command`."""
        return self.run_command(command, args, working_dir, env_vars, timeout, env=env, **options)

    def write_file(self, path: str, content: str, **options: Unpack[RequestOptions]) -> FileWriteResponse:
        """Write a text file (parents are created); relative paths are under /home/user."""
        return self._sandboxes.write_file(self.sandbox_id, path, content, **options)

    def read_file(self, path: str, **options: Unpack[RequestOptions]) -> str:
        """A text file's content."""
        return self._sandboxes.read_file(self.sandbox_id, path, **options).content

    def list_files(self, path: str = HOME, **options: Unpack[RequestOptions]) -> FileList:
        """The entries of a directory (`.names()` for just the names)."""
        return self._sandboxes.list_files(self.sandbox_id, path, **options)

    def delete_file(self, path: str, **options: Unpack[RequestOptions]) -> FileDeleteResponse:
        """Delete a file, or a directory with everything in it."""
        return self._sandboxes.delete_file(self.sandbox_id, path, **options)

    def make_directory(self, path: str, **options: Unpack[RequestOptions]) -> DirectoryCreateResponse:
        """Create a directory and any missing parents."""
        return self._sandboxes.make_directory(self.sandbox_id, path, **options)

    def upload_file(
        self, local_path: str | Path, remote_path: str | None = None, **options: Unpack[RequestOptions]
    ) -> FileUploadResponse:
        """Copy a local file into the sandbox (default: same name in /home/user)."""
        return self._sandboxes.upload_file(self.sandbox_id, Path(local_path), remote_path, **options)

    def download_file(self, path: str, **options: Unpack[RequestOptions]) -> bytes:
        """A sandbox file's exact bytes."""
        return self._sandboxes.download_file(self.sandbox_id, path, **options)

    def write(
        self, path: str, data: FileData, user: str | None = None, mode: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> WriteInfo:  # fmt: skip
        """Write text (UTF-8) or bytes to `path`; `mode` like 0o755."""
        return self._sandboxes.write(self.sandbox_id, path, data, user, mode, **options)

    def write_files(
        self, files: FileEntries, user: str | None = None, **options: Unpack[RequestOptions]
    ) -> WriteInfos:
        """Write several files (`{path: data}`) in one request; entries with `error` set failed."""
        return self._sandboxes.write_files(self.sandbox_id, files, user, **options)


class AsyncSandbox(AsyncSandboxInstance):
    """One sandbox, with the vendor's convenience spellings; `await AsyncSandbox.create(...)` starts one
    (or `async with AsyncSandbox.create(...) as sandbox:`)."""

    _owned_client: AsyncGravixLayer | None = None

    @classmethod
    def create(
        cls, template: str = DEFAULT_TEMPLATE, cloud: str | None = None, region: str | None = None,
        timeout: int | None = None, metadata: Mapping[str, Any] | None = None, *, provider: str | None = None,
        env_vars: Mapping[str, str] | None = None, name: str | None = None, internet_access: bool | None = None,
        agent_id: str | None = None, api_key: str | None = None, base_url: str | None = None,
        client: AsyncGravixLayer | None = None, **options: Unpack[TimedRequestOptions],
    ) -> AsyncSandboxCreation[Self]:  # fmt: skip
        """Start a sandbox; awaitable, and an async context manager that kills it on exit.

        Without `client=`, a client is made from `api_key` / `base_url` (default: `GRAVIXLAYER_API_KEY` /
        `GRAVIXLAYER_BASE_URL`) and closed when the `async with` block ends or `close()` is awaited.
        """
        chosen, owned = _async_client(client, api_key, base_url)
        request = _create_request(
            client=chosen, provider=_cloud(cloud, provider), region=region, template=template, name=name, timeout=timeout,
            env_vars=env_vars, metadata=metadata, internet_access=internet_access, agent_id=agent_id,
            options=_request_options(options),
        )  # fmt: skip

        async def start() -> Self:
            try:
                sandbox = cls(chosen, await chosen.run(single(request, _parse_info)))
            except BaseException:
                if owned is not None:
                    await owned.close()
                raise
            sandbox._owned_client = owned
            return sandbox

        return AsyncSandboxCreation(start())

    @classmethod
    async def connect(
        cls, sandbox_id: str, *, api_key: str | None = None, base_url: str | None = None,
        client: AsyncGravixLayer | None = None, **options: Unpack[RequestOptions],
    ) -> Self:  # fmt: skip
        """An existing sandbox by id (with its own client unless `client=` is given)."""
        chosen, owned = _async_client(client, api_key, base_url)
        try:
            sandbox = cls(chosen, await chosen.run(single(_get_request(sandbox_id, options), _parse_info)))
        except BaseException:
            if owned is not None:
                await owned.close()
            raise
        sandbox._owned_client = owned
        return sandbox

    async def close(self) -> None:
        """Close the client `create()` made for this sandbox (the sandbox keeps running)."""
        if self._owned_client is not None:
            await self._owned_client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            await self.close()

    async def run_cmd(
        self, command: str, args: Sequence[str] | None = None, working_dir: str | None = None,
        env_vars: Mapping[str, str] | None = None, timeout: float | None = None, *,
        env: Mapping[str, str] | None = None, **options: Unpack[TimedRequestOptions],
    ) -> Execution:  # fmt: skip
        """The vendor's short name of `run_command`."""
        return await self.run_command(command, args, working_dir, env_vars, timeout, env=env, **options)

    async def write_file(self, path: str, content: str, **options: Unpack[RequestOptions]) -> FileWriteResponse:
        """Write a text file (parents are created); relative paths are under /home/user."""
        return await self._sandboxes.write_file(self.sandbox_id, path, content, **options)

    async def read_file(self, path: str, **options: Unpack[RequestOptions]) -> str:
        """A text file's content."""
        return (await self._sandboxes.read_file(self.sandbox_id, path, **options)).content

    async def list_files(self, path: str = HOME, **options: Unpack[RequestOptions]) -> FileList:
        """The entries of a directory (`.names()` for just the names)."""
        return await self._sandboxes.list_files(self.sandbox_id, path, **options)

    async def delete_file(self, path: str, **options: Unpack[RequestOptions]) -> FileDeleteResponse:
        """Delete a file, or a directory with everything in it."""
        return await self._sandboxes.delete_file(self.sandbox_id, path, **options)

    async def make_directory(self, path: str, **options: Unpack[RequestOptions]) -> DirectoryCreateResponse:
        """Create a directory and any missing parents."""
        return await self._sandboxes.make_directory(self.sandbox_id, path, **options)

    async def upload_file(
        self, local_path: str | Path, remote_path: str | None = None, **options: Unpack[RequestOptions]
    ) -> FileUploadResponse:
        """Copy a local file into the sandbox (default: same name in /home/user)."""
        return await self._sandboxes.upload_file(self.sandbox_id, Path(local_path), remote_path, **options)

    async def download_file(self, path: str, **options: Unpack[RequestOptions]) -> bytes:
        """A sandbox file's exact bytes."""
        return await self._sandboxes.download_file(self.sandbox_id, path, **options)

    async def write(
        self, path: str, data: FileData, user: str | None = None, mode: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> WriteInfo:  # fmt: skip
        """Write text (UTF-8) or bytes to `path`; `mode` like 0o755."""
        return await self._sandboxes.write(self.sandbox_id, path, data, user, mode, **options)

    async def write_files(
        self, files: FileEntries, user: str | None = None, **options: Unpack[RequestOptions]
    ) -> WriteInfos:
        """Write several files (`{path: data}`) in one request; entries with `error` set failed."""
        return await self._sandboxes.write_files(self.sandbox_id, files, user, **options)
