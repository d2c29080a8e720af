"""Stream and AsyncStream against scripted bodies: complete, cut off, malformed, error events, early exit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerIncompleteStreamError,
    GravixLayerStreamError,
)

from .scripted import Script

MSGS = [{"role": "user", "content": "hi"}]


def chunk(text: str, finish: str | None = None) -> bytes:
    payload = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}
    return f"data: {json.dumps(payload)}\n\n".encode()


COMPLETE = [chunk("Hel"), chunk("lo"), chunk("", "stop"), b"data: [DONE]\n\n"]


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that yields the given pieces then optionally fails like a dropped connection."""

    def __init__(self, pieces: list[bytes], fail: bool = False) -> None:
        self.pieces = pieces
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.fail:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail:
            raise httpx.RemoteProtocolError("peer closed connection")

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse(body: Body) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream", "x-request-id": "rq"}, stream=body)


def sync_stream(body: Body) -> object:
    client = GravixLayer(api_key="k" * 12, base_url="http://t", http_client=Script(sse(body)).sync_client())
    return client.chat.completions.create(model="m", messages=MSGS, stream=True)


async def async_stream(body: Body) -> object:
    client = AsyncGravixLayer(api_key="k" * 12, base_url="http://t", http_client=Script(sse(body)).async_client())
    return await client.chat.completions.create(model="m", messages=MSGS, stream=True)


def text_of(stream: object) -> str:
    return "".join(c.choices[0].delta.content or "" for c in stream)  # type: ignore[attr-defined]


async def atext_of(stream: object) -> str:
    return "".join([c.choices[0].delta.content or "" async for c in stream])  # type: ignore[attr-defined]


def test_complete_stream_yields_all_chunks_and_closes() -> None:
    body = Body(COMPLETE)
    stream = sync_stream(body)
    assert text_of(stream) == "Hello"
    assert body.closed
    assert stream.request_id == "rq"  # type: ignore[attr-defined]


def test_stream_split_into_single_bytes_still_parses() -> None:
    raw = b"".join(COMPLETE)
    assert text_of(sync_stream(Body([raw[i : i + 1] for i in range(len(raw))]))) == "Hello"


@pytest.mark.parametrize(
    "pieces,fail",
    [
        (COMPLETE[:2], False),  # server closed cleanly but never sent [DONE]
        (COMPLETE[:2], True),  # connection dropped mid-body
        ([chunk("Hel"), b'data: {"id": "c1", "cho'], False),  # cut inside an event
    ],
)
def test_cut_off_stream_raises_instead_of_a_quiet_partial_answer(pieces: list[bytes], fail: bool) -> None:
    body = Body(pieces, fail)
    received: list[str] = []
    with pytest.raises(GravixLayerIncompleteStreamError):
        for c in sync_stream(body):  # type: ignore[attr-defined]
            received.append(c.choices[0].delta.content)
    assert received and body.closed


def test_malformed_json_raises_typed_error() -> None:
    with pytest.raises(GravixLayerStreamError, match="not JSON"):
        text_of(sync_stream(Body([chunk("a"), b"data: {not json}\n\n", b"data: [DONE]\n\n"])))


def test_error_event_mid_stream_raises_typed_error() -> None:
    body = Body([chunk("a"), b'data: {"error": {"message": "model overloaded", "code": "overloaded"}}\n\n'])
    with pytest.raises(GravixLayerStreamError) as info:
        text_of(sync_stream(body))
    assert info.value.code == "overloaded" and "model overloaded" in str(info.value)


def test_sse_error_event_type_raises() -> None:
    with pytest.raises(GravixLayerStreamError, match="quota"):
        text_of(sync_stream(Body([b'event: error\ndata: {"error": "quota exceeded"}\n\n'])))


def test_breaking_out_early_closes_the_response() -> None:
    body = Body(COMPLETE)
    with sync_stream(body) as stream:  # type: ignore[attr-defined]
        for _ in stream:
            break
    assert body.closed


def test_usage_only_chunk_is_tolerated() -> None:
    usage = b'data: {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}\n\n'
    chunks = list(sync_stream(Body([chunk("x", "stop"), usage, b"data: [DONE]\n\n"])))  # type: ignore[call-overload]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 3


async def test_async_complete_and_cut_off() -> None:
    assert await atext_of(await async_stream(Body(COMPLETE))) == "Hello"
    body = Body(COMPLETE[:2], fail=True)
    with pytest.raises(GravixLayerIncompleteStreamError):
        await atext_of(await async_stream(body))
    assert body.closed


async def test_async_early_exit_closes() -> None:
    body = Body(COMPLETE)
    async with await async_stream(body) as stream:  # type: ignore[attr-defined]
        async for _ in stream:
            break
    assert body.closed


def test_error_status_raises_at_create_not_later() -> None:
    script = Script(httpx.Response(404, json={"error": "unknown model", "code": "model_not_found"}))
    client = GravixLayer(api_key="k" * 12, base_url="http://t", http_client=script.sync_client(), max_retries=0)
    from gravixlayer import GravixLayerNotFoundError

    with pytest.raises(GravixLayerNotFoundError):
        client.chat.completions.create(model="m", messages=MSGS, stream=True)
