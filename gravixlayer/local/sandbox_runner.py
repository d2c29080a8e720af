"""GravixLayer Local's sandbox runner: real processes in a private directory per sandbox.

A sandbox is a row in SQLite (what `list` / `get` report, kept across restarts) plus, while it runs,
a `Runtime`: its directory (`sandbox_fs.SandboxFiles`), its code contexts (one long-lived kernel
process each, `sandbox_kernel.py` / `data/sandbox_kernel.js`) and the process groups of its commands.
Every process starts in its own session with the limits of `sandbox_isolation`; a run's timeout kills
its process group, and stopping a sandbox (kill, timeout expiry, server shutdown) kills all of its
processes. Stopping also removes the files; the row stays, with status `stopped` (decision 24).
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
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from .errors import LocalAPIError
from .sandbox_fs import HOME, SandboxFiles, iso_time
from .sandbox_isolation import MIB, OWN_USER, Isolation, Limits, probe
from .storage import Storage

__all__ = [
    "SandboxManager",
    "Template",
    "Runtime",
    "Kernel",
    "RUNNING",
    "PAUSED",
    "STOPPED",
    "SCHEMA",
    "DEFAULT_RUN_TIMEOUT",
]

log = logging.getLogger("gravixlayer.local.sandbox")

T = TypeVar("T")

RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"

DEFAULT_RUN_TIMEOUT = 300.0
"""Seconds a code or command run may take when the caller gives no timeout."""
MAX_RUN_TIMEOUT = 43200.0
MAX_SANDBOX_TIMEOUT = 43200
MAX_RUNNING_PER_TENANT = 16
MAX_CONTEXTS = 16
KERNEL_START_TIMEOUT = 60.0
INTERRUPT_GRACE = 2.0
"""After a run's timeout the kernel is interrupted (like Jupyter); if it has not answered by then, it is killed."""
PIPE_GRACE = 0.2
"""After a command exits, its output is read this much longer (background children may keep the pipes)."""
STREAM_LIMIT = 256 * MIB
"""Longest kernel answer line (output, results and images of one run)."""
COMMAND_STREAM_LIMIT = 1 * MIB
"""Command output is read in chunks; this only bounds what asyncio buffers before pausing the pipe."""
GUARD_INTERVAL = 0.25
"""Seconds between two checks of every sandbox's total memory (and, when Local is PID 1, zombie reaping)."""

PYTHON_LANGUAGES = ("python", "python3", "py")
NODE_LANGUAGES = ("javascript", "js", "node", "nodejs")
KERNEL_PREFIX = b"\x1eGLXK:"
KERNEL_PY = Path(__file__).with_name("sandbox_kernel.py")
KERNEL_JS = Path(__file__).with_name("data") / "sandbox_kernel.js"

SCHEMA = [
    """
    CREATE TABLE sandboxes_sandboxes (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT,
        template TEXT NOT NULL,
        template_id TEXT NOT NULL,
        provider TEXT,
        region TEXT,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        timeout_at REAL,
        ended_at REAL,
        metadata TEXT NOT NULL,
        env_vars TEXT NOT NULL,
        cpu_count INTEGER NOT NULL,
        memory_mb INTEGER NOT NULL,
        disk_size_mb INTEGER NOT NULL,
        uid INTEGER
    );
    CREATE INDEX sandboxes_by_tenant ON sandboxes_sandboxes (tenant, started_at);
    """
]


async def _thread(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args)


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- templates -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    limits: Limits
    created_at: float
    languages: tuple[str, ...]
    disk_size_mb: int = 2048

    @property
    def id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gravixlayer-local/templates/{self.name}"))

    def to_json(self) -> dict[str, Any]:
        """Exactly the keys of the vendor's strict template reader (spec §8.1)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "vcpu_count": os.cpu_count() or 1,
            "memory_mb": self.limits.memory_mb,
            "disk_size_mb": self.disk_size_mb,
            "visibility": "public",
            "created_at": iso_time(self.created_at),
            "updated_at": iso_time(self.created_at),
        }


def find_templates(started: float) -> dict[str, Template]:
    python = f"Python {sys.version.split()[0]} (the interpreter running GravixLayer Local, with its packages)"
    templates = {"python-base-v1": Template("python-base-v1", python, Limits(), started, ("python",))}
    node = shutil.which("node")
    if node:
        description = f"Node.js ({node}) for JavaScript code, plus {python}"
        templates["node-base-v1"] = Template(
            "node-base-v1", description, Limits(), started, ("javascript", "python")
        )
    return templates


def language_of(requested: str) -> str:
    name = requested.strip().lower()
    if name in PYTHON_LANGUAGES:
        return "python"
    if name in NODE_LANGUAGES:
        if shutil.which("node") is None:
            raise LocalAPIError(
                400, "unsupported_language", "language 'javascript' needs node, which is not installed"
            )
        return "javascript"
    raise LocalAPIError(
        400, "unsupported_language", f"language {requested!r} is not supported; use 'python' or 'javascript'"
    )


# -- output capture --------------------------------------------------------------------------------------


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


async def _exit_status(process: asyncio.subprocess.Process) -> int:
    """The exit status as soon as the process ends.

    `Process.wait()` on Python < 3.12 also waits until every pipe is closed, which a background child
    holding stdout (`server &`) delays for as long as it runs; the status itself is known earlier.
    """
    waiter = asyncio.ensure_future(process.wait())
    delay = 0.002
    try:
        while process.returncode is None:
            done, _ = await asyncio.wait({waiter}, timeout=delay)
            if done:
                break
            delay = min(delay * 2, 0.05)
    finally:
        waiter.cancel()
    assert process.returncode is not None
    return process.returncode


# -- kernels ----------------------------------------------------------------------------------------------


class KernelDied(Exception):
    pass


class Kernel:
    """One code context: a kernel process whose interpreter state lives between runs."""

    def __init__(self, runtime: Runtime, language: str, cwd: Path) -> None:
        self.runtime = runtime
        self.language = language
        self.cwd = cwd
        self.id = str(uuid.uuid4())
        self.created_at = time.time()
        self.last_used = self.created_at
        self.process: asyncio.subprocess.Process | None = None
        self.token = ""
        self.sequence = 0
        self.lock = asyncio.Lock()
        self.restarted = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "cwd": self.runtime.files.visible(self.cwd),
            "created_at": iso_time(self.created_at),
            "last_used": iso_time(self.last_used),
            "status": "running" if self.alive else "idle",
        }

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.token = secrets.token_hex(8)
        if self.language == "python":
            argv = [sys.executable, str(KERNEL_PY)]
        else:
            argv = [shutil.which("node") or "node", str(KERNEL_JS)]
        extra = {
            "GRAVIXLAYER_KERNEL_TOKEN": self.token,
            "GRAVIXLAYER_KERNEL_MAX_OUTPUT": str(self.runtime.limits.output_bytes),
        }
        self.process = await self.runtime.spawn(
            argv, cwd=self.cwd, env=self.runtime.environment(extra=extra), stdin=asyncio.subprocess.PIPE
        )
        try:
            ready = await asyncio.wait_for(self._message(), KERNEL_START_TIMEOUT)
        except (asyncio.TimeoutError, KernelDied):
            ready = {"ready": False}
        if not ready.get("ready"):
            await self.close()
            if await _thread(self.runtime.at_process_limit):
                raise self.runtime.process_limit_error()
            why = f": {ready['error']}" if ready.get("error") else ""
            raise LocalAPIError(500, "kernel_failed", f"the {self.language} interpreter did not start{why}")

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
                if pid in self.runtime.memory_killed:
                    self.runtime.memory_killed.discard(pid)
                    answer = _error_answer("MemoryError", self.runtime.memory_message())
                else:
                    answer = _error_answer(
                        "KernelDied",
                        f"the interpreter exited during the run (exit status {self.process.returncode}); a CPU "
                        "or process limit may have been reached",
                    )
                answer["error"]["value"] += "; the context restarts on its next run, with its state lost"
            if notice:
                answer.setdefault("logs", {}).setdefault("stderr", []).insert(0, f"[{notice}]")
            return answer

    async def _interrupt(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None
        message = f"execution timed out after {timeout:g} seconds"
        _killpg(self.process.pid, signal.SIGINT)
        try:
            answer = await asyncio.wait_for(self._answer(self.sequence), INTERRUPT_GRACE)
        except (asyncio.TimeoutError, KernelDied):
            await self.close()
            return _error_answer("TimeoutError", message + "; the context was restarted and its state lost")
        error = answer.get("error") or {}
        answer["error"] = {"name": "TimeoutError", "value": message, "traceback": error.get("traceback", "")}
        return answer

    async def close(self) -> None:
        process = self.process
        if process is None:
            return
        # The kernel leads its process group, so this kills it too. (Not `process.kill()` as well: it polls
        # first, and reaping the child there leaves asyncio's watcher without the exit status.)
        _killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_exit_status(process), 5)
        self.runtime.forget(process.pid)


def _error_answer(name: str, value: str) -> dict[str, Any]:
    return {
        "logs": {"stdout": [], "stderr": []},
        "results": [],
        "error": {"name": name, "value": value, "traceback": ""},
    }


# -- one running sandbox -------------------------------------------------------------------------------------


class Runtime:
    """The live part of one sandbox: directory, kernels, process groups."""

    def __init__(
        self, sandbox_id: str, files: SandboxFiles, uid: int | None, limits: Limits, isolation: Isolation,
        env_vars: Mapping[str, str],
    ) -> None:  # fmt: skip
        self.sandbox_id = sandbox_id
        self.files = files
        self.uid = uid
        self.limits = limits
        self.isolation = isolation
        self.env_vars = dict(env_vars)
        self.kernels: dict[str, Kernel] = {}
        self.groups: set[int] = set()
        self.memory_killed: set[int] = set()
        self.readers: set[asyncio.Future[None]] = set()
        """Process groups the memory guard killed (their runs say why they died)."""
        self.cpu_sample: tuple[float, float] | None = None

    def environment(
        self, env: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """A fresh, small environment: never the server's own (it may hold API keys)."""
        home = str(self.files.home)
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)])
        base = {
            "PATH": path,
            "HOME": home,
            "USER": "user",
            "LOGNAME": "user",
            "SHELL": "/bin/sh",
            "TERM": "dumb",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "TMPDIR": str(self.files.root / "tmp"),
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "GRAVIXLAYER_SANDBOX_ID": self.sandbox_id,
        }
        return {**base, **self.env_vars, **(env or {}), **(extra or {})}

    async def spawn(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdin: int,
        cpu_seconds: float | None = None,
        limit: int = STREAM_LIMIT,
    ) -> asyncio.subprocess.Process:
        """Start a process in its own session, with the sandbox's user and limits.

        At the process limit (RLIMIT_NPROC refuses the fork or exec) the answer is 503 with Retry-After:
        the caller did nothing wrong and the run may work once some of the sandbox's processes end.
        """
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=stdin,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE
                if stdin == asyncio.subprocess.DEVNULL
                else asyncio.subprocess.DEVNULL,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
                preexec_fn=self.isolation.preexec(self.uid, self.limits, cpu_seconds),
                limit=limit,
            )
        except BlockingIOError:
            raise self.process_limit_error() from None
        except subprocess.SubprocessError as exc:
            raise LocalAPIError(
                500, "spawn_failed", f"the sandbox could not start a process: {exc}"
            ) from None
        self.groups.add(process.pid)
        return process

    def process_limit_error(self) -> LocalAPIError:
        return LocalAPIError(
            503,
            "process_limit",
            f"the sandbox has reached its limit of {self.limits.processes} processes; "
            "try again once some of them have ended",
            {"Retry-After": "1"},
        )

    def at_process_limit(self) -> bool:
        """Whether the sandbox's user has (nearly) as many tasks as RLIMIT_NPROC allows."""
        if self.uid is None:
            return False
        import psutil

        tasks = 0
        for process in psutil.process_iter(["uids", "num_threads"]):
            uids = process.info.get("uids")
            if uids is not None and uids.real == self.uid:
                tasks += process.info.get("num_threads") or 1
        return tasks >= self.limits.processes - 2

    def forget(self, pgid: int) -> None:
        if not _group_alive(pgid):
            self.groups.discard(pgid)

    async def run_command(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
    ) -> dict[str, Any]:
        """Exactly the keys of the vendor's strict command reader (spec §8.7)."""
        started = time.monotonic()
        try:
            process = await self.spawn(
                argv,
                cwd=cwd,
                env=self.environment(env),
                stdin=asyncio.subprocess.DEVNULL,
                cpu_seconds=timeout + 5,
                limit=COMMAND_STREAM_LIMIT,
            )
        except FileNotFoundError:
            return _command_answer("", f"{argv[0]}: command not found\n", 127, started, "command not found")
        except PermissionError:
            return _command_answer("", f"{argv[0]}: permission denied\n", 126, started, "permission denied")
        except OSError as exc:
            message = f"the command could not be started: {exc.strerror or exc}"
            return _command_answer("", message + "\n", 126, started, message)
        out, err = _Captured(), _Captured()
        readers = [
            asyncio.ensure_future(_read_capped(process.stdout, self.limits.output_bytes, out)),
            asyncio.ensure_future(_read_capped(process.stderr, self.limits.output_bytes, err)),
        ]
        timed_out = False
        try:
            returncode = await asyncio.wait_for(_exit_status(process), timeout)
        except asyncio.TimeoutError:
            timed_out = True
            _killpg(process.pid, signal.SIGKILL)
            returncode = await _exit_status(process)
        finally:
            _done, pending = await asyncio.wait(readers, timeout=PIPE_GRACE)
            out.done = err.done = True
            for reader in pending:  # background children still write: keep draining so they never block
                self.readers.add(reader)
                reader.add_done_callback(self.readers.discard)
            self.forget(process.pid)
        if timed_out:
            message = f"command timed out after {timeout:g} seconds"
            return _command_answer(out.text(), err.text(), 124, started, message)
        exit_code = returncode if returncode >= 0 else 128 - returncode
        if process.pid in self.memory_killed:
            self.memory_killed.discard(process.pid)
            return _command_answer(out.text(), err.text(), exit_code, started, self.memory_message())
        return _command_answer(out.text(), err.text(), exit_code, started, None)

    def memory_message(self) -> str:
        return f"killed: the sandbox's processes used more than its {self.limits.memory_mb} MB of memory"

    def signal_all(self, signum: int) -> None:
        """Every process of the sandbox: its groups, and (own user) everything running as its user."""
        for pgid in list(self.groups):
            _killpg(pgid, signum)
        if self.uid is not None:
            self.isolation.signal_user(self.uid, signum)
        elif signum == signal.SIGKILL:
            for pid in _marked_processes(self.sandbox_id):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)

    async def stop(self) -> None:
        for kernel in list(self.kernels.values()):
            await kernel.close()
        self.kernels.clear()
        await _thread(self.signal_all, signal.SIGKILL)
        self.groups.clear()
        for reader in list(self.readers):
            reader.cancel()

    def processes(self) -> list[Any]:
        """psutil processes of this sandbox now."""
        import psutil

        found: dict[int, Any] = {}
        if self.uid is not None:
            for process in psutil.process_iter(["uids"]):
                uids = process.info.get("uids")
                if uids is not None and uids.real == self.uid:
                    found[process.pid] = process
        else:
            for pgid in list(self.groups):
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pgid)
                    found[root.pid] = root
                    for child in root.children(recursive=True):
                        found[child.pid] = child
        return list(found.values())

    def metrics(self, memory_total_mb: int) -> dict[str, Any]:
        import psutil

        def cpu_seconds(processes: list[Any]) -> float:
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
            return total

        processes = self.processes()
        now, used = time.monotonic(), cpu_seconds(processes)
        if self.cpu_sample is None:
            time.sleep(0.1)
            processes = self.processes()
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
            "disk_usage": self.files.disk_usage(),
            "process_count": len(processes),
        }


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


def _marked_processes(sandbox_id: str) -> list[int]:
    """Processes started for this sandbox that left its process groups (found by their environment)."""
    import psutil

    marker = sandbox_id
    found = []
    me = os.getpid()
    for process in psutil.process_iter():
        if process.pid == me:
            continue
        with contextlib.suppress(psutil.Error):
            if process.environ().get("GRAVIXLAYER_SANDBOX_ID") == marker:
                found.append(process.pid)
    return found


def enforce_memory(runtimes: Sequence[Runtime]) -> None:
    """Kill the biggest process group of every sandbox whose processes together exceed its memory.

    Per-process limits cannot bound a sandbox that starts many processes; this is the sandbox-wide
    bound (what an out-of-memory killer would do in a VM of that size).
    """
    import psutil

    usage: dict[Runtime, dict[int, int]] = {}

    def add(owner: Runtime, process: Any) -> None:
        with contextlib.suppress(psutil.Error, OSError):
            groups = usage.setdefault(owner, {})
            pgid = os.getpgid(process.pid)
            groups[pgid] = groups.get(pgid, 0) + _memory_of(process)

    by_uid = {runtime.uid: runtime for runtime in runtimes if runtime.uid is not None}
    if by_uid:
        for process in psutil.process_iter(["uids"]):
            uids = process.info.get("uids")
            owner = by_uid.get(uids.real) if uids is not None else None
            if owner is not None:
                add(owner, process)
    for runtime in runtimes:
        if runtime.uid is not None:
            continue
        for pgid in list(runtime.groups):
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pgid)
                for process in [root, *root.children(recursive=True)]:
                    add(runtime, process)
    for runtime, groups in usage.items():
        total = sum(groups.values())
        if groups and total > runtime.limits.memory_mb * MIB:
            pgid = max(groups, key=lambda group: groups[group])
            log.warning(
                "sandbox %s uses %d MB (limit %d MB): killing its process group %d",
                runtime.sandbox_id, total // MIB, runtime.limits.memory_mb, pgid,
            )  # fmt: skip
            runtime.memory_killed.add(pgid)
            _killpg(pgid, signal.SIGKILL)


def _memory_of(process: Any) -> int:
    """Proportional set size: memory shared between forked processes is counted once, not per process."""
    import psutil

    try:
        return int(process.memory_full_info().pss)
    except (psutil.AccessDenied, AttributeError):
        return int(process.memory_info().rss)


def reap_orphans(known: set[int]) -> None:
    """As PID 1 (a container started with `gravixlayer-local`), collect exited orphans nobody else waits for."""
    import psutil

    for child in psutil.Process().children():
        if child.pid in known:
            continue
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)


# -- all sandboxes --------------------------------------------------------------------------------------------


@dataclass
class Record:
    id: str
    tenant: str
    name: str | None
    template: str
    template_id: str
    provider: str | None
    region: str | None
    status: str
    started_at: float
    timeout_at: float | None
    ended_at: float | None
    metadata: dict[str, Any]
    env_vars: dict[str, str]
    cpu_count: int
    memory_mb: int
    disk_size_mb: int
    uid: int | None

    def to_json(self) -> dict[str, Any]:
        """The 0.0.59 sandbox keys (spec §8.2) plus `name`."""
        return {
            "sandbox_id": self.id,
            "status": self.status,
            "name": self.name,
            "template": self.template,
            "template_id": self.template_id,
            "provider": self.provider,
            "region": self.region,
            "started_at": iso_time(self.started_at),
            "timeout_at": iso_time(self.timeout_at) if self.timeout_at is not None else None,
            "ended_at": iso_time(self.ended_at) if self.ended_at is not None else None,
            "cpu_count": self.cpu_count,
            "memory_mb": self.memory_mb,
            "disk_size_mb": self.disk_size_mb,
            "metadata": self.metadata,
            "ip_address": "127.0.0.1",
            "ssh_enabled": False,
        }


_COLUMNS = (
    "id, tenant, name, template, template_id, provider, region, status, started_at, timeout_at, ended_at, "
    "metadata, env_vars, cpu_count, memory_mb, disk_size_mb, uid"
)


def _record(row: Any) -> Record:
    return Record(
        id=row["id"], tenant=row["tenant"], name=row["name"], template=row["template"],
        template_id=row["template_id"], provider=row["provider"], region=row["region"], status=row["status"],
        started_at=row["started_at"], timeout_at=row["timeout_at"], ended_at=row["ended_at"],
        metadata=json.loads(row["metadata"]), env_vars=json.loads(row["env_vars"]), cpu_count=row["cpu_count"],
        memory_mb=row["memory_mb"], disk_size_mb=row["disk_size_mb"], uid=row["uid"],
    )  # fmt: skip


class SandboxManager:
    """Every sandbox of one GravixLayer Local: records in SQLite, runtimes in memory."""

    def __init__(self, storage: Storage, data_dir: Path, *, started_at: float | None = None) -> None:
        self.storage = storage
        self.root = Path(data_dir) / "sandboxes"
        self.templates = find_templates(started_at or time.time())
        self.records: dict[str, Record] = {}
        self.runtimes: dict[str, Runtime] = {}
        self.isolation: Isolation | None = None
        self._isolation_lock = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._guard_task: asyncio.Task[None] | None = None

    # -- start and stop -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the records; sandboxes whose time ran out while the server was down are stopped."""
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        rows = await _thread(self.storage.query, f"SELECT {_COLUMNS} FROM sandboxes_sandboxes")
        for row in rows:
            record = _record(row)
            self.records[record.id] = record
        self._guard_task = asyncio.get_running_loop().create_task(self._guard())
        for record in list(self.records.values()):
            if record.status != STOPPED and record.uid is not None and os.geteuid() == 0:
                # Processes a crashed server left behind (PR_SET_PDEATHSIG only reaches its direct children).
                await _thread(Isolation(OWN_USER).signal_user, record.uid, signal.SIGKILL)
            if record.status != STOPPED:
                if record.timeout_at is not None and record.timeout_at <= time.time():
                    await self._stop(record, "timed out while the server was not running")
                else:
                    await self._arm_timer(record)

    async def close(self) -> None:
        """Server shutdown: end every process (the files stay for the next start)."""
        if self._guard_task is not None:
            self._guard_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._guard_task
            self._guard_task = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for runtime in list(self.runtimes.values()):
            try:
                await runtime.stop()
            except Exception:
                log.exception("stopping the processes of sandbox %s failed", runtime.sandbox_id)
        self.runtimes.clear()

    async def _guard(self) -> None:
        """Sandbox-wide memory bound, checked while any sandbox has processes."""
        while True:
            await asyncio.sleep(GUARD_INTERVAL)
            active = [runtime for runtime in self.runtimes.values() if runtime.groups]
            try:
                if active:
                    await _thread(enforce_memory, active)
                if os.getpid() == 1:
                    known = {pid for runtime in self.runtimes.values() for pid in runtime.groups}
                    await _thread(reap_orphans, known)
            except Exception:
                log.exception("the sandbox memory guard failed")

    async def _isolation(self) -> Isolation:
        async with self._isolation_lock:
            if self.isolation is None:
                self.isolation = await _thread(probe, sys.executable, self.root)
            return self.isolation

    def _lock(self, sandbox_id: str) -> asyncio.Lock:
        return self._locks.setdefault(sandbox_id, asyncio.Lock())

    # -- records ------------------------------------------------------------------------------------------------

    def get(self, tenant: str, sandbox_id: str) -> Record:
        record = self.records.get(sandbox_id)
        if record is None or record.tenant != tenant:
            raise LocalAPIError(404, "not_found", f"sandbox {sandbox_id!r} not found")
        return record

    async def fresh(self, tenant: str, sandbox_id: str) -> Record:
        """The record, with an expired timeout applied now (timers may run late)."""
        record = self.get(tenant, sandbox_id)
        if record.status != STOPPED and record.timeout_at is not None and record.timeout_at <= time.time():
            await self._stop(record, "timed out")
        return record

    def list(self, tenant: str) -> list[Record]:
        return sorted(
            (r for r in self.records.values() if r.tenant == tenant), key=lambda r: (r.started_at, r.id)
        )

    async def _save(self, record: Record) -> None:
        values = (
            record.id, record.tenant, record.name, record.template, record.template_id, record.provider,
            record.region, record.status, record.started_at, record.timeout_at, record.ended_at,
            json.dumps(record.metadata), json.dumps(record.env_vars), record.cpu_count, record.memory_mb,
            record.disk_size_mb, record.uid,
        )  # fmt: skip
        sql = (
            f"INSERT OR REPLACE INTO sandboxes_sandboxes ({_COLUMNS}) VALUES ({', '.join('?' * len(values))})"
        )
        await _thread(self.storage.execute, sql, values)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def create(
        self, tenant: str, *, template: str, name: str | None, provider: str | None, region: str | None,
        timeout: int | None, env_vars: Mapping[str, str], metadata: Mapping[str, Any],
    ) -> Record:  # fmt: skip
        found = self.templates.get(template) or next(
            (t for t in self.templates.values() if t.id == template), None
        )
        if found is None:
            names = ", ".join(sorted(self.templates))
            raise LocalAPIError(404, "not_found", f"template {template!r} not found; available: {names}")
        running = sum(1 for r in self.records.values() if r.tenant == tenant and r.status != STOPPED)
        if running >= MAX_RUNNING_PER_TENANT:
            raise LocalAPIError(
                403, "quota_exceeded", f"{running} sandboxes are running; kill one before creating another"
            )
        isolation = await self._isolation()
        taken = {r.uid for r in self.records.values() if r.uid is not None and r.status != STOPPED}
        uid = await _thread(isolation.new_uid, taken)
        now = time.time()
        record = Record(
            id=str(uuid.uuid4()), tenant=tenant, name=name, template=found.name, template_id=found.id,
            provider=provider, region=region, status=RUNNING, started_at=now,
            timeout_at=now + timeout if timeout else None, ended_at=None, metadata=dict(metadata),
            env_vars=dict(env_vars), cpu_count=os.cpu_count() or 1, memory_mb=found.limits.memory_mb,
            disk_size_mb=found.disk_size_mb, uid=uid,
        )  # fmt: skip
        files = SandboxFiles(self.root / record.id, (uid, uid) if uid is not None else None)
        await _thread(files.create)
        self.records[record.id] = record
        await self._save(record)
        await self._arm_timer(record)
        return record

    async def runtime(self, record: Record) -> Runtime:
        """The live part of a running sandbox (made on first use, e.g. after a server restart)."""
        if record.status == STOPPED:
            raise LocalAPIError(409, "sandbox_not_running", f"sandbox {record.id} is stopped")
        if record.status == PAUSED:
            raise LocalAPIError(409, "sandbox_paused", f"sandbox {record.id} is paused; resume it first")
        isolation = await self._isolation()
        runtime = self.runtimes.get(record.id)
        if runtime is None:
            template = self.templates.get(record.template)
            limits = template.limits if template else Limits(memory_mb=record.memory_mb)
            files = SandboxFiles(
                self.root / record.id, (record.uid, record.uid) if record.uid is not None else None
            )
            if not files.home.is_dir():
                files.create()
            runtime = Runtime(record.id, files, record.uid, limits, isolation, record.env_vars)
            self.runtimes[record.id] = runtime
        return runtime

    async def _arm_timer(self, record: Record) -> None:
        """(Re)schedule the stop of a sandbox at its `timeout_at`."""
        old = self._timers.pop(record.id, None)
        if old is not None:
            old.cancel()
        if record.timeout_at is None or record.status == STOPPED:
            return
        loop = asyncio.get_running_loop()

        def expire() -> None:
            self._timers.pop(record.id, None)
            task = loop.create_task(self._expire(record.id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._timers[record.id] = loop.call_later(max(0.0, record.timeout_at - time.time()), expire)

    async def _expire(self, sandbox_id: str) -> None:
        record = self.records.get(sandbox_id)
        if record is None or record.status == STOPPED or record.timeout_at is None:
            return
        if record.timeout_at > time.time() + 0.01:  # extended meanwhile
            await self._arm_timer(record)
            return
        try:
            await self._stop(record, "timed out")
        except Exception:
            log.exception("stopping expired sandbox %s failed", sandbox_id)

    async def _stop(self, record: Record, reason: str) -> None:
        async with self._lock(record.id):
            if record.status == STOPPED:
                return
            log.info("stopping sandbox %s (%s)", record.id, reason)
            timer = self._timers.pop(record.id, None)
            if timer is not None:
                timer.cancel()
            runtime = self.runtimes.pop(record.id, None)
            if runtime is not None:
                await runtime.stop()
            elif record.uid is not None and self.isolation is not None:
                await _thread(self.isolation.signal_user, record.uid, signal.SIGKILL)
            files = SandboxFiles(self.root / record.id)
            await _thread(files.remove)
            record.status = STOPPED
            record.ended_at = time.time()
            await self._save(record)

    async def kill(self, tenant: str, sandbox_id: str) -> str:
        record = await self.fresh(tenant, sandbox_id)
        if record.status == STOPPED:
            return "sandbox already stopped"
        await self._stop(record, "killed")
        return "sandbox killed"

    async def _not_stopped(self, tenant: str, sandbox_id: str) -> Record:
        record = await self.fresh(tenant, sandbox_id)
        if record.status == STOPPED:
            raise LocalAPIError(409, "sandbox_not_running", f"sandbox {sandbox_id} is stopped")
        return record

    async def set_timeout(self, tenant: str, sandbox_id: str, timeout: int) -> Record:
        record = await self._not_stopped(tenant, sandbox_id)
        record.timeout_at = time.time() + timeout if timeout else None
        await self._save(record)
        await self._arm_timer(record)
        return record

    async def _switch(self, tenant: str, sandbox_id: str, src: str, dst: str, sig: signal.Signals) -> Record:
        """Pause or resume: signal every process of the sandbox, then record the new status."""
        record = await self._not_stopped(tenant, sandbox_id)
        if record.status == src:
            runtime = self.runtimes.get(record.id)
            if runtime is not None:
                await _thread(runtime.signal_all, sig)
            record.status = dst
            await self._save(record)
        return record

    async def pause(self, tenant: str, sandbox_id: str) -> Record:
        return await self._switch(tenant, sandbox_id, RUNNING, PAUSED, signal.SIGSTOP)

    async def resume(self, tenant: str, sandbox_id: str) -> Record:
        return await self._switch(tenant, sandbox_id, PAUSED, RUNNING, signal.SIGCONT)

    # -- work inside a sandbox ------------------------------------------------------------------------------------

    async def files(self, tenant: str, sandbox_id: str) -> SandboxFiles:
        record = await self.fresh(tenant, sandbox_id)
        return (await self.runtime(record)).files

    async def run_command(
        self, tenant: str, sandbox_id: str, *, command: str, args: Sequence[str] | None, working_dir: str | None,
        env: Mapping[str, str], timeout: float,
    ) -> dict[str, Any]:  # fmt: skip
        runtime = await self.runtime(await self.fresh(tenant, sandbox_id))
        cwd = await _thread(runtime.files.directory, working_dir or HOME)
        argv = [command, *args] if args is not None else ["/bin/sh", "-c", command]
        return await runtime.run_command(argv, cwd, env, timeout)

    async def run_code(
        self, tenant: str, sandbox_id: str, *, code: str, language: str, context_id: str | None,
        env: Mapping[str, str], timeout: float,
    ) -> dict[str, Any]:  # fmt: skip
        runtime = await self.runtime(await self.fresh(tenant, sandbox_id))
        if context_id is not None:
            kernel = self._kernel(runtime, context_id)
            if language_of(language) != kernel.language:
                raise LocalAPIError(
                    400, "invalid_request", f"context {context_id} runs {kernel.language}, not {language!r}"
                )
            answer = await kernel.execute(code, env, timeout)
        else:
            kernel = Kernel(runtime, language_of(language), runtime.files.home)
            try:
                answer = await kernel.execute(code, env, timeout)
            finally:
                await kernel.close()
        return {
            "results": answer.get("results") or [],
            "logs": answer.get("logs") or {"stdout": [], "stderr": []},
            "error": answer.get("error"),
            "execution_id": str(uuid.uuid4()),
        }

    def _kernel(self, runtime: Runtime, context_id: str) -> Kernel:
        kernel = runtime.kernels.get(context_id)
        if kernel is None:
            raise LocalAPIError(404, "not_found", f"code context {context_id!r} not found")
        return kernel

    async def create_context(self, tenant: str, sandbox_id: str, *, language: str, cwd: str | None) -> Kernel:
        runtime = await self.runtime(await self.fresh(tenant, sandbox_id))
        if len(runtime.kernels) >= MAX_CONTEXTS:
            raise LocalAPIError(
                403, "quota_exceeded", f"a sandbox may have {MAX_CONTEXTS} code contexts at once"
            )
        directory = await _thread(runtime.files.directory, cwd or HOME)
        kernel = Kernel(runtime, language_of(language), directory)
        await kernel.start()
        runtime.kernels[kernel.id] = kernel
        return kernel

    async def get_context(self, tenant: str, sandbox_id: str, context_id: str) -> Kernel:
        runtime = await self.runtime(await self.fresh(tenant, sandbox_id))
        return self._kernel(runtime, context_id)

    async def delete_context(self, tenant: str, sandbox_id: str, context_id: str) -> None:
        runtime = await self.runtime(await self.fresh(tenant, sandbox_id))
        kernel = self._kernel(runtime, context_id)
        del runtime.kernels[context_id]
        await kernel.close()

    async def metrics(self, tenant: str, sandbox_id: str) -> dict[str, Any]:
        record = await self.fresh(tenant, sandbox_id)
        if record.status == STOPPED:
            raise LocalAPIError(409, "sandbox_not_running", f"sandbox {sandbox_id} is stopped")
        runtime = self.runtimes.get(record.id)
        if runtime is None:
            runtime = await self.runtime(record) if record.status == RUNNING else None
        if runtime is None:
            files = SandboxFiles(self.root / record.id)
            return {
                "timestamp": iso_time(time.time()), "cpu_usage": 0.0, "memory_usage": 0.0,
                "memory_total": float(record.memory_mb), "disk_read": 0, "disk_write": 0, "network_rx": 0,
                "network_tx": 0, "disk_usage": await _thread(files.disk_usage), "process_count": 0,
            }  # fmt: skip
        return await _thread(runtime.metrics, record.memory_mb)
