"""Switching a child to the sandbox's user id, optionally keeping the one capability it may need.

Without namespaces (the Landlock and best-effort modes), a root server runs each sandbox as its own user
id. When the interpreter or the sandbox's directory sits under a directory other users cannot traverse
(a Python under ``/root``), that user keeps exactly ``CAP_DAC_READ_SEARCH`` (read any file the other
limits allow; Landlock still confines it) and nothing else: no write access outside its directory. The
calls are prepared before the fork; the child only makes them.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

__all__ = ["UserSwitch", "reachable_by_others"]

_PR_SET_KEEPCAPS = 8
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_RAISE = 2
_CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def reachable_by_others(path: str | Path) -> bool:
    """Whether a user other than the owner can traverse every directory above `path`."""
    current = Path(os.path.realpath(path))
    for directory in [current, *current.parents] if current.is_dir() else list(current.parents):
        try:
            if not os.stat(directory).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


class UserSwitch:
    def __init__(self, uid: int, *, read_all: bool) -> None:
        self.uid = uid
        self.read_all = read_all
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.prctl.argtypes = [
            ctypes.c_int,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
        ]
        try:
            self.last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        except (OSError, ValueError):
            self.last_cap = 40
        self.header = _CapHeader(_CAPABILITY_VERSION_3, 0)
        self.data = (_CapData * 2)()
        bit = 1 << _CAP_DAC_READ_SEARCH
        self.data[0].effective = self.data[0].permitted = self.data[0].inheritable = bit

    def _prctl(self, option: int, arg: int = 0, arg3: int = 0) -> int:
        return int(self.libc.prctl(option, arg, arg3, 0, 0))

    def __call__(self) -> None:
        keep = _CAP_DAC_READ_SEARCH if self.read_all else None
        for cap in range(self.last_cap + 1):  # no later program (sudo, file capabilities) gains more
            if cap != keep and self._prctl(_PR_CAPBSET_DROP, cap) != 0:
                break
        if self.read_all:
            self._prctl(_PR_SET_KEEPCAPS, 1)
        os.setgroups([])
        os.setresgid(self.uid, self.uid, self.uid)
        os.setresuid(self.uid, self.uid, self.uid)
        if self.read_all:
            if self.libc.capset(ctypes.byref(self.header), self.data) != 0:
                raise OSError(ctypes.get_errno(), "capset failed")
            if self._prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, _CAP_DAC_READ_SEARCH) != 0:
                raise OSError(ctypes.get_errno(), "raising the ambient capability failed")
