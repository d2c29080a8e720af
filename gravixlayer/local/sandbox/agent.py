"""The agent inside a sandbox (run as a script there, never imported by Local).

One agent per sandbox, started at create and ended at kill. It already runs *inside* the sandbox's
isolation (namespaces, Landlock or best effort) and as the sandbox's user, so everything Local does in a
sandbox goes through it: starting commands and kernels (their pipes arrive as descriptors over the
control socket), signalling them, and file operations, which therefore can never reach outside what the
sandbox itself can reach. Files are handed to Local as open descriptors: Local reads and writes bytes,
it never opens a path the sandbox could have swapped.

Protocol: a ``SOCK_SEQPACKET`` socket; each message is one JSON object, descriptors ride along as
``SCM_RIGHTS``. Requests carry ``id`` and ``op``; answers carry the same ``id`` and either ``ok`` or
``error`` (an errno name and message); ``more: true`` marks all but the last frame of a long answer.
Events: ``{"event": "ready"}`` once, ``{"event": "exit", "pid", "status"}`` per ended process.
"""

from __future__ import annotations

import array
import errno
import json
import os
import resource
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from typing import Any

MAX_FRAME = 64 * 1024
LIST_BATCH = 300
MAX_LIST_ENTRIES = 10_000


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _printable(name: str) -> str:
    """A file name as text even when its bytes are not UTF-8 (shown as \\xNN escapes)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class Agent:
    def __init__(self, config: dict[str, Any]) -> None:
        self.sock = socket.socket(fileno=int(config["fd"]))
        self.sock.set_inheritable(False)  # a process the agent starts never gets the control socket
        self.root = os.path.realpath(config["root"])
        self.home = config["home"]
        self.confined = bool(config["confined"])
        """True when the whole view is the sandbox's own (namespaces): no path needs a boundary check."""
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    # -- messages ----------------------------------------------------------------------------------------

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        if fds:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        else:
            self.sock.send(data)

    def receive(self) -> tuple[dict[str, Any], list[int]] | None:
        fds = array.array("i")
        data, ancdata, _flags, _addr = self.sock.recvmsg(MAX_FRAME, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        for fd in fds:
            os.set_inheritable(fd, False)
        if not data:
            for fd in fds:
                os.close(fd)
            return None
        return json.loads(data), list(fds)

    def run(self) -> None:
        self.send({"event": "ready", "uid": os.getuid(), "pid": os.getpid()})
        while True:
            try:
                readable, _, _ = select.select([self.sock.fileno(), self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                try:
                    os.read(self.wake_r, 512)
                except BlockingIOError:
                    pass
                self.reap()
            if self.sock.fileno() in readable:
                received = self.receive()
                if received is None:
                    return
                message, fds = received
                try:
                    self.dispatch(message, fds)
                finally:
                    for fd in fds:
                        os.close(fd)

    def dispatch(self, message: dict[str, Any], fds: list[int]) -> None:
        ident = message.get("id")
        handler = getattr(self, "op_" + str(message.get("op")), None)
        try:
            if handler is None:
                raise Refused("EINVAL", f"unknown operation {message.get('op')!r}")
            handler(ident, message, fds)
        except Refused as exc:
            self.send({"id": ident, "error": exc.code, "message": exc.message})
        except OSError as exc:
            code = errno.errorcode.get(exc.errno or 0, "EIO")
            self.send({"id": ident, "error": code, "message": exc.strerror or str(exc)})

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            code = os.waitstatus_to_exitcode(status)
            if child is not None:
                child.returncode = code
                self.send({"event": "exit", "pid": pid, "status": code})

    # -- paths -------------------------------------------------------------------------------------------

    def candidate(self, path: Any) -> str:
        if not isinstance(path, str) or not path.strip():
            raise Refused("EINVAL", "path must be a non-empty string")
        if "\x00" in path:
            raise Refused("EINVAL", "path must not contain a NUL byte")
        if ".." in path.split("/"):
            raise Refused("EINVAL", f"path {path!r} must not contain '..' segments")
        if not path.startswith("/"):
            path = self.home + "/" + path
        if self.confined:
            return str(os.path.normpath(path))
        if path == self.root or path.startswith(self.root + "/"):
            path = path[len(self.root) :] or "/"
        return str(os.path.normpath(self.root + "/" + path.lstrip("/")))

    def inside(self, real: str) -> bool:
        return self.confined or real == self.root or real.startswith(self.root + "/")

    def resolve(self, path: Any, follow_final: bool = True) -> str:
        candidate = self.candidate(path)
        if not follow_final and candidate != self.root:
            parent = os.path.realpath(os.path.dirname(candidate))
            if not self.inside(parent):
                raise Refused("EXDEV", f"path {path!r} leads outside the sandbox through a symbolic link")
            return os.path.join(parent, os.path.basename(candidate))
        real = os.path.realpath(candidate)
        if not self.inside(real):
            raise Refused("EXDEV", f"path {path!r} leads outside the sandbox through a symbolic link")
        return real

    def visible(self, real: str) -> str:
        if self.confined:
            return real
        relative = os.path.relpath(real, self.root)
        return "/" if relative == "." else "/" + relative

    # -- operations --------------------------------------------------------------------------------------

    def op_ping(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        self.send({"id": ident, "ok": True})

    def op_spawn(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        if len(fds) != 3:
            raise Refused("EINVAL", "spawn needs three descriptors")
        cwd = self.resolve(message.get("cwd") or self.home)
        try:
            child = subprocess.Popen(
                message["argv"], stdin=fds[0], stdout=fds[1], stderr=fds[2], cwd=cwd, env=message["env"],
                start_new_session=True, close_fds=True,
            )  # fmt: skip
        except FileNotFoundError as exc:
            raise Refused("ENOENT", exc.strerror or "not found") from None
        except PermissionError as exc:
            raise Refused("EACCES", exc.strerror or "permission denied") from None
        cpu = message.get("cpu_seconds")
        if cpu:
            try:
                resource.prlimit(child.pid, resource.RLIMIT_CPU, (int(cpu), int(cpu)))
            except OSError:
                pass
        self.children[child.pid] = child
        self.send({"id": ident, "ok": True, "pid": child.pid})

    def op_signal(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        pid, signum = int(message["pid"]), int(message["signal"])
        try:
            if message.get("group"):
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
        self.send({"id": ident, "ok": True})

    def op_group_exists(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        try:
            os.killpg(int(message["pgid"]), 0)
            exists = True
        except ProcessLookupError:
            exists = False
        except PermissionError:
            exists = True
        self.send({"id": ident, "ok": True, "exists": exists})

    def op_connect(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        """A TCP connection to a port on the sandbox's own loopback, handed to Local (``get_host_url``)."""
        port = int(message["port"])
        connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            connection.settimeout(5)
            connection.connect(("127.0.0.1", port))
            self.send({"id": ident, "ok": True}, [connection.fileno()])
        finally:
            connection.close()

    def op_directory(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        real = self.resolve(message["path"])
        if not os.path.isdir(real):
            raise Refused("ENOTDIR", f"{message['path']!r} is not a directory in the sandbox")
        self.send({"id": ident, "ok": True, "path": self.visible(real)})

    def op_open(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        path = message["path"]
        real = self.resolve(path)
        if message.get("write"):
            if real == self.root or os.path.isdir(real):
                raise Refused("EISDIR", f"{path!r} is a directory")
            parent = os.path.dirname(real)
            if not os.path.isdir(parent):
                if os.path.lexists(parent) and not os.path.isdir(parent):
                    raise Refused("ENOTDIR", f"{self.visible(parent)!r} is not a directory")
                os.makedirs(parent, mode=0o755, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(real, flags, 0o644)
            mode = message.get("mode")
            if mode is not None:
                os.fchmod(fd, int(mode))
        else:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise Refused("EINVAL", f"{path!r} is not a regular file")
            self.send({"id": ident, "ok": True, "path": self.visible(real), "size": info.st_size}, [fd])
        finally:
            os.close(fd)

    def op_mkdir(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        path = message["path"]
        real = self.resolve(path)
        if os.path.lexists(real) and not os.path.isdir(real):
            raise Refused("EEXIST", f"{path!r} exists and is not a directory")
        os.makedirs(real, mode=0o755, exist_ok=True)
        self.send({"id": ident, "ok": True, "path": self.visible(real)})

    def op_delete(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        path = message["path"]
        real = self.resolve(path, follow_final=False)
        if real in (self.root, "/"):
            raise Refused("EINVAL", "the sandbox root cannot be deleted")
        if not os.path.lexists(real):
            raise Refused("ENOENT", f"no such file or directory: {path!r}")
        if os.path.isdir(real) and not os.path.islink(real):
            shutil.rmtree(real)
        else:
            os.unlink(real)
        self.send({"id": ident, "ok": True, "path": self.visible(real)})

    def op_list(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        path = message["path"]
        real = self.resolve(path)
        if not os.path.lexists(real):
            raise Refused("ENOENT", f"no such directory: {path!r}")
        if not os.path.isdir(real):
            raise Refused("ENOTDIR", f"{path!r} is not a directory")
        entries: list[dict[str, Any]] = []
        with os.scandir(os.fsencode(real)) as found:
            for entry in found:
                if len(entries) >= MAX_LIST_ENTRIES:
                    break
                try:
                    info = entry.stat(follow_symlinks=False)  # a link is described, never followed
                except OSError:
                    continue
                name = _printable(os.fsdecode(entry.name))
                entries.append(
                    {
                        "name": name,
                        "path": _printable(self.visible(os.path.join(real, os.fsdecode(entry.name)))),
                        "size": info.st_size,
                        "is_dir": stat.S_ISDIR(info.st_mode),
                        "mode": stat.filemode(info.st_mode),
                        "mod_time": _iso(info.st_mtime),
                    }
                )
        entries.sort(key=lambda item: str(item["name"]))
        for start in range(0, max(len(entries), 1), LIST_BATCH):
            last = start + LIST_BATCH >= len(entries)
            self.send(
                {"id": ident, "ok": True, "entries": entries[start : start + LIST_BATCH], "more": not last}
            )

    def op_usage(self, ident: Any, message: dict[str, Any], fds: list[int]) -> None:
        """Bytes used in the sandbox's private memory file systems (/tmp, /dev/shm)."""
        used = 0
        for mount in message.get("mounts", []):
            try:
                info = os.statvfs(mount)
            except OSError:
                continue
            used += (info.f_blocks - info.f_bfree) * info.f_frsize
        self.send({"id": ident, "ok": True, "bytes": used})


def _drop_to(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def main() -> None:
    config = json.loads(sys.argv[1])
    if config.get("uid") is not None and os.getuid() != config["uid"]:
        _drop_to(int(config["uid"]), int(config["gid"]))
    for which, value in config.get("rlimits", []):
        soft_hard = (value, value)
        try:
            resource.setrlimit(which, soft_hard)
        except (ValueError, OSError):
            pass
    os.nice(int(config.get("nice", 0)))
    import ctypes

    libc = ctypes.CDLL(None)
    libc.prctl(
        1, signal.SIGKILL, 0, 0, 0
    )  # PR_SET_PDEATHSIG: the agent ends with Local (set after the user switch)
    if config.get("subreaper"):
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans stay ours to reap
    os.umask(0o022)
    if config.get("chdir"):
        os.chdir(config["chdir"])
    Agent(config).run()


if __name__ == "__main__":
    main()
