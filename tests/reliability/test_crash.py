"""Crash safety: Local killed with SIGKILL mid-write, restarted on the same data dir.

Writers upsert vector batches and upload files as fast as they can; the server process is killed
at a random moment, several times. After each restart: every write the server acknowledged is there
with its exact bytes and values, no batch is half-applied, no file is listed that is not whole, no
temporary upload is left behind, and SQLite's ``PRAGMA integrity_check`` says ``ok``.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from gravixlayer import GravixLayer, GravixLayerError

from ._local_process import LocalProcess
from ._outcomes import must
from .conftest import Report

KEY = "gl-crash-7d0f3b1a9c2e4d5f"
DIM = 64
BATCH = 250
CYCLES = 3


@dataclass
class Ledger:
    """What was sent and what the server acknowledged."""

    sent_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    batches: list[list[str]] = field(default_factory=list)
    acked_vectors: set[str] = field(default_factory=set)
    sent_files: dict[str, str] = field(default_factory=dict)  # filename -> sha256
    acked_files: dict[str, str] = field(default_factory=dict)  # file id -> filename
    lock: threading.Lock = field(default_factory=threading.Lock)


def _vector_writer(base_url: str, index_id: str, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with GravixLayer(api_key=KEY, base_url=base_url, max_retries=0, timeout=30) as client:
        target = client.vectors.index(index_id)
        n = 0
        while not stop.is_set():
            values = rng.standard_normal((BATCH, DIM)).astype(np.float32)
            ids = [f"s{seed}-{n}-{i}" for i in range(BATCH)]
            n += 1
            with ledger.lock:
                ledger.batches.append(ids)
                ledger.sent_vectors.update(zip(ids, values, strict=True))
            try:
                target.upsert_many(
                    [{"id": i, "embedding": v.tolist()} for i, v in zip(ids, values, strict=True)],
                    batch_size=BATCH,
                )
            except GravixLayerError:
                return  # the server is gone
            with ledger.lock:
                ledger.acked_vectors.update(ids)


def _file_writer(base_url: str, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rnd = random.Random(seed)
    with GravixLayer(api_key=KEY, base_url=base_url, max_retries=0, timeout=30) as client:
        n = 0
        while not stop.is_set():
            data = rnd.randbytes(rnd.choice([10, 50_000, 2_000_000, 6_000_000]))
            name = f"crash-{seed}-{n}.bin"
            n += 1
            with ledger.lock:
                ledger.sent_files[name] = hashlib.sha256(data).hexdigest()
            try:
                f = client.files.create(file=data, purpose="batch", filename=name)
            except GravixLayerError:
                return
            with ledger.lock:
                ledger.acked_files[must(f.id)] = name


def _integrity(data_dir: Path) -> str:
    db = sqlite3.connect(data_dir / "local.sqlite3")
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def test_sigkill_mid_writes_loses_nothing_acknowledged(data_dir: Path, report: Report) -> None:
    ledger = Ledger()
    rnd = random.Random(2024)
    server = LocalProcess(data_dir, KEY).start()
    try:
        with GravixLayer(api_key=KEY, base_url=server.base_url) as client:
            index_id = client.vectors.indexes.create(
                name="crash", dimension=DIM, metric="cosine", cloud_provider="AWS", region="us-east-1"
            ).id
        figures = []
        for cycle in range(CYCLES):
            stop = threading.Event()
            writers = [
                threading.Thread(
                    target=_vector_writer, args=(server.base_url, index_id, ledger, stop, cycle * 10 + 1)
                ),
                threading.Thread(
                    target=_vector_writer, args=(server.base_url, index_id, ledger, stop, cycle * 10 + 2)
                ),
                threading.Thread(target=_file_writer, args=(server.base_url, ledger, stop, cycle * 10 + 3)),
            ]
            for w in writers:
                w.start()
            time.sleep(rnd.uniform(0.8, 1.8))
            server.kill()  # mid-write: the writers are still sending
            stop.set()
            for w in writers:
                w.join(30)
            integrity_after_kill = _integrity(data_dir)
            server = LocalProcess(data_dir, KEY).start()
            figures.append(_verify(server.base_url, index_id, data_dir, ledger, integrity_after_kill))
        report(
            f"SIGKILL x{CYCLES} mid-writes: "
            + "; ".join(figures)
            + f"; totals: {len(ledger.acked_vectors)} acknowledged vectors and {len(ledger.acked_files)} "
            "acknowledged files all present after restart"
        )
        assert ledger.acked_vectors and ledger.acked_files, "the writers never got an acknowledgement"
        assert len(ledger.acked_vectors) < len(ledger.sent_vectors), "no write was in flight at any kill"
    finally:
        server.stop()
    assert _integrity(data_dir) == "ok"


def _verify(base_url: str, index_id: str, data_dir: Path, ledger: Ledger, integrity_after_kill: str) -> str:
    assert integrity_after_kill == "ok"
    with GravixLayer(api_key=KEY, base_url=base_url) as client:
        target = client.vectors.index(index_id)
        stored = {v.id: v for v in target.list()}
        # Every acknowledged vector is there with its exact values.
        missing = ledger.acked_vectors - stored.keys()
        assert not missing, f"{len(missing)} acknowledged vectors lost, e.g. {sorted(missing)[:3]}"
        unknown = [vid for vid in stored if vid not in ledger.sent_vectors]
        assert not unknown, f"vectors nobody wrote: {unknown[:3]}"
        for vid, vector in stored.items():
            assert np.array_equal(np.asarray(vector.embedding, dtype=np.float32), ledger.sent_vectors[vid]), (
                vid
            )
        # A batch is all there or not there at all.
        half = [b[0] for b in ledger.batches if 0 < sum(i in stored for i in b) < len(b)]
        assert not half, f"{len(half)} batches half-applied"
        in_flight = sum(1 for b in ledger.batches if b[0] in stored and b[0] not in ledger.acked_vectors)

        listed = list(client.files.list())
        by_id = {f.id: f for f in listed}
        lost = [fid for fid in ledger.acked_files if fid not in by_id]
        assert not lost, f"acknowledged files lost: {lost}"
        for f in listed:
            digest = hashlib.sha256(client.files.content(must(f.id))).hexdigest()
            whole = f.filename in ledger.sent_files and digest == ledger.sent_files[f.filename]
            assert whole, f"{f.filename} is listed but not whole"
            if f.id in ledger.acked_files:
                assert ledger.acked_files[f.id] == f.filename
        leftovers = [p for p in (data_dir / "blobs").rglob("*") if p.is_file() and p.name.endswith(".part")]
        assert not leftovers, f"temporary uploads left behind: {leftovers[:3]}"
        # The restarted server still takes writes.
        probe = f"after-restart-{os.getpid()}-{len(stored)}"
        with ledger.lock:
            ledger.sent_vectors[probe] = np.full(DIM, 0.5, dtype=np.float32)
            ledger.batches.append([probe])
        target.upsert([0.5] * DIM, id=probe)
        ledger.acked_vectors.add(probe)
    return (
        f"{len(stored)} vectors / {len(listed)} files after restart ({in_flight} unacknowledged batches "
        f"landed whole), integrity_check ok"
    )
