"""Vector database benchmarks against GravixLayer Local, side by side in one run.

1. Batch upsert throughput of 10,000 1024-d vectors: `vectors.index(id).upsert_many(array)` vs raw
   `httpx` posting the same batches (1,000 vectors each, same JSON body, same ids) to `/batch`.
   `ratio` = SDK vectors/s / raw vectors/s (1.00 = as fast as raw httpx; higher is better).
2. Search latency (cosine, top 10) on 10,000 and 100,000 1024-d vectors (1,000,000 with `--with-1m`):
   the SDK's round trip `search(query, limit=10)`, and the server's own `query_time_ms`, each against a
   bare numpy matrix product `matrix @ query` over the same float32 matrix in this process.
   `ratio` = SDK / numpy (how many matrix products one search costs; lower is better).

Run: `.venv/bin/python -m tests.bench.bench_vectors [--with-1m] [--quick]`. `run()` returns the rows.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

DIM = 1024
UPSERT_N = 10_000
BATCH = 1000
SEARCH_SIZES = (10_000, 100_000)
QUERIES = 30


def _scratch_root(need: int) -> str | None:
    """A RAM-backed directory when it has room: disk fsync times vary more than the two clients differ."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and shutil.disk_usage(shm).free > need:
            return str(shm)
    except OSError:
        pass
    return None


def _new_index(client: GravixLayer) -> str:
    index = client.vectors.indexes.create(f"bench-{uuid.uuid4().hex[:8]}", DIM, "cosine", "aws", "us-east-1")
    return index.id


def _sdk_upsert(client: GravixLayer, data: np.ndarray) -> float:
    vectors = client.vectors.index(_new_index(client))
    start = time.perf_counter()
    result = vectors.upsert_many(data)
    elapsed = time.perf_counter() - start
    assert result.upserted_count == len(data)
    return elapsed


def _raw_upsert(client: GravixLayer, raw: httpx.Client, data: np.ndarray) -> float:
    """What a careful user writes by hand: the same batches, ids and body, posted with httpx."""
    path = f"/v1/vectors/{_new_index(client)}/batch"
    start = time.perf_counter()
    for offset in range(0, len(data), BATCH):
        rows = data[offset : offset + BATCH].tolist()
        body = {"vectors": [{"id": str(uuid.uuid4()), "embedding": row, "metadata": {}, "delete_protection": False}
                            for row in rows]}  # fmt: skip
        response = raw.post(path, json=body)
        response.raise_for_status()
    return time.perf_counter() - start


def _upsert_rows(server: LocalServer, client: GravixLayer, rounds: int) -> list[dict[str, Any]]:
    data = np.random.default_rng(1).standard_normal((UPSERT_N, DIM)).astype(np.float32)
    sdk_times, raw_times = [], []
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"},
                      timeout=600) as raw:  # fmt: skip
        for _ in range(rounds):  # alternate, so drift on a noisy box hits both sides alike
            sdk_times.append(_sdk_upsert(client, data))
            raw_times.append(_raw_upsert(client, raw, data))
    sdk = UPSERT_N / statistics.median(sdk_times)
    baseline = UPSERT_N / statistics.median(raw_times)
    return [
        {
            "name": f"batch upsert {UPSERT_N:,} x {DIM}-d vectors",
            "sdk": sdk,
            "baseline": baseline,
            "unit": "vectors/s",
            "baseline_name": "raw httpx, same batches",
            "ratio": sdk / baseline,
            "higher_is_better": True,
        }
    ]


def _populate(server: LocalServer, index_id: str, matrix: np.ndarray) -> None:
    """Fill an index fast: values rounded to 3 decimals keep the JSON small; two uploads at a time."""
    url = f"{server.base_url}/v1/vectors/{index_id}/batch"
    headers = {"Authorization": f"Bearer {server.api_key}"}

    def post(offset: int) -> None:
        rows = matrix[offset : offset + BATCH].tolist()
        body = {"vectors": [{"id": f"v{offset + i}", "embedding": row} for i, row in enumerate(rows)]}
        httpx.post(url, json=body, headers=headers, timeout=600).raise_for_status()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(post, range(0, len(matrix), BATCH)))


def _search_rows(server: LocalServer, client: GravixLayer, size: int, queries: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(size)
    matrix = np.empty((size, DIM), dtype=np.float32)
    for start in range(0, size, 50_000):  # in slices: no float64 copy of a 1M x 1024 matrix
        stop = min(size, start + 50_000)
        matrix[start:stop] = np.round(rng.standard_normal((stop - start, DIM)), 3)
    index_id = _new_index(client)
    _populate(server, index_id, matrix)
    vectors = client.vectors.index(index_id)
    probes = [rng.standard_normal(DIM).astype(np.float32) for _ in range(queries)]
    vectors.search(probes[0], limit=10)  # warm up (connection, code paths)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))  # no temporary copy of the matrix
    round_trips, server_ms, numpy_times = [], [], []
    for query in probes:
        start = time.perf_counter()
        result = vectors.search(query, limit=10)
        round_trips.append(time.perf_counter() - start)
        server_ms.append((result.query_time_ms or 0.0) / 1000.0)
        start = time.perf_counter()
        scores = matrix @ query
        numpy_times.append(time.perf_counter() - start)
        assert result[0].id == f"v{int(np.argmax(scores / norms))}"  # the same answer as numpy
    client.vectors.indexes.delete(index_id)
    base = statistics.median(numpy_times) * 1000
    label = f"search top-10 cosine, {size:,} x {DIM}-d"
    sdk = statistics.median(round_trips) * 1000
    local = statistics.median(server_ms) * 1000
    common = {"unit": "ms", "baseline_name": "numpy matrix @ query", "higher_is_better": False}
    return [
        {"name": f"{label} (SDK round trip)", "sdk": sdk, "baseline": base, "ratio": sdk / base, **common},
        {"name": f"{label} (server query_time_ms)", "sdk": local, "baseline": base, "ratio": local / base, **common},
    ]


def run(
    sizes: tuple[int, ...] = SEARCH_SIZES, with_1m: bool = False, rounds: int = 2, queries: int = QUERIES
) -> list[dict[str, Any]]:
    """Every row of the benchmark (see the module docstring)."""
    all_sizes = (*sizes, 1_000_000) if with_1m else sizes
    need = 3 * (UPSERT_N * rounds * 2 + sum(all_sizes)) * DIM * 4
    with tempfile.TemporaryDirectory(prefix="gl-bench-vectors-", dir=_scratch_root(need)) as tmp:
        with LocalServer(data_dir=Path(tmp) / "local") as server:
            with GravixLayer(api_key=server.api_key, base_url=server.base_url, timeout=600, max_retries=0) as client:
                rows = _upsert_rows(server, client, rounds)
                for size in all_sizes:
                    rows.extend(_search_rows(server, client, size, queries if size < 1_000_000 else 10))
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    out = sys.stdout
    out.write(f"{'name':<62} | {'sdk':>18} | {'baseline':>18} | {'ratio':>6}\n")
    out.write(f"{'-' * 62}-|-{'-' * 18}-|-{'-' * 18}-|-{'-' * 6}\n")
    for r in rows:
        unit = r["unit"]
        out.write(f"{r['name']:<62} | {r['sdk']:>8.2f} {unit:<9} | {r['baseline']:>8.2f} {unit:<9} | {r['ratio']:>6.2f}\n")
    out.write("upsert ratio = SDK vectors/s / raw httpx vectors/s (higher is better); "
              "search ratio = time / numpy matrix product (lower is better)\n")  # fmt: skip
    out.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--with-1m", action="store_true", help="also search 1,000,000 vectors (~4 GB RAM, minutes)")
    parser.add_argument("--quick", action="store_true", help="one upsert round, 10k search only (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        print_rows(run(sizes=(10_000,), with_1m=args.with_1m, rounds=1, queries=10))
    else:
        print_rows(run(with_1m=args.with_1m))


if __name__ == "__main__":
    main()
