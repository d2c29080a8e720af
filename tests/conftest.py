"""Shared fixtures: one real GravixLayer Local on loopback for the whole session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    # chat_engine="standin": these tests check the stand-in's exact, deterministic text; the real
    # local model has its own tests (tests/llm/) with their own server.
    with LocalServer(deployment_ready_delay=0, chat_engine="standin") as server:
        yield server


@pytest.fixture
def client(local_server: LocalServer) -> GravixLayer:
    return local_server.client


@pytest.fixture
async def aclient(local_server: LocalServer) -> AsyncIterator[AsyncGravixLayer]:
    async with AsyncGravixLayer(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        yield client
