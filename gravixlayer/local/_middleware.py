"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer SSE streams).

``RequestContextMiddleware`` is the outermost layer: it stamps every response
with ``x-request-id`` and turns any exception that escaped the routes into a
logged 500 ``internal_error``. ``AuthMiddleware`` then requires
``Authorization: Bearer <key>`` and records the caller's tenant id in
``scope["state"]["tenant"]``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._config import tenant_id
from .errors import error_body, logger

__all__ = ["RequestContextMiddleware", "AuthMiddleware", "PUBLIC_PATHS"]

PUBLIC_PATHS = frozenset({"/health"})
"""Paths answered without a key (GET only)."""


def _state(scope: Scope) -> dict[str, object]:
    state = scope.setdefault("state", {})
    assert isinstance(state, dict)
    return state


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        _state(scope)["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("ascii"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            logger.debug("client disconnected during request %s", request_id)
        except Exception:
            logger.exception(
                "unhandled error in %s %s (request %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
            )
            if started:
                return  # headers are out; the server closes the connection
            message = f"internal server error (request id {request_id}); see the server log"
            await send_json_error(send_with_id, 500, "internal_error", message)


async def send_json_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Send a complete ``{"error", "code"}`` response at the raw ASGI level."""
    body = error_body(code, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    """Bearer-key check in constant time; the key itself is never kept.

    Only SHA-256 digests of the configured keys are held, every digest is
    compared (no early exit), and the tenant id is derived from the digest.
    """

    def __init__(self, app: ASGIApp, api_keys: Iterable[str]) -> None:
        self.app = app
        self._digests = [(hashlib.sha256(key.encode("utf-8")).digest(), tenant_id(key)) for key in api_keys]
        if not self._digests:
            raise ValueError("AuthMiddleware needs at least one API key")

    def _tenant_for(self, authorization: bytes | None) -> str | None:
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        presented = hashlib.sha256(token.strip()).digest()
        found: str | None = None
        for digest, tenant in self._digests:
            if hmac.compare_digest(presented, digest):
                found = tenant
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path") in PUBLIC_PATHS and scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value
                break
        tenant = self._tenant_for(authorization)
        if tenant is None:
            message = (
                "missing API key: send 'Authorization: Bearer <key>'"
                if not authorization
                else "invalid API key"
            )
            await send_json_error(send, 401, "unauthorized", message, [(b"www-authenticate", b"Bearer")])
            return
        _state(scope)["tenant"] = tenant
        await self.app(scope, receive, send)
