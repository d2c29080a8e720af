"""Async fan-out: 1000 concurrent embeddings on one client, gravixlayer vs raw httpx vs openai-python.

Its own area (`--only fanout`): on a loaded machine a thousand concurrent requests can fail outright, and
that must not take the other inference rows down with it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx

from gravixlayer import AsyncGravixLayer

from ._server import LocalProcess, local_process
from ._table import print_table, row
from .bench_inference import EMBED, _openai


def run(n: int = 1000) -> list[dict[str, Any]]:
    with local_process() as server:
        return asyncio.run(_fan_out(server, _openai(server), n))


async def _fan_out(server: LocalProcess, openai: Any, n: int = 1000) -> list[dict[str, Any]]:
    body = {"model": EMBED, "input": "fan out", "encoding_format": "float"}
    url = server.base_url + "/v1/inference/embeddings"

    async def timed(make: Any) -> float:
        start = time.perf_counter()
        await asyncio.gather(*[make() for _ in range(n)])
        return time.perf_counter() - start

    # Both wait up to 60 s for a pooled connection (the SDK's default pool wait is its 10 s connect timeout).
    async with AsyncGravixLayer(api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=60.0) as sdk:
        async with httpx.AsyncClient(
            headers={"Authorization": f"Bearer {server.api_key}"}, limits=httpx.Limits(max_connections=100), timeout=60.0
        ) as raw:
            await timed(lambda: sdk.embeddings.create(**body))
            t_sdk = statistics.median([await timed(lambda: sdk.embeddings.create(**body)) for _ in range(3)])
            t_raw = statistics.median([await timed(lambda: raw.post(url, json=body)) for _ in range(3)])
            rows = [row(f"async fan-out: {n} concurrent embeddings (total)", t_sdk, t_raw, "s", "raw httpx.AsyncClient")]
            if openai is not None:
                oa = openai.AsyncOpenAI(api_key=server.api_key, base_url=server.base_url + "/v1/inference", max_retries=0, timeout=60.0)
                t_oa = statistics.median([await timed(lambda: oa.embeddings.create(model=EMBED, input="fan out", encoding_format="float")) for _ in range(3)])
                await oa.close()
                rows.append(row(f"async fan-out: {n} concurrent embeddings (total)", t_sdk, t_oa, "s", "openai.AsyncOpenAI"))
    return rows


if __name__ == "__main__":
    print_table(run())
