"""How a sandbox's agent is started: the isolation modes, strongest first, and the probe that picks one.

* ``namespaces``: bubblewrap puts the agent in its own mount, PID, IPC, UTS, network (and, for a
  non-root server, user) namespaces on a tmpfs root: system and Python directories read-only, the
  sandbox's own directory read-write at ``/home/user``, private size-limited ``/tmp`` and ``/dev/shm``,
  its own ``/proc``, no capabilities, the seccomp filter of ``seccomp.py``. Nothing else of the host
  exists there: not the data directory, not another sandbox, not the server's processes.
* ``namespaces-no-proc``: the same without ``/proc`` (hosts that mask it, where mounting one fails).
* ``landlock``: no namespaces (Docker-like hosts refuse them): Landlock limits files to the system,
  Python and the sandbox's own directory, refuses TCP and signals outside the sandbox; seccomp refuses
  every socket family but ``AF_UNIX``. Processes and ``/proc`` stay visible.
* ``best-effort``: what is left: a per-sandbox user id when the server is root, rlimits, a private
  directory. Not a boundary against hostile code.

Namespaces are not a virtual machine: a kernel bug can still break out of any of these.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import landlock, seccomp
from .caps import UserSwitch, reachable_by_others

__all__ = [
    "Limits", "Launch", "Mode", "NAMESPACES", "NAMESPACES_NO_PROC", "LANDLOCK", "BEST_EFFORT", "MODES",
    "STRENGTH", "launch", "bwrap_path", "MIB", "UID_BASE", "UID_SPAN", "SANDBOX_UID",
]  # fmt: skip

log = logging.getLogger("gravixlayer.local.sandbox")

NAMESPACES = "namespaces"
NAMESPACES_NO_PROC = "namespaces-no-proc"
LANDLOCK = "landlock"
BEST_EFFORT = "best-effort"
MODES = (NAMESPACES, NAMESPACES_NO_PROC, LANDLOCK, BEST_EFFORT)
STRENGTH = {NAMESPACES: 3, NAMESPACES_NO_PROC: 2, LANDLOCK: 1, BEST_EFFORT: 0}
Mode = str

MIB = 1024 * 1024
UID_BASE = 1_500_000_000
UID_SPAN = 500_000_000
SANDBOX_UID = 1000
"""The sandbox user's id inside its user namespace (non-root server)."""
NICE = 5
"""Sandbox processes run a little below the server's priority, so a busy sandbox cannot starve it."""
HOME = "/home/user"
TOOLS = "/opt/gravixlayer"
HERE = Path(__file__).resolve().parent
AGENT = HERE / "agent.py"
KERNEL_PY = HERE / "kernel_main.py"
KERNEL_JS = HERE / "kernel_main.js"

_ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates", "ca-certificates.conf", "pki",
    "localtime", "timezone", "nsswitch.conf", "hosts", "alternatives", "mime.types", "protocols", "services",
    "gai.conf", "os-release", "debian_version", "fonts", "python3", f"python3.{sys.version_info.minor}",
    "inputrc", "magic", "papersize",
)  # fmt: skip
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True)
class Limits:
    """Limits of one sandbox (a template decides them)."""

    memory_mb: int = 1024
    """The whole sandbox's memory (cgroup, or the guard's sum over its processes); also ``RLIMIT_DATA``
    per process (address space is left alone: Node.js reserves far more than it uses)."""
    file_size_mb: int = 2048
    cpu_seconds: int = 3600
    """``RLIMIT_CPU`` per process; each run also has a wall-clock timeout that kills its process group."""
    open_files: int = 1024
    processes: int = 128
    """Tasks (processes and threads) the sandbox may have at once."""
    output_bytes: int = 4 * MIB
    """Output kept per stream and run; the rest is counted and dropped."""
    tmp_mb: int = 512
    """Size of the private ``/tmp`` and of ``/dev/shm`` (memory file systems, counted in the disk limit)."""


@dataclass
class Launch:
    """Everything needed to start one sandbox's agent, and how paths look from inside."""

    argv: list[str]
    confined: bool
    """True when the sandbox sees only its own file system (namespace modes)."""
    root: str
    """The sandbox's ``/`` as the agent sees it (``/`` when confined, else its host directory)."""
    home: str
    tmp: str
    python: str
    kernel_py: str
    kernel_js: str
    pass_fds: list[int] = field(default_factory=list)
    preexec: Callable[[], None] | None = None
    close_after_start: list[int] = field(default_factory=list)
    """Descriptors of the server that only the child needed (pipes feeding bwrap)."""
    cleanup: list[Callable[[], None]] = field(default_factory=list)


def bwrap_path() -> str | None:
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None
    )


def _pipe_with(data: bytes) -> int:
    """A pipe's read end already holding `data` (small: it must fit the pipe buffer)."""
    read, write = os.pipe()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
    finally:
        os.close(write)
    return read


def _python_dirs() -> list[str]:
    """Directories the server's Python needs (its prefix, a venv's, where the executable really is)."""
    found: list[str] = []
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    real = os.path.realpath(sys.executable)
    candidates.append(os.path.dirname(os.path.dirname(real)))
    for candidate in candidates:
        path = os.path.realpath(candidate)
        if path in ("/", "/usr") or path.startswith("/usr/"):
            continue
        if not any(path == p or path.startswith(p + "/") for p in found):
            found = [p for p in found if not p.startswith(path + "/")] + [path]
    return found


def _node_dirs() -> list[str]:
    node = shutil.which("node")
    if node is None:
        return []
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(node)))
    return [] if prefix == "/usr" or prefix.startswith("/usr/") else [prefix]


def _passwd(uid: int, gid: int) -> tuple[bytes, bytes]:
    passwd = f"root:x:0:0:root:/root:/bin/sh\nuser:x:{uid}:{gid}:user:{HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    group = f"root:x:0:\nuser:x:{gid}:\nnogroup:x:65534:\n"
    return passwd.encode(), group.encode()


def _rlimits(limits: Limits, *, nproc_extra: int = 0) -> list[tuple[int, int]]:
    values = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_DATA, limits.memory_mb * MIB),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * MIB),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, limits.processes + nproc_extra),
        (resource.RLIMIT_CORE, 0),
    ]
    result = []
    for which, value in values:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        result.append((which, value))
    return result


def _agent_config(fd: int, launch_root: str, home: str, confined: bool, **extra: object) -> str:
    import json

    return json.dumps({"fd": fd, "root": launch_root, "home": home, "confined": confined, **extra})


def _namespaces(directory: Path, uid: int | None, limits: Limits, control_fd: int, *, proc: bool) -> Launch:
    bwrap = bwrap_path()
    if bwrap is None:
        raise OSError(errno.ENOENT, "bubblewrap (bwrap) is not installed")
    root = os.geteuid() == 0
    inside_uid = uid if (root and uid is not None) else SANDBOX_UID
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--unshare-net", "--hostname", "sandbox", "--clearenv"]
    if root:
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    made: set[str] = {"/"}

    def parents(target: str) -> None:
        missing = []
        parent = os.path.dirname(target)
        while parent not in made:
            missing.append(parent)
            parent = os.path.dirname(parent)
        for directory_ in reversed(missing):
            args.extend(["--perms", "0755", "--dir", directory_])
            made.add(directory_)

    def ro_bind(source: str, target: str | None = None) -> None:
        target = target or source
        parents(target)
        args.extend(["--ro-bind", source, target])
        made.add(target)

    ro_bind("/usr")
    for name in _TOP_LEVEL:
        path = "/" + name
        if os.path.islink(path):
            args.extend(["--symlink", os.readlink(path), path])
        elif os.path.isdir(path):
            ro_bind(path)
    parents("/etc/x")
    for name in _ETC:
        if os.path.exists("/etc/" + name):
            args.extend(["--ro-bind-try", "/etc/" + name, "/etc/" + name])
    for path in _python_dirs() + _node_dirs():
        ro_bind(path)
    for script, name in ((AGENT, "agent.py"), (KERNEL_PY, "kernel_main.py"), (KERNEL_JS, "kernel_main.js")):
        ro_bind(str(script), f"{TOOLS}/{name}")
    passwd, group = _passwd(inside_uid, inside_uid)
    passwd_fd, group_fd = _pipe_with(passwd), _pipe_with(group)
    args += ["--perms", "0644", "--ro-bind-data", str(passwd_fd), "/etc/passwd"]
    args += ["--perms", "0644", "--ro-bind-data", str(group_fd), "/etc/group"]
    parents(HOME)
    args += ["--bind", str(directory / "home" / "user"), HOME]
    args += ["--size", str(limits.tmp_mb * MIB), "--perms", "1777", "--tmpfs", "/tmp"]
    args += ["--dev", "/dev", "--size", str(limits.tmp_mb * MIB), "--perms", "1777", "--tmpfs", "/dev/shm"]
    if proc:
        args += ["--proc", "/proc"]
    seccomp_fd = _pipe_with(seccomp.filter_program())
    args += ["--seccomp", str(seccomp_fd)]
    if not root:
        args += ["--chdir", HOME]  # as root the agent changes directory once it is the sandbox's user
    python = sys.executable
    config = _agent_config(
        control_fd, "/", HOME, True, uid=inside_uid if root else None, gid=inside_uid if root else None,
        rlimits=_rlimits(limits), nice=NICE, subreaper=False, chdir=HOME,
    )  # fmt: skip
    args += ["--", python, "-I", "-S", f"{TOOLS}/agent.py", config]
    fds = [control_fd, passwd_fd, group_fd, seccomp_fd]
    return Launch(
        argv=args, confined=True, root="/", home=HOME, tmp="/tmp", python=python,
        kernel_py=f"{TOOLS}/kernel_main.py", kernel_js=f"{TOOLS}/kernel_main.js", pass_fds=fds,
        close_after_start=[passwd_fd, group_fd, seccomp_fd],
    )  # fmt: skip


def _user_task_count(uid: int) -> int:
    """Tasks (threads included) the real user `uid` has now: what RLIMIT_NPROC compares against."""
    import psutil

    count = 0
    for process in psutil.process_iter(["uids", "num_threads"]):
        uids = process.info.get("uids")
        if uids is not None and uids.real == uid:
            count += process.info.get("num_threads") or 1
    return count


def _direct(
    directory: Path, uid: int | None, limits: Limits, control_fd: int, *, use_landlock: bool
) -> Launch:
    """The agent as a plain child of the server (Landlock + seccomp, or best effort)."""
    host_root = str(directory)
    home = str(directory / "home" / "user")
    tmp = str(directory / "tmp")
    ruleset = None
    installer = None
    if use_landlock:
        read_only = ["/usr", "/etc", "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"]
        read_only += ["/" + name for name in _TOP_LEVEL] + _python_dirs() + _node_dirs() + [str(HERE)]
        ruleset = landlock.Ruleset(read_only, [host_root, "/dev/null", "/dev/tty"])
        installer = seccomp.install(seccomp.filter_program(deny_inet=True))
    root = os.geteuid() == 0
    extra = 0 if uid is not None or root else _user_task_count(os.getuid())
    switch = None
    if uid is not None and root:
        needed = [os.path.realpath(sys.executable), str(AGENT), home]
        switch = UserSwitch(uid, read_all=not all(reachable_by_others(p) for p in needed))

    def setup() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if switch is not None:
            switch()
        if ruleset is not None:
            ruleset.restrict_self()
        if installer is not None:
            installer()

    config = _agent_config(
        control_fd, host_root, home, False, rlimits=_rlimits(limits, nproc_extra=extra), nice=NICE,
        subreaper=True, chdir=home,
    )  # fmt: skip
    argv = [sys.executable, "-I", "-S", str(AGENT), config]
    launch = Launch(
        argv=argv, confined=False, root=host_root, home=home, tmp=tmp, python=sys.executable,
        kernel_py=str(KERNEL_PY), kernel_js=str(KERNEL_JS), pass_fds=[control_fd], preexec=setup,
    )  # fmt: skip
    if ruleset is not None:
        launch.cleanup.append(ruleset.close)
    return launch


def launch(mode: Mode, directory: Path, uid: int | None, limits: Limits, control_fd: int) -> Launch:
    """How to start the agent of the sandbox whose host directory is `directory`."""
    if mode in (NAMESPACES, NAMESPACES_NO_PROC):
        if not seccomp.supported():
            raise OSError(errno.ENOSYS, "no seccomp filter for this architecture")
        return _namespaces(directory, uid, limits, control_fd, proc=mode == NAMESPACES)
    if mode == LANDLOCK:
        if not seccomp.supported():
            raise OSError(errno.ENOSYS, "no seccomp filter for this architecture")
        return _direct(directory, uid, limits, control_fd, use_landlock=True)
    return _direct(directory, uid, limits, control_fd, use_landlock=False)
