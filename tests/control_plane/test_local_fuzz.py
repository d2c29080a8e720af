"""Random input to the files, deployments and accelerators routes never gets a 500 or a non-JSON error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gravixlayer.local import LocalServer

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["qwen/qwen-2.5-vl-7b-instruct", "NVIDIA_T4_16GB", "dedicated", "", "x y", "a" * 200]) | json_values
deployment_bodies = st.fixed_dictionaries(
    {},
    optional={k: fields for k in ("deployment_name", "model_name", "gpu_model", "gpu_count", "min_replicas",
                                  "max_replicas", "hw_type")},  # fmt: skip
)


@pytest.fixture(scope="module")
def raw(local_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=local_server.base_url, headers={"Authorization": f"Bearer {local_server.api_key}"}, timeout=60
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
        ["multipart/form-data; boundary=b", "multipart/form-data", "multipart/form-data; boundary=", "text/plain", ""]
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
part_value = st.sampled_from([b"batch", b"fine-tune", b"", b"-1", b"60", b"\xff\xfe"]) | st.binary(max_size=40)


@SETTINGS
@given(parts=st.lists(st.tuples(st.lists(part_header, max_size=2), part_value), max_size=4), close=st.booleans())
def test_random_multipart_structures(raw: httpx.Client, parts: list[tuple[list[bytes], bytes]], close: bool) -> None:
    body = b"".join(b"--b\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + value + b"\r\n" for headers, value in parts)
    if close:
        body += b"--b--\r\n"
    response = raw.post("/v1/files", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    check(response)
    if response.status_code == 200:
        raw.delete(f"/v1/files/{response.json()['id']}")


@SETTINGS
@given(
    file_id=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),
    suffix=st.sampled_from(["", "/content", "/download"]),
    method=st.sampled_from(["GET", "DELETE", "POST", "PUT"]),
)
def test_random_file_ids(raw: httpx.Client, file_id: str, suffix: str, method: str) -> None:
    from urllib.parse import quote

    check(raw.request(method, f"/v1/files/{quote(file_id, safe='')}{suffix}"))
    check(raw.request(method, f"/v1/deployments/delete/{quote(file_id, safe='')}"))
    check(raw.request(method, "/v1/accelerators"))
