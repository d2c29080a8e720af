"""client.files, sync and async, against a real GravixLayer Local."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerNotFoundError,
    GravixLayerPayloadTooLargeError,
    GravixLayerValidationError,
)
from gravixlayer.local import LocalServer
from gravixlayer.types.files import FILE_PURPOSES, FileList, FileUploadResponse

from .conftest import SMALL_LIMIT, blob_files, write_random_file

MB = 1024 * 1024


class NonSeekable(io.RawIOBase):
    """A pipe-like binary stream: readable once, cannot seek or tell."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def sources(tmp_path: Path, data: bytes) -> dict[str, Any]:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(data)
    return {
        "path-str": (str(path), "notes.jsonl"),
        "path-obj": (path, "notes.jsonl"),
        "bytes": (data, "uploaded_file"),
        "bytearray": (bytearray(data), "uploaded_file"),
        "file-object": (open(path, "rb"), "notes.jsonl"),
        "bytesio": (io.BytesIO(data), "uploaded_file"),
        "non-seekable": (io.BufferedReader(NonSeekable(data)), "uploaded_file"),
    }


KINDS = ["path-str", "path-obj", "bytes", "bytearray", "file-object", "bytesio", "non-seekable"]


@pytest.mark.parametrize("kind", KINDS)
def test_upload_every_source_kind(client: GravixLayer, tmp_path: Path, kind: str) -> None:
    data = os.urandom(3000) + bytes(range(256))
    source, expected_name = sources(tmp_path, data)[kind]
    try:
        uploaded = client.files.create(file=source, purpose="fine-tune")
    finally:
        if hasattr(source, "close"):
            source.close()
    assert isinstance(uploaded, FileUploadResponse)
    assert uploaded.id and uploaded.filename == expected_name
    assert uploaded.bytes == len(data) and uploaded.purpose == "fine-tune"
    assert uploaded.message
    assert client.files.content(uploaded.id) == data
    client.files.delete(uploaded.id)


@pytest.mark.parametrize("kind", KINDS)
async def test_upload_every_source_kind_async(aclient: AsyncGravixLayer, tmp_path: Path, kind: str) -> None:
    data = os.urandom(2000)
    source, expected_name = sources(tmp_path, data)[kind]
    try:
        uploaded = await aclient.files.create(file=source, purpose="batch", filename=None)
    finally:
        if hasattr(source, "close"):
            source.close()
    assert uploaded.id and uploaded.filename == expected_name and uploaded.bytes == len(data)
    assert await aclient.files.content(uploaded.id) == data
    await aclient.files.delete(uploaded.id)


def test_seed_snippet_upload_with_filename(client: GravixLayer, tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text('{"prompt": "a", "completion": "b"}\n')
    with open(tmp_path / "data.jsonl", "rb") as f:
        file = client.files.create(file=f, purpose="fine-tune", filename="my-data.jsonl")
    assert file.id and file.filename == "my-data.jsonl"
    files = client.files.list()
    assert file.id in [f.id for f in files.data]
    assert [f.filename for f in files if f.id == file.id] == ["my-data.jsonl"]
    assert client.files.content(file.id).decode("utf-8") == '{"prompt": "a", "completion": "b"}\n'
    result = client.files.delete(file.id)
    assert result.message == "File deleted" and result.file_id == file.id


def test_file_object_is_read_from_its_current_position(client: GravixLayer) -> None:
    stream = io.BytesIO(b"HEADER|" + b"payload")
    stream.seek(7)
    uploaded = client.files.create(stream, "user_data", filename="p.bin")
    assert uploaded.bytes == 7
    assert client.files.content(uploaded.id or "") == b"payload"


def test_list_retrieve_and_iteration(client: GravixLayer) -> None:
    first = client.files.create(b"one", "batch", filename="a.txt")
    second = client.files.create(b"two!", "vision", filename="b.png", expires_after=3600)
    listing = client.files.list()
    assert isinstance(listing, FileList)
    ids = [f.id for f in listing]
    assert ids.index(second.id) < ids.index(first.id), "newest first"
    assert len(listing) == len(listing.data) and listing[0].id == listing.data[0].id
    got = client.files.retrieve(second.id or "")
    assert (got.id, got.filename, got.bytes, got.purpose, got.object) == (second.id, "b.png", 4, "vision", "file")
    assert got.expires_after == 3600 and isinstance(got.created_at, int)


async def test_list_retrieve_async(aclient: AsyncGravixLayer) -> None:
    uploaded = await aclient.files.create(b"async", "evals", filename="e.jsonl")
    listing = await aclient.files.list()
    assert uploaded.id in [f.id for f in listing]
    got = await aclient.files.retrieve(uploaded.id or "")
    assert got.filename == "e.jsonl" and got.bytes == 5


def test_delete_then_not_found(client: GravixLayer) -> None:
    uploaded = client.files.create(b"bye", "batch")
    file_id = uploaded.id or ""
    deleted = client.files.delete(file_id)
    assert (deleted.message, deleted.file_id, deleted.file_name) == ("File deleted", file_id, "uploaded_file")
    for call in (client.files.retrieve, client.files.content, client.files.delete):
        with pytest.raises(GravixLayerNotFoundError) as info:
            call(file_id)
        assert info.value.status_code == 404 and file_id in str(info.value)
    assert file_id not in [f.id for f in client.files.list()]


async def test_delete_then_not_found_async(aclient: AsyncGravixLayer, tmp_path: Path) -> None:
    uploaded = await aclient.files.create(b"bye", "batch")
    file_id = uploaded.id or ""
    assert (await aclient.files.delete(file_id)).message == "File deleted"
    with pytest.raises(GravixLayerNotFoundError):
        await aclient.files.retrieve(file_id)
    with pytest.raises(GravixLayerNotFoundError):
        await aclient.files.content(file_id)
    with pytest.raises(GravixLayerNotFoundError):
        await aclient.files.download(file_id, tmp_path / "gone.bin")
    assert not (tmp_path / "gone.bin").exists()


def test_content_round_trip_byte_for_byte(client: GravixLayer) -> None:
    data = bytes(range(256)) * 4096 + os.urandom(12345)  # every byte value, odd length
    uploaded = client.files.create(data, "user_data", filename="all-bytes.bin")
    assert client.files.content(uploaded.id or "") == data


def test_download_to_path_and_directory(client: GravixLayer, tmp_path: Path) -> None:
    src = write_random_file(tmp_path / "src.bin", 3 * MB + 17)
    uploaded = client.files.create(src, "batch", filename="réport 1.bin")
    target = client.files.download(uploaded.id or "", tmp_path / "out" / "copy.bin")
    assert target == tmp_path / "out" / "copy.bin"
    assert target.read_bytes() == src.read_bytes()
    into_dir = client.files.download(uploaded.id or "", tmp_path)
    assert into_dir == tmp_path / "réport 1.bin" and into_dir.read_bytes() == src.read_bytes()
    assert not [p for p in tmp_path.rglob("*.part")]


async def test_download_async_with_progress(aclient: AsyncGravixLayer, tmp_path: Path) -> None:
    src = write_random_file(tmp_path / "src.bin", 2 * MB)
    uploaded = await aclient.files.create(src, "batch", progress=True)
    target = await aclient.files.download(uploaded.id or "", tmp_path / "copy.bin", progress=True)
    assert target.read_bytes() == src.read_bytes()


def test_progress_bar_counts_every_byte(client: GravixLayer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tqdm.auto

    counted: list[int] = []
    original = tqdm.auto.tqdm

    class Recording(original):  # type: ignore[misc, valid-type]
        def update(self, n: float | None = 1) -> bool | None:
            counted.append(int(n or 0))
            return super().update(n)  # type: ignore[no-any-return]

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    src = write_random_file(tmp_path / "src.bin", 3 * MB)
    uploaded = client.files.create(src, "batch", progress=True)
    assert sum(counted) == 3 * MB
    counted.clear()
    client.files.download(uploaded.id or "", tmp_path / "back.bin", progress=True)
    assert sum(counted) == 3 * MB
    counted.clear()
    client.files.create(src, "batch")
    assert counted == [], "no progress unless asked"


@pytest.mark.parametrize("purpose", ["fine_tune", "FINE-TUNE", "", "training", None])
def test_purpose_is_validated_before_sending(local_server: LocalServer, purpose: Any) -> None:
    before = len(blob_files(local_server))
    with pytest.raises(GravixLayerValidationError) as info:
        local_server.client.files.create(b"data", purpose)
    assert "purpose" in str(info.value) and "fine-tune" in str(info.value)
    assert len(blob_files(local_server)) == before


@pytest.mark.parametrize("purpose", FILE_PURPOSES)
async def test_every_documented_purpose_is_accepted(aclient: AsyncGravixLayer, purpose: str) -> None:
    uploaded = await aclient.files.create(b"x", purpose)
    assert uploaded.purpose == purpose


def test_bad_sources_are_refused_before_sending(client: GravixLayer, tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("text")
    cases: list[Any] = [
        tmp_path / "missing.bin",
        tmp_path,
        b"",
        12345,
        open(tmp_path / "t.txt"),
    ]
    for source in cases:
        with pytest.raises(GravixLayerValidationError):
            client.files.create(source, "batch")
        if hasattr(source, "close"):
            source.close()
    with pytest.raises(GravixLayerValidationError):
        client.files.create(b"x", "batch", expires_after=0)
    with pytest.raises(GravixLayerValidationError):
        client.files.create(b"x", "batch", filename="  ")
    with pytest.raises(GravixLayerValidationError):
        client.files.retrieve("")


def test_fifty_megabyte_upload_keeps_memory_far_below_file_size(client: GravixLayer, tmp_path: Path) -> None:
    size = 50 * MB
    src = write_random_file(tmp_path / "big.bin", size)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        uploaded = client.files.create(src, "batch")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uploaded.bytes == size
    # Client and in-process server together, against a 50 MB file.
    assert peak < size / 5, f"peak traced memory {peak / MB:.1f} MB"


async def test_fifty_megabyte_upload_and_download_memory_async(aclient: AsyncGravixLayer, tmp_path: Path) -> None:
    size = 50 * MB
    src = write_random_file(tmp_path / "big.bin", size)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        uploaded = await aclient.files.create(src, "batch")
        target = await aclient.files.download(uploaded.id or "", tmp_path / "back.bin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 5, f"peak traced memory {peak / MB:.1f} MB"
    assert target.stat().st_size == size
    with open(src, "rb") as a, open(target, "rb") as b:
        while chunk := a.read(MB):
            assert chunk == b.read(MB)


def test_upload_over_the_limit_is_413_and_leaves_nothing(special: LocalServer, client_a: GravixLayer, tmp_path: Path) -> None:
    before = blob_files(special)
    src = write_random_file(tmp_path / "big.bin", SMALL_LIMIT + 1)
    with pytest.raises(GravixLayerPayloadTooLargeError) as info:
        client_a.files.create(src, "batch")
    assert info.value.status_code == 413 and str(SMALL_LIMIT) in str(info.value)
    # Streamed without a length (chunked): the limit is enforced while receiving.
    with open(src, "rb") as handle, pytest.raises(GravixLayerPayloadTooLargeError):
        client_a.files.create(io.BufferedReader(NonSeekable(handle.read())), "batch")
    assert blob_files(special) == before
    exact = client_a.files.create(write_random_file(tmp_path / "ok.bin", SMALL_LIMIT), "batch")
    assert exact.bytes == SMALL_LIMIT


async def test_upload_over_the_limit_async(special: LocalServer, aclient_a: AsyncGravixLayer) -> None:
    with pytest.raises(GravixLayerPayloadTooLargeError):
        await aclient_a.files.create(b"\0" * (SMALL_LIMIT + 10), "batch")


def test_tenants_see_only_their_own_files(client_a: GravixLayer, client_b: GravixLayer) -> None:
    mine = client_a.files.create(b"secret", "batch", filename="a-only.txt")
    file_id = mine.id or ""
    assert file_id not in [f.id for f in client_b.files.list()]
    for call in (client_b.files.retrieve, client_b.files.content, client_b.files.delete):
        with pytest.raises(GravixLayerNotFoundError):
            call(file_id)
    assert client_a.files.content(file_id) == b"secret"


def test_upload_alias(client: GravixLayer) -> None:
    uploaded = client.files.upload(b"alias", "batch")
    assert client.files.content(uploaded.id or "") == b"alias"
