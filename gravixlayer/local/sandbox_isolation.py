"""How GravixLayer Local starts a sandbox's processes: their identity and their resource limits.

Limits come from the standard library's ``resource`` module, set in the child before it executes
(CPU seconds, data memory, file size, open files, process count). The process count limit
(``RLIMIT_NPROC``) counts every process of the *real user id* and the kernel ignores it for root, so:

* When Local runs as root on Linux, every sandbox gets its own unused user id. ``RLIMIT_NPROC`` then
  bounds that sandbox alone (a fork bomb stops at the limit), its processes cannot write the server's
  files or signal the server, and "kill everything of this sandbox" is one ``kill(-1)`` made as that
  user. When the interpreter is not reachable by an unprivileged user (e.g. a Python under a
  ``/root`` home), the sandbox user keeps exactly one capability, ``CAP_DAC_READ_SEARCH`` (read any
  file), as an ambient capability, and nothing else: no write access outside its directory.
* Otherwise (not root, or no usable user id) processes run as the server's user; ``RLIMIT_NPROC`` is
  set to the user's current task count plus the sandbox budget.

``probe()`` tries each way once with a real child process and keeps the first that works. This
isolates files and resources; it is not a security boundary against hostile code.
"""

from __future__ import annotations

import ctypes
import logging
import os
import random
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "Isolation", "probe", "SAME_USER", "OWN_USER", "OWN_USER_READ_ALL"]

log = logging.getLogger("gravixlayer.local.sandbox")

SAME_USER = "same-user"
OWN_USER = "own-user"
OWN_USER_READ_ALL = "own-user+read-all"

MIB = 1024 * 1024
UID_BASE = 1_500_000_000
UID_SPAN = 500_000_000
NICE = 5
"""Sandbox processes run a little below the server's priority, so a busy sandbox cannot starve it."""

_PR_SET_PDEATHSIG = 1
_PR_SET_KEEPCAPS = 8
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_RAISE = 2
_CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522

_PROBE = (
    "import os, sys\n"
    "target = os.path.join(sys.argv[1], 'probe')\n"
    "with open(target, 'w') as f: f.write('ok')\n"
    "os.remove(target)\n"
    "sys.stdout.write(str(os.getuid()))\n"
)


@dataclass(frozen=True)
class Limits:
    """Per-process limits of one sandbox (a template decides them)."""

    memory_mb: int = 1024
    """``RLIMIT_DATA``: heap and private writable memory per process (address space is left alone:
    Node.js and some libraries reserve far more than they use)."""
    file_size_mb: int = 2048
    cpu_seconds: int = 3600
    """``RLIMIT_CPU`` per process; each run also has a wall-clock timeout that kills its process group."""
    open_files: int = 1024
    processes: int = 128
    """``RLIMIT_NPROC``: tasks (processes and threads) the sandbox may have at once."""
    output_bytes: int = 4 * MIB
    """Output kept per stream and run; the rest is counted and dropped."""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


class _Libc:
    """The few Linux calls Python has no wrapper for, prepared before any fork."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.prctl.argtypes = [
            ctypes.c_int,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
        ]
        self.libc.prctl.restype = ctypes.c_int
        self.capset = getattr(self.libc, "capset", None)
        try:
            self.last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        except (OSError, ValueError):
            self.last_cap = 40
        self.header = _CapHeader(_CAPABILITY_VERSION_3, 0)
        self.data = (_CapData * 2)()

    def prctl(self, option: int, arg: int = 0, arg3: int = 0) -> None:
        if self.libc.prctl(option, arg, arg3, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"prctl({option}) failed: {os.strerror(errno)}")

    def keep_only_read_search(self) -> None:
        """After the user switch: permitted, effective, inheritable and ambient = {CAP_DAC_READ_SEARCH}."""
        if self.capset is None:
            raise OSError("capset is not available")
        bit = 1 << _CAP_DAC_READ_SEARCH
        self.data[0].effective = self.data[0].permitted = self.data[0].inheritable = bit
        self.data[1].effective = self.data[1].permitted = self.data[1].inheritable = 0
        if self.capset(ctypes.byref(self.header), self.data) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"capset failed: {os.strerror(errno)}")
        self.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, _CAP_DAC_READ_SEARCH)

    def drop_bounding(self, keep: int | None) -> None:
        """No later program (sudo, su, file capabilities) can gain any capability but `keep`."""
        for cap in range(self.last_cap + 1):
            if cap != keep:
                try:
                    self.prctl(_PR_CAPBSET_DROP, cap)
                except OSError:
                    return  # no CAP_SETPCAP: leave the bounding set alone


_libc: _Libc | None = None


def _linux_libc() -> _Libc:
    global _libc
    if _libc is None:
        _libc = _Libc()
    return _libc


def _user_task_count(uid: int) -> int:
    """Tasks (threads included) the real user `uid` has now: what RLIMIT_NPROC compares against."""
    import psutil

    count = 0
    for process in psutil.process_iter(["uids", "num_threads"]):
        uids = process.info.get("uids")
        if uids is not None and uids.real == uid:
            count += process.info.get("num_threads") or 1
    return count


class Isolation:
    """One way of starting sandbox processes; see the module docstring."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.libc = _linux_libc() if mode != SAME_USER else None

    def __repr__(self) -> str:
        return f"Isolation({self.mode!r})"

    @property
    def own_user(self) -> bool:
        return self.mode != SAME_USER

    @property
    def process_limit_enforced(self) -> bool:
        """Whether RLIMIT_NPROC really bounds a sandbox (never for processes running as root)."""
        return self.own_user or os.geteuid() != 0

    def new_uid(self, taken: set[int]) -> int | None:
        """A user id no process and no other sandbox uses (None when sandboxes share the server's user)."""
        if not self.own_user:
            return None
        import psutil

        in_use = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info.get("uids")}
        while True:
            uid = UID_BASE + random.randrange(UID_SPAN)
            if uid not in taken and uid not in in_use:
                return uid

    def rlimits(self, limits: Limits, cpu_seconds: float | None = None) -> list[tuple[int, tuple[int, int]]]:
        cpu = max(1, int(cpu_seconds if cpu_seconds is not None else limits.cpu_seconds))
        nproc = limits.processes
        if not self.own_user and os.geteuid() != 0:
            nproc += _user_task_count(os.getuid())
        values = [
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_DATA, limits.memory_mb * MIB),
            (resource.RLIMIT_FSIZE, limits.file_size_mb * MIB),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, nproc),
            (resource.RLIMIT_CORE, 0),
        ]
        result = []
        for which, value in values:
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            result.append((which, (value, value)))
        return result

    def preexec(
        self, uid: int | None, limits: Limits, cpu_seconds: float | None = None
    ) -> Callable[[], None]:
        """The function run in the child between fork and exec (only async-signal-safe-ish calls)."""
        rlimits = self.rlimits(limits, cpu_seconds)
        libc = self.libc
        read_all = self.mode == OWN_USER_READ_ALL

        def setup() -> None:
            os.nice(NICE)
            for which, value in rlimits:
                resource.setrlimit(which, value)
            if uid is not None and libc is not None:
                libc.drop_bounding(_CAP_DAC_READ_SEARCH if read_all else None)
                if read_all:
                    libc.prctl(_PR_SET_KEEPCAPS, 1)
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                if read_all:
                    libc.keep_only_read_search()
            if libc is not None:
                libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # after the user switch, which clears it

        return setup

    def signal_user(self, uid: int, signum: int) -> None:
        """Send `signum` to every process of `uid` at once: a child becomes that user and calls kill(-1)."""

        def as_user() -> None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            try:
                os.kill(-1, signum)
            except ProcessLookupError:
                pass

        try:
            subprocess.run(
                ["/bin/true"] if os.path.exists("/bin/true") else [sys.executable, "-c", "pass"],
                preexec_fn=as_user,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            pass  # the exec may fail once the user switch hit RLIMIT_NPROC; the kill already happened


def probe(python: str, workdir: Path) -> Isolation:
    """The strongest isolation that really works here, tried with a child process each."""
    candidates = []
    if sys.platform.startswith("linux") and os.geteuid() == 0:
        candidates = [OWN_USER, OWN_USER_READ_ALL]
    for mode in candidates:
        isolation = Isolation(mode)
        uid = isolation.new_uid(set())
        assert uid is not None
        probe_dir = workdir / f"probe-{uid}"
        try:
            probe_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chown(probe_dir, uid, uid)
            done = subprocess.run(
                [python, "-c", _PROBE, str(probe_dir)],
                preexec_fn=isolation.preexec(uid, Limits(), cpu_seconds=30),
                cwd=probe_dir,
                env={"PATH": os.environ.get("PATH", os.defpath), "HOME": str(probe_dir)},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=60,
                check=False,
            )
            if done.returncode == 0 and done.stdout.decode(errors="replace").strip() == str(uid):
                log.info("sandbox processes run as their own user (%s)", mode)
                return isolation
            log.debug("isolation %s failed: %s", mode, done.stderr.decode(errors="replace")[-500:])
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("isolation %s failed: %s", mode, exc)
        finally:
            try:
                for child in probe_dir.iterdir():
                    child.unlink()
                probe_dir.rmdir()
            except OSError:
                pass
    if os.geteuid() == 0:
        log.warning(
            "sandbox processes run as root without a per-sandbox user: the process-count limit cannot be enforced"
        )
    return Isolation(SAME_USER)
