"""Chat completions from the deterministic stand-in model (spec §2.1-2.2)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gravixlayer.local import LocalServer
from gravixlayer.local.standin import STANDIN_MODEL, tokenize

from .conftest import CHAT_MODEL, KEY_A, chat_body, sse_events

CHAT = "/v1/inference/chat/completions"


def create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post(CHAT, json=chat_body(**body) if "messages" not in body else body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stream(http: httpx.Client, body: dict[str, Any]) -> list[Any]:
    with http.stream("POST", CHAT, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_events(response.iter_lines())


def streamed_text(events: list[Any], index: int = 0) -> str:
    return "".join(
        c["delta"].get("content") or ""
        for e in events
        if isinstance(e, dict)
        for c in e["choices"]
        if c["index"] == index
    )


def test_response_shape(http: httpx.Client) -> None:
    body = create(http)
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-") and isinstance(body["created"], int)
    assert body["model"] == CHAT_MODEL
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert "stand-in" in choice["message"]["content"]  # honest about what it is
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == len(tokenize(choice["message"]["content"]))


def test_same_input_same_output(http: httpx.Client) -> None:
    first, second = create(http), create(http)
    assert first["choices"] == second["choices"] and first["usage"] == second["usage"]
    other = create(http, messages=[{"role": "user", "content": "Something else entirely"}], model=CHAT_MODEL)
    assert other["choices"][0]["message"]["content"] != first["choices"][0]["message"]["content"]


def test_answer_reflects_the_prompt(http: httpx.Client) -> None:
    text = create(
        http, messages=[{"role": "user", "content": "Explain quantum entanglement"}], model=CHAT_MODEL
    )
    content = text["choices"][0]["message"]["content"]
    assert "quantum" in content and "entanglement" in content


@pytest.mark.parametrize(
    "model",
    [
        "qwen/qwen-2.5-vl-7b-instruct",
        "mistralai/mistral-nemo-instruct-2407",
        "openai/gpt-4o-mini",
        STANDIN_MODEL,
        "Meta-Llama/Llama-3.1-8B-Instruct",
    ],
)
def test_documented_models_are_served(http: httpx.Client, model: str) -> None:
    body = create(http, model=model)
    assert body["model"].lower() == model.lower()


def test_max_tokens_gives_length(http: httpx.Client) -> None:
    full = create(http)["choices"][0]["message"]["content"]
    body = create(http, max_tokens=5)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    assert choice["message"]["content"] == "".join(tokenize(full)[:5])
    # a limit above the natural length changes nothing
    assert create(http, max_tokens=10_000)["choices"][0]["finish_reason"] == "stop"


def test_stop_sequences(http: httpx.Client) -> None:
    full = create(http)["choices"][0]["message"]["content"]
    body = create(http, stop=["offline", "zzz-never"])
    text = body["choices"][0]["message"]["content"]
    assert text == full[: full.index("offline")] and body["choices"][0]["finish_reason"] == "stop"
    assert (
        create(http, stop="GravixLayer")["choices"][0]["message"]["content"]
        == full[: full.index("GravixLayer")]
    )


def test_n_gives_distinct_deterministic_choices(http: httpx.Client) -> None:
    body = create(http, n=3)
    texts = [c["message"]["content"] for c in body["choices"]]
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len(set(texts)) == 3
    assert [c["message"]["content"] for c in create(http, n=3)["choices"]] == texts
    assert body["usage"]["completion_tokens"] == sum(len(tokenize(t)) for t in texts)


def test_content_parts_are_read(http: httpx.Client) -> None:
    parts = [
        {"type": "text", "text": "Describe this lighthouse"},
        {"type": "image_url", "image_url": {"url": "x"}},
    ]
    body = create(http, model="qwen/qwen-2.5-vl-7b-instruct", messages=[{"role": "user", "content": parts}])
    assert "lighthouse" in body["choices"][0]["message"]["content"]


def test_stream_shapes_and_done(http: httpx.Client) -> None:
    events = stream(http, chat_body())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and next(iter(ids)).startswith("chatcmpl-")
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk" and chunk["model"] == CHAT_MODEL
        assert len(chunk["choices"]) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"  # the last content chunk


def test_stream_text_equals_non_stream_text(http: httpx.Client) -> None:
    for extra in ({}, {"max_tokens": 7}, {"stop": "model"}, {"n": 2}):
        whole = create(http, **extra)
        events = stream(http, chat_body(**extra))
        for choice in whole["choices"]:
            assert streamed_text(events, choice["index"]) == choice["message"]["content"]
            finishes = [
                c["finish_reason"] for e in events[:-1] for c in e["choices"] if c["index"] == choice["index"]
            ]
            assert finishes[-1] == choice["finish_reason"]


def test_stream_usage_chunk(http: httpx.Client) -> None:
    events = stream(http, chat_body(stream_options={"include_usage": True}))
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == [] and events[-1] == "[DONE]"
    content_chunks = [e for e in events[:-2] if e["choices"][0]["delta"].get("content")]
    assert usage_chunk["usage"]["completion_tokens"] == len(content_chunks)
    assert usage_chunk["usage"] == create(http)["usage"]
    assert all("usage" not in e for e in stream(http, chat_body()) if isinstance(e, dict))


def test_stream_frames_are_data_lines(local: LocalServer) -> None:
    with httpx.Client(base_url=local.base_url, headers={"Authorization": f"Bearer {KEY_A}"}) as client:
        raw = client.post(CHAT, json=chat_body(stream=True, max_tokens=2)).content
    assert raw.endswith(b"data: [DONE]\n\n")
    assert all(frame.startswith(b"data: ") for frame in raw.split(b"\n\n") if frame)


@pytest.fixture(scope="module")
def paced() -> Iterator[LocalServer]:
    with LocalServer(api_keys=[KEY_A], token_delay=0.02, upstream_url=None, chat_engine="standin") as server:
        yield server


def test_streaming_is_incremental(paced: LocalServer) -> None:
    with httpx.Client(base_url=paced.base_url, headers={"Authorization": f"Bearer {KEY_A}"}) as client:
        start = time.monotonic()
        with client.stream("POST", CHAT, json=chat_body(stream=True)) as response:
            lines = response.iter_lines()
            first = next(line for line in lines if line)
            first_at = time.monotonic() - start
            rest = [line for line in lines if line]
        total = time.monotonic() - start
    assert first.startswith("data: {") and rest[-1] == "data: [DONE]"
    n_chunks = len(rest)  # each waits 20 ms before it is sent
    assert total >= 0.02 * (n_chunks - 1) * 0.9
    assert first_at < total / 3, (first_at, total)


async def test_async_streaming_is_incremental(paced: LocalServer) -> None:
    async with httpx.AsyncClient(
        base_url=paced.base_url, headers={"Authorization": f"Bearer {KEY_A}"}
    ) as client:
        start = time.monotonic()
        times = []
        async with client.stream("POST", CHAT, json=chat_body(stream=True, max_tokens=20)) as response:
            async for line in response.aiter_lines():
                if line:
                    times.append(time.monotonic() - start)
    assert len(times) == 21  # 20 tokens and [DONE]
    assert times[0] < times[-1] / 3
