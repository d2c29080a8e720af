"""Kernel-enforced limits for a whole sandbox: a cgroup per sandbox where this host lets Local make one.

As root, Local makes a child of its own cgroup (v1 ``memory`` and ``pids`` controllers, or the v2 unified
hierarchy when it delegates them) and starts the sandbox's first process inside it, so every process the
sandbox ever starts is counted: memory (a hard ceiling a little above the sandbox's limit; the guard in
``runtime.enforce_limits`` kills first, with a clear message), tasks, and a reduced CPU weight so busy
sandboxes cannot starve Local. Where cgroups are not writable, the rlimits set inside the sandbox and the
guard hold the same limits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from .isolation import MIB, Limits

__all__ = ["SandboxCgroup"]

log = logging.getLogger("gravixlayer.local.sandbox")

ROOT = Path("/sys/fs/cgroup")
HEADROOM_MB = 256
CPU_SHARES = 512
"""Half the default weight (1024): a sandbox competes with Local at a disadvantage."""


def _own_paths() -> dict[str, str]:
    """This process's cgroup per v1 controller (and ``""`` for the v2 hierarchy)."""
    found: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            found[controller] = path
    return found


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


class SandboxCgroup:
    """The cgroup directories of one sandbox (one per v1 controller, or one v2 directory)."""

    def __init__(self, directories: list[Path], version: int) -> None:
        self.directories = directories
        self.version = version

    @classmethod
    def create(cls, sandbox_id: str, limits: Limits) -> SandboxCgroup | None:
        if os.geteuid() != 0:
            return None
        own = _own_paths()
        name = f"gravixlayer-sandbox-{sandbox_id}"
        memory = (limits.memory_mb + HEADROOM_MB) * MIB
        pids = limits.processes + 16
        made: list[Path] = []
        v1 = {"memory": ("memory.limit_in_bytes", str(memory)), "pids": ("pids.max", str(pids)),
              "cpu": ("cpu.shares", str(CPU_SHARES))}  # fmt: skip
        for controller, (knob, value) in v1.items():
            base = ROOT / controller
            if controller not in own or not (base / "cgroup.procs").exists():
                continue
            directory = base / own[controller].lstrip("/") / name
            try:
                directory.mkdir()
            except OSError:
                continue
            made.append(directory)
            if not _write(directory / knob, value):
                log.debug("cgroup %s: cannot set %s", directory, knob)
        if made:
            return cls(made, 1)
        unified = ROOT / own.get("", "/").lstrip("/")
        try:
            enabled = (unified / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        if "memory" in enabled and "pids" in enabled:
            directory = unified / name
            try:
                directory.mkdir()
            except OSError:
                return None
            _write(directory / "memory.max", str(memory))
            _write(directory / "pids.max", str(pids))
            _write(directory / "cpu.weight", "50")
            return cls([directory], 2)
        return None

    def joiner(self) -> Callable[[], None]:
        """For the child between fork and exec: move itself into the sandbox's cgroup(s)."""
        targets = [str(directory / "cgroup.procs") for directory in self.directories]

        def join() -> None:
            pid = str(os.getpid()).encode()
            for target in targets:
                fd = os.open(target, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)

        return join

    def out_of_memory_kills(self) -> int:
        """How often the kernel killed in this sandbox for memory (v1 ``failcnt`` / v2 ``oom_kill``)."""
        for directory in self.directories:
            with contextlib.suppress(OSError, ValueError):
                if self.version == 1 and (directory / "memory.oom_control").exists():
                    for line in (directory / "memory.oom_control").read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
                if self.version == 2:
                    for line in (directory / "memory.events").read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
        return 0

    def remove(self) -> None:
        """Once the sandbox's processes are gone (a cgroup with members cannot be removed)."""
        for directory in self.directories:
            for _attempt in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
