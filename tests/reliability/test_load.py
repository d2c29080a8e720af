"""Load: 50 concurrent async clients issuing mixed calls against Local; zero errors, zero lost writes.

Local runs as its own process (as users run it), so the clients and the server do not share one
interpreter. Every client has its own `AsyncGravixLayer` (its own pool) and no retries, so any error
counts. Writes the server acknowledged are checked afterwards. The run lasts
``GRAVIXLAYER_LOAD_SECONDS`` (default 30); p50/p99 latencies per call kind are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gravixlayer import AsyncGravixLayer, GravixLayer

from ._known_ids import DEPLOYABLE_MODEL
from ._local_process import LocalProcess
from ._outcomes import must
from .conftest import Report

KEY = "gl-load-5e8a1c7f3b9d2e40"
CLIENTS = 50
SECONDS = float(os.environ.get("GRAVIXLAYER_LOAD_SECONDS", "30"))
MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBED = "microsoft/multilingual-e5-large"
DIM = 32


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    vectors: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # index id -> acked ids
    files: dict[str, int] = field(default_factory=dict)  # file id -> size
    deployments: set[str] = field(default_factory=set)
    sandbox_files: dict[tuple[str, str], str] = field(default_factory=dict)  # (sandbox, path) -> content


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _client(
    n: int, base_url: str, gpu: str, sandboxes: list[str], tally: Tally, deadline: float
) -> None:
    rnd = random.Random(n)
    async with AsyncGravixLayer(api_key=KEY, base_url=base_url, max_retries=0, timeout=120) as client:
        index = await client.vectors.indexes.create(
            name=f"load-{n}", dimension=DIM, metric="cosine", cloud_provider="AWS", region="us-east-1"
        )
        target = client.vectors.index(index.id)
        acked = tally.vectors[index.id]
        count = 0

        def vec() -> list[float]:
            return [rnd.uniform(-1, 1) for _ in range(DIM)]

        async def chat() -> None:
            r = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": f"hi {n}"}]
            )
            assert r.choices[0].message.content  # type: ignore[union-attr]

        async def chat_stream() -> None:
            stream = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "stream please"}], stream=True
            )
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]  # type: ignore[union-attr]
            assert "".join(parts)

        async def embed() -> None:
            r = await client.embeddings.create(model=EMBED, input=[f"text {n} {count}", "another"])
            assert len(r.data) == 2

        async def upsert() -> None:
            ids = [f"c{n}-{count}-{i}" for i in range(10)]
            await target.upsert_many([{"id": i, "embedding": vec(), "metadata": {"c": n}} for i in ids])
            acked.update(ids)

        async def search() -> None:
            hits = await target.search(vec(), limit=5)
            assert len(list(hits)) <= 5

        async def get_vector() -> None:
            if acked:
                vid = rnd.choice(sorted(acked))
                assert (await target.get(vid)).id == vid

        async def upload() -> None:
            data = rnd.randbytes(rnd.randint(1, 10_000))
            f = await client.files.create(file=data, purpose="batch", filename=f"load-{n}-{count}.bin")
            tally.files[must(f.id)] = len(data)

        async def retrieve() -> None:
            if tally.files:
                fid = rnd.choice(sorted(tally.files))
                assert (await client.files.retrieve(fid)).bytes == tally.files[fid]

        async def catalogue() -> None:
            assert len(list(await client.accelerators.list())) > 0

        async def deploy() -> None:
            d = await client.deployments.create(
                deployment_name=f"load-{n}-{count}-{uuid.uuid4().hex[:4]}",
                model_name=DEPLOYABLE_MODEL,
                gpu_model=gpu,
            )
            tally.deployments.add(d.deployment_id or "")

        async def sandbox_file() -> None:
            sid = rnd.choice(sandboxes)
            path, text = f"/home/user/c{n}/f{count}.txt", f"client {n} wrote {count}"
            await client.sandbox.sandboxes.write_file(sid, path, text)
            tally.sandbox_files[(sid, path)] = text
            assert (await client.sandbox.sandboxes.read_file(sid, path)).content == text

        async def sandbox_code() -> None:
            result = await client.sandbox.sandboxes.run_code(rnd.choice(sandboxes), f"print({n} * {count})")
            assert result.stdout.strip() == str(n * count), result

        ops: list[tuple[str, Callable[[], Awaitable[None]], int]] = [
            ("chat", chat, 15), ("chat stream", chat_stream, 10), ("embeddings", embed, 15),
            ("vector upsert x10", upsert, 20), ("vector search", search, 15), ("vector get", get_vector, 5),
            ("file upload", upload, 5), ("file retrieve", retrieve, 5), ("accelerators list", catalogue, 5),
            ("deployment create", deploy, 5), ("sandbox file write+read", sandbox_file, 3),
            ("sandbox run_code", sandbox_code, 2),
        ]  # fmt: skip
        names = [o[0] for o in ops]
        weights = [o[2] for o in ops]
        calls = dict((o[0], o[1]) for o in ops)
        while time.monotonic() < deadline:
            name = rnd.choices(names, weights)[0]
            count += 1
            started = time.perf_counter()
            try:
                await calls[name]()
            except Exception as exc:
                tally.errors.append(f"client {n} {name}: {type(exc).__name__}: {exc}")
                continue
            tally.latencies[name].append(time.perf_counter() - started)


def test_50_concurrent_clients_mixed_load(tmp_path: Path, report: Report) -> None:
    server = LocalProcess(tmp_path / "data", KEY).start()
    try:
        with GravixLayer(api_key=KEY, base_url=server.base_url) as sync:
            gpu = str(next(iter(sync.accelerators.list())).gpu_model)
            sync.embeddings.create(model=EMBED, input="warm up the model")
            sandboxes = [
                sync.sandbox.sandboxes.create(provider="gravix", region="local", timeout=600).sandbox_id
                for _ in range(4)
            ]
        tally = Tally()

        async def run() -> float:
            started = time.monotonic()
            deadline = started + SECONDS
            await asyncio.gather(
                *(_client(n, server.base_url, gpu, sandboxes, tally, deadline) for n in range(CLIENTS))
            )
            return time.monotonic() - started

        elapsed = asyncio.run(run())
        lost = _lost_writes(server.base_url, tally)
    finally:
        server.stop()
    everything = [x for values in tally.latencies.values() for x in values]
    per_kind = ", ".join(
        f"{k} n={len(v)} p50={_pct(v, 0.5) * 1e3:.0f}ms p99={_pct(v, 0.99) * 1e3:.0f}ms"
        for k, v in sorted(tally.latencies.items())
    )
    report(
        f"{CLIENTS} async clients x {SECONDS:.0f}s mixed load: {len(everything)} calls "
        f"({len(everything) / elapsed:.0f}/s), {len(tally.errors)} errors, {lost} lost writes "
        f"({sum(map(len, tally.vectors.values()))} vectors, {len(tally.files)} files, "
        f"{len(tally.deployments)} deployments, {len(tally.sandbox_files)} sandbox files acknowledged); overall p50={statistics.median(everything) * 1e3:.0f}ms "
        f"p99={_pct(everything, 0.99) * 1e3:.0f}ms; {per_kind}"
    )
    assert not tally.errors, tally.errors[:10]
    assert lost == 0
    assert len(tally.latencies) == 12, "some call kinds never ran"


def _lost_writes(base_url: str, tally: Tally) -> int:
    lost = 0
    with GravixLayer(api_key=KEY, base_url=base_url, timeout=120) as client:
        for index_id, ids in tally.vectors.items():
            stored = set(client.vectors.index(index_id).list_ids())
            lost += len(ids - stored)
        files = {f.id: f.bytes for f in client.files.list()}
        lost += sum(1 for fid, size in tally.files.items() if files.get(fid) != size)
        deployments = {d.deployment_id for d in client.deployments.list()}
        lost += len(tally.deployments - deployments)
        for (sid, path), text in tally.sandbox_files.items():
            lost += client.sandbox.sandboxes.read_file(sid, path).content != text
    with httpx.Client(base_url=base_url) as http:
        assert http.get("/health").status_code == 200
    return lost
