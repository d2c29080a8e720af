"""`with_raw_response` / `with_streaming_response`: a method's answer together with its HTTP response.

`resource.with_raw_response.method(...)` makes the same call and returns an `APIResponse`: status,
headers (rate limits, request id), the `httpx.Response`, and `.parse()` for what the method would
have returned. The answer is parsed as the call completes (the SDK's methods validate their
answers), so `.parse()` costs nothing. With `stream=True`, `.parse()` is the `Stream`, still unread.

`with_streaming_response.method(...)` is the same as a context manager that closes the response on
exit: use it with `stream=True` (or file downloads) to read headers before the body.

A method that makes several requests (an upload that looks its file up, for instance) reports the
last one's response.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

import httpx
from typing_extensions import ParamSpec

from ._base_client import RECORDED_RESPONSES
from ._exceptions import GravixLayerError

__all__ = [
    "APIResponse",
    "StreamedResponse",
    "AsyncStreamedResponse",
    "to_raw_response_wrapper",
    "async_to_raw_response_wrapper",
    "to_streamed_response_wrapper",
    "async_to_streamed_response_wrapper",
]

P = ParamSpec("P")
T = TypeVar("T")


class APIResponse(Generic[T]):
    """The HTTP response of a call and the call's result."""

    def __init__(self, http_response: httpx.Response, parsed: T) -> None:
        self.http_response = http_response
        self._parsed = parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        value: str | None = self.http_response.headers.get("x-request-id")
        return value

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    def parse(self) -> T:
        """What the method returns without `with_raw_response`."""
        return self._parsed

    def iter_bytes(self) -> Iterator[bytes]:
        """The raw body of a streamed (`stream=True`) response, as it arrives."""
        return self.http_response.iter_bytes()

    def iter_lines(self) -> Iterator[str]:
        return self.http_response.iter_lines()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        async for chunk in self.http_response.aiter_bytes():
            yield chunk

    async def aiter_lines(self) -> AsyncIterator[str]:
        async for line in self.http_response.aiter_lines():
            yield line

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {self.http_response.request.method} {self.url.path}>"


def _last(record: list[httpx.Response]) -> httpx.Response:
    if not record:
        raise GravixLayerError("this call made no HTTP request, so it has no raw response")
    return record[-1]


def to_raw_response_wrapper(fn: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        record: list[httpx.Response] = []
        token = RECORDED_RESPONSES.set(record)
        try:
            parsed = fn(*args, **kwargs)
        finally:
            RECORDED_RESPONSES.reset(token)
        return APIResponse(_last(record), parsed)

    return wrapped


def async_to_raw_response_wrapper(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    @functools.wraps(fn)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        record: list[httpx.Response] = []
        token = RECORDED_RESPONSES.set(record)
        try:
            parsed = await fn(*args, **kwargs)
        finally:
            RECORDED_RESPONSES.reset(token)
        return APIResponse(_last(record), parsed)

    return wrapped


class StreamedResponse(Generic[T]):
    """`with ...with_streaming_response.method(...) as response:` the call is made on entry, the
    response closed on exit however the block ends."""

    def __init__(self, call: Callable[[], APIResponse[T]]) -> None:
        self._call = call
        self._response: APIResponse[T] | None = None

    def __enter__(self) -> APIResponse[T]:
        self._response = self._call()
        return self._response

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._response is not None:
            self._response.http_response.close()


class AsyncStreamedResponse(Generic[T]):
    """The async twin of `StreamedResponse` (`async with`)."""

    def __init__(self, call: Callable[[], Awaitable[APIResponse[T]]]) -> None:
        self._call = call
        self._response: APIResponse[T] | None = None

    async def __aenter__(self) -> APIResponse[T]:
        self._response = await self._call()
        return self._response

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            await self._response.http_response.aclose()


def to_streamed_response_wrapper(fn: Callable[P, T]) -> Callable[P, StreamedResponse[T]]:
    raw = to_raw_response_wrapper(fn)

    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> StreamedResponse[T]:
        return StreamedResponse(lambda: raw(*args, **kwargs))

    return wrapped


def async_to_streamed_response_wrapper(
    fn: Callable[P, Awaitable[T]],
) -> Callable[P, AsyncStreamedResponse[T]]:
    raw = async_to_raw_response_wrapper(fn)

    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncStreamedResponse[T]:
        return AsyncStreamedResponse(lambda: raw(*args, **kwargs))

    return wrapped

