"""The HTTP core: configuration, URL and header building, error mapping, and the two request loops.

Everything a request needs is decided in `BaseClient` (shared); `SyncAPIClient` and
`AsyncAPIClient` differ only in how they send, sleep and close.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    SERVICE_PREFIXES,
    STRIPPABLE_PREFIXES,
)
from ._exceptions import (
    GravixLayerAPIError,
    GravixLayerConnectionError,
    GravixLayerError,
    GravixLayerRateLimitError,
    GravixLayerTimeoutError,
    GravixLayerValidationError,
    error_class_for_status,
    hint_for,
)
from ._request import APIRequest, Step
from ._retry import parse_retry_after, retry_delay, retry_reason_for_exception, retry_reason_for_status
from ._types import TimeoutTypes
from ._version import __version__

__all__ = ["BaseClient", "SyncAPIClient", "AsyncAPIClient", "normalize_base_url", "mask_key"]

log = logging.getLogger("gravixlayer")

RECORDED_RESPONSES: ContextVar[list[httpx.Response] | None] = ContextVar("gravixlayer_responses", default=None)
"""Set by `with_raw_response` wrappers: every successful response of the call is appended (see _response.py)."""

T = TypeVar("T")

_NOT_GIVEN: Any = object()


def normalize_base_url(url: str) -> str:
    """Reduce a base URL to what every service prefix is appended to (spec §1.2 era B, decision 1)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GravixLayerValidationError(
            f"base_url must start with http:// or https:// and name a host, got {url!r}"
        )
    path = parts.path
    for prefix in STRIPPABLE_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            path = ""
            break
    return f"{parts.scheme}://{parts.netloc}{path}"


def mask_key(key: str) -> str:
    """A key shown to a person: enough to tell two keys apart, never enough to use one."""
    if len(key) <= 8:
        return "****"
    return f"{key[:3]}****{key[-4:]}"


def _request_id(response: httpx.Response) -> str | None:
    value: str | None = response.headers.get("x-request-id") or response.headers.get("x-correlation-id")
    return value


def _error_message(body: Any, fallback: str) -> tuple[str, str | None]:
    """Message and code from any error body shape the platform or an OpenAI-style server sends."""
    if isinstance(body, dict):
        err = body.get("error")
        code = body.get("code")
        if isinstance(err, dict):
            message = err.get("message") or err.get("error") or fallback
            code = err.get("code") or err.get("type") or code
            return str(message), str(code) if code is not None else None
        if isinstance(err, str) and err:
            return err, str(code) if code is not None else None
        for key in ("message", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key], str(code) if code is not None else None
        return fallback, str(code) if code is not None else None
    if isinstance(body, str) and body.strip():
        return body.strip()[:2000], None
    return fallback, None


def make_status_error(response: httpx.Response) -> GravixLayerAPIError:
    """The typed exception for a non-2xx response whose body has been read."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    reason = response.reason_phrase or "error"
    message, code = _error_message(body, f"{reason} from {response.request.method} {response.request.url.path}")
    cls = error_class_for_status(response.status_code)
    error = cls(
        message,
        status_code=response.status_code,
        body=body,
        code=code,
        request_id=_request_id(response),
        response=response,
        hint=hint_for(cls),
    )
    if isinstance(error, GravixLayerRateLimitError):
        error.retry_after = parse_retry_after(response.headers)
    return error


def connection_error(exc: httpx.TransportError, request: APIRequest) -> GravixLayerConnectionError:
    where = f"{request.method} /{SERVICE_PREFIXES.get(request.service, '').strip('/')}/{request.path}".rstrip("/")
    if isinstance(exc, httpx.TimeoutException):
        return GravixLayerTimeoutError(
            f"{where} timed out ({type(exc).__name__}); raise timeout= or check the network"
        )
    return GravixLayerConnectionError(f"{where} failed: {type(exc).__name__}: {exc}; check base_url and the network")


class BaseClient:
    """Configuration and request building shared by the sync and async clients."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: TimeoutTypes | object,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("GRAVIXLAYER_API_KEY")
        if not key:
            raise GravixLayerValidationError(
                "No API key: pass api_key=... or set the GRAVIXLAYER_API_KEY environment variable "
                "(or use gravixlayer.local for an offline server)"
            )
        if max_retries < 0:
            raise GravixLayerValidationError(f"max_retries must be >= 0, got {max_retries}")
        self._api_key = key
        self.base_url = normalize_base_url(base_url or os.environ.get("GRAVIXLAYER_BASE_URL") or DEFAULT_BASE_URL)
        self.timeout: TimeoutTypes = DEFAULT_TIMEOUT if timeout is _NOT_GIVEN else timeout  # type: ignore[assignment]
        self.max_retries = max_retries
        self._default_headers = dict(default_headers or {})

    @property
    def api_key(self) -> str:
        return self._api_key

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_key={mask_key(self._api_key)!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries})"
        )

    # -- request building -------------------------------------------------------------------------

    def url_for(self, service: str, path: str = "") -> str:
        if path.startswith(("http://", "https://")):
            return path
        prefix = SERVICE_PREFIXES[service]
        path = path.lstrip("/")
        return f"{self.base_url}{prefix}/{path}" if path else f"{self.base_url}{prefix}"

    def _headers(self, request: APIRequest) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": f"gravixlayer-python/{__version__}",
            "Accept": "text/event-stream" if request.stream else "application/json",
        }
        headers.update(self._default_headers)
        if request.headers:
            headers.update(request.headers)
        extra = request.options.get("extra_headers")
        if extra:
            headers.update(extra)
        return headers

    def _build_request(self, request: APIRequest) -> httpx.Request:
        params: dict[str, Any] = dict(request.params or {})
        extra_query = request.options.get("extra_query")
        if extra_query:
            params.update(extra_query)
        timeout = request.options.get("timeout", self.timeout)
        files = request.files() if callable(request.files) else request.files
        return self._http.build_request(
            request.method,
            self.url_for(request.service, request.path),
            json=request.json,
            params=params or None,
            files=files,
            data=request.data,
            content=request.content,
            headers=self._headers(request),
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        )

    def _check_open(self) -> None:
        if self._http.is_closed:
            raise GravixLayerError(
                f"this {type(self).__name__} is closed (close() was called or its with-block ended); "
                "create a new client"
            )

    def _max_retries(self, request: APIRequest) -> int:
        value = request.options.get("max_retries", self.max_retries)
        if value < 0:
            raise GravixLayerValidationError(f"max_retries must be >= 0, got {value}")
        return value

    def _retry_after_response(self, request: APIRequest, response: httpx.Response, attempt: int) -> float | None:
        if attempt >= self._max_retries(request):
            return None
        reason = retry_reason_for_status(response.status_code, idempotent=request.idempotent)
        if reason is None:
            return None
        wait = retry_delay(attempt, response.headers)
        self._log_retry(request, reason, wait, attempt)
        return wait

    def _retry_after_exception(self, request: APIRequest, exc: httpx.TransportError, attempt: int) -> float | None:
        if attempt >= self._max_retries(request):
            return None
        reason = retry_reason_for_exception(exc, idempotent=request.idempotent)
        if reason is None:
            return None
        wait = retry_delay(attempt)
        self._log_retry(request, reason, wait, attempt)
        return wait

    def _log_retry(self, request: APIRequest, reason: str, wait: float, attempt: int) -> None:
        log.info(
            "retrying %s %s after %s in %.2fs (retry %d of %d)",
            request.method,
            self.url_for(request.service, request.path),
            reason,
            wait,
            attempt + 1,
            self._max_retries(request),
        )


class SyncAPIClient(BaseClient):
    """Sends requests on one pooled `httpx.Client`."""

    _http: httpx.Client

    def __init__(self, *, http_client: httpx.Client | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(limits=DEFAULT_LIMITS, follow_redirects=True)

    def send(self, request: APIRequest) -> httpx.Response:
        """Send with retries; a 2xx response is returned (unread when streaming), anything else raises."""
        self._check_open()
        attempt = 0
        while True:
            built = self._build_request(request)
            try:
                response = self._http.send(built, stream=request.stream)
            except httpx.TransportError as exc:
                wait = self._retry_after_exception(request, exc, attempt)
                if wait is None:
                    raise connection_error(exc, request) from exc
            else:
                if response.is_success:
                    record = RECORDED_RESPONSES.get()
                    if record is not None:
                        record.append(response)
                    return response
                wait = self._retry_after_response(request, response, attempt)
                if wait is None:
                    try:
                        response.read()
                    except httpx.TransportError:
                        pass
                    finally:
                        response.close()
                    raise make_status_error(response)
                response.close()
            time.sleep(wait)
            attempt += 1

    def run(self, step: Step[T]) -> T:
        """Drive a multi-step operation, feeding each response (or error) back into it."""
        try:
            request = next(step)
            while True:
                try:
                    response = self.send(request)
                except GravixLayerError as exc:
                    request = step.throw(exc)
                else:
                    request = step.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed


class AsyncAPIClient(BaseClient):
    """Sends requests on one pooled `httpx.AsyncClient`; the async twin of `SyncAPIClient`."""

    _http: httpx.AsyncClient

    def __init__(self, *, http_client: httpx.AsyncClient | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(limits=DEFAULT_LIMITS, follow_redirects=True)

    async def send(self, request: APIRequest) -> httpx.Response:
        self._check_open()
        attempt = 0
        while True:
            built = self._build_request(request)
            try:
                response = await self._http.send(built, stream=request.stream)
            except httpx.TransportError as exc:
                wait = self._retry_after_exception(request, exc, attempt)
                if wait is None:
                    raise connection_error(exc, request) from exc
            else:
                if response.is_success:
                    record = RECORDED_RESPONSES.get()
                    if record is not None:
                        record.append(response)
                    return response
                wait = self._retry_after_response(request, response, attempt)
                if wait is None:
                    try:
                        await response.aread()
                    except httpx.TransportError:
                        pass
                    finally:
                        await response.aclose()
                    raise make_status_error(response)
                await response.aclose()
            await asyncio.sleep(wait)
            attempt += 1

    async def run(self, step: Step[T]) -> T:
        try:
            request = next(step)
            while True:
                try:
                    response = await self.send(request)
                except GravixLayerError as exc:
                    request = step.throw(exc)
                else:
                    request = step.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    aclose = close

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed
