"""A sandbox's files: every path the API receives is resolved inside the sandbox's private root.

The sandbox's ``/`` is its root directory and relative paths start at ``/home/user`` (decision 23).
A path with a ``..`` segment or a NUL byte, or one that leads outside the root through a symbolic
link, is refused with 400 before anything is touched; the final open uses ``O_NOFOLLOW`` so a link
swapped in afterwards is not followed either. Files the server creates belong to the sandbox's user.

Every function blocks: routes call them through a worker thread.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LocalAPIError

__all__ = ["SandboxFiles", "HOME", "iso_time"]

HOME = "/home/user"
MAX_LIST_ENTRIES = 10_000


def iso_time(timestamp: float) -> str:
    """RFC 3339 in UTC with a `Z`, the form the vendor's services send."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _bad_path(message: str) -> LocalAPIError:
    return LocalAPIError(400, "invalid_path", message)


@dataclass
class SandboxFiles:
    """The files of one sandbox, rooted at `root` and owned by `owner` (uid, gid) when set."""

    root: Path
    owner: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.root = Path(os.path.realpath(self.root))

    # -- layout --------------------------------------------------------------------------------------

    def create(self) -> None:
        """The root with `/home/user` and `/tmp`, all owned by the sandbox user."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for directory in (self.root, self.root / "home", self.root / "home" / "user", self.root / "tmp"):
            directory.mkdir(mode=0o755, exist_ok=True)
            self._own(directory)
        os.chmod(self.root / "tmp", 0o1777)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def home(self) -> Path:
        return self.root / "home" / "user"

    def _own(self, path: Path) -> None:
        if self.owner is not None:
            os.chown(path, *self.owner, follow_symlinks=False)

    # -- paths ---------------------------------------------------------------------------------------

    def _candidate(self, path: Any) -> Path:
        if not isinstance(path, str) or not path.strip():
            raise _bad_path("path must be a non-empty string")
        if "\x00" in path:
            raise _bad_path("path must not contain a NUL byte")
        if ".." in path.split("/"):
            raise _bad_path(f"path {path!r} must not contain '..' segments")
        if path.startswith("/"):
            host_root = str(self.root)
            # A host path of this sandbox (what its own processes see in os.getcwd()) is accepted too.
            rest = path[len(host_root) :] if path == host_root or path.startswith(host_root + "/") else path
            parts = [p for p in rest.split("/") if p not in ("", ".")]
        else:
            parts = ["home", "user", *(p for p in path.split("/") if p not in ("", "."))]
        return self.root.joinpath(*parts)

    def _inside(self, real: Path) -> bool:
        return real == self.root or self.root in real.parents

    def resolve(self, path: Any, *, follow_final: bool = True) -> Path:
        """The host path for a sandbox path, with every symbolic link resolved and checked."""
        candidate = self._candidate(path)
        if not follow_final and candidate != self.root:
            parent = Path(os.path.realpath(candidate.parent))
            if not self._inside(parent):
                raise _bad_path(f"path {path!r} leads outside the sandbox through a symbolic link")
            return parent / candidate.name
        real = Path(os.path.realpath(candidate))
        if not self._inside(real):
            raise _bad_path(f"path {path!r} leads outside the sandbox through a symbolic link")
        return real

    def visible(self, host: Path) -> str:
        """The path as the sandbox names it (`/home/user/...`)."""
        relative = os.path.relpath(host, self.root)
        return "/" if relative == "." else "/" + relative

    def directory(self, path: Any) -> Path:
        """An existing directory inside the sandbox (a working directory)."""
        real = self.resolve(path)
        if not real.is_dir():
            raise _bad_path(f"{path!r} is not a directory in the sandbox")
        return real

    # -- operations ----------------------------------------------------------------------------------

    def _open_file(self, real: Path, path: Any) -> int:
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise LocalAPIError(404, "not_found", f"no such file: {path!r}") from None
        except OSError as exc:
            raise LocalAPIError(400, "invalid_path", f"cannot open {path!r}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise LocalAPIError(400, "not_a_file", f"{path!r} is not a regular file")
        return fd

    def open_read(self, path: Any, max_bytes: int) -> tuple[int, int, str]:
        """An open descriptor, the size and the visible path of a regular file no larger than `max_bytes`."""
        real = self.resolve(path)
        fd = self._open_file(real, path)
        size = os.fstat(fd).st_size
        if size > max_bytes:
            os.close(fd)
            raise LocalAPIError(
                413, "payload_too_large", f"{path!r} is {size} bytes; the limit is {max_bytes}"
            )
        return fd, size, self.visible(real)

    def read(self, path: Any, max_bytes: int) -> tuple[bytes, str]:
        fd, size, visible = self.open_read(path, max_bytes)
        try:
            chunks = []
            while True:
                chunk = os.read(fd, 1024 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(fd)
        return b"".join(chunks), visible

    def _make_parents(self, real: Path) -> None:
        missing = []
        parent = real.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        if not parent.is_dir():
            raise LocalAPIError(400, "not_a_directory", f"{self.visible(parent)!r} is not a directory")
        for directory in reversed(missing):
            directory.mkdir(mode=0o755)
            self._own(directory)

    def write(self, path: Any, data: bytes, mode: int | None = None) -> tuple[str, int]:
        """Write `data` to `path` (parents made); returns the visible path and the byte count."""
        real = self.resolve(path)
        if real == self.root or real.is_dir():
            raise LocalAPIError(400, "is_a_directory", f"{path!r} is a directory")
        self._make_parents(real)
        try:
            fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise LocalAPIError(400, "invalid_path", f"cannot write {path!r}: {exc.strerror}") from None
        try:
            if self.owner is not None:
                os.fchown(fd, *self.owner)
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise LocalAPIError(
                507, "insufficient_storage", f"cannot write {path!r}: {exc.strerror}"
            ) from None
        finally:
            os.close(fd)
        return self.visible(real), len(data)

    def make_directory(self, path: Any) -> str:
        real = self.resolve(path)
        if real.exists() and not real.is_dir():
            raise LocalAPIError(409, "conflict", f"{path!r} exists and is not a directory")
        if not real.exists():
            self._make_parents(real / "x")
        return self.visible(real)

    def delete(self, path: Any) -> str:
        """Remove a file, a symbolic link (never its target) or a directory tree."""
        real = self.resolve(path, follow_final=False)
        if real == self.root:
            raise _bad_path("the sandbox root cannot be deleted")
        if not os.path.lexists(real):
            raise LocalAPIError(404, "not_found", f"no such file or directory: {path!r}")
        if real.is_dir() and not real.is_symlink():
            shutil.rmtree(real)
        else:
            real.unlink()
        return self.visible(real)

    def list(self, path: Any) -> list[dict[str, Any]]:
        real = self.resolve(path)
        if not real.exists():
            raise LocalAPIError(404, "not_found", f"no such directory: {path!r}")
        if not real.is_dir():
            raise LocalAPIError(400, "not_a_directory", f"{path!r} is not a directory")
        entries: list[dict[str, Any]] = []
        with os.scandir(real) as found:
            for entry in found:
                if len(entries) >= MAX_LIST_ENTRIES:
                    break
                try:
                    info = entry.stat(follow_symlinks=False)  # a link is described, never followed
                except OSError:
                    continue
                entries.append(
                    {
                        "name": entry.name,
                        "path": self.visible(real / entry.name),
                        "size": info.st_size,
                        "is_dir": stat.S_ISDIR(info.st_mode),
                        "mode": stat.filemode(info.st_mode),
                        "mod_time": iso_time(info.st_mtime),
                    }
                )
        entries.sort(key=lambda item: item["name"])
        return entries

    def disk_usage(self) -> int:
        """Bytes used by the sandbox's files (links not followed)."""
        total = 0
        for directory, dirs, files in os.walk(self.root):
            for name in files + dirs:
                try:
                    total += os.lstat(os.path.join(directory, name)).st_size
                except OSError:
                    continue
        return total
