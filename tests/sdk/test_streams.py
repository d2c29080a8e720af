"""Stream helpers: the whole answer from a stream (usage included), its text, and until_done."""

from __future__ import annotations

import json

import httpx

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.types.chat import ChatCompletion
from gravixlayer.types.completions import Completion
from tests.core.scripted import Script

MODEL = "qwen/qwen-2.5-vl-7b-instruct"


def ask(client: GravixLayer, **extra: object) -> ChatCompletion:
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story."}], seed=3, max_tokens=40, **extra  # type: ignore[arg-type]
    )


def test_final_completion_equals_the_unstreamed_answer(client: GravixLayer) -> None:
    whole = ask(client)
    with client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story."}], seed=3, max_tokens=40, stream=True,
        stream_options={"include_usage": True},
    ) as stream:  # fmt: skip
        first = next(iter(stream))  # part of it read by hand first: still counted
        final = stream.get_final_completion()
    assert first.choices[0].delta.content is not None
    assert final.choices[0].message.content == whole.choices[0].message.content
    assert final.choices[0].finish_reason == whole.choices[0].finish_reason
    assert final.usage is not None and whole.usage is not None
    assert final.usage.total_tokens == whole.usage.total_tokens
    assert final.id and final.model == MODEL


def test_text_deltas_and_final_text(client: GravixLayer) -> None:
    whole = ask(client).choices[0].message.content
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story."}], seed=3, max_tokens=40, stream=True
    )
    pieces = list(stream.text_deltas())
    assert len(pieces) > 1 and all(pieces)
    assert "".join(pieces) == whole
    assert stream.get_final_text() == whole  # already read: the kept chunks answer


def test_legacy_stream_final_completion(client: GravixLayer) -> None:
    whole = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=30, seed=1)
    stream = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=30, seed=1, stream=True)
    final = stream.until_done().get_final_completion()
    assert isinstance(final, Completion)
    assert final.choices[0].text == whole.choices[0].text
    assert final.choices[0].finish_reason == whole.choices[0].finish_reason


async def test_async_stream_helpers(aclient: AsyncGravixLayer) -> None:
    whole = await aclient.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], seed=5, max_tokens=30
    )
    stream = await aclient.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], seed=5, max_tokens=30, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    pieces = [text async for text in stream.text_deltas()]
    final = await stream.get_final_completion()
    assert "".join(pieces) == whole.choices[0].message.content == final.choices[0].message.content
    assert final.usage is not None and final.usage.completion_tokens == (whole.usage and whole.usage.completion_tokens)
    assert await stream.get_final_text() == whole.choices[0].message.content


def _sse(*chunks: dict[str, object]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def test_tool_call_fragments_add_up_to_whole_calls() -> None:
    def chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
        return {"id": "c", "model": "m", "created": 1, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    script = Script(
        _sse(
            chunk({"role": "assistant", "content": None}),
            chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
            chunk({}, "tool_calls"),
            {"id": "c", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
        )
    )  # fmt: skip
    client = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "?"}], stream=True)
    final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content is None
    assert final.choices[0].finish_reason == "tool_calls"
    calls = message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_time", {}),
    ]
    assert final.usage is not None and final.usage.total_tokens == 7
