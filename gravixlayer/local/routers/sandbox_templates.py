"""Template builds (spec §9) under ``/v1/agents/templates``: build, build status, get, snapshot, delete.

The builds run in ``sandbox.templates.TemplateLayers``; this module reads requests and shapes answers.
A request Local could never run (an unknown step type, content that is not base64, both `docker_image`
and `dockerfile`) is a 400 before anything starts; a step it cannot execute fails the build itself, with
the step named in the build's `error`. `GET /templates` (in ``sandboxes.py``) lists built templates too.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._body import RequestModel, parse_body
from ..errors import LocalAPIError
from ..sandbox import SandboxManager
from ..sandbox.templates import TemplateLayers
from ..storage import tenant_of
from .sandboxes import PREFIX, _check_env, manager

__all__ = ["routes", "startup", "shutdown"]

MAX_STEPS = 500
MAX_CONTENT = 64 * 1024 * 1024

Name = Annotated[str, Field(min_length=1, max_length=128)]
StepType = Literal["run", "pip_install", "npm_install", "apt_install", "bun_install", "copy_file", "git_clone", "mkdir"]


def _clean(value: str, what: str) -> str:
    if "\x00" in value:
        raise ValueError(f"{what} must not contain a NUL byte")
    return value


class BuildStep(RequestModel):
    type: StepType
    args: list[str] = []
    content: str | None = None
    options: dict[str, str] | None = None

    @field_validator("args")
    @classmethod
    def _args(cls, value: list[str]) -> list[str]:
        for arg in value:
            _clean(arg, "step args")
        return value

    @model_validator(mode="after")
    def _content(self) -> BuildStep:
        if self.content is not None:
            if len(self.content) > MAX_CONTENT * 4 // 3 + 4:
                raise ValueError(f"copy_file content is limited to {MAX_CONTENT} bytes")
            try:
                base64.b64decode(self.content, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("content must be base64 (the bytes of the file)") from None
        return self


class BuildTemplate(RequestModel):
    name: Name
    description: Annotated[str, Field(max_length=4096)] | None = None
    template_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    docker_image: str | None = None
    dockerfile: str | None = None
    vcpu_count: Annotated[int, Field(ge=1, le=256)] = 2
    memory_mb: Annotated[int, Field(ge=1, le=1 << 20)] = 512
    disk_mb: Annotated[int, Field(ge=1, le=1 << 24)] = 4096
    start_cmd: str | None = None
    ready_cmd: str | None = None
    ready_timeout_secs: Annotated[int, Field(ge=1, le=3600)] = 60
    environment: dict[str, str] | None = None
    build_steps: Annotated[list[BuildStep], Field(max_length=MAX_STEPS)] = []
    tags: dict[str, str] | None = None

    _env = field_validator("environment")(_check_env)

    @field_validator("name", "template_id", "start_cmd", "ready_cmd")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None:
            _clean(value, "a name or command")
        return value

    @model_validator(mode="after")
    def _one_image(self) -> BuildTemplate:
        if self.docker_image and self.dockerfile:
            raise ValueError("docker_image and dockerfile are mutually exclusive")
        if self.template_id is not None and not all(ch.isalnum() or ch in "-_." for ch in self.template_id):
            raise ValueError("template_id may hold letters, digits, '-', '_' and '.' only")
        return self


def layers(request: Request) -> TemplateLayers:
    found = getattr(request.app.state, "template_layers", None)
    if not isinstance(found, TemplateLayers):
        raise LocalAPIError(503, "unavailable", "the template service is not running")
    return found


async def build(request: Request) -> Response:
    body = await parse_body(request, BuildTemplate)
    payload: dict[str, Any] = body.model_dump()
    payload["build_steps"] = [step.model_dump() for step in body.build_steps]
    started = layers(request).start(tenant_of(request), payload)
    return JSONResponse(
        {
            "build_id": started.build_id,
            "template_id": started.template_id,
            "status": started.status,
            "message": f"build of template {body.name!r} started",
        },
        status_code=202,
    )


async def build_status(request: Request) -> Response:
    found = layers(request).build_of(tenant_of(request), str(request.path_params["build_id"]))
    return JSONResponse(found.to_json())


def _builtin(request: Request, template_id: str) -> dict[str, Any] | None:
    for template in manager(request).templates.values():
        if template_id in (template.id, template.name):
            return template.to_json()
    return None


async def get_template(request: Request) -> Response:
    template_id = str(request.path_params["template_id"])
    builtin = _builtin(request, template_id)
    if builtin is not None:
        return JSONResponse(builtin)
    return JSONResponse(layers(request).get(tenant_of(request), template_id).to_json())


async def get_snapshot(request: Request) -> Response:
    template_id = str(request.path_params["template_id"])
    builtin = _builtin(request, template_id)
    if builtin is not None:
        return JSONResponse(
            {
                "template_id": builtin["id"], "name": builtin["name"], "description": builtin["description"],
                "has_snapshot": False, "vcpu_count": builtin["vcpu_count"], "memory_mb": builtin["memory_mb"],
                "created_at": builtin["created_at"],
            }
        )  # fmt: skip
    return JSONResponse(layers(request).get(tenant_of(request), template_id).snapshot_json())


async def delete_template(request: Request) -> Response:
    template_id = str(request.path_params["template_id"])
    if _builtin(request, template_id) is not None:
        raise LocalAPIError(403, "permission_denied", f"{template_id!r} is a built-in template; it cannot be deleted")
    await layers(request).delete(tenant_of(request), template_id)
    return Response(status_code=204)


_T = f"{PREFIX}/templates"

routes: list[BaseRoute] = [
    Route(f"{_T}/build", build, methods=["POST"]),
    Route(f"{_T}/builds/{{build_id}}/status", build_status, methods=["GET"]),
    Route(f"{_T}/{{template_id}}", get_template, methods=["GET"]),
    Route(f"{_T}/{{template_id}}/snapshot", get_snapshot, methods=["GET"]),
    Route(f"{_T}/{{template_id}}", delete_template, methods=["DELETE"]),
]


async def startup(app: Starlette) -> None:
    sandboxes = getattr(app.state, "sandboxes", None)
    if not isinstance(sandboxes, SandboxManager):
        return
    service = TemplateLayers(sandboxes, app.state.config.data_dir)
    service.load()
    sandboxes.layers = service.find
    app.state.template_layers = service


async def shutdown(app: Starlette) -> None:
    service = getattr(app.state, "template_layers", None)
    if isinstance(service, TemplateLayers):
        await service.close()
