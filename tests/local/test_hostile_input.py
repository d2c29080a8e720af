"""Input a hostile client sends (over real HTTP) is refused with a 4xx before anything is written.

Each case once answered 500, and some of them left damage behind (issue 11).
"""

from __future__ import annotations

import math
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gravixlayer.local import LocalServer

from ._state import check_refusal, snapshot

MiB = 1024 * 1024
CHAT = "/v1/inference/chat/completions"
CHAT_HEAD = b'{"model":"meta-llama/llama-3.1-8b-instruct","messages":[{"role":"user","content":"hi"}]'


def make_index(http: httpx.Client, dimension: int = 3, metric: str = "cosine") -> str:
    response = http.post(
        "/v1/vectors/indexes",
        json={
            "name": f"hostile-{uuid.uuid4().hex[:12]}", "dimension": dimension, "metric": metric,
            "cloud_provider": "aws", "region": "us-east-1",
        },
    )  # fmt: skip
    assert response.status_code == 201, response.text
    index_id: str = response.json()["id"]
    return index_id


@pytest.fixture
def index(http: httpx.Client) -> Iterator[str]:
    index_id = make_index(http)
    upserted = http.post(
        f"/v1/vectors/{index_id}/upsert",
        json={"vectors": [{"id": "keep", "embedding": [1, 2, 3], "metadata": {"k": 1}}]},
    )
    assert upserted.status_code == 200, upserted.text
    yield index_id
    http.delete(f"/v1/vectors/indexes/{index_id}")


def refused(
    http: httpx.Client, method: str, path: str, raw: bytes, code: str | None = "invalid_request"
) -> dict[str, Any]:
    """Send ``raw``; assert a 400 (with ``code``, unless None) and that the tenant's data did not change."""
    before = snapshot(http)
    response = http.request(method, path, content=raw, headers={"content-type": "application/json"})
    check_refusal(response)
    assert response.status_code == 400, response.text
    assert code is None or response.json()["code"] == code, response.text
    assert snapshot(http) == before
    body: dict[str, Any] = response.json()
    return body


# -- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal", [b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity", b"1" * 400 + b".0"]
)
def test_non_finite_metadata_is_refused_and_the_index_keeps_working(
    http: httpx.Client, index: str, literal: bytes
) -> None:
    code = "invalid_json" if literal[-1:].isalpha() else "invalid_request"
    body = b'{"vectors":[{"id":"a","embedding":[1,2,3],"metadata":{"x":' + literal + b"}}]}"
    answer = refused(http, "POST", f"/v1/vectors/{index}/upsert", body, code)
    if code == "invalid_request":
        assert answer["error"].startswith("vectors[0].metadata.x: must be a finite number")
    search = http.post(f"/v1/vectors/{index}/search", json={"vector": [1, 2, 3]})
    assert search.status_code == 200 and [hit["id"] for hit in search.json()["hits"]] == ["keep"]


def test_update_with_an_overflowing_number_changes_nothing(http: httpx.Client, index: str) -> None:
    answer = refused(http, "PUT", f"/v1/vectors/{index}/keep", b'{"metadata":{"x":-1e999}}')
    assert answer["error"].startswith("metadata.x:")
    refused(http, "PUT", f"/v1/vectors/indexes/{index}", b'{"metadata":{"x":1e999},"delete_protection":true}')
    assert http.get(f"/v1/vectors/{index}/keep").json()["metadata"] == {"k": 1}


@pytest.mark.parametrize("path", ["search", "delete"])
def test_overflowing_numbers_in_filters_and_lists_are_refused(
    http: httpx.Client, index: str, path: str
) -> None:
    body = (
        b'{"vector":[1,2,3],"filter":{"k":1e999}}' if path == "search" else b'{"vector_ids":["keep",1e999]}'
    )
    refused(http, "POST", f"/v1/vectors/{index}/{path}", body)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot_product"])
def test_vectors_near_the_float32_limit_are_searchable(http: httpx.Client, metric: str) -> None:
    index_id = make_index(http, metric=metric)
    try:
        big = [3e38, -3e38, 3.4e38]
        upserted = http.post(
            f"/v1/vectors/{index_id}/upsert",
            json={"vectors": [{"id": "big", "embedding": big}, {"id": "small", "embedding": [1e-40, 0, 1]}]},
        )
        assert upserted.status_code == 200, upserted.text
        for query in (big, [-3.4e38, -3.4e38, -3.4e38], [1, 2, 3]):
            search = http.post(
                f"/v1/vectors/{index_id}/search", json={"vector": query, "include_values": True}
            )
            assert search.status_code == 200, search.text
            hits = search.json()["hits"]
            assert len(hits) == 2 and all(math.isfinite(hit["score"]) for hit in hits)
        if metric == "cosine":
            search = http.post(f"/v1/vectors/{index_id}/search", json={"vector": big})
            assert search.json()["hits"][0] == {"id": "big", "score": pytest.approx(1.0), "metadata": {}}
    finally:
        http.delete(f"/v1/vectors/indexes/{index_id}")


def test_values_beyond_float32_are_refused(http: httpx.Client, index: str) -> None:
    answer = refused(
        http, "POST", f"/v1/vectors/{index}/upsert", b'{"vectors":[{"id":"o","embedding":[1e39,2,3]}]}'
    )
    assert "float32" in answer["error"]
    refused(http, "POST", f"/v1/vectors/{index}/search", b'{"vector":[1,2,-3.5e38]}')


def test_non_finite_numbers_in_unknown_keys_are_refused(http: httpx.Client) -> None:
    for tail in (b',"temperature":1e999}', b',"extra":[1,NaN]}', b',"extra":{"deep":-1e999}}'):
        response = http.post(CHAT, content=CHAT_HEAD + tail)
        check_refusal(response)
        assert response.status_code == 400, response.text


# -- text ---------------------------------------------------------------------------------------------


def test_lone_surrogates_are_refused_everywhere(http: httpx.Client, index: str) -> None:
    lone = b'"\\ud800"'
    index_body = b'{"name":%s,"dimension":3,"metric":"cosine","cloud_provider":"aws","region":"r"}'
    refused(http, "POST", "/v1/vectors/indexes", index_body % lone)
    refused(
        http, "POST", f"/v1/vectors/{index}/upsert", b'{"vectors":[{"id":%s,"embedding":[1,2,3]}]}' % lone
    )
    refused(
        http,
        "POST",
        f"/v1/vectors/{index}/upsert",
        b'{"vectors":[{"embedding":[1,2,3],"metadata":{%s:1}}]}' % lone,
    )
    refused(http, "POST", f"/v1/vectors/{index}/delete", b'{"vector_ids":[%s]}' % lone)
    refused(http, "PUT", f"/v1/vectors/{index}/keep", b'{"metadata":{"note":"\\udfff tail"}}')
    refused(http, "POST", CHAT, CHAT_HEAD[:-1] + b',"content":"x"}],"user":' + lone + b"}", "invalid_json")
    # a surrogate pair is a real character and is kept
    paired = http.post(
        f"/v1/vectors/{index}/upsert", content=b'{"vectors":[{"id":"\\ud83d\\ude00","embedding":[1,2,3]}]}'
    )
    assert paired.status_code == 200 and paired.json()["ids"] == ["\U0001f600"]


def test_invalid_utf8_bodies_are_refused(http: httpx.Client, index: str) -> None:
    refused(
        http,
        "POST",
        f"/v1/vectors/{index}/upsert",
        b'{"vectors":[{"id":"\xed\xa0\x80","embedding":[1,2,3]}]}',
        "invalid_json",
    )
    refused(
        http,
        "POST",
        f"/v1/vectors/{index}/search",
        b'{"vector":[1,2,3],"filter":{"k":"\xff"}}',
        "invalid_json",
    )


@pytest.mark.parametrize("name", ["a\nb", "tab\there", "nul\x00", "bell\x07", "del\x7f", "c1\x85"])
def test_control_characters_in_ids_and_names_are_refused(http: httpx.Client, index: str, name: str) -> None:
    import json

    body = json.dumps(
        {"name": name, "dimension": 3, "metric": "cosine", "cloud_provider": "aws", "region": "r"}
    )
    answer = refused(http, "POST", "/v1/vectors/indexes", body.encode())
    assert answer["error"] == "name: must not contain control characters"
    refused(
        http,
        "POST",
        f"/v1/vectors/{index}/upsert",
        json.dumps({"vectors": [{"id": name, "embedding": [1, 2, 3]}]}).encode(),
    )


def test_ids_and_names_beyond_their_limits_are_refused(http: httpx.Client, index: str) -> None:
    import json

    body = {"name": "n" * 256, "dimension": 3, "metric": "cosine", "cloud_provider": "aws", "region": "r"}
    refused(http, "POST", "/v1/vectors/indexes", json.dumps(body).encode())
    refused(
        http,
        "POST",
        f"/v1/vectors/{index}/upsert",
        json.dumps({"vectors": [{"id": "i" * 513, "embedding": [1, 2, 3]}]}).encode(),
    )


# -- shape --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 900, 100_000])
def test_deep_json_is_refused(http: httpx.Client, index: str, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    body = b'{"vectors":[{"embedding":[1,2,3],"metadata":{"x":' + nested + b"}}]}"
    answer = refused(http, "POST", f"/v1/vectors/{index}/upsert", body, code=None)
    assert "deeper than 64 levels" in answer["error"] or "nested too deeply" in answer["error"]
    response = http.post(CHAT, content=CHAT_HEAD + b',"extra":' + nested + b"}")
    check_refusal(response)
    assert response.status_code == 400


def test_nesting_within_the_limit_round_trips(http: httpx.Client, index: str) -> None:
    nested: Any = "leaf"
    for _ in range(60):
        nested = {"n": nested}
    response = http.post(
        f"/v1/vectors/{index}/upsert",
        json={"vectors": [{"id": "deep", "embedding": [1, 2, 3], "metadata": nested}]},
    )
    assert response.status_code == 200, response.text
    assert http.get(f"/v1/vectors/{index}/deep").json()["metadata"] == nested


# -- size ---------------------------------------------------------------------------------------------


def test_an_oversized_json_body_is_refused_with_413(http: httpx.Client) -> None:
    content = b"a" * (17 * MiB)
    body = CHAT_HEAD[:-3] + b',"content":"' + content + b'"}]}'
    response = http.post(CHAT, content=body)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    response = http.post(CHAT, content=chunks())  # no Content-Length: counted as it arrives
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert http.get("/v1/inference/models").status_code == 200


# -- connections --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient() -> Iterator[LocalServer]:
    with LocalServer(
        api_keys=["impatient-key"], upstream_url=None, idle_timeout=1, request_timeout=1
    ) as server:
        yield server


def _connect(server: LocalServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_connection_that_never_sends_is_closed(impatient: LocalServer) -> None:
    with _connect(impatient) as sock:
        assert _read_until_closed(sock) == b""


def test_a_half_sent_request_head_gets_408_and_is_closed(impatient: LocalServer) -> None:
    with _connect(impatient) as sock:
        sock.sendall(b"GET /v1/inference/models HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.4)
        sock.sendall(b"X-Slow: 1\r\n")  # trickling does not extend the deadline
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"code": "request_timeout"' in answer


def test_a_stalled_body_is_closed_and_the_server_keeps_serving(impatient: LocalServer) -> None:
    with _connect(impatient) as sock:
        sock.sendall(
            b"POST /v1/vectors/indexes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer impatient-key\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": '
        )
        assert _read_until_closed(sock) == b""
    with httpx.Client(
        base_url=impatient.base_url, headers={"Authorization": "Bearer impatient-key"}
    ) as client:
        assert client.get("/v1/vectors/indexes").json()["indexes"] == []


def test_a_slow_but_steady_body_is_not_cut(impatient: LocalServer) -> None:
    body = b'{"name":"steady","dimension":3,"metric":"cosine","cloud_provider":"aws","region":"r"}'

    def slowly() -> Iterator[bytes]:
        for start in range(0, len(body), 20):
            time.sleep(0.3)
            yield body[start : start + 20]

    with httpx.Client(
        base_url=impatient.base_url, headers={"Authorization": "Bearer impatient-key"}
    ) as client:
        response = client.post("/v1/vectors/indexes", content=slowly())
        assert response.status_code == 201, response.text
        client.delete(f"/v1/vectors/indexes/{response.json()['id']}")


# -- files ----------------------------------------------------------------------------------------------


def _multipart(filename: bytes, *, expires_after: bytes | None = None, content: bytes = b"hello") -> bytes:
    parts = [b'Content-Disposition: form-data; name="purpose"\r\n\r\nbatch']
    if expires_after is not None:
        parts.append(b'Content-Disposition: form-data; name="expires_after"\r\n\r\n' + expires_after)
    parts.append(
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n\r\n' + content
    )
    return b"".join(b"--b\r\n" + part + b"\r\n" for part in parts) + b"--b--\r\n"


def _upload(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/v1/files", content=body, headers={"content-type": "multipart/form-data; boundary=b"})


@pytest.mark.parametrize(
    "value",
    [b"0", b"-1", b"1.5", b"1e3", str(10**32).encode(), b"2147483648", "\u00b2".encode(), b"1" * 5000],
)
def test_expires_after_out_of_range_is_refused(http: httpx.Client, value: bytes) -> None:
    before = snapshot(http)
    response = _upload(http, _multipart(b"a.txt", expires_after=value))
    check_refusal(response)
    assert response.status_code == 400 and "expires_after" in response.json()["error"]
    assert snapshot(http) == before


def test_expires_after_at_its_bound_is_kept(http: httpx.Client) -> None:
    response = _upload(http, _multipart(b"a.txt", expires_after=b"2147483647"))
    assert response.status_code == 200, response.text
    assert response.json()["expires_after"] == 2147483647
    http.delete(f"/v1/files/{response.json()['id']}")


@pytest.mark.parametrize(
    "name", [b"a\tb.txt", b"nul\x00.txt", b"esc\x1b[31m.txt", b"del\x7f", "c1\x85.txt".encode()]
)
def test_file_names_with_control_characters_are_refused(http: httpx.Client, name: bytes) -> None:
    before = snapshot(http)
    response = _upload(http, _multipart(name))
    check_refusal(response)
    assert response.status_code == 400, response.text
    assert snapshot(http) == before


def test_file_names_that_are_not_utf8_are_refused(http: httpx.Client) -> None:
    before = snapshot(http)
    response = _upload(http, _multipart(b"\xff\xfe.txt"))
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]
    assert snapshot(http) == before


@pytest.mark.parametrize("name", ["报告.txt", "emoji \U0001f600.csv", 'quote"and\\back.txt', "ÅÄÖ ñ.jsonl"])
def test_any_unicode_file_name_downloads_under_its_name(http: httpx.Client, name: str) -> None:
    from urllib.parse import unquote

    uploaded = http.post("/v1/files", files={"file": (name, b"payload")}, data={"purpose": "batch"})
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    try:
        download = http.get(f"/v1/files/{file_id}/content")
        assert download.status_code == 200 and download.content == b"payload"
        disposition = download.headers["content-disposition"]
        assert disposition.isascii()
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded, errors="strict") == uploaded.json()["filename"]
    finally:
        http.delete(f"/v1/files/{file_id}")


# -- upsert bodies are decoded item by item: same answers as a whole parse ----------------------------


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b' \n{ "vectors" :\t[ {"id":"ws","embedding":[1, 2.5, -3e-2]} ] , "namespace" : "n" }\r\n', 200),
        (b'{"vectors":[],"vectors":[{"id":"dup","values":[1,2,3]}]}', 200),
        (b'{"other":{"x":[1,2]},"vectors":[{"id":"later","embedding":[0,0,1]}]}', 200),
        (b'{"vectors":[{"id":"a","embedding":[1,2,3]}]} trailing', 400),
        (b'{"vectors":[{"id":"a","embedding":[1,2,3]},]}', 400),
        (b'{"vectors":[{"id":"a","embedding":[1,2,3]}', 400),
        (b'{"vectors":[{"id":"a","embedding":[1,2,3]}] "x":1}', 400),
        (b"{vectors:[]}", 400),
        (b"[1,2,3]", 400),
        (b'"vectors"', 400),
        (b'{"vectors":[{"id":"a","embedding":[1,2]}]}', 400),
        (b'{"vectors":[{"id":"a","embedding":[1,2,true]}]}', 400),
        (b'{"vectors":[{"id":"a","embedding":"1,2,3"}]}', 400),
        (b'{"vectors":[{"id":"a","embedding":[1,2,NaN]}]}', 400),
        (b'{"vectors":{"id":"a"}}', 400),
        (b'{"\\ud800":1,"vectors":[{"id":"a","embedding":[1,2,3]}]}', 400),
    ],
)
def test_upsert_bodies_of_every_shape(http: httpx.Client, index: str, raw: bytes, status: int) -> None:
    before = snapshot(http)
    response = http.post(f"/v1/vectors/{index}/upsert", content=raw)
    check_refusal(response)
    assert response.status_code == status, response.text
    if status >= 400:
        assert snapshot(http) == before


def test_an_oversized_batch_is_refused_at_the_first_item_too_many(http: httpx.Client, index: str) -> None:
    items = b",".join(b'{"id":"b%d","embedding":[1,2,3]}' % i for i in range(1001))
    answer = refused(http, "POST", f"/v1/vectors/{index}/batch", b'{"vectors":[' + items + b"]}")
    assert "at most 1000" in answer["error"]
    answer = refused(http, "POST", f"/v1/vectors/{index}/batch", b'{"junk":[' + b"0," * 2_300_000 + b"0]}")
    assert "more than" in answer["error"]


def test_rows_stored_with_infinity_before_the_checks_read_back_as_null(
    local: LocalServer, http: httpx.Client, index: str
) -> None:
    """A database written by an older Local may hold ``Infinity``: its index keeps answering."""
    import sqlite3

    with sqlite3.connect(local.data_dir / "local.sqlite3") as db:
        db.execute(
            "UPDATE vectors_items SET metadata = ? WHERE index_id = ? AND id = 'keep'",
            ('{"x": Infinity, "k": 1}', index),
        )
        db.execute("UPDATE vectors_indexes SET metadata = ? WHERE id = ?", ('{"y": -Infinity}', index))
    assert http.get(f"/v1/vectors/{index}/keep").json()["metadata"] == {"x": None, "k": 1}
    assert http.get(f"/v1/vectors/{index}/fetch").status_code == 200
    assert http.get(f"/v1/vectors/indexes/{index}").json()["metadata"] == {"y": None}
