"""`/v1/deployments`: dedicated model deployments (spec §4, rulings 12-13).

The service has no get-by-id endpoint: `get`, `delete` and `wait_until_ready` find the deployment
by id or name in the list (spec §4.3).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import string
import time
from functools import cached_property
from types import TracebackType
from typing import Any

import httpx
from typing_extensions import Unpack

from .._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerConflictError,
    GravixLayerDeploymentFailedError,
    GravixLayerNotFoundError,
    GravixLayerValidationError,
    GravixLayerWaitTimeoutError,
)
from .._parse import json_body, to_model
from .._request import APIRequest, Step, single
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from .._types import RequestOptions, TimedRequestOptions, as_request_options
from .._validation import require_positive_int, require_str
from ..types.accelerators import AcceleratorList
from ..types.deployments import Deployment, DeploymentDeleteResponse, DeploymentList
from ._listing import parse_list
from ._progress import progress_bar
from .accelerators import list_request as _hardware_request
from .accelerators import parse_accelerators

__all__ = ["Deployments", "AsyncDeployments", "MAX_NAME_ATTEMPTS"]

log = logging.getLogger("gravixlayer.deployments")

MAX_NAME_ATTEMPTS = 5
"""With `auto_retry=True`: the given name, then up to four suffixed names."""

DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_POLL_INTERVAL = 5.0

_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def unique_name(base: str) -> str:
    """`base-<last 4 digits of unix time><4 random [a-z0-9]>`, the vendor's suffix (spec §4.1)."""
    random_part = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(4))
    return f"{base}-{int(time.time()) % 10000:04d}{random_part}"


def _is_name_conflict(exc: GravixLayerBadRequestError) -> bool:
    """A refusal because the name is taken: 409, or any 4xx whose message says "already exists"."""
    if isinstance(exc, GravixLayerValidationError):
        return False
    return (
        isinstance(exc, GravixLayerConflictError)
        or exc.code == "conflict"
        or "already exists" in exc.message.lower()
    )


def _create_step(
    *,
    deployment_name: str,
    model_name: str,
    gpu_model: str,
    gpu_count: int,
    min_replicas: int,
    max_replicas: int,
    hw_type: str,
    auto_retry: bool,
    options: RequestOptions,
) -> Step[Deployment]:
    body: dict[str, Any] = {
        "deployment_name": require_str("deployment_name", deployment_name),
        "hw_type": require_str("hw_type", hw_type),
        "gpu_model": require_str("gpu_model", gpu_model),
        "gpu_count": require_positive_int("gpu_count", gpu_count),
        "min_replicas": require_positive_int("min_replicas", min_replicas, allow_zero=True),
        "max_replicas": require_positive_int("max_replicas", max_replicas),
        "model_name": require_str("model_name", model_name),
    }
    if max_replicas < min_replicas:
        raise GravixLayerValidationError(f"max_replicas ({max_replicas}) must be >= min_replicas ({min_replicas})")
    name = deployment_name
    attempts = MAX_NAME_ATTEMPTS if auto_retry else 1
    for attempt in range(1, attempts + 1):
        # Each POST is sent as not idempotent: the core repeats it only when the server provably did not
        # act on it. A new name is tried only after the service refused the previous one as taken, so
        # one call never creates two deployments.
        request = APIRequest("POST", "deployments", "create", options=options, idempotent=False)
        try:
            response = yield request.with_body({**body, "deployment_name": name})
        except GravixLayerBadRequestError as exc:
            if attempt == attempts or not _is_name_conflict(exc):
                raise
            taken, name = name, unique_name(deployment_name)
            log.info("deployment name %r is taken; retrying as %r", taken, name)
            continue
        raw = json_body(response)
        data = raw if isinstance(raw, dict) else {}
        if data.get("deployment_name") is None:
            # The caller needs the name that was accepted (it may carry a suffix) even if the answer omits it.
            data = {**data, "deployment_name": name}
        return to_model(Deployment, data, response)
    raise AssertionError("unreachable")  # pragma: no cover


def _list_request(options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "deployments", "list", options=options)


def _parse_deployments(response: httpx.Response) -> DeploymentList:
    return parse_list(DeploymentList, response, keys=("deployments", "data"))


def _match(deployments: DeploymentList, id_or_name: str) -> Deployment:
    """The deployment with this id, else with this name; a not-found error naming what exists."""
    for deployment in deployments:
        if deployment.deployment_id == id_or_name:
            return deployment
    for deployment in deployments:
        if deployment.deployment_name == id_or_name:
            return deployment
    names = [d.deployment_name or d.deployment_id or "?" for d in deployments]
    shown = ", ".join(repr(n) for n in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise GravixLayerNotFoundError(
        f"no deployment has the id or name {id_or_name!r}"
        + (f"; existing deployments: {shown}" if names else "; there are no deployments")
    )


def _get_step(id_or_name: str, options: RequestOptions) -> Step[Deployment]:
    require_str("id_or_name", id_or_name)
    response = yield _list_request(options)
    return _match(_parse_deployments(response), id_or_name)


def _delete_step(id_or_name: str, options: RequestOptions) -> Step[DeploymentDeleteResponse]:
    deployment = yield from _get_step(id_or_name, options)
    if not deployment.deployment_id:
        raise GravixLayerNotFoundError(f"deployment {id_or_name!r} is listed without a deployment_id; cannot delete it")
    response = yield APIRequest("DELETE", "deployments", f"delete/{deployment.deployment_id}", options=options)
    body = json_body(response)
    return to_model(DeploymentDeleteResponse, body if isinstance(body, dict) else {}, response)


class _ReadyWait:
    """The decisions of `wait_until_ready`, shared by both clients (which differ only in how they sleep)."""

    def __init__(self, id_or_name: str, timeout: float | None, poll_interval: float, progress: bool) -> None:
        require_str("id_or_name", id_or_name)
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise GravixLayerValidationError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        if isinstance(poll_interval, bool) or not poll_interval > 0:
            raise GravixLayerValidationError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        self.id_or_name = id_or_name
        self.timeout = timeout
        self.poll_interval = float(poll_interval)
        self.started = time.monotonic()
        self.status: str | None = None
        self._bar = progress_bar(progress, total=None, desc=f"deployment {id_or_name}", unit="poll")

    def __enter__(self) -> _ReadyWait:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()

    def done(self, deployment: Deployment) -> bool:
        """True when ready; raises when it failed."""
        self.status = deployment.status
        if self._bar is not None:
            self._bar.set_postfix_str(f"status={deployment.status}", refresh=False)
            self._bar.update(1)
        if deployment.is_ready:
            return True
        if deployment.is_failed:
            reason = deployment.failure_reason
            raise GravixLayerDeploymentFailedError(
                f"deployment {deployment.deployment_name or self.id_or_name!r} "
                f"({deployment.deployment_id}) is {deployment.status!r}" + (f": {reason}" if reason else ""),
                deployment,
            )
        return False

    def delay(self) -> float:
        """Seconds to sleep before the next poll; raises once the time is up."""
        if self.timeout is None:
            return self.poll_interval
        remaining = self.started + self.timeout - time.monotonic()
        if remaining <= 0:
            raise GravixLayerWaitTimeoutError(
                f"deployment {self.id_or_name!r} was not ready after {self.timeout:g} s "
                f"(last status {self.status!r}); wait longer with timeout=..."
            )
        return min(self.poll_interval, remaining)


class Deployments(SyncAPIResource):
    @cached_property
    def with_raw_response(self) -> DeploymentsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return DeploymentsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> DeploymentsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return DeploymentsWithStreamingResponse(self)

    def create(
        self,
        deployment_name: str,
        model_name: str,
        gpu_model: str,
        gpu_count: int = 1,
        min_replicas: int = 1,
        max_replicas: int = 1,
        hw_type: str = "dedicated",
        auto_retry: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Deployment:
        """Deploy `model_name` on `gpu_count` x `gpu_model` (names as in `list_hardware()`).

        With `auto_retry=True`, a name that is already taken is replaced by `name-<suffix>` (up to
        four times) after the service refuses it; `deployment_name` of the result is the name used.
        A create is never re-sent once the service may have acted on it.
        """
        return self._client.run(
            _create_step(
                deployment_name=deployment_name, model_name=model_name, gpu_model=gpu_model,
                gpu_count=gpu_count, min_replicas=min_replicas, max_replicas=max_replicas,
                hw_type=hw_type, auto_retry=auto_retry, options=options,
            )
        )  # fmt: skip

    def list(self, **options: Unpack[RequestOptions]) -> DeploymentList:
        """Every deployment of this account; iterate the result or read `.data`."""
        return self._client.run(single(_list_request(options), _parse_deployments))

    def get(self, id_or_name: str, **options: Unpack[RequestOptions]) -> Deployment:
        """The deployment with this id or name; `GravixLayerNotFoundError` if none."""
        return self._client.run(_get_step(id_or_name, options))

    def delete(self, id_or_name: str, **options: Unpack[RequestOptions]) -> DeploymentDeleteResponse:
        """Delete the deployment with this id or name; `GravixLayerNotFoundError` if none."""
        return self._client.run(_delete_step(id_or_name, options))

    def list_hardware(self, **options: Unpack[RequestOptions]) -> AcceleratorList:
        """The GPU types a deployment can use (the same list as `accelerators.list()`)."""
        return self._client.run(single(_hardware_request(options), parse_accelerators))

    def wait_until_ready(
        self,
        id_or_name: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        progress: bool = False,
        **options: Unpack[TimedRequestOptions],
    ) -> Deployment:
        """Poll until the deployment is running and return it.

        Raises `GravixLayerDeploymentFailedError` if it fails, `GravixLayerWaitTimeoutError` if it is
        not ready within `timeout` seconds (None: no limit), `GravixLayerNotFoundError` if it does not
        exist. `progress=True` shows the status as it changes; `http_timeout=` bounds each poll.
        """
        with _ReadyWait(id_or_name, timeout, poll_interval, progress) as wait:
            while True:
                deployment = self._client.run(_get_step(id_or_name, as_request_options(options)))
                if wait.done(deployment):
                    return deployment
                time.sleep(wait.delay())


class AsyncDeployments(AsyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AsyncDeploymentsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncDeploymentsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncDeploymentsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncDeploymentsWithStreamingResponse(self)

    async def create(
        self,
        deployment_name: str,
        model_name: str,
        gpu_model: str,
        gpu_count: int = 1,
        min_replicas: int = 1,
        max_replicas: int = 1,
        hw_type: str = "dedicated",
        auto_retry: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Deployment:
        """Deploy `model_name` on `gpu_count` x `gpu_model` (names as in `list_hardware()`).

        With `auto_retry=True`, a name that is already taken is replaced by `name-<suffix>` (up to
        four times) after the service refuses it; `deployment_name` of the result is the name used.
        A create is never re-sent once the service may have acted on it.
        """
        return await self._client.run(
            _create_step(
                deployment_name=deployment_name, model_name=model_name, gpu_model=gpu_model,
                gpu_count=gpu_count, min_replicas=min_replicas, max_replicas=max_replicas,
                hw_type=hw_type, auto_retry=auto_retry, options=options,
            )
        )  # fmt: skip

    async def list(self, **options: Unpack[RequestOptions]) -> DeploymentList:
        """Every deployment of this account; iterate the result or read `.data`."""
        return await self._client.run(single(_list_request(options), _parse_deployments))

    async def get(self, id_or_name: str, **options: Unpack[RequestOptions]) -> Deployment:
        """The deployment with this id or name; `GravixLayerNotFoundError` if none."""
        return await self._client.run(_get_step(id_or_name, options))

    async def delete(self, id_or_name: str, **options: Unpack[RequestOptions]) -> DeploymentDeleteResponse:
        """Delete the deployment with this id or name; `GravixLayerNotFoundError` if none."""
        return await self._client.run(_delete_step(id_or_name, options))

    async def list_hardware(self, **options: Unpack[RequestOptions]) -> AcceleratorList:
        """The GPU types a deployment can use (the same list as `accelerators.list()`)."""
        return await self._client.run(single(_hardware_request(options), parse_accelerators))

    async def wait_until_ready(
        self,
        id_or_name: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        progress: bool = False,
        **options: Unpack[TimedRequestOptions],
    ) -> Deployment:
        """Poll until the deployment is running and return it.

        Raises `GravixLayerDeploymentFailedError` if it fails, `GravixLayerWaitTimeoutError` if it is
        not ready within `timeout` seconds (None: no limit), `GravixLayerNotFoundError` if it does not
        exist. `progress=True` shows the status as it changes; `http_timeout=` bounds each poll.
        """
        with _ReadyWait(id_or_name, timeout, poll_interval, progress) as wait:
            while True:
                deployment = await self._client.run(_get_step(id_or_name, as_request_options(options)))
                if wait.done(deployment):
                    return deployment
                await asyncio.sleep(wait.delay())


class DeploymentsWithRawResponse:
    """Each method of `Deployments` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Deployments) -> None:
        self.create = to_raw_response_wrapper(resource.create)
        self.list = to_raw_response_wrapper(resource.list)
        self.get = to_raw_response_wrapper(resource.get)
        self.delete = to_raw_response_wrapper(resource.delete)
        self.list_hardware = to_raw_response_wrapper(resource.list_hardware)


class DeploymentsWithStreamingResponse:
    """Each method of `Deployments` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Deployments) -> None:
        self.create = to_streamed_response_wrapper(resource.create)
        self.list = to_streamed_response_wrapper(resource.list)
        self.get = to_streamed_response_wrapper(resource.get)
        self.delete = to_streamed_response_wrapper(resource.delete)
        self.list_hardware = to_streamed_response_wrapper(resource.list_hardware)


class AsyncDeploymentsWithRawResponse:
    """Each method of `AsyncDeployments` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncDeployments) -> None:
        self.create = async_to_raw_response_wrapper(resource.create)
        self.list = async_to_raw_response_wrapper(resource.list)
        self.get = async_to_raw_response_wrapper(resource.get)
        self.delete = async_to_raw_response_wrapper(resource.delete)
        self.list_hardware = async_to_raw_response_wrapper(resource.list_hardware)


class AsyncDeploymentsWithStreamingResponse:
    """Each method of `AsyncDeployments` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncDeployments) -> None:
        self.create = async_to_streamed_response_wrapper(resource.create)
        self.list = async_to_streamed_response_wrapper(resource.list)
        self.get = async_to_streamed_response_wrapper(resource.get)
        self.delete = async_to_streamed_response_wrapper(resource.delete)
        self.list_hardware = async_to_streamed_response_wrapper(resource.list_hardware)
