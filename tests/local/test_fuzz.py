"""Random bodies, paths and headers never produce a 500 or a non-JSON error (bounded run)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gravixlayer.local import LocalServer

from ._hostile import body_bytes, mutated
from ._state import check_refusal, open_descriptors, snapshot
from .conftest import CHAT_MODEL, KEY_A

ROUTES = [
    ("POST", "/v1/inference/chat/completions"),
    ("POST", "/v1/inference/completions"),
    ("POST", "/v1/inference/embeddings"),
    ("GET", "/v1/inference/models"),
    ("GET", "/health"),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
field_values = (
    st.sampled_from(["test-model", "baai/bge-small-en-v1.5", "", "user", "float", "base64", "x"])
    | json_values
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": field_values,
        "messages": st.lists(
            st.fixed_dictionaries({}, optional={"role": field_values, "content": field_values}), max_size=3
        )
        | field_values,
        "prompt": field_values,
        "input": field_values,
        "n": field_values,
        "max_tokens": field_values,
        "stop": field_values,
        "stream": field_values,
        "encoding_format": field_values,
        "dimensions": field_values,
        "stream_options": field_values,
    },
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "code"} and body["error"]


@SETTINGS
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_random_json_bodies(http: httpx.Client, route: tuple[str, str], body: dict[str, Any]) -> None:
    method, path = route
    check(http.request(method, path, content=json.dumps(body).encode()))


@SETTINGS
@given(route=st.sampled_from(ROUTES), raw=st.binary(max_size=64))
def test_random_bytes(http: httpx.Client, route: tuple[str, str], raw: bytes) -> None:
    check(http.request(route[0], route[1], content=raw))


@SETTINGS
@given(
    path=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="?#\\"),
        max_size=30,
    ),
    query=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
)
def test_random_paths(http: httpx.Client, path: str, query: dict[str, str], method: str) -> None:
    check(http.request(method, "/" + path.lstrip("/"), params=query))


@SETTINGS
@given(auth=st.binary(max_size=40).map(lambda b: bytes(c for c in b if c >= 0x21 and c != 0x7F)))
def test_random_authorization_headers(anon: httpx.Client, auth: bytes) -> None:
    response = anon.get("/v1/inference/models", headers={"Authorization": auth})
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


# -- hostile bodies on every JSON route: no 500, and a refused request changes nothing ----------------

SMALL_MODEL = "baai/bge-small-en-v1.5"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def targets(http: httpx.Client) -> Iterator[dict[str, str]]:
    """A 3-dimensional index and a 384-dimensional one (for text routes), each with one vector."""
    ids: dict[str, str] = {}
    for key, dimension in (("index", 3), ("text_index", 384)):
        created = http.post(
            "/v1/vectors/indexes",
            json={"name": f"fuzz-{key}", "dimension": dimension, "metric": "cosine",
                  "cloud_provider": "aws", "region": "us-east-1"},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        ids[key] = created.json()["id"]
        http.post(
            f"/v1/vectors/{ids[key]}/upsert",
            json={"vectors": [{"id": "seed", "embedding": [0.5] * dimension}]},
        )
    yield ids
    for index_id in ids.values():
        http.delete(f"/v1/vectors/indexes/{index_id}")


def json_routes(index: str, text_index: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every route that reads a JSON body, with a valid body to break."""
    vec = {
        "id": "fz",
        "embedding": [0.1, 0.2, 0.3],
        "metadata": {"a": 1, "tags": ["x"]},
        "delete_protection": False,
    }
    text_vec = {"id": "fzt", "text": "hello", "model": SMALL_MODEL, "metadata": {"a": 1}}
    search = {"top_k": 3, "filter": {"a": 1}, "include_metadata": True, "include_values": False}
    sandbox = f"/v1/agents/sandboxes/{MISSING}"
    return [
        ("POST", "/v1/inference/chat/completions",
         {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "temperature": 0.5,
          "stop": ["x"], "stream": False}),
        ("POST", "/v1/inference/completions", {"model": CHAT_MODEL, "prompt": "hi", "max_tokens": 3, "n": 1}),
        ("POST", "/v1/inference/embeddings", {"model": SMALL_MODEL, "input": ["a", "b"], "encoding_format": "float"}),
        ("POST", "/v1/vectors/indexes",
         {"name": "fz-index", "dimension": 3, "metric": "cosine", "cloud_provider": "aws", "region": "us-east-1",
          "metadata": {"team": "a"}}),
        ("PUT", f"/v1/vectors/indexes/{index}", {"metadata": {"team": "b"}, "delete_protection": False}),
        ("POST", f"/v1/vectors/{index}/upsert", {"vectors": [vec]}),
        ("POST", f"/v1/vectors/{index}/batch", {"vectors": [vec, {**vec, "id": "fz2"}]}),
        ("POST", f"/v1/vectors/{text_index}/text/upsert", {"vectors": [text_vec]}),
        ("POST", f"/v1/vectors/{text_index}/text/batch", {"vectors": [text_vec]}),
        ("POST", f"/v1/vectors/{index}/search", {"vector": [0.1, 0.2, 0.3], **search}),
        ("POST", f"/v1/vectors/{text_index}/search/text", {"query": "hello", "model": SMALL_MODEL, **search}),
        ("POST", f"/v1/vectors/{index}/delete", {"vector_ids": ["fz-none"]}),
        ("PUT", f"/v1/vectors/{index}/seed", {"metadata": {"a": 2}, "delete_protection": False}),
        ("POST", "/v1/deployments/create",
         {"deployment_name": "fz-deploy", "model_name": "qwen/qwen-2.5-vl-7b-instruct", "gpu_model": "NVIDIA_T4_16GB",
          "gpu_count": 1, "min_replicas": 1, "max_replicas": 1}),
        ("POST", f"{sandbox}/timeout", {"timeout": 60}),
        ("POST", f"{sandbox}/files/read", {"path": "/tmp/x"}),
        ("POST", f"{sandbox}/files/write", {"path": "/tmp/x", "content": "y"}),
        ("POST", f"{sandbox}/commands/run", {"command": "true", "args": [], "timeout": 5}),
        ("POST", f"{sandbox}/code/run", {"code": "1", "language": "python"}),
    ]  # fmt: skip


def _cleanup(http: httpx.Client, path: str, response: httpx.Response) -> None:
    """Remove what an accepted create made, so the next example starts from the same state."""
    if response.status_code >= 300:
        return
    if path == "/v1/vectors/indexes":
        http.delete(f"/v1/vectors/indexes/{response.json()['id']}")
    elif path == "/v1/deployments/create":
        http.delete(f"/v1/deployments/delete/{response.json()['deployment_id']}")


HOSTILE_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


@HOSTILE_SETTINGS
@given(data=st.data())
def test_hostile_values_on_every_json_route(
    http: httpx.Client, targets: dict[str, str], data: st.DataObject
) -> None:
    method, path, template = data.draw(st.sampled_from(json_routes(targets["index"], targets["text_index"])))
    body = body_bytes(data.draw(mutated(template)))
    before = snapshot(http)
    response = http.request(method, path, content=body, headers={"content-type": "application/json"})
    check_refusal(response)
    if response.status_code >= 400:
        assert snapshot(http) == before, f"{method} {path} was refused ({response.text}) but changed state"
    _cleanup(http, path, response)
    assert http.get("/health").status_code == 200


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), raw=st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\x00", b"\xef\xbb\xbf"]))
def test_invalid_utf8_on_every_json_route(
    http: httpx.Client, targets: dict[str, str], data: st.DataObject, raw: bytes
) -> None:
    method, path, template = data.draw(st.sampled_from(json_routes(targets["index"], targets["text_index"])))
    text = body_bytes(template)
    cut = data.draw(st.integers(0, len(text)))
    before = snapshot(http)
    response = http.request(method, path, content=text[:cut] + raw + text[cut:])
    check_refusal(response)
    if response.status_code >= 400:
        assert snapshot(http) == before
    _cleanup(http, path, response)


def _peak_rss_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_an_oversized_body_is_refused_before_it_is_held(http: httpx.Client) -> None:
    """48 MiB of JSON sent without a length: the server holds at most its 16 MiB limit, then drains."""
    body = b'{"model":"x","messages":[{"role":"user","content":"' + b"a" * (48 * 1024 * 1024) + b'"}]}'

    def chunks() -> Iterator[bytes]:
        view = memoryview(body)
        for start in range(0, len(body), 1024 * 1024):
            yield bytes(view[start : start + 1024 * 1024])

    with open("/proc/self/clear_refs", "w") as reset:  # restart the peak-RSS counter of this process
        reset.write("5")
    before = _peak_rss_mib()
    response = http.post("/v1/inference/chat/completions", content=chunks())
    grown = _peak_rss_mib() - before
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert grown < 64, f"serving a refused 48 MiB body raised peak memory by {grown:.0f} MiB"


def test_refused_requests_leak_no_descriptors(local: LocalServer, targets: dict[str, str]) -> None:
    """Refusals of every kind (bad JSON, 413 with drain, dropped connections) leave no open file behind."""
    headers = {"Authorization": f"Bearer {KEY_A}"}

    def round_of_abuse() -> None:
        with httpx.Client(base_url=local.base_url, headers=headers, timeout=30) as client:
            for method, path, template in json_routes(targets["index"], targets["text_index"]):
                client.request(method, path, content=body_bytes(template)[:-1])  # truncated JSON
                client.request(method, path, content=b"[" * 5000)
            client.post("/v1/inference/chat/completions", content=b"x" * (17 * 1024 * 1024))
            with client.stream("GET", "/v1/inference/models") as streamed:
                streamed.read()

    round_of_abuse()  # warm up pools, caches and lazily opened files
    time.sleep(0.2)
    baseline = open_descriptors(local.data_dir)
    for _ in range(3):
        round_of_abuse()
    deadline = time.monotonic() + 5
    while open_descriptors(local.data_dir) > baseline and time.monotonic() < deadline:
        time.sleep(0.1)  # closed sockets take a moment to be reaped
    assert open_descriptors(local.data_dir) <= baseline
