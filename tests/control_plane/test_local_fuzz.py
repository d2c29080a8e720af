"""Random input to the files, deployments and accelerators routes never gets a 500 or a non-JSON error."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gravixlayer.local import LocalServer
from tests.local._hostile import hostile_strings
from tests.local._state import open_descriptors, snapshot

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
fields = (
    st.sampled_from(["qwen/qwen-2.5-vl-7b-instruct", "NVIDIA_T4_16GB", "dedicated", "", "x y", "a" * 200])
    | json_values
)
deployment_bodies = st.fixed_dictionaries(
    {},
    optional={
        k: fields
        for k in (
            "deployment_name",
            "model_name",
            "gpu_model",
            "gpu_count",
            "min_replicas",
            "max_replicas",
            "hw_type",
        )
    },  # fmt: skip
)


@pytest.fixture(scope="module")
def raw(local_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=local_server.base_url,
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        timeout=60,
    ) as client:
        yield client


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "code"} and body["error"]


@SETTINGS
@given(body=deployment_bodies)
def test_random_deployment_bodies(raw: httpx.Client, body: dict[str, Any]) -> None:
    response = raw.post("/v1/deployments/create", content=json.dumps(body).encode())
    check(response)
    if response.status_code == 200:
        raw.delete(f"/v1/deployments/delete/{response.json()['deployment_id']}")


@SETTINGS
@given(
    content=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "multipart/form-data; boundary=b",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "text/plain",
            "",
        ]
    ),
)
def test_random_upload_bodies(raw: httpx.Client, content: bytes, content_type: str) -> None:
    check(raw.post("/v1/files", content=content, headers={"content-type": content_type}))


part_header = st.sampled_from(
    [
        b'Content-Disposition: form-data; name="file"; filename="f.txt"',
        b'Content-Disposition: form-data; name="file"',
        b'Content-Disposition: form-data; name="purpose"',
        b'Content-Disposition: form-data; name="expires_after"',
        b"Content-Disposition: form-data",
        b"Content-Type: text/plain",
        b"",
    ]
)
part_value = st.sampled_from([b"batch", b"fine-tune", b"", b"-1", b"60", b"\xff\xfe"]) | st.binary(
    max_size=40
)


@SETTINGS
@given(
    parts=st.lists(st.tuples(st.lists(part_header, max_size=2), part_value), max_size=4), close=st.booleans()
)
def test_random_multipart_structures(
    raw: httpx.Client, parts: list[tuple[list[bytes], bytes]], close: bool
) -> None:
    body = b"".join(
        b"--b\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + value + b"\r\n" for headers, value in parts
    )
    if close:
        body += b"--b--\r\n"
    response = raw.post(
        "/v1/files", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    check(response)
    if response.status_code == 200:
        raw.delete(f"/v1/files/{response.json()['id']}")


@SETTINGS
@given(
    file_id=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=40
    ),
    suffix=st.sampled_from(["", "/content", "/download"]),
    method=st.sampled_from(["GET", "DELETE", "POST", "PUT"]),
)
def test_random_file_ids(raw: httpx.Client, file_id: str, suffix: str, method: str) -> None:
    from urllib.parse import quote

    check(raw.request(method, f"/v1/files/{quote(file_id, safe='')}{suffix}"))
    check(raw.request(method, f"/v1/deployments/delete/{quote(file_id, safe='')}"))
    check(raw.request(method, "/v1/accelerators"))


# -- odd multipart on every multipart route; names and expiries as a hostile client sends them -------

MISSING_SANDBOX = "/v1/agents/sandboxes/00000000-0000-4000-8000-000000000000"
MULTIPART_ROUTES = ["/v1/files", f"{MISSING_SANDBOX}/upload", f"{MISSING_SANDBOX}/files"]

odd_names = hostile_strings.map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=12)
odd_values = st.sampled_from(
    [b"batch", b"", b"0", b"-1", b"1e3", b"2147483648", str(10**32).encode(), "\u00b2".encode(), b"1" * 5000,
     b"\xed\xa0\x80", b" 60 ", b"60\r\n"]
) | st.binary(max_size=16)  # fmt: skip
odd_headers = st.sampled_from(
    [
        b'Content-Disposition: form-data; name="file"; filename="%s"',
        b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''%s",
        b'Content-Disposition: form-data; name="%s"',
        b'Content-Disposition: form-data; name="purpose"',
        b'Content-Disposition: form-data; name="expires_after"',
        b"Content-Disposition: attachment; %s",
        b"Content-Type: %s",
        b"X-Long: " + b"h" * 70_000,
    ]
)


@st.composite
def odd_multipart(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        headers = [h.replace(b"%s", draw(odd_names)) for h in draw(st.lists(odd_headers, max_size=3))]
        parts.append(b"--b\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + draw(odd_values) + b"\r\n")
    closing = draw(st.sampled_from([b"--b--\r\n", b"--b--", b"", b"--b", b"--c--\r\n"]))
    return b"".join(parts) + closing


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(MULTIPART_ROUTES), body=odd_multipart(), chunked=st.booleans())
def test_odd_multipart_on_every_route(raw: httpx.Client, path: str, body: bytes, chunked: bool) -> None:
    before = snapshot(raw)
    content: Any = iter([body[i : i + 7] for i in range(0, len(body), 7)]) if chunked else body
    response = raw.post(path, content=content, headers={"content-type": "multipart/form-data; boundary=b"})
    check(response)
    if response.status_code >= 400:
        assert snapshot(raw) == before
    else:
        raw.delete(f"/v1/files/{response.json()['id']}")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=hostile_strings,
    expires=st.none() | st.sampled_from(["60", "0", "-5", str(2**31), "1" * 50, "\u0663"]),
)
def test_hostile_file_names_and_expiries(raw: httpx.Client, name: str, expires: str | None) -> None:
    """Refused (400, nothing stored) or stored under a name that downloads intact."""
    from urllib.parse import unquote

    body = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        + (b'--b\r\nContent-Disposition: form-data; name="expires_after"\r\n\r\n%s\r\n' % expires.encode() if expires else b"")
        + b'--b\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n\r\npayload\r\n--b--\r\n'
        % name.encode("utf-8", "surrogatepass")
    )  # fmt: skip
    before = snapshot(raw)
    response = raw.post(
        "/v1/files", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    check(response)
    if response.status_code >= 400:
        assert snapshot(raw) == before
        return
    stored = response.json()
    try:
        download = raw.get(f"/v1/files/{stored['id']}/content")
        assert download.status_code == 200 and download.content == b"payload"
        encoded = download.headers["content-disposition"].split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded, errors="strict") == stored["filename"]
    finally:
        raw.delete(f"/v1/files/{stored['id']}")


def test_uploads_and_downloads_leak_no_descriptors(special: LocalServer) -> None:
    """Refused, oversized, dropped and half-read transfers leave no open file or socket behind."""
    headers = {"Authorization": f"Bearer {special.api_keys[0]}"}
    limit = special.config.max_upload_bytes
    multipart = "multipart/form-data; boundary=b"
    good = b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n'

    def round_of_abuse(file_id: str) -> None:
        with httpx.Client(base_url=special.base_url, headers=headers, timeout=30) as client:
            too_big = good + b"x" * (limit + 1) + b"\r\n--b--\r\n"
            client.post("/v1/files", content=iter([too_big[i : i + 65536] for i in range(0, len(too_big), 65536)]),
                        headers={"content-type": multipart})  # fmt: skip
            client.post("/v1/files", content=good + b"partial", headers={"content-type": multipart})
            client.post(
                "/v1/files", content=good + b"\xff" * 100 + b"\r\n--c--", headers={"content-type": multipart}
            )
            for _ in range(3):
                with client.stream("GET", f"/v1/files/{file_id}/content") as download:
                    next(
                        download.iter_raw(1024)
                    )  # leave after the first chunk: the server must close its file
        with socket.create_connection(
            ("127.0.0.1", special.port)
        ) as sock:  # a client that vanishes mid-upload
            sock.sendall(
                b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: " + headers["Authorization"].encode()
                + b"\r\nContent-Type: " + multipart.encode() + b"\r\nContent-Length: 100000\r\n\r\n" + good + b"abc"
            )  # fmt: skip

    with httpx.Client(base_url=special.base_url, headers=headers, timeout=30) as client:
        uploaded = client.post(
            "/v1/files", files={"file": ("big.bin", b"z" * (1024 * 1024))}, data={"purpose": "batch"}
        )
        assert uploaded.status_code == 200, uploaded.text
        file_id = uploaded.json()["id"]
        listing_before = client.get("/v1/files").json()["data"]
    round_of_abuse(file_id)  # warm-up: pools, caches, lazily opened files
    time.sleep(0.3)
    baseline = open_descriptors(special.data_dir)
    for _ in range(3):
        round_of_abuse(file_id)
    deadline = time.monotonic() + 5
    while open_descriptors(special.data_dir) > baseline and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_descriptors(special.data_dir) <= baseline
    with httpx.Client(base_url=special.base_url, headers=headers, timeout=30) as client:
        assert client.get("/v1/files").json()["data"] == listing_before
        client.delete(f"/v1/files/{file_id}")
    leftovers = [
        p.name for p in (special.data_dir / "blobs" / "files").rglob("*") if p.name.endswith(".part")
    ]
    assert leftovers == []
