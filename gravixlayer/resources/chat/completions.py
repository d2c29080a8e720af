"""`POST /v1/inference/chat/completions` (spec §2.1-2.2).

`create` is overloaded on `stream`, so a type checker knows `stream=True` gives a stream of chunks and
anything else a `ChatCompletion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property, partial
from typing import Any, Literal, TypeAlias, overload

from typing_extensions import Unpack

from ..._parse import parse_model
from ..._request import APIRequest, single, without_none
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from ..._streaming import AsyncStream, Stream
from ..._types import RequestOptions
from ..._validation import as_message_dicts, require_str
from ...types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from ...types.chat_params import (
    ChatCompletionMessageParam,
    ChatCompletionStreamOptionsParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
    ResponseFormat,
)

__all__ = ["Completions", "AsyncCompletions"]

MessageInput: TypeAlias = "ChatCompletionMessageParam | ChatCompletionMessage"
"""A message dict, or a message the model returned (passed back as the assistant's turn)."""


def _create_request(
    *,
    model: str,
    messages: Iterable[Any],
    stream: bool,
    options: RequestOptions,
    **params: Any,
) -> APIRequest:
    if params.get("tools") is not None:
        params["tools"] = list(params["tools"])
    body = {
        "model": require_str("model", model),
        "messages": as_message_dicts(messages),
        "stream": bool(stream),
        **without_none(**params),
    }
    return APIRequest("POST", "inference", "chat/completions", options=options, stream=bool(stream)).with_body(body)


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
        messages: Iterable[MessageInput],
        stream: Literal[False] = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageInput],
        stream: Literal[True],
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Stream[ChatCompletionChunk]: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageInput],
        stream: bool,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]: ...

    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageInput],
        stream: bool = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Create a chat completion; with `stream=True`, a `Stream` of chunks as the model writes them."""
        request = _create_request(
            model=model, messages=messages, stream=stream, options=options,
            temperature=temperature, max_tokens=max_tokens, max_completion_tokens=max_completion_tokens,
            top_p=top_p, n=n, stop=stop, frequency_penalty=frequency_penalty, presence_penalty=presence_penalty,
            seed=seed, logprobs=logprobs, top_logprobs=top_logprobs, logit_bias=logit_bias, tools=tools,
            tool_choice=tool_choice, parallel_tool_calls=parallel_tool_calls, response_format=response_format,
            stream_options=stream_options, user=user,
        )  # fmt: skip
        if stream:
            return Stream(self._client.send(request), ChatCompletionChunk)
        return self._client.run(single(request, partial(parse_model, ChatCompletion)))


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
        messages: Iterable[MessageInput],
        stream: Literal[False] = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageInput],
        stream: Literal[True],
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageInput],
        stream: bool,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageInput],
        stream: bool = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        logit_bias: Mapping[str, float] | None = None,
        tools: Iterable[ChatCompletionToolParam] | None = None,
        tool_choice: ChatCompletionToolChoiceOptionParam | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: ResponseFormat | None = None,
        stream_options: ChatCompletionStreamOptionsParam | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """Create a chat completion; with `stream=True`, an `AsyncStream` of chunks as the model writes them."""
        request = _create_request(
            model=model, messages=messages, stream=stream, options=options,
            temperature=temperature, max_tokens=max_tokens, max_completion_tokens=max_completion_tokens,
            top_p=top_p, n=n, stop=stop, frequency_penalty=frequency_penalty, presence_penalty=presence_penalty,
            seed=seed, logprobs=logprobs, top_logprobs=top_logprobs, logit_bias=logit_bias, tools=tools,
            tool_choice=tool_choice, parallel_tool_calls=parallel_tool_calls, response_format=response_format,
            stream_options=stream_options, user=user,
        )  # fmt: skip
        if stream:
            return AsyncStream(await self._client.send(request), ChatCompletionChunk)
        return await self._client.run(single(request, partial(parse_model, ChatCompletion)))


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
