"""Forwarding chat and text completions to an OpenAI-compatible server.

Set ``GRAVIXLAYER_LOCAL_UPSTREAM`` (e.g. ``http://127.0.0.1:11434/v1`` for
Ollama) and optionally ``GRAVIXLAYER_LOCAL_UPSTREAM_KEY``. One pooled
``httpx.AsyncClient`` serves all forwarded requests. Upstream errors are
re-shaped into Local's ``{"error", "code"}`` body with the upstream status;
an unreachable upstream is 502, a timeout 504. A stream that breaks midway
ends with an error event and no ``[DONE]``, so clients never mistake it for a
complete answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from ._sse import SSE_HEADERS, SSE_MEDIA_TYPE, sse_data
from .errors import LocalAPIError, code_for_status, logger

__all__ = ["Upstream"]

_MAX_ERROR_TEXT = 500


class Upstream:
    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def __repr__(self) -> str:
        return f"Upstream({self.base_url!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def forward(self, path: str, body: bytes, *, stream: bool) -> Response:
        """POST ``body`` to ``{upstream}{path}`` and relay the answer."""
        request = self._client.build_request("POST", path, content=body)
        response = await self._send(request, stream=stream)
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise _upstream_error(response)
        if not stream:
            return Response(
                response.content,
                status_code=response.status_code,
                media_type=response.headers.get("content-type", "application/json"),
            )
        return StreamingResponse(
            self._relay(response),
            media_type=SSE_MEDIA_TYPE,
            headers=SSE_HEADERS,
            background=BackgroundTask(response.aclose),
        )

    async def models(self) -> list[dict[str, Any]]:
        """The upstream's ``GET /models`` list (OpenAI shape)."""
        response = await self._send(self._client.build_request("GET", "/models"), stream=False)
        if response.status_code >= 400:
            raise _upstream_error(response)
        try:
            data = response.json().get("data", [])
        except (ValueError, AttributeError):
            raise LocalAPIError(502, "upstream_error", "upstream /models is not a JSON list") from None
        return [item for item in data if isinstance(item, dict)]

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            return await self._client.send(request, stream=stream)
        except httpx.TimeoutException:
            raise LocalAPIError(
                504, "upstream_timeout", f"upstream {self.base_url} did not answer in time"
            ) from None
        except httpx.HTTPError as exc:
            raise LocalAPIError(
                502,
                "upstream_unavailable",
                f"could not reach upstream {self.base_url}: {type(exc).__name__}",
            ) from None

    async def _relay(self, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            logger.warning("upstream stream from %s broke: %s", self.base_url, type(exc).__name__)
            message = f"upstream stream broke: {type(exc).__name__}"
            yield b"\n\n" + sse_data({"error": message, "code": "upstream_error"})


def _upstream_error(response: httpx.Response) -> LocalAPIError:
    status = response.status_code
    message = response.text[:_MAX_ERROR_TEXT] or f"upstream answered HTTP {status}"
    code = code_for_status(status)
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or message)
            if isinstance(error.get("code"), str):
                code = error["code"]
        elif isinstance(error, str):
            message = error
            if isinstance(body.get("code"), str):
                code = body["code"]
        elif isinstance(body.get("message"), str):
            message = body["message"]
    if status in (401, 403, 407):
        # Relaying these would tell the caller *their* Local key is wrong.
        return LocalAPIError(502, "upstream_auth_failed", f"upstream rejected Local's credentials: {message}")
    status = status if 400 <= status <= 599 else 502
    return LocalAPIError(status, code, f"upstream: {message}")
