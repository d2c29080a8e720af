"""Fixtures for the vector database tests: one two-tenant Local, and clients that are sync or async.

`api` is parametrised: each test using it runs once with `GravixLayer` and once with
`AsyncGravixLayer`; test bodies write `await call(api.x.y(...))`, which awaits only what is awaitable.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer

KEY_A = "vectors-key-alpha"
KEY_B = "vectors-key-bravo"
TEXT_MODEL = "all-MiniLM-L6-v2"  # 384 dimensions: smaller than e5-large, same embedder
TEXT_DIM = 384


async def call(value: Any) -> Any:
    """The result of a sync call, or of an awaited async one."""
    return await value if inspect.isawaitable(value) else value


def unique(prefix: str = "idx") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="package")
def vserver() -> Iterator[LocalServer]:
    with LocalServer(api_keys=[KEY_A, KEY_B], upstream_url=None, deployment_ready_delay=0) as server:
        yield server


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, vserver: LocalServer) -> AsyncIterator[Any]:
    if request.param == "sync":
        with GravixLayer(api_key=KEY_A, base_url=vserver.base_url) as client:
            yield client
    else:
        async with AsyncGravixLayer(api_key=KEY_A, base_url=vserver.base_url) as aclient:
            yield aclient


@pytest.fixture
def sync_a(vserver: LocalServer) -> Iterator[GravixLayer]:
    with GravixLayer(api_key=KEY_A, base_url=vserver.base_url) as client:
        yield client


@pytest.fixture
def sync_b(vserver: LocalServer) -> Iterator[GravixLayer]:
    with GravixLayer(api_key=KEY_B, base_url=vserver.base_url) as client:
        yield client


async def make_index(api: Any, dimension: int = 4, metric: str = "cosine", **kw: Any) -> Any:
    return await call(
        api.vectors.indexes.create(
            name=kw.pop("name", unique()), dimension=dimension, metric=metric, cloud_provider="aws",
            region="us-east-1", **kw,
        )
    )  # fmt: skip
