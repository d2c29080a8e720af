"""`POST /v1/inference/completions`: legacy text completions (spec §2.3).

`create` is overloaded on `stream` (see `chat/completions.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, partial
from typing import Any, Literal, overload

from typing_extensions import Unpack

from .._exceptions import GravixLayerValidationError
from .._parse import parse_model
from .._request import APIRequest, single, without_none
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from .._streaming import AsyncStream, Stream
from .._types import RequestOptions
from .._validation import require_str
from ..types.chat_params import ChatCompletionStreamOptionsParam
from ..types.completions import Completion

__all__ = ["Completions", "AsyncCompletions"]


def _create_request(*, model: str, prompt: str | list[str], stream: bool, options: RequestOptions, **params: Any) -> APIRequest:
    if not isinstance(prompt, (str, list)) or (isinstance(prompt, list) and not all(isinstance(p, str) for p in prompt)):
        raise GravixLayerValidationError(f"prompt must be a string or a list of strings, got {type(prompt).__name__}")
    if isinstance(prompt, list) and not prompt:
        raise GravixLayerValidationError("prompt must not be an empty list")
    body = {"model": require_str("model", model), "prompt": prompt, "stream": bool(stream), **without_none(**params)}
    return APIRequest("POST", "inference", "completions", options=options, stream=bool(stream)).with_body(body)


class Completions(SyncAPIResource):
    @cached_property
    def with_raw_response(self) -> CompletionsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return CompletionsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> CompletionsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return CompletionsWithStreamingResponse(self)

    @overload
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: Literal[False] = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Completion: ...

    @overload
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: Literal[True],
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Stream[Completion]: ...

    @overload
    def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: bool,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Completion | Stream[Completion]: ...

    def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Completion | Stream[Completion]:
        """Complete `prompt`; with `stream=True`, a `Stream` of completion chunks."""
        request = _create_request(
            model=model, prompt=prompt, stream=stream, options=options, max_tokens=max_tokens,
            temperature=temperature, top_p=top_p, n=n, stop=stop, echo=echo, logprobs=logprobs,
            presence_penalty=presence_penalty, frequency_penalty=frequency_penalty, best_of=best_of,
            logit_bias=logit_bias, seed=seed, suffix=suffix, stream_options=stream_options, user=user,
        )  # fmt: skip
        if stream:
            return Stream(self._client.send(request), Completion)
        return self._client.run(single(request, partial(parse_model, Completion)))


class AsyncCompletions(AsyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AsyncCompletionsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncCompletionsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncCompletionsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncCompletionsWithStreamingResponse(self)

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: Literal[False] = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Completion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: Literal[True],
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncStream[Completion]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: bool,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Completion | AsyncStream[Completion]: ...

    async def create(
        self,
        *,
        model: str,
        prompt: str | list[str],
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        echo: bool | None = None,
        logprobs: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        best_of: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        seed: int | None = None,
        suffix: str | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Completion | AsyncStream[Completion]:
        """Complete `prompt`; with `stream=True`, an `AsyncStream` of completion chunks."""
        request = _create_request(
            model=model, prompt=prompt, stream=stream, options=options, max_tokens=max_tokens,
            temperature=temperature, top_p=top_p, n=n, stop=stop, echo=echo, logprobs=logprobs,
            presence_penalty=presence_penalty, frequency_penalty=frequency_penalty, best_of=best_of,
            logit_bias=logit_bias, seed=seed, suffix=suffix, stream_options=stream_options, user=user,
        )  # fmt: skip
        if stream:
            return AsyncStream(await self._client.send(request), Completion)
        return await self._client.run(single(request, partial(parse_model, Completion)))


class CompletionsWithRawResponse:
    """Each method of `Completions` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Completions) -> None:
        self.create = to_raw_response_wrapper(resource.create)


class CompletionsWithStreamingResponse:
    """Each method of `Completions` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Completions) -> None:
        self.create = to_streamed_response_wrapper(resource.create)


class AsyncCompletionsWithRawResponse:
    """Each method of `AsyncCompletions` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncCompletions) -> None:
        self.create = async_to_raw_response_wrapper(resource.create)


class AsyncCompletionsWithStreamingResponse:
    """Each method of `AsyncCompletions` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncCompletions) -> None:
        self.create = async_to_streamed_response_wrapper(resource.create)
