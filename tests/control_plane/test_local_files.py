"""GravixLayer Local's files service on the wire: bad input is 4xx, uploads are atomic, nothing is lost."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

from .conftest import blob_files


def error_of(response: httpx.Response) -> dict[str, str]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error", "code"} and body["error"]
    return body


@pytest.mark.parametrize(
    "data,files,status,word",
    [
        ({"purpose": "nope"}, {"file": ("a.txt", b"x")}, 400, "purpose"),
        ({}, {"file": ("a.txt", b"x")}, 400, "purpose"),
        ({"purpose": "batch"}, {"other": ("a.txt", b"x")}, 400, "file"),
        ({"purpose": "batch"}, {"file": ("a.txt", b"")}, 400, "empty"),
        ({"purpose": "batch", "expires_after": "soon"}, {"file": ("a.txt", b"x")}, 400, "expires_after"),
        ({"purpose": "batch", "expires_after": "0"}, {"file": ("a.txt", b"x")}, 400, "expires_after"),
    ],
)
def test_bad_uploads_are_400(local_server: LocalServer, http: httpx.Client, data: dict[str, str], files: dict[str, tuple[str, bytes]], status: int, word: str) -> None:
    before = blob_files(local_server)
    response = http.post("/v1/files", data=data, files=files)
    assert response.status_code == status and word in error_of(response)["error"]
    assert blob_files(local_server) == before


def test_purpose_after_the_file_part_is_checked_too(local_server: LocalServer, http: httpx.Client) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbogus\r\n--{boundary}--\r\n'
    ).encode()
    before = blob_files(local_server)
    response = http.post("/v1/files", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert "purpose" in error_of(response)["error"]
    ok = http.post("/v1/files", content=body.replace(b"bogus", b"batch"),
                   headers={"content-type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["filename"] == "a.txt" and ok.json()["bytes"] == 5
    assert len(blob_files(local_server)) == len(before) + 1


@pytest.mark.parametrize(
    "content,content_type,status",
    [
        (b'{"purpose": "batch"}', "application/json", 415),
        (b"", "multipart/form-data", 400),
        (b"garbage without boundaries", "multipart/form-data; boundary=xyz", 400),
        (b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ncut", "multipart/form-data; boundary=xyz", 400),
        (b"--xyz\r\nX: y\r\n\r\nv\r\n--xyz--\r\n", "multipart/form-data; boundary=xyz", 400),
        (b"--xyz\r\n\xff\xfe\r\n\r\n--xyz--", "multipart/form-data; boundary=xyz", 400),
    ],
)
def test_malformed_bodies_are_4xx(local_server: LocalServer, http: httpx.Client, content: bytes, content_type: str, status: int) -> None:
    before = blob_files(local_server)
    response = http.post("/v1/files", content=content, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    error_of(response)
    assert blob_files(local_server) == before


def test_two_file_parts_are_refused(http: httpx.Client) -> None:
    response = http.post("/v1/files", data={"purpose": "batch"}, files=[("file", ("a", b"1")), ("file", ("b", b"2"))])
    assert "one 'file'" in error_of(response)["error"]


def test_unknown_ids_are_404(http: httpx.Client) -> None:
    for method, path in [("GET", "/v1/files/nope"), ("GET", "/v1/files/nope/content"),
                         ("GET", "/v1/files/nope/download"), ("DELETE", "/v1/files/nope")]:  # fmt: skip
        response = http.request(method, path)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_wire_shapes(http: httpx.Client) -> None:
    up = http.post("/v1/files", data={"purpose": "batch"}, files={"file": ("w.jsonl", b"{}\n")})
    body = up.json()
    assert up.status_code == 200
    assert {"message", "file_name", "purpose", "id", "object", "filename", "bytes", "created_at"} <= set(body)
    assert body["file_name"] == body["filename"] == "w.jsonl" and body["object"] == "file"
    listing = http.get("/v1/files").json()
    assert listing["object"] == "list" and body["id"] in [f["id"] for f in listing["data"]]
    download = http.get(f"/v1/files/{body['id']}/download")
    assert download.content == b"{}\n" and download.headers["content-type"] == "application/octet-stream"
    assert 'filename="w.jsonl"' in download.headers["content-disposition"]
    assert http.delete(f"/v1/files/{body['id']}").json() == {
        "message": "File deleted", "file_id": body["id"], "file_name": "w.jsonl"
    }


def test_filenames_are_reduced_to_a_name(http: httpx.Client) -> None:
    up = http.post("/v1/files", data={"purpose": "batch"}, files={"file": ("../../etc/passwd", b"x")})
    assert up.json()["filename"] == "passwd"


def wait_for(condition: object, what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_dropped_upload_leaves_nothing_behind(local_server: LocalServer, client: GravixLayer) -> None:
    before_files = {f.id for f in client.files.list()}
    before_blobs = blob_files(local_server)
    url = urlsplit(local_server.base_url)
    boundary = "dropdrop"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="dropped.bin"\r\n\r\n'
    ).encode()
    declared = len(head) + 50 * 1024 * 1024
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            (
                f"POST /v1/files HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {local_server.api_key}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n"
            ).encode()
            + head
        )
        for _ in range(3 * 16):  # 3 MiB of the promised 50
            sock.sendall(b"\xab" * 65536)
        wait_for(lambda: any(p.name.endswith(".part") for p in blob_files(local_server)), "the upload to start")
    wait_for(lambda: blob_files(local_server) == before_blobs, "the partial upload to be removed")
    assert {f.id for f in client.files.list()} == before_files


def test_restart_keeps_files_and_deployments_and_sweeps_leftovers(tmp_path: Path) -> None:
    key = "restart-key"
    content = bytes(range(256)) * 100
    with LocalServer(api_keys=[key], data_dir=tmp_path, deployment_ready_delay=0) as first:
        uploaded = first.client.files.create(content, "fine-tune", filename="keep.bin", expires_after=86400)
        deployment = first.client.deployments.create("keeper", "meta-llama/llama-3.1-8b-instruct", "NVIDIA_L4_24GB")
        tenant_dir = next((tmp_path / "blobs" / "files").iterdir())
    # What a killed server could leave: a half-written upload and a blob whose row was never committed.
    (tenant_dir / ".abc.123.part").write_bytes(b"partial")
    (tenant_dir / "00000000-0000-4000-8000-000000000000").write_bytes(b"orphan")
    with LocalServer(api_keys=[key], data_dir=tmp_path, deployment_ready_delay=0) as second:
        files = second.client.files.list()
        assert [(f.id, f.filename, f.bytes, f.expires_after) for f in files] == [
            (uploaded.id, "keep.bin", len(content), 86400)
        ]
        assert second.client.files.content(uploaded.id or "") == content
        kept = second.client.deployments.get("keeper")
        assert kept.deployment_id == deployment.deployment_id and kept.status == "running"
        assert sorted(p.name for p in tenant_dir.iterdir()) == [uploaded.id]


def test_expired_files_disappear(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path) as server:
        uploaded = server.client.files.create(b"short-lived", "batch", expires_after=1)
        storage = server.data_dir / "local.sqlite3"
        import sqlite3

        with sqlite3.connect(storage) as db:  # move the clock instead of sleeping
            db.execute("UPDATE files_items SET expires_at = expires_at - 10 WHERE id = ?", (uploaded.id,))
        assert uploaded.id not in [f.id for f in server.client.files.list()]
        assert blob_files(server) == []
