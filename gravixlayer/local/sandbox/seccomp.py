"""The seccomp filter every sandbox process runs under: classic BPF, built here without libseccomp.

It refuses (EPERM) the calls that reach the kernel's least-trodden paths or let a process leave what it
was given: new namespaces (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*`` flag; ``clone3`` says
ENOSYS so libc falls back to ``clone``, whose flags a classic filter can read), mounts, ``bpf``,
``io_uring``, keyrings, ``userfaultfd``, ``perf_event_open``, file handles (``open_by_handle_at``),
kernel modules, ``kexec``, ``reboot``, swap, ``acct`` and ``syslog``. With ``deny_inet`` (the Landlock
mode, which has no network namespace) ``socket`` refuses every family but ``AF_UNIX``. A foreign
architecture (e.g. 32-bit calls on x86-64) is killed outright: its numbers differ.

The same bytes go to bubblewrap (``--seccomp FD``) or to ``prctl(PR_SET_SECCOMP)`` in the Landlock mode.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

__all__ = ["supported", "filter_program", "install"]

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_JGE_K = 0x35
_RET_K = 0x06

_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000

_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0 = 16

_CLONE_NEW = (
    0x00000080 | 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
)
"""CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET."""

_DENIED_NAMES = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "bpf", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "userfaultfd", "perf_event_open",
    "open_by_handle_at", "name_to_handle_at", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "syslog", "open_tree", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "quotactl",
)  # fmt: skip

_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {
            "clone": 56, "clone3": 435, "socket": 41, "unshare": 272, "setns": 308, "mount": 165,
            "umount2": 166, "pivot_root": 155, "bpf": 321, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "keyctl": 250, "add_key": 248, "request_key": 249, "userfaultfd": 323,
            "perf_event_open": 298, "open_by_handle_at": 304, "name_to_handle_at": 303, "kexec_load": 246,
            "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
            "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "syslog": 103, "open_tree": 428,
            "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
            "mount_setattr": 442, "quotactl": 179,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "clone": 220, "clone3": 435, "socket": 198, "unshare": 97, "setns": 268, "mount": 40,
            "umount2": 39, "pivot_root": 41, "bpf": 280, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "keyctl": 219, "add_key": 217, "request_key": 218, "userfaultfd": 282,
            "perf_event_open": 241, "open_by_handle_at": 265, "name_to_handle_at": 264, "kexec_load": 104,
            "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106,
            "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "syslog": 116, "open_tree": 428,
            "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
            "mount_setattr": 442, "quotactl": 60,
        },
    ),
}  # fmt: skip


def _arch() -> tuple[int, dict[str, int]] | None:
    machine = platform.machine().lower()
    return _ARCHES.get({"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine))


def supported() -> bool:
    return _arch() is not None


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> tuple[int, int, int, int]:
    return (code, jt, jf, k)


def filter_program(*, deny_inet: bool = False) -> bytes:
    """The filter as the kernel's ``struct sock_filter`` array."""
    found = _arch()
    if found is None:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {platform.machine()}")
    audit_arch, numbers = found
    eperm = _RET_ERRNO | errno.EPERM
    ops: list[tuple[int, int, int, int]] = [
        _op(_LD_W_ABS, _OFF_ARCH),
        _op(_JEQ_K, audit_arch, jt=1),
        _op(_RET_K, _RET_KILL_PROCESS),
        _op(_LD_W_ABS, _OFF_NR),
        _op(_JGE_K, 0x40000000, jt=0, jf=1),  # x32 numbers on x86-64
        _op(_RET_K, eperm),
    ]
    for name in _DENIED_NAMES:
        ops.append(_op(_JEQ_K, numbers[name], jt=0, jf=1))
        ops.append(_op(_RET_K, eperm))
    ops.append(_op(_JEQ_K, numbers["clone3"], jt=0, jf=1))
    ops.append(_op(_RET_K, _RET_ERRNO | errno.ENOSYS))
    # clone: refuse CLONE_NEW* flags (argument 0, low 32 bits)
    ops.append(_op(_JEQ_K, numbers["clone"], jt=0, jf=4))
    ops.append(_op(_LD_W_ABS, _OFF_ARG0))
    ops.append(_op(_JSET_K, _CLONE_NEW, jt=0, jf=1))
    ops.append(_op(_RET_K, eperm))
    ops.append(_op(_RET_K, _RET_ALLOW))
    if deny_inet:
        # socket: only AF_UNIX (1)
        ops.append(_op(_JEQ_K, numbers["socket"], jt=0, jf=4))
        ops.append(_op(_LD_W_ABS, _OFF_ARG0))
        ops.append(_op(_JEQ_K, 1, jt=1, jf=0))
        ops.append(_op(_RET_K, _RET_ERRNO | errno.EACCES))
        ops.append(_op(_RET_K, _RET_ALLOW))
    ops.append(_op(_RET_K, _RET_ALLOW))
    return b"".join(struct.pack("<HBBI", *op) for op in ops)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class Installer:
    """Prepared before a fork, so the child only makes two prctl calls."""

    def __init__(self, program: bytes) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.prctl.argtypes = [
            ctypes.c_int,
            ctypes.c_ulong,
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.c_ulong,
        ]
        self.program = ctypes.create_string_buffer(program, len(program))
        self.fprog = _SockFprog(len(program) // 8, ctypes.cast(self.program, ctypes.c_char_p))

    def __call__(self) -> None:
        if self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if self.libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(self.fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "seccomp filter refused")


def install(program: bytes) -> Installer:
    return Installer(program)
