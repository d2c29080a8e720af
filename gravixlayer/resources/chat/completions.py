"""`POST /v1/inference/chat/completions` (spec §2.1-2.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from typing_extensions import Unpack

from ..._parse import parse_model
from ..._request import APIRequest, single, without_none
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._streaming import AsyncStream, Stream
from ..._types import RequestOptions
from ..._validation import as_message_dicts, require_str
from ...types.chat import ChatCompletion, ChatCompletionChunk

__all__ = ["Completions", "AsyncCompletions"]

Message = Mapping[str, Any] | Any


def _create_request(
    *,
    model: str,
    messages: Iterable[Message],
    stream: bool,
    options: RequestOptions,
    **params: Any,
) -> APIRequest:
    body = {
        "model": require_str("model", model),
        "messages": as_message_dicts(messages),
        "stream": bool(stream),
        **without_none(**params),
    }
    return APIRequest("POST", "inference", "chat/completions", options=options, stream=bool(stream)).with_body(body)


class Completions(SyncAPIResource):
    def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: bool = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        response_format: dict[str, Any] | None = None,
        stream_options: dict[str, Any] | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Create a chat completion; with `stream=True`, a `Stream` of chunks as the model writes them."""
        request = _create_request(
            model=model, messages=messages, stream=stream, options=options,
            temperature=temperature, max_tokens=max_tokens, top_p=top_p, n=n, stop=stop,
            frequency_penalty=frequency_penalty, presence_penalty=presence_penalty, seed=seed, tools=tools,
            tool_choice=tool_choice, response_format=response_format, stream_options=stream_options, user=user,
        )  # fmt: skip
        if stream:
            response = self._client.send(request)
            return Stream(response, ChatCompletionChunk)
        return self._client.run(single(request, partial(parse_model, ChatCompletion)))


class AsyncCompletions(AsyncAPIResource):
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: bool = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        response_format: dict[str, Any] | None = None,
        stream_options: dict[str, Any] | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """Create a chat completion; with `stream=True`, an `AsyncStream` of chunks as the model writes them."""
        request = _create_request(
            model=model, messages=messages, stream=stream, options=options,
            temperature=temperature, max_tokens=max_tokens, top_p=top_p, n=n, stop=stop,
            frequency_penalty=frequency_penalty, presence_penalty=presence_penalty, seed=seed, tools=tools,
            tool_choice=tool_choice, response_format=response_format, stream_options=stream_options, user=user,
        )  # fmt: skip
        if stream:
            response = await self._client.send(request)
            return AsyncStream(response, ChatCompletionChunk)
        return await self._client.run(single(request, partial(parse_model, ChatCompletion)))
