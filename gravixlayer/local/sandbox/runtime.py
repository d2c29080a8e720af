"""The live part of one sandbox: its agent, code kernels, command runs, and what it uses.

Everything runs through the sandbox's agent (``channel.py``), so a process, a kernel or a file
operation is always inside the sandbox's isolation. The sandbox's processes are the descendants of the
process Local started for it (bubblewrap or the agent): ``setsid`` cannot leave that tree, so the memory
guard and metrics count all of them, and killing that one process (a PID namespace's init, or the agent
as child subreaper) ends them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..errors import LocalAPIError
from .channel import AgentChannel, AgentError, AgentGone, SandboxProcess
from .files import SandboxFiles, iso_time
from .isolation import MIB, Limits

__all__ = ["Runtime", "Kernel", "enforce_limits", "DEFAULT_RUN_TIMEOUT"]

log = logging.getLogger("gravixlayer.local.sandbox")

DEFAULT_RUN_TIMEOUT = 300.0
"""Seconds a code or command run may take when the caller gives no timeout."""
KERNEL_START_TIMEOUT = 60.0
INTERRUPT_GRACE = 2.0
"""After a run's timeout the kernel is interrupted (like Jupyter); if it has not answered by then, it is killed."""
PIPE_GRACE = 0.2
"""After a command exits, its output is read this much longer (background children may keep the pipes)."""
STREAM_LIMIT = 256 * MIB
"""Longest kernel answer line (output, results and images of one run)."""
COMMAND_STREAM_LIMIT = 1 * MIB
KERNEL_PREFIX = b"\x1eGLXK:"
_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def boot_ticks() -> int:
    """Now, in the unit and from the origin of a process's start time in ``/proc/PID/stat``."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * _HZ)


def _start_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return int(fields[19])  # field 22 of the whole line: starttime, clock ticks after boot


PROCESS_LIMIT_PATIENCE = 3.0
"""Seconds a start waits at the process limit (processes just killed are still being reaped) before 503."""


@dataclass
class _Captured:
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    done: bool = False
    """Set once the run has answered: later output (of background children) is read and discarded."""

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes were not kept]\n"
        return text


async def _read_capped(stream: asyncio.StreamReader | None, limit: int, into: _Captured) -> None:
    """Keep up to `limit` bytes; read (never block the writer) until the pipe closes."""
    if stream is None:
        return
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return
        if into.done:
            continue
        room = limit - len(into.data)
        if room > 0:
            into.data += chunk[:room]
        into.dropped += max(0, len(chunk) - max(room, 0))


class KernelDied(Exception):
    pass


def _error_answer(name: str, value: str) -> dict[str, Any]:
    return {
        "logs": {"stdout": [], "stderr": []},
        "results": [],
        "error": {"name": name, "value": value, "traceback": ""},
    }


class Kernel:
    """One code context: a kernel process whose interpreter state lives between runs."""

    def __init__(self, runtime: Runtime, language: str, cwd: str) -> None:
        self.runtime = runtime
        self.language = language
        self.cwd = cwd
        self.id = str(uuid.uuid4())
        self.created_at = time.time()
        self.last_used = self.created_at
        self.run_started = 0
        self.process: SandboxProcess | None = None
        self.token = ""
        self.sequence = 0
        self.lock = asyncio.Lock()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "cwd": self.cwd,
            "created_at": iso_time(self.created_at),
            "last_used": iso_time(self.last_used),
            "status": "running" if self.alive else "idle",
        }

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start the kernel; at the process limit, wait a moment for killed processes to be reaped first."""
        deadline = time.monotonic() + PROCESS_LIMIT_PATIENCE
        while True:
            try:
                await self._start()
                return
            except LocalAPIError as exc:
                if exc.code != "process_limit" or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)

    async def _start(self) -> None:
        self.token = secrets.token_hex(8)
        launch = self.runtime.channel.launch
        if self.language == "python":
            argv = [launch.python, launch.kernel_py]
        else:
            argv = [shutil.which("node") or "node", launch.kernel_js]
        extra = {
            "GRAVIXLAYER_KERNEL_TOKEN": self.token,
            "GRAVIXLAYER_KERNEL_MAX_OUTPUT": str(self.runtime.limits.output_bytes),
        }
        self.process = await self.runtime.spawn(
            argv, cwd=self.cwd, env=self.runtime.environment(extra=extra), stdin=True, limit=STREAM_LIMIT
        )
        try:
            ready = await asyncio.wait_for(self._message(), KERNEL_START_TIMEOUT)
        except (asyncio.TimeoutError, KernelDied):
            ready = {"ready": False}
        if not ready.get("ready"):
            await self.close()
            if self.runtime.at_process_limit():
                raise self.runtime.process_limit_error()
            why = f": {ready['error']}" if ready.get("error") else ""
            raise LocalAPIError(503, "kernel_failed", f"the {self.language} interpreter did not start{why}")

    async def _message(self) -> dict[str, Any]:
        """The next protocol line; other lines (stray output of a kernel's child) are skipped."""
        assert self.process is not None and self.process.stdout is not None
        prefix = KERNEL_PREFIX + self.token.encode()
        while True:
            try:
                line = await self.process.stdout.readline()
            except (asyncio.LimitOverrunError, ValueError):
                continue
            if not line:
                raise KernelDied()
            if line.startswith(prefix):
                try:
                    message = json.loads(line[len(prefix) :])
                except ValueError:
                    continue
                if isinstance(message, dict):
                    return message

    async def _answer(self, sequence: int) -> dict[str, Any]:
        while True:
            message = await self._message()
            if message.get("id") == sequence:
                return message

    async def execute(self, code: str, env: Mapping[str, str], timeout: float) -> dict[str, Any]:
        """Run `code`; answers `{logs, results, error}`. A timeout interrupts, then kills if needed."""
        async with self.lock:
            notice = None
            if not self.alive:
                if self.process is not None:
                    notice = "the context's interpreter had stopped and was restarted; its state was lost"
                await self.start()
            assert self.process is not None and self.process.stdin is not None
            self.sequence += 1
            self.last_used = time.time()
            self.run_started = boot_ticks()
            request = json.dumps({"id": self.sequence, "code": code, "env": dict(env)}) + "\n"
            try:
                self.process.stdin.write(request.encode())
                await self.process.stdin.drain()
                answer = await asyncio.wait_for(self._answer(self.sequence), timeout)
            except asyncio.TimeoutError:
                answer = await self._interrupt(timeout)
            except (KernelDied, ConnectionError, BrokenPipeError):
                pid = self.process.pid
                await self.close()
                answer = _error_answer("KernelDied", self.runtime.death_message(pid, self.process.returncode))
                if pid in self.runtime.memory_killed:
                    self.runtime.memory_killed.discard(pid)
                    answer = _error_answer("MemoryError", self.runtime.memory_message())
                answer["error"]["value"] += "; the context restarts on its next run, with its state lost"
            if notice:
                answer.setdefault("logs", {}).setdefault("stderr", []).insert(0, f"[{notice}]")
            return answer

    async def _interrupt(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None
        message = f"execution timed out after {timeout:g} seconds"
        # The kernel only, like Jupyter; the processes its run started are ended below.
        await self.process.signal(signal.SIGINT, group=False)
        try:
            answer = await asyncio.wait_for(self._answer(self.sequence), INTERRUPT_GRACE)
        except (asyncio.TimeoutError, KernelDied):
            await self.close()
            return _error_answer("TimeoutError", message + "; the context was restarted and its state lost")
        error = answer.get("error") or {}
        ended = await asyncio.to_thread(self.runtime.end_run_processes, self.process.pid, self.run_started)
        if ended:
            message += f"; {ended} process{'es' if ended > 1 else ''} it started {'were' if ended > 1 else 'was'} ended"
        answer["error"] = {"name": "TimeoutError", "value": message, "traceback": error.get("traceback", "")}
        return answer

    async def close(self) -> None:
        process = self.process
        if process is None:
            return
        await process.signal(signal.SIGKILL)  # the kernel leads its process group
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), 5)
        await self.runtime.wait_group_gone(process.pid)
        if process.stdin is not None:
            process.stdin.close()
        self.runtime.groups.discard(process.pid)


def _command_answer(
    stdout: str, stderr: str, exit_code: int, started: float, error: str | None
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "stdout": stdout,
        "stderr": stderr,
        "exit_code": exit_code,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "success": exit_code == 0 and error is None,
    }
    if error is not None:
        answer["error"] = error
    return answer


def _ns_pid(pid: int) -> int:
    """A host process id as the sandbox's PID namespace numbers it (the last NSpid entry)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return pid


class Runtime:
    """One running sandbox: its agent channel, kernels, the process groups of its runs."""

    def __init__(
        self, sandbox_id: str, files: SandboxFiles, channel: AgentChannel, limits: Limits,
        env_vars: Mapping[str, str], disk_mb: int,
    ) -> None:  # fmt: skip
        self.sandbox_id = sandbox_id
        self.files = files
        self.channel = channel
        self.limits = limits
        self.env_vars = dict(env_vars)
        self.disk_mb = disk_mb
        self.kernels: dict[str, Kernel] = {}
        self.groups: set[int] = set()
        """Process groups of runs (as the sandbox numbers them)."""
        self.memory_killed: set[int] = set()
        """Process groups the memory guard killed (their runs say why they died)."""
        self.disk_exceeded = False
        self.readers: set[asyncio.Future[None]] = set()
        self.cpu_sample: tuple[float, float] | None = None
        self.slirp: Any = None
        self.cgroup: Any = None
        """``cgroups.SandboxCgroup`` where this host lets Local make one (removed at stop)."""
        self.oom_kills_seen = 0
        """The cgroup's out-of-memory kills already answered by ``enforce_limits``."""
        self.forwarders: Any = None
        """``ports.Forwarders`` once ``get_host_url`` was asked (namespace modes)."""

    @property
    def alive(self) -> bool:
        return not self.channel.closed

    def environment(
        self, env: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """A fresh, small environment: never the server's own (it may hold API keys)."""
        launch = self.channel.launch
        python_bin = os.path.dirname(launch.python)
        base = {
            "PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": launch.home,
            "USER": "user",
            "LOGNAME": "user",
            "SHELL": "/bin/sh",
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "TMPDIR": launch.tmp,
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "GRAVIXLAYER_SANDBOX_ID": self.sandbox_id,
        }
        return {**base, **self.env_vars, **(env or {}), **(extra or {})}

    async def spawn(
        self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str], stdin: bool,
        cpu_seconds: float | None = None, limit: int = COMMAND_STREAM_LIMIT,
    ) -> SandboxProcess:  # fmt: skip
        """Start a process in its own session inside the sandbox.

        At the process limit the answer is 503 with Retry-After: the caller did nothing wrong and the
        run may work once some of the sandbox's processes end.
        """
        if self.disk_exceeded:
            self.disk_exceeded = self.files.over_quota()
        deadline = time.monotonic() + PROCESS_LIMIT_PATIENCE
        while True:
            try:
                process = await self.channel.spawn(
                    argv, cwd=cwd, env=dict(env), stdin=stdin, capture_stderr=not stdin, cpu_seconds=cpu_seconds,
                    limit=limit,
                )  # fmt: skip
                break
            except AgentError as exc:
                if exc.code != "EAGAIN" or time.monotonic() > deadline:
                    self._spawn_failed(exc, argv)
                await asyncio.sleep(0.2)
            except AgentGone:
                raise LocalAPIError(503, "sandbox_unavailable", "the sandbox's environment has ended") from None
        self.groups.add(process.pid)
        return process

    def _spawn_failed(self, exc: AgentError, argv: Sequence[str]) -> NoReturn:
        if exc.code == "EAGAIN":
            raise self.process_limit_error() from None
        if exc.code in ("ENOENT", "EACCES"):
            raise exc
        raise LocalAPIError(400, "spawn_failed", f"the sandbox could not start {argv[0]!r}: {exc.message}") from None

    def process_limit_error(self) -> LocalAPIError:
        return LocalAPIError(
            503,
            "process_limit",
            f"the sandbox has reached its limit of {self.limits.processes} processes; "
            "try again once some of them have ended",
            {"Retry-After": "1"},
        )

    def at_process_limit(self) -> bool:
        tasks = 0
        for process in self.members():
            with contextlib.suppress(Exception):
                tasks += process.num_threads()
        return tasks >= self.limits.processes - 2

    def death_message(self, pid: int, status: int | None) -> str:
        if self.disk_exceeded:
            return f"killed: the sandbox wrote more than its {self.disk_mb} MB of disk"
        return (
            f"the interpreter exited during the run (exit status {status}); a CPU or process limit may have "
            "been reached"
        )

    async def run_command(
        self, argv: Sequence[str], cwd: str, env: Mapping[str, str], timeout: float
    ) -> dict[str, Any]:
        """Exactly the keys of the vendor's strict command reader (spec §8.7)."""
        started = time.monotonic()
        try:
            process = await self.spawn(
                argv, cwd=cwd, env=self.environment(env), stdin=False, cpu_seconds=timeout + 5
            )
        except AgentError as exc:
            if exc.code == "ENOENT":
                return _command_answer(
                    "", f"{argv[0]}: command not found\n", 127, started, "command not found"
                )
            return _command_answer("", f"{argv[0]}: permission denied\n", 126, started, "permission denied")
        out, err = _Captured(), _Captured()
        readers = [
            asyncio.ensure_future(_read_capped(process.stdout, self.limits.output_bytes, out)),
            asyncio.ensure_future(_read_capped(process.stderr, self.limits.output_bytes, err)),
        ]
        timed_out = False
        try:
            returncode = await asyncio.wait_for(process.wait(), timeout)
        except asyncio.TimeoutError:
            timed_out = True
            await process.signal(signal.SIGKILL)
            returncode = await process.wait()
            await self.wait_group_gone(process.pid)
        finally:
            _done, pending = await asyncio.wait(readers, timeout=PIPE_GRACE)
            out.done = err.done = True
            for reader in pending:  # background children still write: keep draining so they never block
                self.readers.add(reader)
                reader.add_done_callback(self.readers.discard)
            self.groups.discard(process.pid)
        if timed_out:
            message = f"command timed out after {timeout:g} seconds"
            return _command_answer(out.text(), err.text(), 124, started, message)
        exit_code = returncode if returncode >= 0 else 128 - returncode
        if process.pid in self.memory_killed:
            self.memory_killed.discard(process.pid)
            return _command_answer(out.text(), err.text(), exit_code, started, self.memory_message())
        if self.disk_exceeded and returncode < 0:
            return _command_answer(
                out.text(), err.text(), exit_code, started, self.death_message(process.pid, returncode)
            )
        return _command_answer(out.text(), err.text(), exit_code, started, None)

    async def wait_group_gone(self, pgid: int, timeout: float = 3.0) -> None:
        """After a group was killed: until its last member is reaped, it still counts against the limits."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while time.monotonic() < deadline:
            try:
                answer = await self.channel.request({"op": "group_exists", "pgid": pgid})
            except (AgentError, AgentGone):
                return
            if not answer.get("exists"):
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    def memory_message(self) -> str:
        return f"killed: the sandbox's processes used more than its {self.limits.memory_mb} MB of memory"

    # -- the sandbox's processes, from the host -------------------------------------------------------------

    def _service_pids(self) -> set[int]:
        """Local's own processes of this sandbox: bubblewrap's two and the agent."""
        import psutil

        outer = self.channel.process.pid
        found = {outer}
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(outer)
            if self.channel.launch.confined:
                for inner in process.children():
                    found.add(inner.pid)
                    for agent in inner.children():
                        if _ns_pid(agent.pid) == self.channel.agent_pid:
                            found.add(agent.pid)
        return found

    def members(self) -> list[Any]:
        """psutil processes of the sandbox's code (every descendant but the service processes)."""
        import psutil

        try:
            outer = psutil.Process(self.channel.process.pid)
            descendants = outer.children(recursive=True)
        except psutil.Error:
            return []
        service = self._service_pids()
        return [p for p in descendants if p.pid not in service]

    def end_run_processes(self, leader: int, since: int) -> int:
        """After an interrupt: the processes in the group of ``leader`` (a kernel, in the sandbox's
        numbering) started since ``since`` (the run's start, in ``boot_ticks``) are stopped, then killed;
        returns how many.

        Only the kernel gets the interrupt, so a timed-out run's children (a fork bomb's, a stuck
        subprocess) would otherwise live on and could keep the sandbox at its process limit. They are
        frozen in sweeps first (a stopped process cannot fork), then killed. Older members, such as a
        server an earlier run started, are left alone (start times have a resolution of one clock tick,
        10 ms: a process started in the tick the run began counts as the run's).
        """
        stopped: set[int] = set()
        host_leader: int | None = None
        for _sweep in range(50):
            group = self._group_of(leader, host_leader, since)
            if group is None:
                break
            host_leader, members = group
            fresh = [pid for pid in members if pid not in stopped]
            if not fresh:
                break
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        return len(stopped)

    def _group_of(self, leader: int, host_leader: int | None, since: int) -> tuple[int, list[int]] | None:
        """The host pid of ``leader`` and the host pids of its group's other members started since ``since``."""
        members = self.members()
        if host_leader is None:
            host_leader = next((p.pid for p in members if _ns_pid(p.pid) == leader), None)
            if host_leader is None:
                return None
        try:
            pgid = os.getpgid(host_leader)
        except OSError:
            return None
        others = []
        for process in members:
            if process.pid == host_leader:
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):  # gone meanwhile
                if os.getpgid(process.pid) == pgid and _start_ticks(process.pid) >= since:
                    others.append(process.pid)
        return host_leader, others

    def signal_all(self, signum: int) -> None:
        """Every process of the sandbox's code (not the agent): pause, resume, the disk limit."""
        for process in self.members():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, signum)

    async def stop(self) -> None:
        if self.forwarders is not None:
            await self.forwarders.close()
        for kernel in list(self.kernels.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(kernel.close(), 2)
        self.kernels.clear()
        if not self.channel.launch.confined:
            # No PID namespace to tear down: every descendant of the agent (a child subreaper) goes first.
            for _round in range(5):
                if not await asyncio.to_thread(self.members):
                    break
                await asyncio.to_thread(self.signal_all, signal.SIGKILL)
                await asyncio.sleep(0.02)
        await self.channel.kill()
        self.groups.clear()
        for reader in list(self.readers):
            reader.cancel()
        if self.slirp is not None:
            with contextlib.suppress(ProcessLookupError):
                self.slirp.kill()
            await asyncio.to_thread(self.slirp.wait)
        if self.cgroup is not None:
            await asyncio.to_thread(self.cgroup.remove)

    def metrics(self, memory_total_mb: int) -> dict[str, Any]:
        import psutil

        def cpu_seconds(processes: list[Any]) -> float:
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
            return total

        processes = self.members()
        now, used = time.monotonic(), cpu_seconds(processes)
        if self.cpu_sample is None:
            time.sleep(0.1)
            processes = self.members()
            first_now, first_used = now, used
            now, used = time.monotonic(), cpu_seconds(processes)
        else:
            first_now, first_used = self.cpu_sample
        self.cpu_sample = (now, used)
        elapsed = max(now - first_now, 1e-6)
        memory = read = write = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                memory += process.memory_info().rss
            with contextlib.suppress(psutil.Error, AttributeError):
                counters = process.io_counters()
                read += counters.read_bytes
                write += counters.write_bytes
        return {
            "timestamp": iso_time(time.time()),
            "cpu_usage": round(max(0.0, used - first_used) / elapsed * 100, 2),
            "memory_usage": round(memory / MIB, 2),
            "memory_total": float(memory_total_mb),
            "disk_read": read,
            "disk_write": write,
            "network_rx": 0,
            "network_tx": 0,
            "disk_usage": self.files.usage_on_host(),
            "process_count": len(processes),
        }


def _memory_of(process: Any) -> int:
    """Proportional set size: memory shared between forked processes is counted once, not per process."""
    import psutil

    try:
        return int(process.memory_full_info().pss)
    except (psutil.AccessDenied, AttributeError):
        return int(process.memory_info().rss)


def enforce_limits(runtimes: Sequence[Runtime], *, check_disk: bool) -> None:
    """Kill the biggest process group of every sandbox whose processes together exceed its memory, and
    every process of a sandbox that wrote more than its disk allows.

    Per-process limits cannot bound a sandbox that starts many processes; this is the sandbox-wide bound
    (what an out-of-memory killer would do in a VM of that size). ``setsid`` does not escape it: every
    process of the sandbox descends from the one Local started.
    """
    import psutil

    for runtime in runtimes:
        groups: dict[int, int] = {}
        for process in runtime.members():
            with contextlib.suppress(psutil.Error, OSError):
                pgid = os.getpgid(process.pid)
                groups[pgid] = groups.get(pgid, 0) + _memory_of(process)
        total = sum(groups.values())
        # The kernel's out-of-memory killer (cgroup limit = memory + headroom) may strike before this guard
        # and kill one process of a group that together went over; the group then gets the guard's answer.
        kernel_killed = False
        if runtime.cgroup is not None:
            kills = runtime.cgroup.out_of_memory_kills()
            kernel_killed, runtime.oom_kills_seen = kills > runtime.oom_kills_seen, kills
        if groups and (total > runtime.limits.memory_mb * MIB or kernel_killed):
            pgid = max(groups, key=lambda group: groups[group])
            log.warning(
                "sandbox %s uses %d MB (limit %d MB%s): killing its process group %d",
                runtime.sandbox_id, total // MIB, runtime.limits.memory_mb,
                "; the kernel killed one of its processes for memory" if kernel_killed else "", pgid,
            )  # fmt: skip
            runtime.memory_killed.add(_ns_pid(pgid))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        if check_disk and groups and runtime.files.over_quota():
            log.warning(
                "sandbox %s wrote more than its %d MB of disk: killing its processes",
                runtime.sandbox_id,
                runtime.disk_mb,
            )
            runtime.disk_exceeded = True
            runtime.signal_all(signal.SIGKILL)
