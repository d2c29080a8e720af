"""The shared SQLite storage layer: durability, migrations, transactions, blobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from gravixlayer.local.storage import Storage


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    s = Storage(tmp_path)
    s.register_schema("notes", ["CREATE TABLE notes_items (tenant TEXT NOT NULL, id TEXT, body TEXT)"])
    s.open()
    yield s  # type: ignore[misc]
    s.close()


def test_wal_and_full_sync(storage: Storage) -> None:
    assert storage.path.name == "local.sqlite3" and storage.path.exists()
    assert storage.query_one("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
    assert storage.query_one("PRAGMA synchronous")[0] == 2  # type: ignore[index]  # FULL
    assert storage.integrity_check() == "ok"


def test_migrations_run_once_and_extend(tmp_path: Path) -> None:
    steps = ["CREATE TABLE demo_t (tenant TEXT NOT NULL, x INTEGER); INSERT INTO demo_t VALUES ('t', 1);"]
    first = Storage(tmp_path)
    first.register_schema("demo", steps)
    first.open()
    first.close()
    again = Storage(tmp_path)  # same steps again: nothing re-runs
    again.register_schema("demo", steps)
    again.open()
    assert again.query("SELECT count(*) FROM demo_t")[0][0] == 1
    again.register_schema("demo", [*steps, "ALTER TABLE demo_t ADD COLUMN y TEXT"])  # a new step
    assert again.query("SELECT y FROM demo_t")[0][0] is None
    applied = again.query("SELECT component, step FROM schema_migrations ORDER BY step")
    assert [tuple(r) for r in applied] == [("demo", 1), ("demo", 2)]
    again.close()


def test_transaction_commits_or_rolls_back(storage: Storage) -> None:
    with storage.transaction() as db:
        db.execute("INSERT INTO notes_items VALUES ('t1', 'a', 'kept')")
    with pytest.raises(RuntimeError), storage.transaction() as db:
        db.execute("INSERT INTO notes_items VALUES ('t1', 'b', 'lost')")
        raise RuntimeError("boom")
    assert [r["id"] for r in storage.query("SELECT id FROM notes_items")] == ["a"]
    assert storage.execute("DELETE FROM notes_items WHERE tenant = ?", ("other",)) == 0


def test_many_threads_write_safely(storage: Storage) -> None:
    def writer(n: int) -> None:
        for i in range(25):
            with storage.transaction() as db:
                db.execute("INSERT INTO notes_items VALUES (?, ?, ?)", (f"t{n}", str(i), "x"))
            storage.query("SELECT count(*) FROM notes_items")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert storage.query_one("SELECT count(*) FROM notes_items")[0] == 200  # type: ignore[index]


def test_blob_writer_is_atomic(storage: Storage) -> None:
    folder = storage.blob_dir("files", "tenant1")
    assert folder == storage.data_dir / "blobs" / "files" / "tenant1" and folder.is_dir()
    target = folder / "blob1"
    with storage.blob_writer(target) as handle:
        handle.write(b"hello")
        assert not target.exists()  # not visible until complete
    assert target.read_bytes() == b"hello"
    with pytest.raises(ValueError), storage.blob_writer(folder / "blob2") as handle:
        handle.write(b"partial")
        raise ValueError("upload aborted")
    assert sorted(p.name for p in folder.iterdir()) == ["blob1"]  # no partial file left
    with pytest.raises(ValueError):
        storage.blob_dir("files", "../escape")


CHILD = textwrap.dedent(
    """
    import sys
    from gravixlayer.local.storage import Storage
    s = Storage(sys.argv[1])
    s.register_schema("crash", ["CREATE TABLE crash_rows (tenant TEXT NOT NULL, n INTEGER, pad TEXT)"])
    s.open()
    n = 0
    while True:
        with s.transaction() as db:
            for k in range(50):
                db.execute("INSERT INTO crash_rows VALUES ('t', ?, ?)", (n, "p" * 200))
        print(n, flush=True)  # acknowledged
        n += 1
    """
)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acked = -1
    for line in child.stdout:
        acked = int(line)
        if acked >= 40:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    reopened = Storage(tmp_path)
    reopened.open()
    assert reopened.integrity_check() == "ok"
    batches = reopened.query("SELECT n, count(*) FROM crash_rows GROUP BY n ORDER BY n")
    assert all(count == 50 for _, count in batches)  # no half-written batch is visible
    assert batches[-1][0] >= acked  # every acknowledged batch is there
    reopened.close()
