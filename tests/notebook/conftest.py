"""Fixtures for the notebook toolkit: one singleton IPython shell with the extension loaded.

Display calls (`display`, `update_display`) and `capture_output()` only reach the singleton shell,
so the tests use `InteractiveShell.instance()` (never `globalipapp`, which is text/plain only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer
from gravixlayer_notebook._client import ClientProvider, default_provider
from gravixlayer_notebook._magics import GravixMagics


@pytest.fixture(scope="session")
def ip() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.history_manager.enabled = False
    shell.run_line_magic("load_ext", "gravixlayer_notebook")
    yield shell
    shell.run_line_magic("unload_ext", "gravixlayer_notebook")


@pytest.fixture
def magics(ip: InteractiveShell, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[GravixMagics]:
    """The loaded GravixMagics, talking to the session's Local, with default settings and no history."""
    monkeypatch.delenv("GRAVIXLAYER_NOTEBOOK_STREAM", raising=False)
    m: GravixMagics = ip.magics_manager.registry["GravixMagics"]
    provider = default_provider()
    provider.set_client(local_server.client, kind="local")
    m.provider = provider
    for name in ("default_model", "embedding_model", "stream", "max_history", "format", "interpolate", "short_errors"):
        setattr(m, name, m.trait_defaults(name))  # the default, re-read from the environment
    m.history.clear()
    yield m
    m.history.clear()
    provider.reset()


# -- a scripted OpenAI-style server, for capturing requests and for faults ----------------------------


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []


def sse(chunks: list[str], *, done: bool = True) -> bytes:
    events = [
        "data: " + json.dumps({"id": "c1", "model": "scripted", "choices": [{"index": 0, "delta": {"content": c}}]})
        for c in chunks
    ]
    if done:
        events.append("data: [DONE]")
    return ("\n\n".join(events) + "\n\n").encode()


class InterruptingStream(httpx.SyncByteStream):
    """Sends the first events, then raises KeyboardInterrupt as Ctrl-C would in the kernel."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise KeyboardInterrupt

    def close(self) -> None:
        self.closed = True


def scripted_client(
    handler: Callable[[httpx.Request, dict[str, Any]], httpx.Response],
    recorder: Recorder | None = None,
    api_key: str = "sk-test-key-0123456789",
) -> GravixLayer:
    def route(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}") if request.method == "POST" else {}
        if recorder is not None:
            recorder.bodies.append(body)
            recorder.headers.append(request.headers)
        return handler(request, body)

    return GravixLayer(
        api_key=api_key, base_url="http://scripted.test", max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(route)),
    )  # fmt: skip


def completion_json(text: str) -> dict[str, Any]:
    return {
        "id": "c1", "object": "chat.completion", "model": "scripted",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }  # fmt: skip


@pytest.fixture
def use_client(magics: GravixMagics) -> Callable[[GravixLayer], GravixMagics]:
    """Point the magics (and the display redaction) at another client for one test."""

    def use(client: GravixLayer) -> GravixMagics:
        magics.provider.set_client(client, kind="config", key_env="TEST_KEY")
        return magics

    return use


@pytest.fixture
def fresh_provider() -> ClientProvider:
    return ClientProvider(notify=None)
