"""One error shape for every GravixLayer Local response.

Every failure is JSON ``{"error": "<human message>", "code": "<snake_case>"}``
(rulings §4) with a fitting status. Client mistakes are 4xx, never 500; an
unexpected exception becomes 500 ``internal_error`` with its traceback logged,
never sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "LocalAPIError",
    "error_response",
    "error_body",
    "exception_handlers",
    "logger",
]

logger = logging.getLogger("gravixlayer.local")

_CODES_BY_STATUS: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "unavailable",
    504: "upstream_timeout",
}


class LocalAPIError(Exception):
    """Raise anywhere in a route to answer ``status`` with ``{"error", "code"}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"LocalAPIError({self.status}, {self.code!r}, {self.message!r})"

    def to_response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.headers)


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": message, "code": code}).encode("utf-8")


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        error_body(code, message),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def code_for_status(status: int) -> str:
    return _CODES_BY_STATUS.get(status, "internal_error" if status >= 500 else "invalid_request")


async def _handle_local_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LocalAPIError)
    return exc.to_response()


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (unknown route, wrong method) in our shape."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif status == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"method {request.method} is not allowed for {request.url.path}"
        if allowed:
            message += f" (allowed: {allowed})"
    else:
        message = str(exc.detail)
    return error_response(status, code_for_status(status), message, exc.headers)


exception_handlers = {
    LocalAPIError: _handle_local_error,
    HTTPException: _handle_http_exception,
}
