"""Legacy text completions (spec §2.3)."""

from __future__ import annotations

from typing import Any

import httpx

from gravixlayer.local.standin import tokenize

from .conftest import CHAT_MODEL, sse_events

COMPLETIONS = "/v1/inference/completions"


def create(http: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = http.post(COMPLETIONS, json={"model": CHAT_MODEL, "prompt": "The future of AI is", **extra})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_shape_and_default_length(http: httpx.Client) -> None:
    body = create(http)
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    (choice,) = body["choices"]
    assert set(choice) == {"text", "index", "logprobs", "finish_reason"}
    assert choice["finish_reason"] == "length"  # OpenAI's default max_tokens is 16
    assert body["usage"]["completion_tokens"] == 16 == len(tokenize(choice["text"]))
    assert body["usage"]["prompt_tokens"] == 5


def test_deterministic_and_complete(http: httpx.Client) -> None:
    body = create(http, max_tokens=500)
    assert body == {**create(http, max_tokens=500), "id": body["id"], "created": body["created"]}
    text = body["choices"][0]["text"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert "stand-in" in text and "future" in text


def test_stop_n_echo_and_prompt_lists(http: httpx.Client) -> None:
    full = create(http, max_tokens=500)["choices"][0]["text"]
    assert (
        create(http, max_tokens=500, stop="deterministic")["choices"][0]["text"]
        == full[: full.index("deterministic")]
    )
    echoed = create(http, max_tokens=3, echo=True)["choices"][0]["text"]
    assert echoed.startswith("The future of AI is") and echoed.endswith("".join(tokenize(full)[:3]))
    multi = create(http, prompt=["one prompt", "another prompt"], n=2, max_tokens=200)
    assert [c["index"] for c in multi["choices"]] == [0, 1, 2, 3]
    assert len({c["text"] for c in multi["choices"]}) == 4


def test_stream_equals_non_stream(http: httpx.Client) -> None:
    for extra in ({}, {"max_tokens": 300, "n": 2}):
        whole = create(http, **extra)
        with http.stream(
            "POST",
            COMPLETIONS,
            json={
                "model": CHAT_MODEL,
                "prompt": "The future of AI is",
                "stream": True,
                "stream_options": {"include_usage": True},
                **extra,
            },
        ) as response:
            events = sse_events(response.iter_lines())
        assert events[-1] == "[DONE]" and events[-2]["choices"] == []
        assert events[-2]["usage"] == whole["usage"]
        for choice in whole["choices"]:
            mine = [c for e in events[:-2] for c in e["choices"] if c["index"] == choice["index"]]
            assert all(e["object"] == "text_completion" for e in events[:-1])
            assert "".join(c["text"] for c in mine) == choice["text"]
            assert mine[-1]["finish_reason"] == choice["finish_reason"]
            assert all(c["finish_reason"] is None for c in mine[:-1])


def test_validation(http: httpx.Client) -> None:
    for body, status in (
        ({"model": CHAT_MODEL}, 400),
        ({"model": CHAT_MODEL, "prompt": []}, 400),
        ({"model": CHAT_MODEL, "prompt": [1, 2]}, 400),
        ({"model": CHAT_MODEL, "prompt": "x", "max_tokens": -1}, 400),
        ({"model": "nope", "prompt": "x"}, 404),
    ):
        response = http.post(COMPLETIONS, json=body)
        assert response.status_code == status, (body, response.text)
        assert set(response.json()) == {"error", "code"}
