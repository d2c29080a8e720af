"""Random bodies, paths and headers never produce a 500 or a non-JSON error (bounded run)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
