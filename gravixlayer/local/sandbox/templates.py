"""Template builds (spec §9): steps run for real in an isolated builder sandbox; the result is a layer.

A build starts a builder sandbox from a built-in template (``python-base-v1``, or a Node template when a
step needs npm), runs each step inside it through the usual sandbox paths (commands through its agent,
files through the files API), checks `start_cmd` / `ready_cmd`, then pauses the builder (no process runs
while its files are read) and keeps a copy of its ``/home/user`` plus the template's environment as the
template's *layer* under ``<data dir>/templates/<id>``. A sandbox created from the template starts with
that copy as its home, the environment as its variables, and `start_cmd` started (``manager.layers``).

What Local cannot do fails the build with the step and the reason: container images (`docker_image`,
`dockerfile`), `apt_install` (steps run as the sandbox's unprivileged user, never root), files outside
``/home/user`` (the only directory a layer keeps), tools the machine does not have (npm, bun, git), and
anything that needs the network (builders have none; `git_clone` and `pip_install` work from paths
inside the builder, e.g. files put there by `copy_file` or an earlier step).

Templates belong to the key that built them. Build status is kept in memory (a build in progress when
Local stops is lost; its template, if an earlier build completed, stays).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import posixpath
import shlex
import shutil
import stat
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LocalAPIError
from .files import HOME, iso_time
from .manager import SandboxManager
from .runtime import Runtime

__all__ = ["TemplateLayers", "Layer", "Build", "StepFailed", "STEP_TYPES", "PACKAGES_DIR"]

log = logging.getLogger("gravixlayer.local.sandbox")

STEP_TYPES = ("run", "pip_install", "npm_install", "apt_install", "bun_install", "copy_file", "git_clone", "mkdir")
PACKAGES_DIR = f"{HOME}/.local/pip-packages"
"""Where `pip_install` puts packages (the interpreter is shared read-only, so not its site-packages)."""
NPM_PREFIX = f"{HOME}/.npm-global"
STEP_TIMEOUT = 1800.0
BUILDER_PREFIX = "template-builder/"
MAX_BUILDS = 200
"""Finished builds remembered (per Local); the oldest are forgotten first."""


class StepFailed(Exception):
    """A build step that could not be done; the message names the step and why."""


@dataclass
class Layer:
    """A built template: what sandboxes created from it start with."""

    id: str
    tenant: str
    name: str
    description: str
    base: str
    environment: dict[str, str]
    start_cmd: str | None
    ready_cmd: str | None
    ready_timeout_secs: int
    vcpu_count: int
    memory_mb: int
    disk_mb: int
    tags: dict[str, str]
    created_at: float
    updated_at: float
    size_bytes: int = 0
    directory: str = ""

    @property
    def home(self) -> Path:
        return Path(self.directory) / "home"

    def to_json(self) -> dict[str, Any]:
        """TemplateInfo (spec §9), and the keys of the §8.1 template reader."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "vcpu_count": self.vcpu_count,
            "memory_mb": self.memory_mb,
            "disk_size_mb": self.disk_mb,
            "visibility": "private",
            "created_at": iso_time(self.created_at),
            "updated_at": iso_time(self.updated_at),
            "base_image": self.base,
            "environment": self.environment,
            "tags": self.tags,
        }

    def snapshot_json(self) -> dict[str, Any]:
        return {
            "template_id": self.id,
            "name": self.name,
            "description": self.description,
            "has_snapshot": self.home.is_dir(),
            "vcpu_count": self.vcpu_count,
            "memory_mb": self.memory_mb,
            "created_at": iso_time(self.created_at),
            "snapshot_size_bytes": self.size_bytes,
        }

    def seed(self, home: Path, owner: tuple[int, int] | None) -> None:
        """Copy the layer into a new sandbox's (empty) home, before any of its processes exist."""
        if self.home.is_dir():
            copy_tree(self.home, home, owner)

    async def started(self, runtime: Runtime) -> None:
        """A sandbox from this template has started: its `start_cmd` runs, `ready_cmd` is waited for."""
        if self.start_cmd:
            await start_background(runtime, self.start_cmd)
            if self.ready_cmd and not await wait_ready(runtime, self.ready_cmd, self.ready_timeout_secs):
                log.warning(
                    "sandbox %s: ready_cmd of template %s did not succeed within %d s",
                    runtime.sandbox_id, self.name, self.ready_timeout_secs,
                )  # fmt: skip


@dataclass
class Build:
    build_id: str
    template_id: str
    tenant: str
    name: str
    status: str = "pending"
    phase: str = "initializing"
    progress_percent: int = 0
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    completed_at: float | None = None
    logs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "template_id": self.template_id,
            "status": self.status,
            "phase": self.phase,
            "progress_percent": self.progress_percent,
            "error": self.error,
            "started_at": iso_time(self.started_at),
            "completed_at": iso_time(self.completed_at) if self.completed_at is not None else None,
            "logs": self.logs[-50:],
        }


# -- files of layers, on the host ---------------------------------------------------------------------


def copy_tree(source: Path, target: Path, owner: tuple[int, int] | None) -> int:
    """Directories, regular files and symbolic links (as links, never followed); bytes copied.

    Only called while no process can change `source` (a paused builder, a layer) or `target` (a sandbox
    not started yet). Devices, FIFOs and sockets are skipped.
    """
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    for directory, dirs, files in os.walk(source, followlinks=False):
        relative = os.path.relpath(directory, source)
        out = target / relative if relative != "." else target
        for name in dirs + files:
            src, dst = os.path.join(directory, name), out / name
            info = os.lstat(src)
            if stat.S_ISLNK(info.st_mode):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(dst)
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISDIR(info.st_mode):
                dst.mkdir(exist_ok=True)
                os.chmod(dst, stat.S_IMODE(info.st_mode) | 0o700)
            elif stat.S_ISREG(info.st_mode):
                fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                with os.fdopen(fd, "rb") as reader, open(dst, "wb") as writer:
                    shutil.copyfileobj(reader, writer, 1 << 20)
                os.chmod(dst, stat.S_IMODE(info.st_mode))
                total += info.st_size
            else:
                continue
            if owner is not None:
                os.lchown(dst, *owner)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(directory, d))]
    return total


# -- steps in a running sandbox ------------------------------------------------------------------------


async def start_background(runtime: Runtime, command: str) -> None:
    """`command` through the sandbox's shell, left running (its output is read and dropped)."""
    process = await runtime.spawn(
        ["/bin/sh", "-c", command], cwd=runtime.channel.launch.home, env=runtime.environment(), stdin=False
    )

    async def drain(stream: asyncio.StreamReader | None) -> None:
        while stream is not None and await stream.read(65536):
            pass

    for stream in (process.stdout, process.stderr):
        task = asyncio.ensure_future(drain(stream))
        runtime.readers.add(task)
        task.add_done_callback(runtime.readers.discard)


async def wait_ready(runtime: Runtime, command: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        answer = await runtime.run_command(
            ["/bin/sh", "-c", command], runtime.channel.launch.home, {}, max(1.0, min(remaining, 30.0))
        )
        if answer["exit_code"] == 0:
            return True
        if time.monotonic() + 0.5 > deadline:
            return False
        await asyncio.sleep(0.5)


def _in_home(path: str, what: str) -> str:
    full = posixpath.normpath(posixpath.join(HOME, path))
    if full != HOME and not full.startswith(HOME + "/"):
        raise StepFailed(
            f"{what} {path!r}: only {HOME} is kept in a GravixLayer Local template layer "
            "(the rest of the sandbox's file system is the host's, read-only)"
        )
    return full


def _mode(raw: str | None, what: str) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw.strip().lower().removeprefix("0o"), 8)
    except ValueError:
        raise StepFailed(f"{what}: mode {raw!r} is not an octal permission like 0755") from None
    if not 0 <= value <= 0o7777:
        raise StepFailed(f"{what}: mode {raw!r} is out of range")
    return value


class _Runner:
    """Runs the steps of one build in its builder sandbox."""

    def __init__(self, manager: SandboxManager, tenant: str, sandbox_id: str) -> None:
        self.manager = manager
        self.tenant = tenant
        self.sandbox_id = sandbox_id

    async def shell(self, what: str, command: str, *, timeout: float = STEP_TIMEOUT, hint: str = "") -> str:
        answer = await self.manager.run_command(
            self.tenant, self.sandbox_id, command=command, args=None, working_dir=None, env={},
            timeout=timeout,
        )  # fmt: skip
        if answer["exit_code"] != 0:
            output = (answer["stderr"].strip() or answer["stdout"].strip())[-1500:]
            reason = answer.get("error") or f"exit status {answer['exit_code']}"
            raise StepFailed(f"{what} failed ({reason}){hint}" + (f": {output}" if output else ""))
        return str(answer["stdout"])

    async def step(self, index: int, step: dict[str, Any]) -> None:
        kind = step["type"]
        args: list[str] = step.get("args") or []
        options: dict[str, str] = step.get("options") or {}
        what = f"step {index + 1} ({kind})"
        no_network = " (GravixLayer Local builds have no network: use paths inside the builder)"
        if kind == "run":
            if not args:
                raise StepFailed(f"{what}: no command given")
            await self.shell(what, " ".join(args))
        elif kind == "apt_install":
            raise StepFailed(
                f"{what} {' '.join(args)}: GravixLayer Local runs build steps as the sandbox's unprivileged user, "
                "never as root, so apt cannot install packages; use pip_install / npm_install, or install them "
                "on the machine running Local"
            )  # fmt: skip
        elif kind == "copy_file":
            if not args:
                raise StepFailed(f"{what}: no destination given")
            destination = _in_home(args[0], what)
            try:
                data = base64.b64decode(step.get("content") or "", validate=True)
            except (binascii.Error, ValueError):
                raise StepFailed(f"{what} {args[0]!r}: content is not valid base64") from None
            files = await self.manager.files(self.tenant, self.sandbox_id)
            parent = posixpath.dirname(destination)
            if parent != HOME:
                await self.shell(what, f"mkdir -p {shlex.quote(parent)}")
            try:
                await files.write(destination, data, _mode(options.get("mode"), what))
            except LocalAPIError as exc:
                raise StepFailed(f"{what} {args[0]!r}: {exc.message}") from None
        elif kind == "mkdir":
            if not args:
                raise StepFailed(f"{what}: no path given")
            path = _in_home(args[0], what)
            mode = _mode(options.get("mode"), what)
            await self.shell(what, f"mkdir -p {shlex.quote(path)}" + (f" && chmod {mode:o} {shlex.quote(path)}" if mode is not None else ""))
        elif kind == "pip_install":
            if not args:
                raise StepFailed(f"{what}: no packages given")
            packages = " ".join(shlex.quote(a) for a in args)
            await self.shell(
                f"{what} {' '.join(args)}",
                "python -m pip install --no-input --disable-pip-version-check --no-warn-script-location "
                f"--retries 0 --timeout 15 --upgrade --target {PACKAGES_DIR} {packages}",
                hint=no_network,
            )  # fmt: skip
        elif kind in ("npm_install", "bun_install"):
            tool = "npm" if kind == "npm_install" else "bun"
            if shutil.which(tool) is None:
                raise StepFailed(f"{what}: {tool} is not installed on the machine running GravixLayer Local")
            if not args:
                raise StepFailed(f"{what}: no packages given")
            packages = " ".join(shlex.quote(a) for a in args)
            command = (
                f"npm install --global --prefix {NPM_PREFIX} --no-audit --no-fund {packages}"
                if tool == "npm"
                else f"BUN_INSTALL={HOME}/.bun bun add --global {packages}"
            )
            await self.shell(f"{what} {' '.join(args)}", command, hint=no_network)
        elif kind == "git_clone":
            await self._git_clone(what, args, options, no_network)
        else:  # refused when the request was read; kept for safety
            raise StepFailed(f"{what}: unknown step type")

    async def _git_clone(self, what: str, args: list[str], options: dict[str, str], no_network: str) -> None:
        if shutil.which("git") is None:
            raise StepFailed(f"{what}: git is not installed on the machine running GravixLayer Local")
        if not args:
            raise StepFailed(f"{what}: no repository given")
        url = args[0]
        destination = _in_home(args[1] if len(args) > 1 else posixpath.basename(url.rstrip("/")).removesuffix(".git"), what)
        if not url.startswith(("http://", "https://", "ssh://", "git://", "git@", "file://")):
            url = _in_home(url, f"{what} source") if not url.startswith("/") else url
        command = ["git", "clone", "--quiet"]
        if options.get("branch"):
            command += ["--branch", options["branch"]]
        if options.get("depth"):
            if not options["depth"].isdigit():
                raise StepFailed(f"{what}: depth must be a whole number, got {options['depth']!r}")
            command += ["--depth", options["depth"]]
            if not url.startswith(("http://", "https://", "ssh://", "git://", "git@", "file://")):
                url = "file://" + url
        token = options.get("auth_token")
        if token and url.startswith("https://"):
            url = "https://" + f"x-access-token:{token}@" + url.removeprefix("https://")
        command += ["--", url, destination]
        shown = what + " " + args[0]
        try:
            await self.shell(shown, " ".join(shlex.quote(c) for c in command), hint=no_network)
        except StepFailed as exc:
            message = str(exc).replace(token, "***") if token else str(exc)
            raise StepFailed(message) from None


# -- the service ---------------------------------------------------------------------------------------------


class TemplateLayers:
    """Every built template of one Local, and the builds in progress."""

    def __init__(self, manager: SandboxManager, data_dir: Path) -> None:
        self.manager = manager
        self.root = Path(data_dir) / "templates"
        self.layers: dict[str, Layer] = {}
        self.builds: dict[str, Build] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def load(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        for entry in self.root.iterdir():
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                data = json.loads((entry / "layer.json").read_text())
                layer = Layer(**{**data, "directory": str(entry)})
                self.layers[layer.id] = layer

    def find(self, tenant: str, name_or_id: str) -> Layer | None:
        found = self.layers.get(name_or_id)
        if found is not None and found.tenant == tenant:
            return found
        return next((la for la in self.layers.values() if la.tenant == tenant and la.name == name_or_id), None)

    def get(self, tenant: str, template_id: str) -> Layer:
        layer = self.find(tenant, template_id)
        if layer is None:
            raise LocalAPIError(404, "not_found", f"template {template_id!r} not found")
        return layer

    def list(self, tenant: str) -> list[Layer]:
        return sorted((la for la in self.layers.values() if la.tenant == tenant), key=lambda la: la.created_at)

    def build_of(self, tenant: str, build_id: str) -> Build:
        build = self.builds.get(build_id)
        if build is None or build.tenant != tenant:
            raise LocalAPIError(404, "not_found", f"build {build_id!r} not found")
        return build

    async def delete(self, tenant: str, template_id: str) -> None:
        layer = self.get(tenant, template_id)
        if any(b.template_id == layer.id and b.status in ("pending", "running") for b in self.builds.values()):
            raise LocalAPIError(409, "conflict", f"template {template_id!r} is being built")
        del self.layers[layer.id]
        await asyncio.to_thread(shutil.rmtree, layer.directory, True)

    def start(self, tenant: str, body: dict[str, Any]) -> Build:
        """Accept a build (already validated) and run it in the background."""
        name = body["name"]
        if name in self.manager.templates:
            raise LocalAPIError(409, "conflict", f"{name!r} is a built-in template; choose another name")
        existing = self.find(tenant, body.get("template_id") or name)
        template_id = existing.id if existing else (body.get("template_id") or str(uuid.uuid4()))
        if template_id in self.layers and self.layers[template_id].tenant != tenant:
            raise LocalAPIError(409, "conflict", f"template id {template_id!r} is taken")
        if any(b.template_id == template_id and b.status in ("pending", "running") for b in self.builds.values()):
            raise LocalAPIError(409, "conflict", f"template {name!r} is already being built")
        build = Build(build_id=str(uuid.uuid4()), template_id=template_id, tenant=tenant, name=name)
        self.builds[build.build_id] = build
        self._forget_old()
        task = asyncio.get_running_loop().create_task(self._run(build, body))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return build

    def _forget_old(self) -> None:
        done = [b for b in self.builds.values() if b.completed_at is not None]
        for build in sorted(done, key=lambda b: b.started_at)[: max(0, len(done) - MAX_BUILDS)]:
            del self.builds[build.build_id]

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _run(self, build: Build, body: dict[str, Any]) -> None:
        build.status = "running"
        try:
            await self._build(build, body)
        except StepFailed as exc:
            build.status, build.error = "failed", str(exc)
        except LocalAPIError as exc:
            build.status, build.error = "failed", f"{build.phase}: {exc.message}"
        except asyncio.CancelledError:
            build.status, build.error = "failed", "GravixLayer Local stopped during the build"
            raise
        except Exception as exc:
            log.exception("template build %s failed", build.build_id)
            build.status, build.error = "failed", f"{build.phase}: internal error ({type(exc).__name__})"
        finally:
            build.completed_at = time.time()
            if build.error:
                build.logs.append(f"failed: {build.error}")

    async def _build(self, build: Build, body: dict[str, Any]) -> None:
        steps: list[dict[str, Any]] = body.get("build_steps") or []
        for key in ("docker_image", "dockerfile"):
            if body.get(key):
                raise StepFailed(
                    f"{key} {body[key][:80]!r}: GravixLayer Local cannot run container images; a Local template "
                    "is a layer over the host's Python (python-base-v1) built with run/pip_install/copy_file steps"
                )  # fmt: skip
        needs_node = any(s["type"] == "npm_install" for s in steps)
        base = "javascript-base-v1" if needs_node and "javascript-base-v1" in self.manager.templates else "python-base-v1"
        environment: dict[str, str] = dict(body.get("environment") or {})
        if any(s["type"] == "pip_install" for s in steps):
            environment.setdefault("PYTHONPATH", PACKAGES_DIR)
        if needs_node:  # the sandbox's interpreter stays first on PATH
            python_bin = os.path.dirname(sys.executable)
            environment.setdefault("PATH", f"{NPM_PREFIX}/bin:{python_bin}:/usr/local/bin:/usr/bin:/bin")
            environment.setdefault("NODE_PATH", f"{NPM_PREFIX}/lib/node_modules")
        builder_tenant = BUILDER_PREFIX + build.tenant
        build.logs.append(f"starting a builder sandbox from {base}")
        record = await self.manager.create(
            builder_tenant, template=base, name=f"build of {build.name}", provider=None, region=None,
            timeout=int(STEP_TIMEOUT * (len(steps) + 2)), env_vars=environment,
            metadata={"build_id": build.build_id},
        )  # fmt: skip
        try:
            runtime = await self.manager.runtime(record)
            runner = _Runner(self.manager, builder_tenant, record.id)
            build.phase, build.progress_percent = "preparing", 10
            build.phase = "building"
            for index, step in enumerate(steps):
                build.logs.append(f"step {index + 1}/{len(steps)}: {step['type']} {' '.join(step.get('args') or [])[:200]}")
                await runner.step(index, step)
                build.progress_percent = 10 + int(80 * (index + 1) / max(1, len(steps)))
            build.phase, build.progress_percent = "finalizing", 90
            start_cmd, ready_cmd = body.get("start_cmd"), body.get("ready_cmd")
            ready_timeout = int(body.get("ready_timeout_secs") or 60)
            if start_cmd:
                await start_background(runtime, start_cmd)
            if ready_cmd and not await wait_ready(runtime, ready_cmd, ready_timeout):
                raise StepFailed(f"ready_cmd {ready_cmd!r} did not succeed within {ready_timeout} s")
            await self.manager.pause(builder_tenant, record.id)  # nothing runs while the files are copied
            directory = self.root / build.template_id
            size = await asyncio.to_thread(_commit, runtime.files.home, directory)
        finally:
            with contextlib.suppress(Exception):
                await self.manager.kill(builder_tenant, record.id)
        now = time.time()
        old = self.layers.get(build.template_id)
        layer = Layer(
            id=build.template_id, tenant=build.tenant, name=build.name, description=body.get("description") or "",
            base=base, environment=environment, start_cmd=start_cmd, ready_cmd=ready_cmd,
            ready_timeout_secs=ready_timeout, vcpu_count=int(body.get("vcpu_count") or 2),
            memory_mb=int(body.get("memory_mb") or 512), disk_mb=int(body.get("disk_mb") or 4096),
            tags=dict(body.get("tags") or {}), created_at=old.created_at if old else now, updated_at=now,
            size_bytes=size, directory=str(directory),
        )  # fmt: skip
        data = {k: v for k, v in asdict(layer).items() if k != "directory"}
        await asyncio.to_thread((directory / "layer.json").write_text, json.dumps(data))
        self.layers[layer.id] = layer
        build.status, build.phase, build.progress_percent = "completed", "completed", 100
        build.logs.append(f"template {layer.name} ({layer.id}) ready: {size} bytes")


def _commit(home: Path, directory: Path) -> int:
    """The builder's home as the layer (replacing an older one only once the copy is complete)."""
    directory.mkdir(parents=True, exist_ok=True)
    staging = directory / "home.new"
    shutil.rmtree(staging, ignore_errors=True)
    size = copy_tree(home, staging, None)
    shutil.rmtree(directory / "home", ignore_errors=True)
    os.rename(staging, directory / "home")
    return size
