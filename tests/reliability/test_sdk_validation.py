"""SDK argument validation: a wrong argument raises `GravixLayerValidationError` before anything is sent.

Every public method of every resource is found by introspection. Each required argument is given a
valid value except one, which gets a wrong one (wrong type, empty, or absurd); the client's transport
fails the test if it is called at all.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gravixlayer import AsyncGravixLayer, GravixLayer, GravixLayerValidationError


class Untouchable(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that must never be used: a request reaching it means validation came too late."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url}")
        raise AssertionError(f"request sent despite invalid arguments: {request.method} {request.url}")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


SANDBOX_ID = str(uuid.uuid4())
VALID: dict[str, Any] = {
    "model": "meta-llama/llama-3.1-8b-instruct",
    "messages": [{"role": "user", "content": "hi"}],
    "prompt": "hello",
    "input": "hello",
    "file": b"some bytes",
    "purpose": "fine-tune",
    "file_id": "file-1",
    "deployment_name": "dep-1",
    "model_name": "qwen/qwen-2.5-vl-7b-instruct",
    "gpu_model": "NVIDIA_T4_16GB",
    "id_or_name": "dep-1",
    "name": "index-1",
    "dimension": 4,
    "metric": "cosine",
    "cloud_provider": "AWS",
    "region": "us-east-1",
    "index_id": "idx-1",
    "embedding": [0.1, 0.2, 0.3, 0.4],
    "text": "some text",
    "query": "some query",
    "id": "vec-1",
    "ids": ["vec-1"],
    "vector_ids": ["vec-1"],
    "vectors": [{"id": "vec-1", "embedding": [0.1, 0.2, 0.3, 0.4]}],
    "texts": ["some text"],
    "sandbox_id": SANDBOX_ID,
    "context_id": str(uuid.uuid4()),
    "path": "/home/user/a.txt",
    "content": "x",
    "code": "1 + 1",
    "command": "ls",
    "port": 8080,
    "timeout": 30,
    "user_id": "alice",
    "memory_id": "mem-1",
    "data": "a fact",
    "provider": "gravix",
    "files": [("/home/user/a.txt", "x")],
}
# Strings that are valid text content, so an empty one is not a mistake.
FREE_TEXT = {"content", "code", "data", "text", "prompt", "input", "query"}
# Batches where an empty list may be a no-op rather than a mistake (nothing is sent either way).
EMPTY_OK = {"vectors", "texts", "files"}
NOOP = "no-op"


def _wrong_values(param: inspect.Parameter) -> list[Any]:
    """Values no caller could mean for this parameter, judged by its annotation."""
    ann = str(param.annotation)
    values: list[Any] = [None, object(), float("nan"), -7]
    if "int" not in ann and "float" not in ann:
        values.append(12345)
    if param.name not in FREE_TEXT and ("str" in ann or "Path" in ann):
        values += ["", "   "]
    if "Iterable" in ann or "list" in ann or "Sequence" in ann:
        values.append([])
    if "Mapping" not in ann and "dict" not in ann:
        values.append({})
    return values


def _resources(client: GravixLayer | AsyncGravixLayer) -> Iterator[tuple[str, Any]]:
    getters: list[tuple[str, Callable[[], Any]]] = [
        ("chat.completions", lambda: client.chat.completions),
        ("completions", lambda: client.completions),
        ("embeddings", lambda: client.embeddings),
        ("files", lambda: client.files),
        ("deployments", lambda: client.deployments),
        ("accelerators", lambda: client.accelerators),
        ("vectors.indexes", lambda: client.vectors.indexes),
        ("vectors.index(...)", lambda: client.vectors.index("idx-1")),
        ("sandbox.sandboxes", lambda: client.sandbox.sandboxes),
        ("sandbox.templates", lambda: client.sandbox.templates),
        (
            "memory(...)",
            lambda: client.memory(
                embedding_model="microsoft/multilingual-e5-large",
                inference_model="meta-llama/llama-3.1-8b-instruct",
                index_name="mem",
                cloud_provider="AWS",
                region="us-east-1",
            ),
        ),
    ]
    for name, get in getters:
        try:
            yield name, get()
        except (ImportError, AttributeError):
            continue  # that service is not written yet


def _cases(is_async: bool) -> list[tuple[str, str, str, Any]]:
    """(resource, method, argument, wrong value) for every required argument of every public method."""
    transport = Untouchable()
    client: GravixLayer | AsyncGravixLayer = (
        AsyncGravixLayer(
            api_key="sk-validation", base_url="http://x", http_client=httpx.AsyncClient(transport=transport)
        )
        if is_async
        else GravixLayer(
            api_key="sk-validation", base_url="http://x", http_client=httpx.Client(transport=transport)
        )
    )
    cases: list[tuple[str, str, str, Any]] = []
    for res_name, resource in _resources(client):
        for meth_name, method in inspect.getmembers(resource, callable):
            if meth_name.startswith("_") or meth_name in ("with_raw_response", "with_options"):
                continue
            try:
                sig = inspect.signature(method)
            except (TypeError, ValueError):
                continue
            required = [
                p for p in sig.parameters.values()
                if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            ]  # fmt: skip
            if not required or any(p.name not in VALID for p in required):
                continue
            for p in required:
                for wrong in _wrong_values(p):
                    cases.append((res_name, meth_name, p.name, wrong))
    return cases


def _call(client: GravixLayer | AsyncGravixLayer, res_name: str, meth_name: str, arg: str, wrong: Any) -> Any:
    resource = dict(_resources(client))[res_name]
    method = getattr(resource, meth_name)
    sig = inspect.signature(method)
    kwargs = {
        p.name: (wrong if p.name == arg else VALID[p.name])
        for p in sig.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    return method(**kwargs)


SYNC_CASES = _cases(False)
ASYNC_CASES = _cases(True)


def _id(case: tuple[str, str, str, Any]) -> str:
    return f"{case[0]}.{case[1]}({case[2]}={type(case[3]).__name__}:{str(case[3])[:6]!r})"


def test_the_table_reaches_every_service() -> None:
    methods = {(r, m) for r, m, _, _ in SYNC_CASES}
    resources = {r for r, _ in methods}
    assert {"chat.completions", "embeddings", "files", "deployments"} <= resources
    assert len(methods) >= 15
    assert {(r, m) for r, m, _, _ in ASYNC_CASES} == methods


@pytest.mark.parametrize("case", SYNC_CASES, ids=_id)
def test_sync_wrong_argument_is_refused_before_sending(case: tuple[str, str, str, Any]) -> None:
    transport = Untouchable()
    with GravixLayer(
        api_key="sk-validation", base_url="http://x", http_client=httpx.Client(transport=transport)
    ) as client:
        if case[3] == [] and case[2] in EMPTY_OK:
            try:
                _call(client, *case)
            except GravixLayerValidationError:
                pass
        else:
            with pytest.raises(GravixLayerValidationError):
                _call(client, *case)
    assert transport.sent == []


@pytest.mark.parametrize("case", ASYNC_CASES, ids=_id)
async def test_async_wrong_argument_is_refused_before_sending(case: tuple[str, str, str, Any]) -> None:
    transport = Untouchable()
    http = httpx.AsyncClient(transport=transport)
    async with AsyncGravixLayer(api_key="sk-validation", base_url="http://x", http_client=http) as client:
        if case[3] == [] and case[2] in EMPTY_OK:
            try:
                await _call(client, *case)
            except GravixLayerValidationError:
                pass
        else:
            with pytest.raises(GravixLayerValidationError):
                await _call(client, *case)
    assert transport.sent == []
    await http.aclose()


junk_message = st.one_of(
    st.integers(),
    st.text(max_size=5),
    st.none(),
    st.dictionaries(st.sampled_from(["content", "name", "Role"]), st.text(max_size=5), max_size=2),
    st.fixed_dictionaries({"role": st.one_of(st.none(), st.integers(), st.just(""))}),
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    messages=st.one_of(
        st.lists(junk_message, min_size=1, max_size=4).flatmap(
            lambda junk: st.permutations([*junk, {"role": "user", "content": "hi"}])
        ),
        st.just([]),
        st.text(max_size=10),
        st.binary(max_size=10),
        st.integers(),
    ),
    model=st.sampled_from(["m", "", " ", None, 7]),
)
def test_malformed_chat_messages_are_refused_before_sending(messages: Any, model: Any) -> None:
    """Random malformed message lists (one junk message among good ones, or no list at all)."""
    transport = Untouchable()
    with GravixLayer(
        api_key="sk-validation", base_url="http://x", http_client=httpx.Client(transport=transport)
    ) as client:
        with pytest.raises(GravixLayerValidationError):
            client.chat.completions.create(model=model, messages=messages)
    assert transport.sent == []
