"""Server-sent events: an incremental decoder and the `Stream` / `AsyncStream` iterators.

The decoder follows the SSE specification (LF, CR and CRLF line ends; multi-line `data:`; comments;
`event:`, `id:` and `retry:` fields; `data:` with or without the space) and accepts bytes split
anywhere, including inside a UTF-8 character. A stream must end with `data: [DONE]`: one that stops
before it raises `GravixLayerIncompleteStreamError` rather than handing back a quiet partial answer.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, overload

import httpx
import pydantic

from ._exceptions import GravixLayerIncompleteStreamError, GravixLayerStreamError, error_class_for_status
from ._models import BaseModel

if TYPE_CHECKING:
    from typing_extensions import Self

    from .types.chat import ChatCompletion, ChatCompletionChunk
    from .types.completions import Completion

__all__ = ["ServerSentEvent", "SSEDecoder", "Stream", "AsyncStream"]

_LINE_END = re.compile(r"\r\n|\r|\n")

M = TypeVar("M", bound=BaseModel)


class ServerSentEvent(NamedTuple):
    """One event. A named tuple: built once per stream chunk, it must cost next to nothing."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns every event completed so far."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._skip_lf = False
        self._data: list[str] = []
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return self._feed_text(self._utf8.decode(chunk))

    def single_data(self, chunk: bytes) -> bytes | None:
        """The data of `chunk` when it is exactly one `data: ...` event and nothing is pending, else None.

        That is how servers flush each stream chunk, so the stream takes this shortcut for nearly every
        network read; anything else (several events, partial lines, CR line ends, other fields) goes
        through `feed`. A caller that cannot use the data feeds the chunk instead.
        """
        if (
            chunk.endswith(b"\n\n")
            and chunk.startswith(b"data: ")
            and chunk.count(b"\n") == 2
            and not self._partial
            and not self._data
            and self._event is None
            and b"\r" not in chunk
            and not self._utf8.getstate()[0]
        ):
            self._skip_lf = False  # harmless if the caller feeds the chunk after all: it starts with "d"
            return chunk[6:-2]
        return None

    def close(self) -> list[ServerSentEvent]:
        """End of input. An event not closed by a blank line is discarded, as the spec says."""
        events = self._feed_text(self._utf8.decode(b"", final=True))
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        if "\n".join(self._data).strip() == "[DONE]":
            # A final marker without its blank line still ends the stream cleanly.
            events.append(ServerSentEvent(data="[DONE]", event=self._event, id=self._last_id))
        self._data = []
        self._event = None
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        self._skip_lf = False
        buffer = self._partial + text if self._partial else text
        if "\r" not in buffer:
            # The common case (LF line ends): split once, handle `data: ` lines and blank lines inline.
            lines = buffer.split("\n")
            self._partial = lines.pop()
            data = self._data
            for line in lines:
                if line.startswith("data: "):
                    data.append(line[6:])
                elif line:
                    self._line(line)
                elif data or self._event is not None:
                    text = data[0] if len(data) == 1 else "\n".join(data)
                    if text or self._event:
                        events.append(ServerSentEvent(text, self._event, self._last_id, self._retry))
                    data = self._data = []
                    self._event = None
            return events
        start = 0
        for match in _LINE_END.finditer(buffer):
            event = self._line(buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        if start == len(buffer) and buffer.endswith("\r"):
            # A CR at the end of the input may be the first half of a CRLF split across chunks.
            self._skip_lf = True
        self._partial = buffer[start:]
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data and self._event is None:
                return None
            event = ServerSentEvent(
                data="\n".join(self._data), event=self._event, id=self._last_id, retry=self._retry
            )
            self._data = []
            self._event = None
            return event if event.data or event.event else None
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)
        return None


_DONE = object()

_DRAIN_LIMIT = 65536
"""Bytes read past `[DONE]` at most. The body's end usually follows at once; reading it lets the
connection go back to the pool (closing a response mid-body closes its connection, and the next
request pays for a new one). A server that keeps sending gets its connection closed instead."""


def _drain(reads: Iterator[bytes]) -> None:
    seen = 0
    try:
        for chunk in reads:
            seen += len(chunk)
            if seen > _DRAIN_LIMIT:
                return
    except httpx.HTTPError:
        pass


async def _adrain(reads: AsyncIterator[bytes]) -> None:
    seen = 0
    try:
        async for chunk in reads:
            seen += len(chunk)
            if seen > _DRAIN_LIMIT:
                return
    except httpx.HTTPError:
        pass


class _EventReader(Generic[M]):
    """Turns one event into an item, the end marker, or a typed error; shared by both stream kinds."""

    def __init__(self, model: type[M], response: httpx.Response) -> None:
        self._model = model
        self._response = response
        self._validate = model.__pydantic_validator__.validate_json

    def whole(self, decoder: SSEDecoder, raw: bytes) -> M | None:
        """The item of a network read that is one ordinary event, else `None` (then feed the decoder).

        The per-chunk hot path: a few byte checks, then pydantic straight from the bytes (no UTF-8
        decoding, no event object). Anything unusual (end marker, error, unreadable JSON, several
        events in one read) goes the careful way through the decoder and `item`.
        """
        data = decoder.single_data(raw)
        if data is None or data[:1] != b"{" or b'"error"' in data:
            return None
        try:
            chunk: M = self._validate(data)
        except pydantic.ValidationError:
            return None
        return chunk

    def item(self, event: ServerSentEvent) -> Any:
        data = event.data
        if data.strip() == "[DONE]":
            return _DONE
        if event.event == "error":
            raise self._error(self._load(event) if data else {"error": "stream error"})
        if '"error"' in data:
            payload = self._load(event)
            if isinstance(payload, dict) and "error" in payload and not payload.get("choices"):
                raise self._error(payload)
        try:
            return self._model.model_validate_json(data)
        except pydantic.ValidationError as exc:
            if exc.errors()[0]["type"] == "json_invalid":
                self._load(event)  # raises the "not JSON" error with the offending text
            raise GravixLayerStreamError(
                f"the stream sent a chunk this SDK cannot read: {exc.errors()[0]['msg']}",
                body=data[:2000],
                request_id=self._response.headers.get("x-request-id"),
            ) from exc

    def _load(self, event: ServerSentEvent) -> Any:
        try:
            return json.loads(event.data)
        except ValueError as exc:
            raise GravixLayerStreamError(
                f"the stream sent data that is not JSON: {event.data[:200]!r}",
                status_code=self._response.status_code,
                request_id=self._response.headers.get("x-request-id"),
            ) from exc

    def _error(self, payload: Any) -> GravixLayerStreamError:
        err = payload.get("error") if isinstance(payload, dict) else payload
        message = err.get("message") if isinstance(err, dict) else err
        code = err.get("code") if isinstance(err, dict) else (payload.get("code") if isinstance(payload, dict) else None)
        status = err.get("status") if isinstance(err, dict) else None
        kind = error_class_for_status(status).__name__ if isinstance(status, int) else None
        text = str(message or "the server reported an error mid-stream")
        if kind:
            text = f"{text} ({kind})"
        return GravixLayerStreamError(
            text,
            status_code=status if isinstance(status, int) else None,
            body=payload,
            code=str(code) if code is not None else None,
            request_id=self._response.headers.get("x-request-id"),
        )

    def incomplete(self) -> GravixLayerIncompleteStreamError:
        return GravixLayerIncompleteStreamError(
            "the stream ended before [DONE]; the answer received so far is incomplete",
            status_code=self._response.status_code,
            request_id=self._response.headers.get("x-request-id"),
        )


def _final(chunks: list[Any]) -> Any:
    from ._accumulate import accumulate_chat, accumulate_completion
    from .types.chat import ChatCompletionChunk

    if chunks and isinstance(chunks[0], ChatCompletionChunk):
        return accumulate_chat(chunks)
    return accumulate_completion(chunks)


class Stream(Generic[M]):
    """A streamed answer: iterate it for typed chunks; it closes its response however you leave.

    Every chunk read is kept (a reference each), so `get_final_completion()` can hand back the whole
    answer, `usage` included, however much of the stream you iterated yourself first.
    """

    def __init__(self, response: httpx.Response, model: type[M]) -> None:
        self.response = response
        self._reader = _EventReader(model, response)
        self._chunks: list[M] = []
        self._iterator: Generator[M, None, None] = self._iterate()

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def _iterate(self) -> Generator[M, None, None]:
        decoder = SSEDecoder()
        try:
            try:
                keep = self._chunks.append
                whole = self._reader.whole
                reads = self.response.iter_bytes()
                for chunk in reads:
                    item = whole(decoder, chunk)
                    if item is not None:
                        keep(item)
                        yield item
                        continue
                    for event in decoder.feed(chunk):
                        item = self._reader.item(event)
                        if item is _DONE:
                            _drain(reads)
                            return
                        keep(item)
                        yield item
                for event in decoder.close():
                    item = self._reader.item(event)
                    if item is _DONE:
                        return
                    keep(item)
                    yield item
            except httpx.TransportError as exc:
                raise self._reader.incomplete() from exc
            raise self._reader.incomplete()
        finally:
            self.response.close()

    def __iter__(self) -> Iterator[M]:
        return self._iterator

    def __next__(self) -> M:
        return next(self._iterator)

    def close(self) -> None:
        self._iterator.close()
        self.response.close()

    def until_done(self) -> Self:
        """Read the rest of the stream (keeping every chunk); returns the stream."""
        for _ in self._iterator:
            pass
        return self

    @overload
    def get_final_completion(self: Stream[ChatCompletionChunk]) -> ChatCompletion: ...
    @overload
    def get_final_completion(self: Stream[Completion]) -> Completion: ...
    def get_final_completion(self) -> ChatCompletion | Completion:
        """The whole answer as one completion (what `stream=False` returns), after reading the rest."""
        self.until_done()
        result: ChatCompletion | Completion = _final(self._chunks)
        return result

    def get_final_text(self) -> str:
        """The first choice's whole text, after reading the rest of the stream."""
        from ._accumulate import delta_text

        self.until_done()
        return "".join(delta_text(chunk) for chunk in self._chunks)

    def text_deltas(self) -> Iterator[str]:
        """The first choice's text as it arrives, one non-empty piece per chunk."""
        from ._accumulate import delta_text

        for chunk in self._iterator:
            text = delta_text(chunk)
            if text:
                yield text

    def __enter__(self) -> Stream[M]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncStream(Generic[M]):
    """The async twin of `Stream`: chunks arrive as the server sends them, not after it finishes.

    The same helpers, awaited: `await stream.get_final_completion()`, `async for t in stream.text_deltas()`.
    """

    def __init__(self, response: httpx.Response, model: type[M]) -> None:
        self.response = response
        self._reader = _EventReader(model, response)
        self._chunks: list[M] = []
        self._iterator: AsyncGenerator[M, None] = self._iterate()

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    async def _iterate(self) -> AsyncGenerator[M, None]:
        decoder = SSEDecoder()
        try:
            try:
                keep = self._chunks.append
                whole = self._reader.whole
                reads = self.response.aiter_bytes()
                async for chunk in reads:
                    item = whole(decoder, chunk)
                    if item is not None:
                        keep(item)
                        yield item
                        continue
                    for event in decoder.feed(chunk):
                        item = self._reader.item(event)
                        if item is _DONE:
                            await _adrain(reads)
                            return
                        keep(item)
                        yield item
                for event in decoder.close():
                    item = self._reader.item(event)
                    if item is _DONE:
                        return
                    keep(item)
                    yield item
            except httpx.TransportError as exc:
                raise self._reader.incomplete() from exc
            raise self._reader.incomplete()
        finally:
            await self.response.aclose()

    def __aiter__(self) -> AsyncIterator[M]:
        return self._iterator

    async def __anext__(self) -> M:
        return await self._iterator.__anext__()

    async def close(self) -> None:
        await self._iterator.aclose()
        await self.response.aclose()

    aclose = close

    async def until_done(self) -> Self:
        """Read the rest of the stream (keeping every chunk); returns the stream."""
        async for _ in self._iterator:
            pass
        return self

    @overload
    async def get_final_completion(self: AsyncStream[ChatCompletionChunk]) -> ChatCompletion: ...
    @overload
    async def get_final_completion(self: AsyncStream[Completion]) -> Completion: ...
    async def get_final_completion(self) -> ChatCompletion | Completion:
        """The whole answer as one completion (what `stream=False` returns), after reading the rest."""
        await self.until_done()
        result: ChatCompletion | Completion = _final(self._chunks)
        return result

    async def get_final_text(self) -> str:
        """The first choice's whole text, after reading the rest of the stream."""
        from ._accumulate import delta_text

        await self.until_done()
        return "".join(delta_text(chunk) for chunk in self._chunks)

    async def text_deltas(self) -> AsyncIterator[str]:
        """The first choice's text as it arrives, one non-empty piece per chunk."""
        from ._accumulate import delta_text

        async for chunk in self._iterator:
            text = delta_text(chunk)
            if text:
                yield text

    async def __aenter__(self) -> AsyncStream[M]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
