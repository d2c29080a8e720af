"""Local vector search on 1,000,000 1024-d vectors against the exact-search floor, in bounded memory.

`bench_vectors` measures 10k and 100k; its 1M path builds the matrix in float64 first (~20 GB peak
with the server's copy), more than a 24 GB machine holds. This one generates float32 in chunks, keeps
one float32 copy here (4 GB) for the numpy baseline, and fills a Local *process* whose database sits on
disk (not in RAM), so the peak is about 10 GB. Filling 1M vectors through the JSON API takes minutes,
so it only runs when asked: `python -m tests.bench --with-1m` (or `run(enabled=True)`).

Rows: the SDK's search round trip and the server's own `query_time_ms`, each over a bare numpy
`matrix @ query` on the same float32 matrix (cost ratio; the floor is 1.00x).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np

from gravixlayer import GravixLayer

from ._server import local_process
from ._table import print_table, row

DIM = 1024
BATCH = 1000


def _matrix(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = np.empty((size, DIM), dtype=np.float32)
    for start in range(0, size, 50_000):
        block = rng.standard_normal((min(50_000, size - start), DIM), dtype=np.float32)
        matrix[start : start + len(block)] = np.round(
            block, 3
        )  # short JSON numbers, exact in float32 round trip
    return matrix


def _fill(base_url: str, key: str, index_id: str, matrix: np.ndarray) -> float:
    url = f"{base_url}/v1/vectors/{index_id}/batch"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(offset: int) -> None:
        rows = matrix[offset : offset + BATCH].tolist()
        body = json.dumps({"vectors": [{"id": f"v{offset + i}", "embedding": r} for i, r in enumerate(rows)]})
        httpx.post(url, content=body, headers=headers, timeout=600).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(post, range(0, len(matrix), BATCH)))
    return time.perf_counter() - started


def run(enabled: bool = False, size: int = 1_000_000, queries: int = 15) -> list[dict[str, Any]]:
    """Nothing unless `enabled` (see the module docstring)."""
    if not enabled:
        return []
    matrix = _matrix(size, seed=size)
    norms = np.linalg.norm(matrix, axis=1)
    rng = np.random.default_rng(1)
    probes = [rng.standard_normal(DIM, dtype=np.float32) for _ in range(queries)]
    with local_process() as server:
        with GravixLayer(
            api_key=server.api_key, base_url=server.base_url, timeout=600, max_retries=0
        ) as client:
            index = client.vectors.indexes.create(name="bench-1m", dimension=DIM, metric="cosine",
                                                  cloud_provider="AWS", region="us-east-1")  # fmt: skip
            fill_seconds = _fill(server.base_url, server.api_key, index.id, matrix)
            print(
                f"   filled {size:,} vectors in {fill_seconds:.0f} s ({size / fill_seconds:,.0f}/s)",
                flush=True,
            )
            target = client.vectors.index(index.id)
            target.search(probes[0], limit=10)  # warm up
            trips, server_s, floor = [], [], []
            for query in probes:
                started = time.perf_counter()
                hits = target.search(query, limit=10)
                trips.append(time.perf_counter() - started)
                server_s.append((hits.query_time_ms or 0.0) / 1000)
                started = time.perf_counter()
                scores = matrix @ query
                floor.append(time.perf_counter() - started)
                assert hits[0].id == f"v{int(np.argmax(scores / norms))}", "search disagrees with numpy"
    base = statistics.median(floor) * 1e3
    label = f"search top-10 cosine, {size:,} x {DIM}-d"
    return [
        row(f"{label} (SDK round trip)", statistics.median(trips) * 1e3, base, "ms", "numpy matrix @ query"),
        row(
            f"{label} (server query_time_ms)",
            statistics.median(server_s) * 1e3,
            base,
            "ms",
            "numpy matrix @ query",
        ),
    ]


if __name__ == "__main__":
    print_table(run(enabled=True, size=int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
