"""Fixtures for GravixLayer Local tests: real servers on loopback, raw httpx clients."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gravixlayer.local import LocalServer

KEY_A = "test-key-alpha"
KEY_B = "test-key-bravo"
CHAT_MODEL = "meta-llama/llama-3.1-8b-instruct"


@pytest.fixture(autouse=True)
def _no_upstream_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's GRAVIXLAYER_LOCAL_UPSTREAM must not change what the tests see."""
    monkeypatch.delenv("GRAVIXLAYER_LOCAL_UPSTREAM", raising=False)
    monkeypatch.delenv("GRAVIXLAYER_LOCAL_UPSTREAM_KEY", raising=False)


@pytest.fixture(scope="package")
def local() -> Iterator[LocalServer]:
    """One Local with two keys (two tenants) and no upstream."""
    with LocalServer(
        api_keys=[KEY_A, KEY_B], upstream_url=None, deployment_ready_delay=0, chat_engine="standin"
    ) as server:
        yield server


@pytest.fixture(scope="package")
def http(local: LocalServer) -> Iterator[httpx.Client]:
    """A raw client authenticated with the first key."""
    with httpx.Client(
        base_url=local.base_url, headers={"Authorization": f"Bearer {KEY_A}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="package")
def anon(local: LocalServer) -> Iterator[httpx.Client]:
    """A raw client with no key."""
    with httpx.Client(base_url=local.base_url, timeout=30) as client:
        yield client


def chat_body(content: str = "Hello, who are you?", **extra: Any) -> dict[str, Any]:
    return {"model": CHAT_MODEL, "messages": [{"role": "user", "content": content}], **extra}


def sse_events(lines: Iterator[str]) -> list[Any]:
    """Decode ``data:`` lines; ``[DONE]`` is kept as the string ``"[DONE]"``."""
    events: list[Any] = []
    for line in lines:
        if not line:
            continue
        assert line.startswith("data: "), line
        data = line[len("data: ") :]
        events.append(data if data == "[DONE]" else json.loads(data))
    return events


# -- a tiny OpenAI-compatible upstream that records what it receives ---------------------


@dataclass
class FakeUpstream:
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


def _fake_upstream_app(record: FakeUpstream) -> Starlette:
    async def chat(request: Request) -> Response:
        body = json.loads(await request.body())
        record.requests.append(
            {"path": request.url.path, "auth": request.headers.get("authorization"), "body": body}
        )
        if body["model"] == "missing-model":
            return JSONResponse(
                {"error": {"message": "model 'missing-model' not found", "type": "invalid_request_error"}},
                status_code=404,
            )
        text = f"upstream says hi to {body['model']}"
        if not body.get("stream"):
            if request.url.path.endswith("/chat/completions"):
                choice: dict[str, Any] = {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            else:
                choice = {"index": 0, "text": text, "finish_reason": "stop"}
            return JSONResponse(
                {
                    "id": "up-1",
                    "object": "chat.completion",
                    "created": 1,
                    "model": body["model"],
                    "choices": [choice],
                }
            )

        async def events() -> Any:
            for word in text.split(" "):
                chunk = {"id": "up-1", "choices": [{"index": 0, "delta": {"content": word + " "}}]}
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "llama3.2:1b", "object": "model"}]})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/completions", chat, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
        ]
    )


@pytest.fixture(scope="package")
def fake_upstream() -> Iterator[FakeUpstream]:
    record = FakeUpstream()
    server = uvicorn.Server(
        uvicorn.Config(_fake_upstream_app(record), host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "fake upstream did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    record.base_url = f"http://127.0.0.1:{port}/v1"
    yield record
    server.should_exit = True
    thread.join(5)
