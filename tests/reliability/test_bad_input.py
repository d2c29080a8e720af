"""Bad input at every Local route: never a 500, never a crash, always a JSON error.

Routes are read from ``gravixlayer.local.app.ROUTERS``, so each service is fuzzed as soon as it is
served. Path parameters are random text or the ids of real resources (so validation past the
not-found check is reached too); bodies are random JSON, JSON objects with the field names the API
uses, random bytes, or multipart with a wrong boundary; headers and query strings are random as well.
"""

from __future__ import annotations

import importlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Mount, Route

from gravixlayer.local import LocalServer
from gravixlayer.local.app import ROUTERS

from ._config import KEYS
from ._known_ids import KnownIds, known_ids_for

EXAMPLES = 30
DESTRUCTIVE = ("/pause", "/timeout", "/commands/run", "/delete")
FUZZ_KEY = KEYS[2]


def _routes() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = [("GET", "/health")]

    def walk(routes: list[BaseRoute], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Route):
                for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                    found.append((method, prefix + route.path))
            elif isinstance(route, Mount):
                walk(list(route.routes), prefix + route.path)

    for name in ROUTERS:
        walk(importlib.import_module(f"gravixlayer.local.routers.{name}").routes, "")
    return found


ROUTES = _routes()
PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-z]+))?\}")

FIELDS = [
    "model", "messages", "prompt", "input", "stream", "n", "max_tokens", "stop", "temperature",
    "encoding_format", "dimensions", "name", "dimension", "metric", "cloud_provider", "region",
    "vector_type", "index_type", "metadata", "delete_protection", "id", "ids", "embedding", "vector",
    "vectors", "text", "texts", "top_k", "limit", "filter", "include_metadata", "include_values",
    "query", "deployment_name", "model_name", "gpu_model", "gpu_count", "min_replicas", "max_replicas",
    "hw_type", "auto_retry", "purpose", "file", "expires_after", "provider", "template", "timeout",
    "env_vars", "code", "language", "context_id", "command", "args", "working_dir", "env", "path",
    "content", "paths", "files", "data", "user_id", "force",
]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=15,
)
field_values = (
    st.sampled_from(
        ["", "x", "cosine", "dense", "python", "fine-tune", "nvidia-t4-16gb", "../../etc/passwd", "\x00"]
    )
    | st.lists(st.floats(allow_nan=True, width=32), max_size=8)
    | json_values
)
objects = st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=6)
path_values = st.text(max_size=40) | st.sampled_from(
    ["..", "%2e%2e", "a/b", "", " ", "\u00e9", "0" * 300, "-1"]
)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(["object", "json", "bytes", "empty", "multipart", "form", "upload"]))
    if kind == "upload":  # well-formed multipart with random fields and file names
        fields = draw(st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=20), max_size=4))
        name = draw(st.text(max_size=30) | st.sampled_from(["../../x.jsonl", "/etc/passwd", "a\\b", "."]))
        part = draw(st.sampled_from(["file", "files", "upload", "data"]))
        built = httpx.Request(
            "POST", "http://h/", data=fields, files={part: (name, draw(st.binary(max_size=64)))}
        )
        return built.read(), built.headers["content-type"]
    if kind == "object":
        return json.dumps(draw(objects), allow_nan=True).encode(), "application/json"
    if kind == "json":
        return json.dumps(draw(json_values), allow_nan=True).encode(), draw(
            st.sampled_from(["application/json", None, "text/plain"])
        )
    if kind == "bytes":
        return draw(st.binary(max_size=200)), draw(
            st.sampled_from(["application/json", "application/octet-stream", None, "multipart/form-data"])
        )
    if kind == "multipart":
        boundary = draw(st.sampled_from(["b0undary", "", "x" * 80]))
        body = draw(st.binary(max_size=120)) + b"\r\n--other--\r\n"
        return body, f"multipart/form-data; boundary={boundary}"
    if kind == "form":
        return b"a=1&purpose=fine-tune&file=%00", "application/x-www-form-urlencoded"
    return b"", draw(st.sampled_from(["application/json", None]))


headers_strategy = st.dictionaries(
    st.sampled_from(
        ["accept", "x-request-id", "content-encoding", "accept-encoding", "x-custom", "range", "expect"]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(str.strip),
    max_size=3,
)
queries = st.dictionaries(
    st.sampled_from(["limit", "offset", "page", "page_size", "cursor", "force", "path", "x", "user_id"]),
    st.text(max_size=12) | st.integers().map(str),
    max_size=3,
)


def _fill(path: str, params: dict[str, str]) -> str:
    """The path with each parameter percent-encoded (``{x:path}`` keeps its slashes)."""

    def sub(m: re.Match[str]) -> str:
        return quote(params.get(m.group(1), "x"), safe="/" if m.group(2) == "path" else "")

    return PARAM.sub(sub, path)


@pytest.fixture(scope="module")
def fuzz_http(rel_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rel_server.base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def known(rel_server: LocalServer) -> KnownIds:
    return known_ids_for(rel_server, FUZZ_KEY)


def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), what
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], what
        assert isinstance(body.get("code"), str), what


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_survives_random_input(
    method: str, path: str, fuzz_http: httpx.Client, known: KnownIds, rel_server: LocalServer
) -> None:
    names = [m.group(1) for m in PARAM.finditer(path)]
    # Real ids reach the validation behind the not-found check; routes that would destroy the shared
    # resources (or run random shell commands) only get random ids.
    destructive = method == "DELETE" or path.endswith(DESTRUCTIVE)
    statuses: Counter[int] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        params=st.fixed_dictionaries(
            {
                n: (
                    path_values if destructive else path_values | st.sampled_from(known.for_param(n) or ["x"])
                )
                for n in names
            }
        ),
        body=bodies(),
        query=queries,
        headers=headers_strategy,
        auth=st.sampled_from(["good", "good", "good", "none", "wrong", "scheme"]),
    )
    def one(
        params: dict[str, str],
        body: tuple[bytes, str | None],
        query: dict[str, str],
        headers: dict[str, str],
        auth: str,
    ) -> None:
        sent: dict[str, str] = dict(headers)
        sent.pop("expect", None)  # h11 clients do not implement 100-continue
        if body[1] is not None:
            sent["content-type"] = body[1]
        if auth != "none":
            sent["authorization"] = {
                "good": f"Bearer {FUZZ_KEY}",
                "wrong": "Bearer nope",
                "scheme": f"Basic {FUZZ_KEY}",
            }[auth]
        url = _fill(path, params)
        content = body[0] if method in ("POST", "PUT", "PATCH", "DELETE") else None
        response = fuzz_http.request(method, url, params=query, content=content, headers=sent)
        what = f"{method} {url} query={query} body={body[0][:80]!r} ({body[1]})"
        _check(response, what)
        statuses[response.status_code] += 1
        if auth != "good" and path != "/health":
            assert response.status_code == 401, what

    one()
    assert sum(statuses.values()) >= EXAMPLES, statuses
    assert fuzz_http.get("/health").status_code == 200


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_wrong_method_and_unknown_subpath_are_json_errors(
    method: str, path: str, fuzz_http: httpx.Client
) -> None:
    auth = {"authorization": f"Bearer {FUZZ_KEY}"}
    url = _fill(path, {})
    for other in {"GET", "POST", "PUT", "PATCH", "DELETE"} - {m for m, p in ROUTES if p == path}:
        _check(fuzz_http.request(other, url, headers=auth), f"{other} {url}")
    _check(fuzz_http.get(url.rstrip("/") + "/no/such/thing", headers=auth), f"GET {url}/no/such/thing")


def test_oversized_and_deep_bodies(fuzz_http: httpx.Client, rel_server: LocalServer) -> None:
    """A deeply nested body and a long one are refused cleanly, not with a recursion error."""
    auth = {"authorization": f"Bearer {FUZZ_KEY}", "content-type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    for method, path in ROUTES:
        if method not in ("POST", "PUT", "PATCH"):
            continue
        url = _fill(path, {})
        _check(fuzz_http.request(method, url, content=deep, headers=auth), f"{method} {url} deep")
        huge: dict[str, Any] = {"model": "x" * 2_000_000, "input": ["y"] * 10}
        _check(fuzz_http.request(method, url, json=huge, headers=auth), f"{method} {url} huge")
    assert fuzz_http.get("/health").status_code == 200
