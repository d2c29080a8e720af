"""Sandbox fixtures: a sandbox per test on the session's GravixLayer Local, always killed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer, GravixLayerError
from gravixlayer.local import LocalServer
from gravixlayer.resources.sandbox import AsyncSandboxInstance, SandboxInstance

LOCATION = {"provider": "gravix", "region": "local"}


def live_processes(sandbox_id: str) -> list[int]:
    """Processes still running for a sandbox (found by the id Local puts in their environment)."""
    found = []
    for process in psutil.process_iter(["status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        with contextlib.suppress(psutil.Error):
            if process.environ().get("GRAVIXLAYER_SANDBOX_ID") == sandbox_id:
                found.append(process.pid)
    return found


def sandbox_root(server: LocalServer, sandbox_id: str) -> Path:
    return server.data_dir / "sandboxes" / sandbox_id


@pytest.fixture
def sandbox(client: GravixLayer) -> Iterator[SandboxInstance]:
    sb = client.sandbox.sandboxes.create(**LOCATION, timeout=600)
    try:
        yield sb
    finally:
        with contextlib.suppress(GravixLayerError):
            client.sandbox.sandboxes.kill(sb.sandbox_id)


@pytest.fixture
async def asandbox(aclient: AsyncGravixLayer) -> AsyncIterator[AsyncSandboxInstance]:
    sb = await aclient.sandbox.sandboxes.create(**LOCATION, timeout=600)
    try:
        yield sb
    finally:
        with contextlib.suppress(GravixLayerError):
            await aclient.sandbox.sandboxes.kill(sb.sandbox_id)
