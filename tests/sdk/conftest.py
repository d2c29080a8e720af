from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer(chat_engine="standin") as server:  # the SDK's behaviour, on the fast deterministic model
        yield server


@pytest.fixture
def client(local_server: LocalServer) -> GravixLayer:
    return local_server.client


@pytest.fixture
async def aclient(local_server: LocalServer) -> AsyncIterator[AsyncGravixLayer]:
    client = AsyncGravixLayer(api_key=local_server.api_key, base_url=local_server.base_url)
    async with client:
        yield client
