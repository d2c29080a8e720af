"""The exception tree.

The vendor SDK's users already catch `GravixLayerError`, `GravixLayerAuthenticationError`,
`GravixLayerRateLimitError`, `GravixLayerBadRequestError`, `GravixLayerServerError` and
`GravixLayerConnectionError`; those names stay, and finer classes (not found, conflict, timeout...)
subclass them so old `except` clauses keep working. Messages never include request headers, so the
API key cannot leak through an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "GravixLayerError",
    "GravixLayerAPIError",
    "GravixLayerAuthenticationError",
    "GravixLayerPermissionDeniedError",
    "GravixLayerBadRequestError",
    "GravixLayerValidationError",
    "GravixLayerNotFoundError",
    "GravixLayerConflictError",
    "GravixLayerPayloadTooLargeError",
    "GravixLayerUnprocessableEntityError",
    "GravixLayerRateLimitError",
    "GravixLayerServerError",
    "GravixLayerConnectionError",
    "GravixLayerTimeoutError",
    "GravixLayerStreamError",
    "GravixLayerIncompleteStreamError",
    "GravixLayerResponseValidationError",
    "GravixLayerDeploymentFailedError",
    "GravixLayerWaitTimeoutError",
    "TemplateBuildError",
    "TemplateBuildTimeoutError",
]


class GravixLayerError(Exception):
    """Base of every error this SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class GravixLayerAPIError(GravixLayerError):
    """The server answered, and the answer was an error."""

    status_code: int | None
    body: Any
    code: str | None
    request_id: str | None
    response: httpx.Response | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        code: str | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.code = code
        self.request_id = request_id
        self.response = response
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        parts = []
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.hint:
            text += f" ({self.hint})"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class GravixLayerBadRequestError(GravixLayerAPIError):
    """The request was refused as invalid (HTTP 4xx other than 401 and 429)."""


class GravixLayerValidationError(GravixLayerBadRequestError, ValueError):
    """An argument was refused before anything was sent; nothing reached the server."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class GravixLayerAuthenticationError(GravixLayerAPIError):
    """HTTP 401: the API key is missing, wrong or revoked."""


class GravixLayerPermissionDeniedError(GravixLayerBadRequestError):
    """HTTP 403: the key is valid but may not do this (quota, plan or ownership)."""


class GravixLayerNotFoundError(GravixLayerBadRequestError):
    """HTTP 404: the resource does not exist (or belongs to someone else)."""


class GravixLayerConflictError(GravixLayerBadRequestError):
    """HTTP 409: the request conflicts with existing state (a name already taken, protection on)."""


class GravixLayerPayloadTooLargeError(GravixLayerBadRequestError):
    """HTTP 413: the body is over the server's size limit."""


class GravixLayerUnprocessableEntityError(GravixLayerBadRequestError):
    """HTTP 422: the body was well-formed but its values were refused."""


class GravixLayerRateLimitError(GravixLayerAPIError):
    """HTTP 429 after every retry was spent."""

    retry_after: float | None = None


class GravixLayerServerError(GravixLayerAPIError):
    """HTTP 5xx after every allowed retry was spent."""


class GravixLayerConnectionError(GravixLayerError):
    """No usable answer: the connection failed, was reset, or the body was cut off."""


class GravixLayerTimeoutError(GravixLayerConnectionError):
    """The request did not complete within its timeout."""


class GravixLayerStreamError(GravixLayerAPIError):
    """A streamed answer reported an error, or sent data that is not valid JSON."""


class GravixLayerIncompleteStreamError(GravixLayerStreamError, GravixLayerConnectionError):
    """The stream ended before its `[DONE]` marker: the text received so far is incomplete."""


class GravixLayerResponseValidationError(GravixLayerAPIError):
    """The server answered 2xx with a body this SDK cannot read as the documented type."""


class GravixLayerDeploymentFailedError(GravixLayerError):
    """A deployment being waited for reached the `failed` status; `deployment` is its last state."""

    def __init__(self, message: str, deployment: Any = None) -> None:
        super().__init__(message)
        self.deployment = deployment


class GravixLayerWaitTimeoutError(GravixLayerTimeoutError):
    """A wait-until-ready helper ran out of time before the resource was ready."""


class TemplateBuildError(GravixLayerError):
    """A template build being waited for failed (spec §9); `build_id` and its last `status` say which and why."""

    def __init__(self, build_id: str, message: str, status: Any = None) -> None:
        super().__init__(f"template build {build_id} failed: {message}")
        self.build_id = build_id
        self.status = status


class TemplateBuildTimeoutError(TemplateBuildError, GravixLayerWaitTimeoutError):
    """A template build did not finish within `build_and_wait`'s `timeout_secs`."""

    def __init__(self, build_id: str, timeout_secs: float, status: Any = None) -> None:
        TemplateBuildError.__init__(self, build_id, f"not finished within {timeout_secs:g} s", status)
        self.message = f"template build {build_id} did not finish within {timeout_secs:g} s"
        self.timeout_secs = timeout_secs


_STATUS_CLASSES: dict[int, type[GravixLayerAPIError]] = {
    400: GravixLayerBadRequestError,
    401: GravixLayerAuthenticationError,
    403: GravixLayerPermissionDeniedError,
    404: GravixLayerNotFoundError,
    409: GravixLayerConflictError,
    413: GravixLayerPayloadTooLargeError,
    422: GravixLayerUnprocessableEntityError,
    429: GravixLayerRateLimitError,
}

_HINTS: dict[type[GravixLayerAPIError], str] = {
    GravixLayerAuthenticationError: "check GRAVIXLAYER_API_KEY or the api_key= argument",
    GravixLayerPermissionDeniedError: "this key may not perform the action; check its plan or quota",
    GravixLayerRateLimitError: "too many requests; slow down or raise max_retries",
    GravixLayerServerError: "the service failed; try again later",
}


def error_class_for_status(status: int) -> type[GravixLayerAPIError]:
    """The exception class for an HTTP status, per the mapping in spec §1.7 refined."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return GravixLayerServerError
    return GravixLayerBadRequestError


def hint_for(cls: type[GravixLayerAPIError]) -> str | None:
    return _HINTS.get(cls)
