"""With an upstream configured, chat and completions are forwarded (stream too)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gravixlayer.local import LocalServer

from .conftest import KEY_A, FakeUpstream, sse_events


@pytest.fixture(scope="module")
def forwarding(fake_upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with (
        LocalServer(
            api_keys=[KEY_A], upstream_url=fake_upstream.base_url + "/", upstream_api_key="upstream-secret"
        ) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY_A}"}) as client,
    ):
        yield client


def test_chat_is_forwarded(forwarding: httpx.Client, fake_upstream: FakeUpstream) -> None:
    body = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hi"}], "custom": {"x": 1}}
    response = forwarding.post("/v1/inference/chat/completions", json=body)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "upstream says hi to llama3.2:1b"
    seen = fake_upstream.requests[-1]
    assert seen["path"] == "/v1/chat/completions" and seen["body"] == body
    assert seen["auth"] == "Bearer upstream-secret"  # the upstream key, never the caller's
    assert response.headers["x-request-id"]


def test_stream_is_forwarded(forwarding: httpx.Client) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with forwarding.stream("POST", "/v1/inference/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.iter_lines())
    assert events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"]["content"] for e in events[:-1]) == "upstream says hi to m "


def test_completions_are_forwarded(forwarding: httpx.Client, fake_upstream: FakeUpstream) -> None:
    response = forwarding.post("/v1/inference/completions", json={"model": "m", "prompt": "Once"})
    assert response.status_code == 200 and response.json()["choices"][0]["text"]
    assert fake_upstream.requests[-1]["path"] == "/v1/completions"


def test_upstream_errors_keep_status_in_local_shape(forwarding: httpx.Client) -> None:
    body = {"model": "missing-model", "messages": [{"role": "user", "content": "hi"}]}
    response = forwarding.post("/v1/inference/chat/completions", json=body)
    assert response.status_code == 404
    assert response.json() == {"error": "upstream: model 'missing-model' not found", "code": "not_found"}


def test_local_validation_still_applies(forwarding: httpx.Client, fake_upstream: FakeUpstream) -> None:
    before = len(fake_upstream.requests)
    response = forwarding.post("/v1/inference/chat/completions", json={"model": "m", "messages": []})
    assert response.status_code == 400 and len(fake_upstream.requests) == before


def test_models_come_from_upstream_plus_local_embeddings(forwarding: httpx.Client) -> None:
    data = forwarding.get("/v1/inference/models").json()["data"]
    ids = [m["id"] for m in data]
    assert "llama3.2:1b" in ids and "microsoft/multilingual-e5-large" in ids


def test_unreachable_upstream_is_502() -> None:
    with LocalServer(api_keys=[KEY_A], upstream_url="http://127.0.0.1:9/v1") as server:
        response = httpx.post(
            f"{server.base_url}/v1/inference/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {KEY_A}"},
        )
    assert response.status_code == 502 and response.json()["code"] == "upstream_unavailable"
