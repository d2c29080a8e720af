"""The SSE decoder against the spec's framing rules, with input split at every byte boundary."""

from __future__ import annotations

import pytest

from gravixlayer._streaming import ServerSentEvent, SSEDecoder


def decode_all(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def splits(data: bytes) -> list[list[bytes]]:
    """Whole, then every two-piece split, then one byte at a time."""
    out = [[data]]
    out += [[data[:i], data[i:]] for i in range(1, len(data))]
    out.append([data[i : i + 1] for i in range(len(data))])
    return out


CASES = [
    (b'data: {"a":1}\n\ndata: [DONE]\n\n', ['{"a":1}', "[DONE]"]),
    (b'data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n', ['{"a":1}', "[DONE]"]),
    (b'data: {"a":1}\r\rdata: [DONE]\r\r', ['{"a":1}', "[DONE]"]),
    (b"data:no-space\n\n", ["no-space"]),
    (b"data: line1\ndata: line2\n\n", ["line1\nline2"]),
    (b": a comment\ndata: x\n\n", ["x"]),
    (b"event: ping\nid: 7\ndata: y\n\n", ["y"]),
    (b"retry: 1000\ndata: z\n\n", ["z"]),
    ("data: héllo ✓ 😀\n\n".encode(), ["héllo ✓ 😀"]),
    (b"data: [DONE]", ["[DONE]"]),
]


@pytest.mark.parametrize("raw,expected", CASES)
def test_every_split_gives_the_same_events(raw: bytes, expected: list[str]) -> None:
    for chunks in splits(raw):
        assert [e.data for e in decode_all(chunks)] == expected, chunks


def test_event_and_id_fields_are_kept() -> None:
    events = decode_all([b"event: error\nid: 42\ndata: {}\n\n"])
    assert events == [ServerSentEvent(data="{}", event="error", id="42")]


def test_id_persists_to_later_events_and_retry_is_parsed() -> None:
    events = decode_all([b"id: 1\nretry: 250\ndata: a\n\ndata: b\n\n"])
    assert [(e.data, e.id, e.retry) for e in events] == [("a", "1", 250), ("b", "1", 250)]


def test_unterminated_event_is_discarded_at_end_of_input() -> None:
    assert decode_all([b'data: {"partial": tr']) == []


def test_crlf_split_between_cr_and_lf_does_not_make_an_empty_line() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"data: a\r")
    events += decoder.feed(b"\ndata: b\r\n\r\n")
    assert [e.data for e in events] == ["a\nb"]


def test_multibyte_character_split_inside() -> None:
    raw = "data: 日本\n\n".encode()
    cut = raw.index("本".encode()) + 1
    assert [e.data for e in decode_all([raw[:cut], raw[cut:]])] == ["日本"]


def test_cr_followed_by_more_text_then_lf_in_next_chunk() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"data: a\rdata: b")
    events += decoder.feed(b"\n\n")
    assert [e.data for e in events] == ["a\nb"]
