"""Every sandbox of one GravixLayer Local: records in SQLite, live environments in memory.

A sandbox is a row (what `list` / `get` report, kept across restarts) plus, while it runs, a `Runtime`:
an isolated environment started at create (its agent, see ``agent.py``) that every command, kernel and
file operation goes through. Killing a sandbox, its timeout, or Local stopping ends the environment and
with it every process the sandbox started; stopping also removes its files (the row stays, status
`stopped`, decision 24). After a restart a running sandbox gets a fresh environment over its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import LocalAPIError
from ..storage import Storage
from .cgroups import SandboxCgroup
from .channel import AgentChannel, AgentGone
from .files import HOME, SandboxFiles, iso_time
from .isolation import MIB, NAMESPACES, NAMESPACES_NO_PROC, STRENGTH, UID_BASE, UID_SPAN, Limits, Mode, launch
from .network import start_network
from .ports import Forwarders
from .probe import choose_mode, weak
from .runtime import DEFAULT_RUN_TIMEOUT, Kernel, Runtime, enforce_limits

__all__ = [
    "SandboxManager", "Template", "Record", "RUNNING", "PAUSED", "STOPPED", "SCHEMA", "DEFAULT_RUN_TIMEOUT",
    "MAX_RUN_TIMEOUT", "MAX_SANDBOX_TIMEOUT", "ISOLATION_CHOICES",
]  # fmt: skip

log = logging.getLogger("gravixlayer.local.sandbox")

RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"

MAX_RUN_TIMEOUT = 43200.0
MAX_SANDBOX_TIMEOUT = 43200
MAX_RUNNING_PER_TENANT = 16
MAX_CONTEXTS = 16
GUARD_INTERVAL = 0.25
"""Seconds between two checks of every sandbox's total memory."""
DISK_CHECK_EVERY = 8
"""Guard rounds between two measurements of every sandbox's files."""
ISOLATION_CHOICES = ("auto", "require", "namespaces", "namespaces-no-proc", "landlock", "best-effort")

PYTHON_LANGUAGES = ("python", "python3", "py")
NODE_LANGUAGES = ("javascript", "js", "node", "nodejs")

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
    """,
    """
    ALTER TABLE sandboxes_sandboxes ADD COLUMN isolation TEXT;
    ALTER TABLE sandboxes_sandboxes ADD COLUMN internet_access INTEGER NOT NULL DEFAULT 0;
    """,
]


async def _thread(fn: Any, *args: Any) -> Any:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn, *args)


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


def find_templates(started: float, disk_mb: int = 2048) -> dict[str, Template]:
    python = f"Python {sys.version.split()[0]} (the interpreter running GravixLayer Local, with its packages)"
    limits = Limits(file_size_mb=min(Limits.file_size_mb, disk_mb))
    templates = {"python-base-v1": Template("python-base-v1", python, limits, started, ("python",), disk_mb)}
    node = shutil.which("node")
    if node:
        description = f"Node.js ({node}) for JavaScript code, plus {python}"
        for name in ("javascript-base-v1", "node-base-v1"):
            templates[name] = Template(name, description, limits, started, ("javascript", "python"), disk_mb)
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


# -- records ---------------------------------------------------------------------------------------------


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
    isolation: str | None = None
    internet_access: bool = False
    ssh_enabled: bool = False
    """Whether an SSH server runs for it (``ssh.py``; not stored: servers end with Local)."""

    def to_json(self) -> dict[str, Any]:
        """The 0.0.59 sandbox keys (spec §8.2) plus `name`, `isolation` and `internet_access`."""
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
            "ssh_enabled": self.ssh_enabled,
            "isolation": self.isolation,
            "internet_access": self.internet_access,
        }


_COLUMNS = (
    "id, tenant, name, template, template_id, provider, region, status, started_at, timeout_at, ended_at, "
    "metadata, env_vars, cpu_count, memory_mb, disk_size_mb, uid, isolation, internet_access"
)


def _record(row: Any) -> Record:
    return Record(
        id=row["id"], tenant=row["tenant"], name=row["name"], template=row["template"],
        template_id=row["template_id"], provider=row["provider"], region=row["region"], status=row["status"],
        started_at=row["started_at"], timeout_at=row["timeout_at"], ended_at=row["ended_at"],
        metadata=json.loads(row["metadata"]), env_vars=json.loads(row["env_vars"]), cpu_count=row["cpu_count"],
        memory_mb=row["memory_mb"], disk_size_mb=row["disk_size_mb"], uid=row["uid"],
        isolation=row["isolation"], internet_access=bool(row["internet_access"]),
    )  # fmt: skip


def _new_uid(taken: set[int]) -> int:
    """A user id no process and no other sandbox uses (root only: each sandbox is its own user)."""
    import psutil

    in_use = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info.get("uids")}
    while True:
        uid = UID_BASE + random.randrange(UID_SPAN)
        if uid not in taken and uid not in in_use:
            return uid


def _kill_user(uid: int) -> None:
    """Every process of `uid` (a sandbox a crashed server left behind): a child becomes `uid` and kills -1."""

    def as_user() -> None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["/bin/true"], preexec_fn=as_user, timeout=10, check=False)


def _kill_marked(sandbox_ids: set[str]) -> None:
    import psutil

    me = os.getpid()
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.pid != me and process.environ().get("GRAVIXLAYER_SANDBOX_ID") in sandbox_ids:
                process.kill()


class SandboxManager:
    """Every sandbox of one GravixLayer Local."""

    def __init__(
        self,
        storage: Storage,
        data_dir: Path,
        *,
        started_at: float | None = None,
        isolation: str = "auto",
        disk_mb: int = 2048,
    ) -> None:
        if isolation not in ISOLATION_CHOICES:
            raise ValueError(f"sandbox isolation must be one of {', '.join(ISOLATION_CHOICES)}")
        self.storage = storage
        self.root = Path(data_dir) / "sandboxes"
        self.templates = find_templates(started_at or time.time(), disk_mb)
        self.records: dict[str, Record] = {}
        self.runtimes: dict[str, Runtime] = {}
        self.requested_isolation = isolation
        self.mode: Mode | None = None
        self.mode_note = ""
        self._mode_lock = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._guard_task: asyncio.Task[None] | None = None
        self.stop_hooks: list[Callable[[str], Awaitable[None]]] = []
        """Called with a sandbox's id when it stops (its SSH server ends with it)."""
        self.layers: Callable[[str, str], Any] | None = None
        """Built templates (``templates.py``): `layers(tenant, name_or_id)` is a layer (files, environment,
        start command) a new sandbox starts from, or None."""

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
        live = {r.id for r in self.records.values() if r.status != STOPPED}
        if live:
            # Without namespaces, processes a crashed server left run on: end them (by user id as root,
            # else by the sandbox id Local put in their environment).
            if os.geteuid() == 0:
                for record in self.records.values():
                    if record.id in live and record.uid is not None:
                        await _thread(_kill_user, record.uid)
            await _thread(_kill_marked, live)
        for record in list(self.records.values()):
            if record.status != STOPPED:
                if record.timeout_at is not None and record.timeout_at <= time.time():
                    await self._stop(record, "timed out while the server was not running")
                else:
                    await self._arm_timer(record)

    async def close(self) -> None:
        """Server shutdown: end every sandbox environment (the files stay for the next start)."""
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
        """Sandbox-wide memory and disk bounds, checked while any sandbox has processes."""
        rounds = 0
        while True:
            await asyncio.sleep(GUARD_INTERVAL)
            rounds += 1
            active = [runtime for runtime in self.runtimes.values() if runtime.alive]
            try:
                if active:
                    await _thread(partial(enforce_limits, active, check_disk=rounds % DISK_CHECK_EVERY == 0))
            except Exception:
                log.exception("the sandbox guard failed")

    async def isolation_mode(self) -> Mode:
        """The isolation mode in force, probed on first use; 503 when none acceptable works."""
        async with self._mode_lock:
            if self.mode is None:
                uid = _new_uid(set()) if os.geteuid() == 0 else None
                mode, note = await choose_mode(self.requested_isolation, self.root, uid)
                if mode is None:
                    self.mode_note = note
                    log.error("%s", note)
                    raise LocalAPIError(503, "isolation_unavailable", note)
                self.mode, self.mode_note = mode, note
                if weak(mode):
                    log.warning("%s: sandboxes are not a boundary against hostile code on this host", note)
                else:
                    log.info("%s", note)
            return self.mode

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
            record.disk_size_mb, record.uid, record.isolation, int(record.internet_access),
        )  # fmt: skip
        sql = (
            f"INSERT OR REPLACE INTO sandboxes_sandboxes ({_COLUMNS}) VALUES ({', '.join('?' * len(values))})"
        )
        await _thread(self.storage.execute, sql, values)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def create(
        self, tenant: str, *, template: str, name: str | None, provider: str | None, region: str | None,
        timeout: int | None, env_vars: Mapping[str, str], metadata: Mapping[str, Any],
        internet_access: bool = False,
    ) -> Record:  # fmt: skip
        found = self.templates.get(template) or next(
            (t for t in self.templates.values() if t.id == template), None
        )
        layer = self.layers(tenant, template) if found is None and self.layers is not None else None
        if layer is not None:
            found = self.templates.get(layer.base)
            env_vars = {**layer.environment, **env_vars}
        if found is None:
            hint = ""
            if template in ("javascript-base-v1", "node-base-v1"):
                hint = " (it needs Node.js: install `node` on the machine running GravixLayer Local)"
            names = ", ".join(sorted(self.templates))
            raise LocalAPIError(
                404, "not_found", f"template {template!r} not found{hint}; available: {names}"
            )
        running = sum(1 for r in self.records.values() if r.tenant == tenant and r.status != STOPPED)
        if running >= MAX_RUNNING_PER_TENANT:
            raise LocalAPIError(
                403, "quota_exceeded", f"{running} sandboxes are running; kill one before creating another"
            )
        mode = await self.isolation_mode()
        if internet_access and mode not in (NAMESPACES, NAMESPACES_NO_PROC):
            raise LocalAPIError(
                400, "internet_access_unavailable",
                f"internet_access needs the namespaces isolation mode (this Local runs {mode}): without a "
                "network namespace the sandbox would share the host's network, loopback included",
            )  # fmt: skip
        if internet_access and shutil.which("slirp4netns") is None:
            raise LocalAPIError(
                400, "internet_access_unavailable",
                "internet_access needs slirp4netns (Debian package `slirp4netns`), which is not installed",
            )  # fmt: skip
        if internet_access and not os.access("/dev/net/tun", os.R_OK | os.W_OK):
            raise LocalAPIError(
                400, "internet_access_unavailable",
                "internet_access needs /dev/net/tun, which this GravixLayer Local cannot open (run it as root, "
                "or make the device usable: chmod 0666 /dev/net/tun)",
            )  # fmt: skip
        taken = {r.uid for r in self.records.values() if r.uid is not None and r.status != STOPPED}
        uid = await _thread(_new_uid, taken) if os.geteuid() == 0 else None
        now = time.time()
        record = Record(
            id=str(uuid.uuid4()), tenant=tenant, name=name, template=layer.name if layer else found.name,
            template_id=layer.id if layer else found.id,
            provider=provider, region=region, status=RUNNING, started_at=now,
            timeout_at=now + timeout if timeout else None, ended_at=None, metadata=dict(metadata),
            env_vars=dict(env_vars), cpu_count=os.cpu_count() or 1, memory_mb=found.limits.memory_mb,
            disk_size_mb=found.disk_size_mb, uid=uid, isolation=mode, internet_access=internet_access,
        )  # fmt: skip
        files = SandboxFiles(self.root / record.id, quota_bytes=record.disk_size_mb * MIB)
        await _thread(files.create, (uid, uid) if uid is not None else None)
        try:
            if layer is not None:  # before any process of the sandbox exists
                await _thread(layer.seed, files.home, (uid, uid) if uid is not None else None)
            self.runtimes[record.id] = await self._start_environment(record, files)
        except BaseException:
            await _thread(files.remove)
            raise
        self.records[record.id] = record
        await self._save(record)
        await self._arm_timer(record)
        if layer is not None:
            await layer.started(self.runtimes[record.id])
        return record

    async def _start_environment(self, record: Record, files: SandboxFiles) -> Runtime:
        template = self.templates.get(record.template)
        if template is None and self.layers is not None:
            layer = self.layers(record.tenant, record.template_id)
            template = self.templates.get(layer.base) if layer is not None else None
        limits = template.limits if template else Limits(memory_mb=record.memory_mb)
        limits = Limits(**{**limits.__dict__, "tmp_mb": min(limits.tmp_mb, record.disk_size_mb)})
        mode = record.isolation or await self.isolation_mode()
        if STRENGTH.get(mode, 0) < STRENGTH.get(self.mode or mode, 0):
            mode = self.mode or mode
        cgroup = await _thread(SandboxCgroup.create, record.id, limits)
        try:
            channel = await AgentChannel.start(
                lambda fd: launch(mode, files.root, record.uid, limits, fd),
                join=cgroup.joiner() if cgroup is not None else None,
            )
        except (OSError, AgentGone, subprocess.SubprocessError) as exc:
            if cgroup is not None:
                await _thread(cgroup.remove)
            raise LocalAPIError(
                503, "sandbox_unavailable", f"the sandbox could not be started: {exc}"
            ) from None
        files.channel = channel
        runtime = Runtime(record.id, files, channel, limits, record.env_vars, record.disk_size_mb)
        runtime.cgroup = cgroup
        if record.internet_access:
            try:
                runtime.slirp = await start_network(channel)
            except OSError as exc:
                await runtime.stop()
                raise LocalAPIError(
                    503, "internet_access_unavailable", f"the sandbox network could not start: {exc}"
                ) from None
        return runtime

    async def runtime(self, record: Record) -> Runtime:
        """The live environment of a running sandbox (a new one after a server restart)."""
        if record.status == STOPPED:
            raise LocalAPIError(409, "sandbox_not_running", f"sandbox {record.id} is stopped")
        if record.status == PAUSED:
            raise LocalAPIError(409, "sandbox_paused", f"sandbox {record.id} is paused; resume it first")
        async with self._lock(record.id):
            runtime = self.runtimes.get(record.id)
            if runtime is not None and not runtime.alive:
                await runtime.stop()
                runtime = None
            if runtime is None:
                files = SandboxFiles(self.root / record.id, quota_bytes=record.disk_size_mb * MIB)
                if not files.home.is_dir():
                    await _thread(files.create, (record.uid, record.uid) if record.uid is not None else None)
                runtime = await self._start_environment(record, files)
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
            for hook in self.stop_hooks:
                try:
                    await hook(record.id)
                except Exception:
                    log.exception("a stop hook of sandbox %s failed", record.id)
            runtime = self.runtimes.pop(record.id, None)
            if runtime is not None:
                await runtime.stop()
            if record.uid is not None and os.geteuid() == 0:
                await _thread(_kill_user, record.uid)
            await _thread(SandboxFiles(self.root / record.id).remove)
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
        cwd = await runtime.files.directory(working_dir) if working_dir else runtime.channel.launch.home
        # No arguments (or an empty list, as the vendor's client sends it): the command line is a shell's.
        argv = [command, *args] if args else ["/bin/sh", "-c", command]
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
            kernel = Kernel(runtime, language_of(language), runtime.channel.launch.home)
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
        directory = await runtime.files.directory(cwd or HOME)
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

    async def host_port(self, tenant: str, sandbox_id: str, port: int, *, bind: str) -> int:
        """Where the host reaches `port` of the sandbox: itself when they share a network, else a forwarder."""
        record = await self._not_stopped(tenant, sandbox_id)
        runtime = await self.runtime(record)
        if not runtime.channel.launch.confined:
            return port
        if runtime.forwarders is None:
            runtime.forwarders = Forwarders(runtime.channel, bind)
        return int(await runtime.forwarders.port_for(port))

    async def metrics(self, tenant: str, sandbox_id: str) -> dict[str, Any]:
        record = await self.fresh(tenant, sandbox_id)
        if record.status == STOPPED:
            raise LocalAPIError(409, "sandbox_not_running", f"sandbox {sandbox_id} is stopped")
        runtime = self.runtimes.get(record.id)
        if runtime is None and record.status == RUNNING:
            runtime = await self.runtime(record)
        if runtime is None:
            files = SandboxFiles(self.root / record.id)
            return {
                "timestamp": iso_time(time.time()), "cpu_usage": 0.0, "memory_usage": 0.0,
                "memory_total": float(record.memory_mb), "disk_read": 0, "disk_write": 0, "network_rx": 0,
                "network_tx": 0, "disk_usage": await _thread(files.usage_on_host), "process_count": 0,
            }  # fmt: skip
        return await _thread(runtime.metrics, record.memory_mb)  # type: ignore[no-any-return]
