"""Scripted faulty servers for the core tests: each call pops the next planned reaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

Reaction = Callable[[httpx.Request], httpx.Response]


class Script:
    """A sync and async transport that answers requests from a list of reactions, recording each request."""

    def __init__(self, *reactions: Reaction | httpx.Response | Exception) -> None:
        self.reactions = list(reactions)
        self.requests: list[httpx.Request] = []

    def _react(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.reactions:
            raise AssertionError(f"unexpected extra request {request.method} {request.url}")
        reaction = self.reactions.pop(0)
        if isinstance(reaction, Exception):
            raise reaction
        if isinstance(reaction, httpx.Response):
            return reaction
        return reaction(request)

    def sync_client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._react), **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self._react(request)

        return httpx.AsyncClient(transport=httpx.MockTransport(handler), **kwargs)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


CHAT_OK = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
