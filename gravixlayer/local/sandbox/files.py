"""A sandbox's files, as the API reaches them: every operation is made by the sandbox's agent.

The agent runs inside the sandbox as its user, so a path can only lead where the sandbox's own code
could go; a symbolic link planted by that code, or swapped in mid-request, leads nowhere else. Files are
opened by the agent and handed over as descriptors, so Local never opens a path inside the sandbox.
Local itself only creates the sandbox's directory, walks it without following links to measure it
(``os.fwalk``), and removes it once every process of the sandbox has ended.

Paths: relative ones start at ``/home/user``; ``..`` segments and NUL bytes are refused (decision 23).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LocalAPIError

if TYPE_CHECKING:
    from .channel import AgentChannel

__all__ = ["SandboxFiles", "HOME", "iso_time"]

HOME = "/home/user"
USAGE_CACHE_SECONDS = 2.0


def iso_time(timestamp: float) -> str:
    """RFC 3339 in UTC with a `Z`, the form the vendor's services send."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _bad_path(message: str) -> LocalAPIError:
    return LocalAPIError(400, "invalid_path", message)


def _check_new_name(path: str) -> str:
    """A name being created: control characters (newlines, escapes) are refused, as the platform does."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise _bad_path(f"path {path!r} must not contain control characters")
    return path


def _check(path: Any) -> str:
    if not isinstance(path, str) or not path.strip():
        raise _bad_path("path must be a non-empty string")
    if "\x00" in path:
        raise _bad_path("path must not contain a NUL byte")
    if ".." in path.split("/"):
        raise _bad_path(f"path {path!r} must not contain '..' segments")
    return path


class SandboxFiles:
    """The files of one sandbox: host directory `root` (``home/user`` inside it is ``/home/user``)."""

    def __init__(self, root: Path, *, quota_bytes: int | None = None) -> None:
        self.root = Path(os.path.realpath(root))
        self.quota_bytes = quota_bytes
        self.channel: AgentChannel | None = None
        self._usage: tuple[float, int] | None = None

    @property
    def home(self) -> Path:
        return self.root / "home" / "user"

    # -- the directory, on the host ----------------------------------------------------------------------

    def create(self, owner: tuple[int, int] | None) -> None:
        """``root/home/user`` (and ``root/tmp`` for modes without a private /tmp), owned by the sandbox user.

        Local creates these once, before any process of the sandbox exists, and changes owner and mode
        through descriptors opened without following links.
        """
        self.root.mkdir(mode=0o711, parents=True, exist_ok=True)
        for relative, mode in (("home", 0o755), ("home/user", 0o700), ("tmp", 0o700)):
            path = self.root / relative
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o755)
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                if owner is not None and relative != "home":
                    os.fchown(fd, *owner)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)

    def remove(self) -> None:
        """Only once no process of the sandbox runs (``shutil.rmtree`` works from descriptors, no links)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def usage_on_host(self) -> int:
        """Bytes the sandbox's files use (walked by descriptor; links counted, never followed)."""
        total = 0
        if not self.root.is_dir():
            return 0
        with contextlib.suppress(OSError):
            for _directory, dirs, files, dir_fd in os.fwalk(self.root, follow_symlinks=False):
                for name in files + dirs:
                    with contextlib.suppress(OSError):
                        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                        total += info.st_blocks * 512 if stat.S_ISREG(info.st_mode) else 0
        self._usage = (time.monotonic(), total)
        return total

    def _cached_usage(self) -> int:
        if self._usage is not None and time.monotonic() - self._usage[0] < USAGE_CACHE_SECONDS:
            return self._usage[1]
        return self.usage_on_host()

    def over_quota(self) -> bool:
        return self.quota_bytes is not None and self.usage_on_host() > self.quota_bytes

    def room(self) -> int | None:
        """Bytes the API may still write (None: no limit)."""
        if self.quota_bytes is None:
            return None
        return max(0, self.quota_bytes - self._cached_usage())

    # -- operations, through the agent -------------------------------------------------------------------

    def _agent(self) -> AgentChannel:
        if self.channel is None or self.channel.closed:
            raise LocalAPIError(503, "sandbox_unavailable", "the sandbox's environment is not running")
        return self.channel

    async def _ask(self, message: dict[str, Any], path: Any) -> list[dict[str, Any]]:
        from .channel import AgentError, AgentGone, error_for

        try:
            return await self._agent().request_frames(message)
        except AgentError as exc:
            raise error_for(exc, path) from None
        except AgentGone:
            raise LocalAPIError(503, "sandbox_unavailable", "the sandbox's environment has ended") from None

    async def directory(self, path: Any) -> str:
        """An existing directory inside the sandbox (a working directory), as the sandbox names it."""
        frames = await self._ask({"op": "directory", "path": _check(path)}, path)
        return str(frames[-1]["path"])

    async def is_directory(self, path: Any) -> bool:
        try:
            await self.directory(path)
        except LocalAPIError:
            return False
        return True

    async def open_read(self, path: Any, max_bytes: int) -> tuple[int, int, str]:
        """An open descriptor, the size and the visible path of a regular file no larger than `max_bytes`."""
        answer = (await self._ask({"op": "open", "path": _check(path)}, path))[-1]
        fd = int(answer["fds"][0])
        size = int(answer["size"])
        if size > max_bytes:
            os.close(fd)
            raise LocalAPIError(
                413, "payload_too_large", f"{path!r} is {size} bytes; the limit is {max_bytes}"
            )
        return fd, size, str(answer["path"])

    async def read(self, path: Any, max_bytes: int) -> tuple[bytes, str]:
        import anyio.to_thread

        fd, _size, visible = await self.open_read(path, max_bytes)
        try:
            data = await anyio.to_thread.run_sync(_read_all, fd, max_bytes)
        finally:
            os.close(fd)
        return data, visible

    async def write(self, path: Any, data: bytes, mode: int | None = None) -> tuple[str, int]:
        """Write `data` to `path` (parents made); returns the visible path and the byte count."""
        import anyio.to_thread

        room = await anyio.to_thread.run_sync(self.room)
        if room is not None and len(data) > room:
            raise LocalAPIError(
                507, "insufficient_storage",
                f"writing {len(data)} bytes would exceed the sandbox's disk limit ({room} bytes left)",
            )  # fmt: skip
        message: dict[str, Any] = {"op": "open", "path": _check_new_name(_check(path)), "write": True}
        if mode is not None:
            message["mode"] = mode
        answer = (await self._ask(message, path))[-1]
        fd = int(answer["fds"][0])
        try:
            await anyio.to_thread.run_sync(_write_all, fd, data)
        except OSError as exc:
            raise LocalAPIError(
                507, "insufficient_storage", f"cannot write {path!r}: {exc.strerror}"
            ) from None
        finally:
            os.close(fd)
        if self._usage is not None:
            self._usage = (self._usage[0], self._usage[1] + len(data))
        return str(answer["path"]), len(data)

    async def make_directory(self, path: Any) -> str:
        return str((await self._ask({"op": "mkdir", "path": _check_new_name(_check(path))}, path))[-1]["path"])

    async def delete(self, path: Any) -> str:
        """Remove a file, a symbolic link (never its target) or a directory tree."""
        return str((await self._ask({"op": "delete", "path": _check(path)}, path))[-1]["path"])

    async def list(self, path: Any) -> list[dict[str, Any]]:
        frames = await self._ask({"op": "list", "path": _check(path)}, path)
        return [entry for frame in frames for entry in frame.get("entries", [])]


def _read_all(fd: int, max_bytes: int) -> bytes:
    chunks = []
    total = 0
    while total <= max_bytes:
        chunk = os.read(fd, 1024 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
