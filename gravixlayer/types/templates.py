"""Template build pipeline (spec §9): the answers of `client.templates`, and `TemplateBuilder`.

`TemplateBuilder` is the vendor's fluent builder: each method adds to one build request and returns the
builder; `to_dict()` is the JSON body of `POST /templates/build`. Arguments are checked when given, so a
mistake surfaces at the line that made it rather than as a failed build minutes later.
"""

from __future__ import annotations

import base64
import os
import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

import pydantic
from typing_extensions import Self

from .._exceptions import GravixLayerValidationError
from .._models import BaseModel

__all__ = [
    "BuildStep",
    "BuildLogEntry",
    "BuildLogCallback",
    "TemplateBuilder",
    "TemplateBuildResponse",
    "TemplateBuildStatus",
    "TemplateInfo",
    "TemplateSnapshot",
    "TemplateListResponse",
    "TemplateDeleteResponse",
    "STEP_TYPES",
    "BUILD_STATUSES",
    "BUILD_PHASES",
]

STEP_TYPES = ("run", "pip_install", "npm_install", "apt_install", "bun_install", "copy_file", "git_clone", "mkdir")
BUILD_STATUSES = ("pending", "started", "running", "completed", "failed")
BUILD_PHASES = ("initializing", "preparing", "building", "finalizing", "completed")
"""Phases the service names; it may send others."""


class TemplateBuildResponse(BaseModel):
    """`POST /templates/build` (202): the build to poll and the template it makes."""

    build_id: str
    template_id: str
    status: str | None = None
    message: str | None = None


class TemplateBuildStatus(BaseModel):
    """`GET /templates/builds/{id}/status`: status (`pending` ... `completed` / `failed`), phase, progress."""

    _repr_fields = ("build_id", "template_id", "status", "phase", "progress_percent", "error")

    build_id: str
    template_id: str
    status: str = ""
    phase: str = ""
    progress_percent: int = 0
    error: str | None = None
    started_at: str | None = None
    completed_at: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def is_success(self) -> bool:
        return self.status == "completed"


class TemplateInfo(BaseModel):
    id: str
    name: str = ""
    description: str = ""
    vcpu_count: int = 0
    memory_mb: int = 0
    disk_size_mb: int = 0
    visibility: str = "private"
    created_at: str = ""
    updated_at: str = ""
    base_image: str | None = None
    environment: dict[str, str] | None = None
    tags: dict[str, str] | None = None
    provider: str | None = None
    region: str | None = None


class TemplateSnapshot(BaseModel):
    template_id: str
    name: str = ""
    description: str = ""
    has_snapshot: bool = False
    vcpu_count: int = 0
    memory_mb: int = 0
    created_at: str = ""
    envd_version: str | None = None
    snapshot_size_bytes: int | None = None


class TemplateListResponse(BaseModel):
    """`GET /templates`: iterate it, index it or take its `len` (the templates are in `.templates`)."""

    templates: list[TemplateInfo] = pydantic.Field(default_factory=list)
    limit: int | None = None
    offset: int | None = None

    def __iter__(self) -> Iterator[TemplateInfo]:  # type: ignore[override]
        return iter(self.templates)

    def __len__(self) -> int:
        return len(self.templates)

    @overload
    def __getitem__(self, index: int) -> TemplateInfo: ...
    @overload
    def __getitem__(self, index: str) -> Any: ...
    def __getitem__(self, index: int | str) -> Any:
        if isinstance(index, str):
            return self._item(index)
        return self.templates[index]


class TemplateDeleteResponse(BaseModel):
    template_id: str
    deleted: bool = True


@dataclass
class BuildLogEntry:
    """What `build_and_wait(on_status=...)` is called with: a start, each phase change, the end."""

    message: str
    level: str = "info"
    timestamp: str | None = None
    status: TemplateBuildStatus | None = None


BuildLogCallback = Callable[[BuildLogEntry], None]


@dataclass
class BuildStep:
    """One step of a build: `type` (see `STEP_TYPES`), its `args`, file `content`, `options`."""

    type: str
    args: list[str] = field(default_factory=list)
    content: bytes | None = None
    options: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "args": list(self.args)}
        if self.content is not None:
            data["content"] = base64.b64encode(self.content).decode("ascii")
        if self.options:
            data["options"] = dict(self.options)
        return data


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise GravixLayerValidationError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GravixLayerValidationError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


def _packages(kind: str, packages: tuple[str, ...]) -> list[str]:
    if not packages:
        raise GravixLayerValidationError(f"{kind} needs at least one package name")
    return [_text("package", p) for p in packages]


class TemplateBuilder:
    """A template build request, made step by step: `TemplateBuilder("name").pip_install("numpy")...`.

    Both spellings of the vendor's builders work: `vcpu()` / `memory()` / `disk()` / `template_id()` /
    `start_cmd()` / `ready_cmd()` / `env()` / `envs()` / `tags()` / `dockerfile()` and the older `set_*` /
    `from_dockerfile` names. `copy_file` takes either argument order the vendor used (spec §10 D54, see
    its docstring).
    """

    def __init__(self, name: str, description: str = "") -> None:
        self._name = _text("name", name)
        self._description = description
        self._template_id: str | None = None
        self._docker_image: str | None = None
        self._dockerfile: str | None = None
        self._vcpu_count = 2
        self._memory_mb = 512
        self._disk_mb = 4096
        self._start_cmd: str | None = None
        self._ready_cmd: str | None = None
        self._ready_timeout_secs = 60
        self._environment: dict[str, str] = {}
        self._steps: list[BuildStep] = []
        self._tags: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"TemplateBuilder(name={self._name!r}, steps={len(self._steps)})"

    @property
    def name(self) -> str:
        return self._name

    @property
    def steps(self) -> list[BuildStep]:
        return list(self._steps)

    # -- base ---------------------------------------------------------------------------------------

    def from_image(self, image: str) -> Self:
        """A container image to start from (GravixLayer Local cannot run images: its builds fail)."""
        if self._dockerfile:
            raise GravixLayerValidationError("docker_image and dockerfile are mutually exclusive")
        self._docker_image = _text("image", image)
        return self

    def dockerfile(self, content: str) -> Self:
        if self._docker_image:
            raise GravixLayerValidationError("docker_image and dockerfile are mutually exclusive")
        self._dockerfile = _text("dockerfile", content)
        return self

    def from_dockerfile(self, content: str) -> Self:
        return self.dockerfile(content)

    def from_python(self, version: str = "3.11-slim") -> Self:
        return self.from_image(f"python:{version}")

    def from_node(self, version: str = "lts") -> Self:
        return self.from_image(f"node:{version}")

    def from_ubuntu(self, version: str = "22.04") -> Self:
        return self.from_image(f"ubuntu:{version}")

    # -- resources and identity -----------------------------------------------------------------------

    def vcpu(self, count: int) -> Self:
        self._vcpu_count = _count("vcpu_count", count)
        return self

    def memory(self, mb: int) -> Self:
        self._memory_mb = _count("memory_mb", mb)
        return self

    def disk(self, mb: int) -> Self:
        self._disk_mb = _count("disk_mb", mb)
        return self

    def template_id(self, template_id: str) -> Self:
        self._template_id = _text("template_id", template_id)
        return self

    def start_cmd(self, cmd: str) -> Self:
        """A command started in every sandbox made from the template."""
        self._start_cmd = _text("start_cmd", cmd)
        return self

    def ready_cmd(self, cmd: str, timeout_secs: int = 60) -> Self:
        """A check that must exit 0 (within `timeout_secs`) before the template counts as ready."""
        self._ready_cmd = _text("ready_cmd", cmd)
        self._ready_timeout_secs = _count("timeout_secs", timeout_secs)
        return self

    def envs(self, envs: Mapping[str, str]) -> Self:
        for key, value in envs.items():
            self.env(key, value)
        return self

    def env(self, key: str, value: str) -> Self:
        if not isinstance(value, str):
            raise GravixLayerValidationError(f"the value of {key!r} must be a string, got {value!r}")
        self._environment[_text("environment variable name", key)] = value
        return self

    def tags(self, tags: Mapping[str, str]) -> Self:
        self._tags.update({_text("tag", k): str(v) for k, v in tags.items()})
        return self

    set_vcpu = vcpu
    set_memory = memory
    set_disk = disk
    set_template_id = template_id
    set_start_cmd = start_cmd
    set_ready_cmd = ready_cmd
    set_envs = envs
    set_env = env
    set_tags = tags

    # -- steps --------------------------------------------------------------------------------------

    def run(self, command: str) -> Self:
        """A shell command (the cloud runs it as root; GravixLayer Local as the sandbox's user)."""
        self._steps.append(BuildStep("run", [_text("command", command)]))
        return self

    def pip_install(self, *packages: str) -> Self:
        self._steps.append(BuildStep("pip_install", _packages("pip_install", packages)))
        return self

    def npm_install(self, *packages: str) -> Self:
        self._steps.append(BuildStep("npm_install", _packages("npm_install", packages)))
        return self

    def apt_install(self, *packages: str) -> Self:
        self._steps.append(BuildStep("apt_install", _packages("apt_install", packages)))
        return self

    def bun_install(self, *packages: str) -> Self:
        self._steps.append(BuildStep("bun_install", _packages("bun_install", packages)))
        return self

    def copy_file(
        self, first: str | bytes | os.PathLike[str] | None = None, second: str | bytes | None = None,
        mode: str | None = None, user: str | None = None, *, src: str | bytes | os.PathLike[str] | None = None,
        dest: str | None = None, dest_path: str | None = None, content: str | bytes | None = None,
    ) -> Self:  # fmt: skip
        """Put a file into the template (`mode` like "0755").

        Two vendor spellings (spec §10 D54): `copy_file(dest_path, content)` (the older builder) and
        `copy_file(src, dest)` (the newer one, `src` a local file path, inline text or bytes). Keywords
        (`dest_path=`/`content=` or `src=`/`dest=`) are never ambiguous. Given two positional strings, the
        newer order is taken when `first` is an existing local file, or when only `second` looks like an
        absolute path; otherwise the older one.
        """
        if dest_path is not None or content is not None:
            target, data = dest_path if dest_path is not None else first, content if content is not None else second
        elif src is not None or dest is not None:
            target, data = dest if dest is not None else second, _source(src if src is not None else first)
        elif isinstance(first, (bytes, os.PathLike)) or (isinstance(first, str) and os.path.isfile(first)):
            target, data = second, _source(first)
        elif isinstance(second, str) and _looks_absolute(second) and not _looks_absolute(first):
            target, data = second, _source(first)
        else:
            target, data = first, second
        if not isinstance(target, str):
            raise GravixLayerValidationError(f"the destination must be a path string, got {target!r}")
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if not isinstance(payload, bytes):
            raise GravixLayerValidationError(f"content must be str or bytes, got {type(data).__name__}")
        options = {k: v for k, v in (("mode", mode), ("user", user)) if v}
        self._steps.append(BuildStep("copy_file", [_text("destination", target)], payload, options or None))
        return self

    def copy_local_file(self, local_path: str, dest_path: str, mode: str | None = None, user: str | None = None) -> Self:
        with open(local_path, "rb") as source:
            return self.copy_file(dest_path=dest_path, content=source.read(), mode=mode, user=user)

    def copy_dir(self, src: str | os.PathLike[str], dest: str, mode: str | None = None, user: str | None = None) -> Self:
        """Every file under the local directory `src`, at the same relative paths under `dest`."""
        root = os.path.abspath(os.fspath(src))
        if not os.path.isdir(root):
            raise GravixLayerValidationError(f"{root!r} is not a local directory")
        for directory, _dirs, files in os.walk(root):
            for name in sorted(files):
                local = os.path.join(directory, name)
                target = posixpath.join(dest, os.path.relpath(local, root).replace(os.sep, "/"))
                self.copy_local_file(local, target, mode=mode, user=user)
        return self

    def git_clone(
        self, url: str, dest: str | None = None, branch: str | None = None, depth: int | None = None,
        auth_token: str | None = None,
    ) -> Self:  # fmt: skip
        args = [_text("url", url)] + ([dest] if dest else [])
        options = {"branch": branch} if branch else {}
        if depth is not None:
            options["depth"] = str(_count("depth", depth))
        if auth_token:
            options["auth_token"] = auth_token
        self._steps.append(BuildStep("git_clone", args, None, options or None))
        return self

    def mkdir(self, path: str, mode: str | None = None) -> Self:
        """A directory, with its parents."""
        self._steps.append(BuildStep("mkdir", [_text("path", path)], None, {"mode": mode} if mode else None))
        return self

    # -- ready-command helpers ------------------------------------------------------------------------

    @staticmethod
    def wait_for_port(port: int) -> str:
        return f"ss -tuln | grep -q :{int(port)}"

    @staticmethod
    def wait_for_url(url: str, expected_status: int = 200) -> str:
        return f"curl -sf -o /dev/null -w '%{{http_code}}' {url} | grep -q {int(expected_status)}"

    @staticmethod
    def wait_for_file(path: str) -> str:
        return f"test -f {path}"

    @staticmethod
    def wait_for_process(name: str) -> str:
        return f"pgrep {name} > /dev/null"

    # -- the request --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The body of `POST /templates/build` (spec §9)."""
        data: dict[str, Any] = {"name": self._name}
        optional = {
            "description": self._description or None, "template_id": self._template_id,
            "docker_image": self._docker_image, "dockerfile": self._dockerfile,
        }  # fmt: skip
        data.update({k: v for k, v in optional.items() if v is not None})
        data.update(vcpu_count=self._vcpu_count, memory_mb=self._memory_mb, disk_mb=self._disk_mb)
        if self._start_cmd:
            data["start_cmd"] = self._start_cmd
        if self._ready_cmd:
            data["ready_cmd"] = self._ready_cmd
            data["ready_timeout_secs"] = self._ready_timeout_secs
        if self._environment:
            data["environment"] = dict(self._environment)
        if self._steps:
            data["build_steps"] = [step.to_dict() for step in self._steps]
        if self._tags:
            data["tags"] = dict(self._tags)
        return data


def _looks_absolute(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("/") and "\n" not in value and len(value) < 4096


def _source(src: Any) -> bytes | str:
    """`copy_file(src, ...)`: a local file's bytes (a path-like, or a string naming an existing file), else
    the string or bytes themselves."""
    if isinstance(src, os.PathLike) or (isinstance(src, str) and os.path.isfile(src)):
        with open(src, "rb") as source:
            return source.read()
    if isinstance(src, (str, bytes)):
        return src
    raise GravixLayerValidationError(f"src must be a file path, text or bytes, got {type(src).__name__}")
