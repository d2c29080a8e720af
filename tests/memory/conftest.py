"""Fixtures for the memory tests: one Local, sync/async clients, and a recording (optionally meddling) proxy."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer
from tests.vectors.conftest import call

KEY = "memory-key"
SEED_EMBEDDING = "microsoft/multilingual-e5-large"
SMALL_EMBEDDING = "all-MiniLM-L6-v2"  # 384-d: same embedder, cheaper where the dimension does not matter
INFERENCE = "qwen/qwen-2.5-vl-7b-instruct"

Override = Callable[[httpx.Request], httpx.Response | None]

__all__ = ["call", "memory_for", "unique_index", "Proxy"]


def unique_index() -> str:
    return f"mem-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="package")
def mserver() -> Iterator[LocalServer]:
    with LocalServer(api_keys=[KEY], upstream_url=None, deployment_ready_delay=0, chat_engine="standin") as server:
        yield server


class Proxy:
    """Forwards to Local, records `(method, path)` of each request and the bytes of Local's answers,
    and lets a test replace answers."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.requests: list[tuple[str, str]] = []
        self.override: Override | None = None
        self.downloaded = 0

    def _answer(self, request: httpx.Request) -> httpx.Response | None:
        request.read()
        self.requests.append((request.method, request.url.path))
        return self.override(request) if self.override is not None else None

    def _forward(self, upstream: httpx.Response) -> httpx.Response:
        self.downloaded += len(upstream.content)
        return httpx.Response(upstream.status_code, headers=upstream.headers, content=upstream.content)

    def sync_client(self) -> GravixLayer:
        real = httpx.Client(timeout=60)

        def handler(request: httpx.Request) -> httpx.Response:
            replaced = self._answer(request)
            if replaced is not None:
                return replaced
            upstream = real.send(real.build_request(request.method, request.url, headers=request.headers,
                                                    content=request.content))  # fmt: skip
            return self._forward(upstream)

        return GravixLayer(api_key=KEY, base_url=self.base_url, max_retries=0,
                           http_client=httpx.Client(transport=httpx.MockTransport(handler)))  # fmt: skip

    def async_client(self) -> AsyncGravixLayer:
        real = httpx.AsyncClient(timeout=60)

        async def handler(request: httpx.Request) -> httpx.Response:
            replaced = self._answer(request)
            if replaced is not None:
                return replaced
            upstream = await real.send(real.build_request(request.method, request.url, headers=request.headers,
                                                          content=request.content))  # fmt: skip
            return self._forward(upstream)

        return AsyncGravixLayer(api_key=KEY, base_url=self.base_url, max_retries=0,
                                http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))  # fmt: skip

    def writes(self) -> list[tuple[str, str]]:
        """Requests that change state (searching is a POST but reads)."""
        return [(m, p) for m, p in self.requests if m != "GET" and not p.endswith(("/search/text", "/search"))]


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, mserver: LocalServer) -> AsyncIterator[Any]:
    if request.param == "sync":
        with GravixLayer(api_key=KEY, base_url=mserver.base_url) as client:
            yield client
    else:
        async with AsyncGravixLayer(api_key=KEY, base_url=mserver.base_url) as aclient:
            yield aclient


@pytest.fixture
async def proxied(request: pytest.FixtureRequest, mserver: LocalServer, api: Any) -> AsyncIterator[tuple[Any, Proxy]]:
    """A client of the same kind as `api`, going through a `Proxy`."""
    proxy = Proxy(mserver.base_url)
    client = proxy.sync_client() if isinstance(api, GravixLayer) else proxy.async_client()
    yield client, proxy
    await call(client.close())


async def memory_for(client: Any, index_name: str | None = None, embedding_model: str = SMALL_EMBEDDING) -> Any:
    """`client.memory(...)` as the seed writes it (awaited for the async client, as the vendor SDK allowed)."""
    return await call(
        client.memory(
            embedding_model=embedding_model, inference_model=INFERENCE, index_name=index_name or unique_index(),
            cloud_provider="aws", region="us-east-1", delete_protection=False,
        )
    )  # fmt: skip
