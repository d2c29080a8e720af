"""Indexes and vectors survive a restart (matrix rebuilt from SQLite) and acknowledged writes survive SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer._exceptions import GravixLayerConnectionError, GravixLayerError
from gravixlayer.local import LocalServer

from .conftest import TEXT_DIM, TEXT_MODEL, call, unique

KEY = "persist-key"


def _client(kind: str, server: LocalServer) -> Any:
    cls = GravixLayer if kind == "sync" else AsyncGravixLayer
    return cls(api_key=KEY, base_url=server.base_url)


async def _close(client: Any) -> None:
    await call(client.close())


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_everything_is_back_after_a_restart(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(5)
    data = rng.standard_normal((600, 16)).astype(np.float32)
    with LocalServer(api_keys=[KEY], data_dir=tmp_path) as first:
        api = _client(kind, first)
        index = await call(api.vectors.indexes.create(unique(), 16, "euclidean", "aws", "eu-west-1",
                                                      metadata={"owner": "me"}))  # fmt: skip
        vectors = api.vectors.index(index.id)
        await call(vectors.upsert_many((f"v{i}", data[i], {"n": i}) for i in range(600)))
        await call(vectors.delete([f"v{i}" for i in range(0, 600, 3)]))  # holes: rows were swapped
        await call(vectors.update("v1", metadata={"n": 1, "edited": True}))
        text_index = await call(api.vectors.indexes.create(unique(), TEXT_DIM, "cosine", "gcp", "us-central1"))
        texts = api.vectors.index(text_index.id)
        await call(texts.upsert_text("I prefer coding in Python", TEXT_MODEL, id="py"))
        await call(texts.upsert_text("The weather is cold today", TEXT_MODEL, id="cold"))
        query = rng.standard_normal(16).astype(np.float32)
        before = await call(vectors.search(query, limit=50, filter={"n": list(range(0, 600, 2))}))
        before_text = await call(texts.search_text("Which language do I like?", TEXT_MODEL))
        before_ids = (await call(vectors.list_ids())).data
        before_v1 = await call(vectors.get("v1"))
        before_indexes = {i.id: i.to_dict() for i in await call(api.vectors.indexes.list())}
        await _close(api)

    with LocalServer(api_keys=[KEY], data_dir=tmp_path) as second:
        api = _client(kind, second)
        vectors = api.vectors.index(index.id)
        texts = api.vectors.index(text_index.id)
        assert {i.id: i.to_dict() for i in await call(api.vectors.indexes.list())} == before_indexes
        assert (await call(vectors.list_ids())).data == before_ids
        assert (await call(vectors.get("v1"))).to_dict() == before_v1.to_dict()
        after = await call(vectors.search(query, limit=50, filter={"n": list(range(0, 600, 2))}))
        assert [(h.id, h.score) for h in after] == [(h.id, h.score) for h in before]
        after_text = await call(texts.search_text("Which language do I like?", TEXT_MODEL))
        assert [(h.id, h.score) for h in after_text] == [(h.id, h.score) for h in before_text]
        assert after_text[0].id == "py"
        # Writes keep working on the rebuilt matrix.
        await call(vectors.upsert(data[0], id="v0"))
        assert (await call(vectors.search(data[0], limit=1)))[0].id == "v0"
        await _close(api)


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gravixlayer.local", "--host", "127.0.0.1", "--port", "0", "--log-level",
         "warning", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "GRAVIXLAYER_LOCAL_UPSTREAM": "", "GRAVIXLAYER_LOCAL_API_KEYS": KEY},
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"Local did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, match.group(1)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    proc, base = _start(tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        with GravixLayer(api_key=KEY, base_url=base, max_retries=0) as client:
            index = client.vectors.indexes.create(unique(), 8, "cosine", "aws", "us-east-1")
            vectors = client.vectors.index(index.id)
            batch = vectors.upsert_many({"id": f"b{i}", "embedding": [i, 1, 2, 3, 4, 5, 6, 7]} for i in range(1500))
            assert batch.upserted_count == 1500

            def writer() -> None:
                i = 0
                while not stop.is_set():
                    try:
                        vectors.upsert([1, i, 0, 0, 0, 0, 0, 1], id=f"w{i}", metadata={"i": i})
                    except (GravixLayerConnectionError, GravixLayerError):
                        return  # the server died mid-request: not acknowledged
                    acknowledged.append(f"w{i}")
                    i += 1

            thread = threading.Thread(target=writer)
            thread.start()
            deadline = time.monotonic() + 20
            while len(acknowledged) < 40 and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            stop.set()
            thread.join(10)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert len(acknowledged) >= 40

    proc, base = _start(tmp_path)
    try:
        with GravixLayer(api_key=KEY, base_url=base) as client:
            vectors = client.vectors.index(index.id)
            stored = set(vectors.list_ids().data)
            assert {f"b{i}" for i in range(1500)} <= stored
            assert set(acknowledged) <= stored
            last = acknowledged[-1]
            assert vectors.get(last).metadata == {"i": int(last[1:])}
            hits = vectors.search([1, int(last[1:]), 0, 0, 0, 0, 0, 1], limit=3, filter={"i": int(last[1:])})
            assert [h.id for h in hits] == [last]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
