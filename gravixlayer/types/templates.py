"""Template build pipeline (spec §9): the answers of `client.templates`, and `TemplateBuilder`.

`TemplateBuilder` is the vendor's fluent builder: each method adds to one build request and returns the
builder; `to_dict()` is the JSON body of `POST /templates/build`. Arguments are checked when given, so a
mistake surfaces at the line that made it rather than as a failed build minutes later.
"""

from __future__ import annotations

import base64
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
    """A template build request, made step by step: `TemplateBuilder("name").pip_install("numpy")...`."""

    def __init__(self, name: str, description: str = "") -> None:
        self.name = _text("name", name)
        self.description = description
        self.template_id: str | None = None
        self.docker_image: str | None = None
        self.dockerfile: str | None = None
        self.vcpu_count = 2
        self.memory_mb = 512
        self.disk_mb = 4096
        self.start_cmd: str | None = None
        self.ready_cmd: str | None = None
        self.ready_timeout_secs = 60
        self.environment: dict[str, str] = {}
        self.steps: list[BuildStep] = []
        self.tags: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"TemplateBuilder(name={self.name!r}, steps={len(self.steps)})"

    # -- base ---------------------------------------------------------------------------------------

    def from_image(self, image: str) -> Self:
        """A container image to start from (GravixLayer Local cannot run images: its builds fail)."""
        if self.dockerfile:
            raise GravixLayerValidationError("docker_image and dockerfile are mutually exclusive")
        self.docker_image = _text("image", image)
        return self

    def from_dockerfile(self, content: str) -> Self:
        if self.docker_image:
            raise GravixLayerValidationError("docker_image and dockerfile are mutually exclusive")
        self.dockerfile = _text("dockerfile", content)
        return self

    def from_python(self, version: str = "3.11-slim") -> Self:
        return self.from_image(f"python:{version}")

    def from_node(self, version: str = "lts") -> Self:
        return self.from_image(f"node:{version}")

    def from_ubuntu(self, version: str = "22.04") -> Self:
        return self.from_image(f"ubuntu:{version}")

    # -- resources and identity -----------------------------------------------------------------------

    def set_vcpu(self, count: int) -> Self:
        self.vcpu_count = _count("vcpu_count", count)
        return self

    def set_memory(self, mb: int) -> Self:
        self.memory_mb = _count("memory_mb", mb)
        return self

    def set_disk(self, mb: int) -> Self:
        self.disk_mb = _count("disk_mb", mb)
        return self

    def set_template_id(self, template_id: str) -> Self:
        self.template_id = _text("template_id", template_id)
        return self

    def set_start_cmd(self, cmd: str) -> Self:
        """A command started in every sandbox made from the template."""
        self.start_cmd = _text("start_cmd", cmd)
        return self

    def set_ready_cmd(self, cmd: str, timeout_secs: int = 60) -> Self:
        """A check that must exit 0 (within `timeout_secs`) before the template counts as ready."""
        self.ready_cmd = _text("ready_cmd", cmd)
        self.ready_timeout_secs = _count("timeout_secs", timeout_secs)
        return self

    def set_envs(self, envs: Mapping[str, str]) -> Self:
        for key, value in envs.items():
            self.set_env(key, value)
        return self

    def set_env(self, key: str, value: str) -> Self:
        if not isinstance(value, str):
            raise GravixLayerValidationError(f"the value of {key!r} must be a string, got {value!r}")
        self.environment[_text("environment variable name", key)] = value
        return self

    def set_tags(self, tags: Mapping[str, str]) -> Self:
        self.tags.update({_text("tag", k): str(v) for k, v in tags.items()})
        return self

    # -- steps --------------------------------------------------------------------------------------

    def run(self, command: str) -> Self:
        """A shell command (the cloud runs it as root; GravixLayer Local as the sandbox's user)."""
        self.steps.append(BuildStep("run", [_text("command", command)]))
        return self

    def pip_install(self, *packages: str) -> Self:
        self.steps.append(BuildStep("pip_install", _packages("pip_install", packages)))
        return self

    def npm_install(self, *packages: str) -> Self:
        self.steps.append(BuildStep("npm_install", _packages("npm_install", packages)))
        return self

    def apt_install(self, *packages: str) -> Self:
        self.steps.append(BuildStep("apt_install", _packages("apt_install", packages)))
        return self

    def bun_install(self, *packages: str) -> Self:
        self.steps.append(BuildStep("bun_install", _packages("bun_install", packages)))
        return self

    def copy_file(self, dest_path: str, content: str | bytes, mode: str | None = None, user: str | None = None) -> Self:
        """Put `content` at `dest_path` (`mode` like "0755")."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        if not isinstance(data, bytes):
            raise GravixLayerValidationError(f"content must be str or bytes, got {type(content).__name__}")
        options = {k: v for k, v in (("mode", mode), ("user", user)) if v}
        self.steps.append(BuildStep("copy_file", [_text("dest_path", dest_path)], data, options or None))
        return self

    def copy_local_file(self, local_path: str, dest_path: str, mode: str | None = None, user: str | None = None) -> Self:
        with open(local_path, "rb") as source:
            return self.copy_file(dest_path, source.read(), mode=mode, user=user)

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
        self.steps.append(BuildStep("git_clone", args, None, options or None))
        return self

    def mkdir(self, path: str, mode: str | None = None) -> Self:
        """A directory, with its parents."""
        self.steps.append(BuildStep("mkdir", [_text("path", path)], None, {"mode": mode} if mode else None))
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
        data: dict[str, Any] = {"name": self.name}
        optional = {
            "description": self.description or None, "template_id": self.template_id,
            "docker_image": self.docker_image, "dockerfile": self.dockerfile,
        }  # fmt: skip
        data.update({k: v for k, v in optional.items() if v is not None})
        data.update(vcpu_count=self.vcpu_count, memory_mb=self.memory_mb, disk_mb=self.disk_mb)
        if self.start_cmd:
            data["start_cmd"] = self.start_cmd
        if self.ready_cmd:
            data["ready_cmd"] = self.ready_cmd
            data["ready_timeout_secs"] = self.ready_timeout_secs
        if self.environment:
            data["environment"] = dict(self.environment)
        if self.steps:
            data["build_steps"] = [step.to_dict() for step in self.steps]
        if self.tags:
            data["tags"] = dict(self.tags)
        return data
