"""`client.templates`: the template build pipeline (spec §9) under `/v1/agents/templates`.

Requests are built and answers read here once; `Templates` and `AsyncTemplates` only send them, and
`build_and_wait` shares its decisions (`_BuildWait`) so the two differ only in how they sleep.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from typing_extensions import Unpack

from .._exceptions import GravixLayerValidationError, TemplateBuildError, TemplateBuildTimeoutError
from .._parse import parse_model
from .._request import APIRequest, Step, single
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import RequestOptions
from .._validation import require_positive_int
from ..types.templates import (
    BuildLogCallback,
    BuildLogEntry,
    TemplateBuilder,
    TemplateBuildResponse,
    TemplateBuildStatus,
    TemplateDeleteResponse,
    TemplateInfo,
    TemplateListResponse,
    TemplateSnapshot,
)

__all__ = ["Templates", "AsyncTemplates", "TemplateBuilder", "TemplateBuildError", "TemplateBuildTimeoutError"]

log = logging.getLogger("gravixlayer")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _identifier(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise GravixLayerValidationError(f"{name} must be an id (letters, digits, '.', '_', '-'), got {value!r}")
    return value


def _build_request(builder: TemplateBuilder | Mapping[str, Any], options: RequestOptions) -> APIRequest:
    if isinstance(builder, TemplateBuilder):
        body = builder.to_dict()
    elif isinstance(builder, Mapping):
        body = dict(builder)
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise GravixLayerValidationError("a build request needs a non-empty 'name'")
    else:
        raise GravixLayerValidationError(f"build takes a TemplateBuilder or a dict, got {type(builder).__name__}")
    return APIRequest("POST", "agents", "templates/build", options=options, idempotent=False).with_body(body)


def _status_request(build_id: str, options: RequestOptions) -> APIRequest:
    path = f"templates/builds/{_identifier('build_id', build_id)}/status"
    return APIRequest("GET", "agents", path, options=options)


def _list_request(limit: int, offset: int, project_id: str | None, options: RequestOptions) -> APIRequest:
    params: dict[str, Any] = {
        "limit": require_positive_int("limit", limit),
        "offset": require_positive_int("offset", offset, allow_zero=True),
    }
    if project_id:
        params["project_id"] = project_id
    return APIRequest("GET", "agents", "templates", params=params, options=options)


def _template_request(method: str, template_id: str, suffix: str, options: RequestOptions) -> APIRequest:
    path = f"templates/{_identifier('template_id', template_id)}{suffix}"
    return APIRequest(method, "agents", path, options=options)


def _delete_step(template_id: str, options: RequestOptions) -> Step[TemplateDeleteResponse]:
    """DELETE answers 204; the result says what was deleted."""
    yield _template_request("DELETE", template_id, "", options)
    return TemplateDeleteResponse(template_id=template_id, deleted=True)


class _BuildWait:
    """The decisions of `build_and_wait`, shared by both clients (which differ only in how they sleep)."""

    def __init__(self, poll_interval_secs: float, timeout_secs: float, on_status: BuildLogCallback | None) -> None:
        if isinstance(poll_interval_secs, bool) or not poll_interval_secs > 0:
            raise GravixLayerValidationError(f"poll_interval_secs must be > 0, got {poll_interval_secs!r}")
        if isinstance(timeout_secs, bool) or not timeout_secs > 0:
            raise GravixLayerValidationError(f"timeout_secs must be > 0, got {timeout_secs!r}")
        self.poll = float(poll_interval_secs)
        self.timeout = float(timeout_secs)
        self.on_status = on_status
        self.deadline = time.monotonic() + self.timeout
        self.phase: str | None = None
        self.build_id = ""

    def started(self, response: TemplateBuildResponse) -> None:
        self.build_id = response.build_id
        log.info("template build %s started (template %s)", response.build_id, response.template_id)
        self._tell(f"build started: {response.message or response.status or ''}".strip())

    def done(self, status: TemplateBuildStatus) -> bool:
        """True when completed; raises when it failed."""
        if status.phase != self.phase:
            self.phase = status.phase
            self._tell(f"phase: {status.phase} ({status.progress_percent}%)", status=status)
        if status.is_success:
            self._tell("build completed", status=status)
            return True
        if status.status == "failed":
            message = status.error or "the service gave no reason"
            self._tell(f"build failed: {message}", level="error", status=status)
            raise TemplateBuildError(status.build_id, message, status)
        return False

    def delay(self, last: TemplateBuildStatus | None) -> float:
        """Seconds to sleep before the next poll; raises once the time is up."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TemplateBuildTimeoutError(self.build_id, self.timeout, last)
        return min(self.poll, remaining)

    def _tell(self, message: str, *, level: str = "info", status: TemplateBuildStatus | None = None) -> None:
        if self.on_status is not None:
            self.on_status(BuildLogEntry(message=message, level=level, status=status))


class Templates(SyncAPIResource):
    def build(self, builder: TemplateBuilder | Mapping[str, Any], **options: Unpack[RequestOptions]) -> TemplateBuildResponse:
        """Start a build; poll `get_build_status(build_id)` or use `build_and_wait`."""
        request = _build_request(builder, options)
        return self._client.run(single(request, partial(parse_model, TemplateBuildResponse)))

    def get_build_status(self, build_id: str, **options: Unpack[RequestOptions]) -> TemplateBuildStatus:
        request = _status_request(build_id, options)
        return self._client.run(single(request, partial(parse_model, TemplateBuildStatus)))

    def build_and_wait(
        self, builder: TemplateBuilder | Mapping[str, Any], poll_interval_secs: float = 5.0,
        timeout_secs: float = 600, on_status: BuildLogCallback | None = None, **options: Unpack[RequestOptions],
    ) -> TemplateBuildStatus:  # fmt: skip
        """Build and poll until the build completes (its final status) or fails (`TemplateBuildError`);
        `TemplateBuildTimeoutError` after `timeout_secs`. `on_status` hears each phase change."""
        wait = _BuildWait(poll_interval_secs, timeout_secs, on_status)
        wait.started(self.build(builder, **options))
        status: TemplateBuildStatus | None = None
        while True:
            time.sleep(wait.delay(status))
            status = self.get_build_status(wait.build_id, **options)
            if wait.done(status):
                return status

    def list(
        self, limit: int = 100, offset: int = 0, project_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> TemplateListResponse:
        request = _list_request(limit, offset, project_id, options)
        return self._client.run(single(request, partial(parse_model, TemplateListResponse)))

    def get(self, template_id: str, **options: Unpack[RequestOptions]) -> TemplateInfo:
        request = _template_request("GET", template_id, "", options)
        return self._client.run(single(request, partial(parse_model, TemplateInfo)))

    def get_snapshot(self, template_id: str, **options: Unpack[RequestOptions]) -> TemplateSnapshot:
        request = _template_request("GET", template_id, "/snapshot", options)
        return self._client.run(single(request, partial(parse_model, TemplateSnapshot)))

    def delete(self, template_id: str, **options: Unpack[RequestOptions]) -> TemplateDeleteResponse:
        """Delete a template you built (sandboxes already made from it keep their files)."""
        return self._client.run(_delete_step(template_id, options))


class AsyncTemplates(AsyncAPIResource):
    async def build(
        self, builder: TemplateBuilder | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> TemplateBuildResponse:
        """Start a build; poll `get_build_status(build_id)` or use `build_and_wait`."""
        request = _build_request(builder, options)
        return await self._client.run(single(request, partial(parse_model, TemplateBuildResponse)))

    async def get_build_status(self, build_id: str, **options: Unpack[RequestOptions]) -> TemplateBuildStatus:
        request = _status_request(build_id, options)
        return await self._client.run(single(request, partial(parse_model, TemplateBuildStatus)))

    async def build_and_wait(
        self, builder: TemplateBuilder | Mapping[str, Any], poll_interval_secs: float = 5.0,
        timeout_secs: float = 600, on_status: BuildLogCallback | None = None, **options: Unpack[RequestOptions],
    ) -> TemplateBuildStatus:  # fmt: skip
        """Build and poll until the build completes (its final status) or fails (`TemplateBuildError`);
        `TemplateBuildTimeoutError` after `timeout_secs`. `on_status` hears each phase change."""
        wait = _BuildWait(poll_interval_secs, timeout_secs, on_status)
        wait.started(await self.build(builder, **options))
        status: TemplateBuildStatus | None = None
        while True:
            await asyncio.sleep(wait.delay(status))
            status = await self.get_build_status(wait.build_id, **options)
            if wait.done(status):
                return status

    async def list(
        self, limit: int = 100, offset: int = 0, project_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> TemplateListResponse:
        request = _list_request(limit, offset, project_id, options)
        return await self._client.run(single(request, partial(parse_model, TemplateListResponse)))

    async def get(self, template_id: str, **options: Unpack[RequestOptions]) -> TemplateInfo:
        request = _template_request("GET", template_id, "", options)
        return await self._client.run(single(request, partial(parse_model, TemplateInfo)))

    async def get_snapshot(self, template_id: str, **options: Unpack[RequestOptions]) -> TemplateSnapshot:
        request = _template_request("GET", template_id, "/snapshot", options)
        return await self._client.run(single(request, partial(parse_model, TemplateSnapshot)))

    async def delete(self, template_id: str, **options: Unpack[RequestOptions]) -> TemplateDeleteResponse:
        """Delete a template you built (sandboxes already made from it keep their files)."""
        return await self._client.run(_delete_step(template_id, options))
