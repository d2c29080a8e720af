"""Fixtures for files, deployments and accelerators: real GravixLayer Local servers on loopback."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

import gravixlayer._base_client as base_client
from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer

KEY_A = "cp-test-key-alpha"
KEY_B = "cp-test-key-bravo"
SMALL_LIMIT = 2 * 1024 * 1024


@pytest.fixture(scope="package")
def special() -> Iterator[LocalServer]:
    """Two tenants, deployments that stay `creating` for an hour, and a 2 MiB upload limit."""
    with LocalServer(
        api_keys=[KEY_A, KEY_B], deployment_ready_delay=3600, max_upload_bytes=SMALL_LIMIT, upstream_url=None
    ) as server:
        yield server


@pytest.fixture
def client_a(special: LocalServer) -> Iterator[GravixLayer]:
    with GravixLayer(api_key=KEY_A, base_url=special.base_url) as client:
        yield client


@pytest.fixture
def client_b(special: LocalServer) -> Iterator[GravixLayer]:
    with GravixLayer(api_key=KEY_B, base_url=special.base_url) as client:
        yield client


@pytest.fixture
async def aclient_a(special: LocalServer) -> AsyncIterator[AsyncGravixLayer]:
    async with AsyncGravixLayer(api_key=KEY_A, base_url=special.base_url) as client:
        yield client


@pytest.fixture
def http(local_server: LocalServer) -> Iterator[httpx.Client]:
    """A raw httpx client for wire-level checks of the shared Local."""
    with httpx.Client(
        base_url=local_server.base_url, headers={"Authorization": f"Bearer {local_server.api_key}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in scripted tests happen at once."""
    monkeypatch.setattr(base_client, "retry_delay", lambda attempt, headers=None: 0.0)


def write_random_file(path: Path, size: int, chunk: int = 1024 * 1024) -> Path:
    """A file of `size` random bytes, written in chunks (the test process never holds it whole)."""
    with open(path, "wb") as handle:
        left = size
        while left:
            n = min(chunk, left)
            handle.write(os.urandom(n))
            left -= n
    return path


def blob_files(server: LocalServer) -> list[Path]:
    root = server.data_dir / "blobs" / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
