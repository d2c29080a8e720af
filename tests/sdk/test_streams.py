"""Stream helpers: the whole answer from a stream (usage included), its text, and until_done."""

from __future__ import annotations

import json

import httpx
import pytest

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


def _per_read(*reads: bytes) -> httpx.Response:
    """A stream whose network reads are exactly `reads` (the way servers flush one event per write)."""
    return httpx.Response(200, content=iter(reads), headers={"content-type": "text/event-stream"})


def _event(obj: object) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


def _delta(text: str) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


def _stream_of(*reads: bytes) -> list[str]:
    script = Script(_per_read(*reads))
    client = GravixLayer(api_key="k", base_url="http://x", http_client=script.sync_client())
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "?"}], stream=True)
    return [chunk.choices[0].delta.content or "" for chunk in stream]


def test_one_event_per_read_keeps_every_character() -> None:
    split = _event(_delta("ünï"))
    reads = [_event(_delta("a")), _event(_delta('the "error" word')), split[:9], split[9:], b"data: " + json.dumps(_delta("x")).encode() + b"\n\ndata: [DONE]\n\n"]
    assert _stream_of(*reads) == ["a", 'the "error" word', "ünï", "x"]
    # A multi-byte character cut between two reads, then a read that is one whole event.
    body = _event(_delta("héllo 🌍 wörld"))
    cut = body.index("🌍".encode()) + 1
    assert _stream_of(body[:cut], body[cut:], _event(_delta("z")), b"data: [DONE]\n\n") == ["héllo 🌍 wörld", "z"]


def test_one_event_reads_that_are_errors_still_raise_typed_errors() -> None:
    from gravixlayer import GravixLayerStreamError

    with pytest.raises(GravixLayerStreamError, match="not JSON"):
        _stream_of(_event(_delta("a")), b"data: {not json}\n\n", b"data: [DONE]\n\n")
    with pytest.raises(GravixLayerStreamError, match="overloaded"):
        _stream_of(_event(_delta("a")), _event({"error": {"message": "overloaded", "code": "busy"}}))
    with pytest.raises(GravixLayerStreamError, match="cannot read"):
        _stream_of(_event({"choices": "not a list"}), b"data: [DONE]\n\n")


def test_a_finished_stream_gives_its_connection_back(local_server: object) -> None:
    from gravixlayer.local import LocalServer

    assert isinstance(local_server, LocalServer)
    opened: list[object] = []

    transport = httpx.HTTPTransport()
    original = transport._pool._connections  # httpcore's pool: the connections it keeps
    client = GravixLayer(api_key=local_server.api_key, base_url=local_server.base_url, http_client=httpx.Client(transport=transport))
    for _ in range(3):
        stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=20, stream=True)
        assert stream.get_final_text()
        opened.extend(c for c in transport._pool._connections if c not in opened)
    assert original is transport._pool._connections
    assert len(opened) == 1, "each stream opened a new connection: the finished one was not reusable"


def test_stream_and_async_stream_offer_the_same_helpers() -> None:
    from gravixlayer import AsyncStream, Stream

    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")} - {"aclose"}

    assert public(Stream) == public(AsyncStream)
    assert {"get_final_completion", "get_final_text", "text_deltas", "until_done"} <= public(Stream)
