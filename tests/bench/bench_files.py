"""Upload throughput of a 200 MB file to GravixLayer Local: gravixlayer's `files.create` vs a raw httpx
streamed multipart upload of the same file, side by side in one run against one server.

Run: `.venv/bin/python -m tests.bench.bench_files`. `run()` returns the rows for an all-benchmarks runner;
`ratio` is the SDK's throughput over the baseline's (1.00 = as fast as raw httpx; higher is better).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer

SIZE = 200 * 1000 * 1000
ROUNDS = 7
MB = 1000 * 1000


def _make_file(directory: Path, size: int = SIZE) -> Path:
    path = directory / "bench-200MB.bin"
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        left = size
        while left:
            n = min(len(block), left)
            handle.write(block[:n])
            left -= n
    return path


def _median_throughput(seconds: list[float], size: int) -> float:
    return size / statistics.median(seconds) / MB


def _row(name: str, sdk_seconds: list[float], baseline_seconds: list[float], size: int) -> dict[str, Any]:
    sdk = _median_throughput(sdk_seconds, size)
    baseline = _median_throughput(baseline_seconds, size)
    return {
        "name": name,
        "sdk": sdk,
        "baseline": baseline,
        "unit": "MB/s",
        "baseline_name": "raw httpx multipart",
        "ratio": sdk / baseline,
        "higher_is_better": True,
    }


def _sync_rounds(server: LocalServer, path: Path, rounds: int) -> tuple[list[float], list[float]]:
    sdk_times: list[float] = []
    raw_times: list[float] = []
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with GravixLayer(api_key=server.api_key, base_url=server.base_url) as client, httpx.Client(timeout=600) as raw:

        def sdk() -> str:
            return client.files.create(path, "batch").id or ""

        def baseline() -> str:
            with open(path, "rb") as handle:
                response = raw.post(
                    f"{server.base_url}/v1/files", data={"purpose": "batch"}, files={"file": (path.name, handle)},
                    headers=headers,
                )  # fmt: skip
            response.raise_for_status()
            return str(response.json()["id"])

        order: list[tuple[Callable[[], str], list[float]]]
        for i in range(rounds + 1):  # round 0 warms both paths up and is not counted; the order alternates
            order = [(sdk, sdk_times), (baseline, raw_times)]
            if i % 2 == 0:
                order.reverse()
            for fn, times in order:
                start = time.perf_counter()
                file_id = fn()
                elapsed = time.perf_counter() - start
                client.files.delete(file_id)
                if i:
                    times.append(elapsed)
    return sdk_times, raw_times


async def _async_rounds(server: LocalServer, path: Path, rounds: int) -> tuple[list[float], list[float]]:
    sdk_times: list[float] = []
    raw_times: list[float] = []
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with AsyncGravixLayer(api_key=server.api_key, base_url=server.base_url) as client, httpx.AsyncClient(
        timeout=600
    ) as raw:

        async def sdk() -> str:
            return (await client.files.create(path, "batch")).id or ""

        async def baseline() -> str:
            with open(path, "rb") as handle:
                response = await raw.post(
                    f"{server.base_url}/v1/files", data={"purpose": "batch"}, files={"file": (path.name, handle)},
                    headers=headers,
                )  # fmt: skip
            response.raise_for_status()
            return str(response.json()["id"])

        order: list[tuple[Callable[[], Awaitable[str]], list[float]]]
        for i in range(rounds + 1):
            order = [(sdk, sdk_times), (baseline, raw_times)]
            if i % 2 == 0:
                order.reverse()
            for fn, times in order:
                start = time.perf_counter()
                file_id = await fn()
                elapsed = time.perf_counter() - start
                await client.files.delete(file_id)
                if i:
                    times.append(elapsed)
    return sdk_times, raw_times


def _scratch_root(size: int) -> str | None:
    """A RAM-backed directory when one has room: fsyncs to a real disk vary far more between rounds than
    the two clients differ, and they cost both sides alike."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and shutil.disk_usage(shm).free > 3 * size:
            return str(shm)
    except OSError:
        pass
    return None


def run(size: int = SIZE, rounds: int = ROUNDS) -> list[dict[str, Any]]:
    """Upload a `size`-byte file `rounds` times each way (sync and async); median throughput per side."""
    with tempfile.TemporaryDirectory(prefix="gl-bench-files-", dir=_scratch_root(size)) as tmp:
        path = _make_file(Path(tmp), size)
        with LocalServer(data_dir=Path(tmp) / "local", max_upload_bytes=size + 1024 * 1024) as server:
            sync_sdk, sync_raw = _sync_rounds(server, path, rounds)
            async_sdk, async_raw = asyncio.run(_async_rounds(server, path, rounds))
    label = f"upload {size / MB:.0f} MB file to Local"
    return [
        _row(f"{label} (sync)", sync_sdk, sync_raw, size),
        _row(f"{label} (async)", async_sdk, async_raw, size),
    ]


def print_rows(rows: list[dict[str, Any]]) -> None:
    out = sys.stdout
    out.write(f"{'name':<42} | {'sdk':>10} | {'baseline':>10} | {'ratio':>6}\n")
    out.write(f"{'-' * 42}-|-{'-' * 10}-|-{'-' * 10}-|-{'-' * 6}\n")
    for r in rows:
        out.write(
            f"{r['name']:<42} | {r['sdk']:>6.0f} {r['unit']} | {r['baseline']:>6.0f} {r['unit']} | {r['ratio']:>6.2f}\n"
        )
    out.write("ratio = gravixlayer throughput / raw httpx streamed multipart throughput (higher is better)\n")
    out.flush()


def main() -> None:
    print_rows(run())


if __name__ == "__main__":
    main()
