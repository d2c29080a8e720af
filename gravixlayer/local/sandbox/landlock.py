"""Landlock (Linux ≥ 5.13) through ctypes: the file boundary where namespaces cannot be made.

Docker-like hosts (Binder among them) refuse new namespaces but allow Landlock. A ruleset built here
lets the sandbox read and execute the system and Python directories, read and write its own directory,
and nothing else; from ABI 4 it also refuses TCP bind/connect, and from ABI 6 it scopes signals and
abstract Unix sockets to the sandbox (the server cannot be signalled). The ruleset is prepared before a
fork; the child only calls ``restrict_self``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import struct
from collections.abc import Iterable

__all__ = ["abi_version", "Ruleset"]

_CREATE_RULESET = 444
_ADD_RULE = 445
_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 16, 32, 64, 128
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 256, 512, 1024, 2048, 4096
REFER, TRUNCATE, IOCTL_DEV = 8192, 16384, 32768

_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2

READ = EXECUTE | READ_FILE | READ_DIR
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def abi_version() -> int:
    """0 when Landlock is unavailable (old kernel, disabled, or refused by a seccomp profile)."""
    try:
        version = _libc.syscall(
            _CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
        )
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


class Ruleset:
    """Read-only and read-write directory trees; everything else refused."""

    def __init__(self, read_only: Iterable[str], read_write: Iterable[str]) -> None:
        abi = abi_version()
        if abi < 1:
            raise OSError("Landlock is not available on this kernel")
        self.abi = abi
        fs_all = _FS_BY_ABI.get(abi, (1 << 16) - 1)
        net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
        scoped = (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
        if abi >= 6:
            attr = struct.pack("<QQQ", fs_all, net, scoped)
        elif abi >= 4:
            attr = struct.pack("<QQ", fs_all, net)
        else:
            attr = struct.pack("<Q", fs_all)
        buffer = ctypes.create_string_buffer(attr, len(attr))
        fd = _libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
        if fd < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
        self.fd = int(fd)
        self.scoped = bool(scoped)
        self.network = bool(net)
        for path in read_only:
            self._allow(path, READ & fs_all)
        for path in read_write:
            self._allow(path, fs_all)

    def _allow(self, path: str, access: int) -> None:
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # a directory this host does not have
        try:
            if not os.path.isdir(f"/proc/self/fd/{target}"):
                access &= EXECUTE | READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV
            rule = ctypes.create_string_buffer(struct.pack("<Qi", access, target), 12)
            if (
                _libc.syscall(
                    _ADD_RULE,
                    ctypes.c_int(self.fd),
                    ctypes.c_int(_RULE_PATH_BENEATH),
                    rule,
                    ctypes.c_uint32(0),
                )
                != 0
            ):
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(target)

    def restrict_self(self) -> None:
        """In the child, after fork: from here on only the rules apply (inherited by every descendant)."""
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if _libc.syscall(_RESTRICT_SELF, ctypes.c_int(self.fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
