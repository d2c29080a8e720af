"""`POST /v1/inference/embeddings` (spec §2.4).

Without an `encoding_format`, the SDK asks for base64 (ruling 8) and hands back floats: parsing 100
vectors of 1024 numbers from JSON costs several times more than decoding their bytes. A server that
ignores the request (and sends floats) is read as floats; one that refuses it with a 400 naming the
parameter is asked again, once, for floats.
"""

from __future__ import annotations

from functools import cached_property

from typing_extensions import Unpack

from .._exceptions import GravixLayerAPIError, GravixLayerValidationError
from .._parse import parse_model
from .._request import APIRequest, Step, without_none
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from .._types import RequestOptions
from .._validation import require_in, require_positive_int, require_str
from ..types.embeddings import CreateEmbeddingResponse
from ..types.shared import EncodingFormat

__all__ = ["Embeddings", "AsyncEmbeddings"]

ENCODING_FORMATS = ("float", "base64")


def _create_request(
    *, model: str, input: str | list[str], encoding_format: str, dimensions: int | None, user: str | None,
    options: RequestOptions,
) -> APIRequest:  # fmt: skip
    if isinstance(input, str):
        if not input:
            raise GravixLayerValidationError("input must not be empty")
    elif not isinstance(input, list) or not input or not all(isinstance(i, str) and i for i in input):
        raise GravixLayerValidationError("input must be a non-empty string or a non-empty list of non-empty strings")
    if dimensions is not None:
        require_positive_int("dimensions", dimensions)
    body = {
        "model": require_str("model", model),
        "input": input,
        "encoding_format": require_in("encoding_format", encoding_format, ENCODING_FORMATS),
        **without_none(dimensions=dimensions, user=user),
    }
    return APIRequest("POST", "inference", "embeddings", options=options).with_body(body)


def _refuses_base64(exc: GravixLayerAPIError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return exc.status_code in (400, 422) and ("encoding_format" in text or "base64" in text)


def _create_step(
    *, model: str, input: str | list[str], encoding_format: EncodingFormat | None, dimensions: int | None,
    user: str | None, options: RequestOptions,
) -> Step[CreateEmbeddingResponse]:  # fmt: skip
    def build(fmt: str) -> APIRequest:
        return _create_request(
            model=model, input=input, encoding_format=fmt, dimensions=dimensions, user=user, options=options
        )

    request = build(encoding_format or "base64")
    try:
        response = yield request
    except GravixLayerAPIError as exc:
        if encoding_format is not None or not _refuses_base64(exc):
            raise
        response = yield build("float")
    return parse_model(CreateEmbeddingResponse, response)


class Embeddings(SyncAPIResource):
    @cached_property
    def with_raw_response(self) -> EmbeddingsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return EmbeddingsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> EmbeddingsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return EmbeddingsWithStreamingResponse(self)

    def create(
        self,
        *,
        model: str,
        input: str | list[str],
        encoding_format: EncodingFormat | None = None,
        dimensions: int | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """Embed one text or a list of texts; `data[i].embedding` is the vector of `input[i]`, as floats.

        `encoding_format` only chooses the wire form (default: base64, the cheaper one).
        """
        return self._client.run(
            _create_step(
                model=model, input=input, encoding_format=encoding_format, dimensions=dimensions, user=user,
                options=options,
            )  # fmt: skip
        )


class AsyncEmbeddings(AsyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AsyncEmbeddingsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncEmbeddingsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncEmbeddingsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncEmbeddingsWithStreamingResponse(self)

    async def create(
        self,
        *,
        model: str,
        input: str | list[str],
        encoding_format: EncodingFormat | None = None,
        dimensions: int | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """Embed one text or a list of texts; `data[i].embedding` is the vector of `input[i]`, as floats.

        `encoding_format` only chooses the wire form (default: base64, the cheaper one).
        """
        return await self._client.run(
            _create_step(
                model=model, input=input, encoding_format=encoding_format, dimensions=dimensions, user=user,
                options=options,
            )  # fmt: skip
        )


class EmbeddingsWithRawResponse:
    """Each method of `Embeddings` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Embeddings) -> None:
        self.create = to_raw_response_wrapper(resource.create)


class EmbeddingsWithStreamingResponse:
    """Each method of `Embeddings` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Embeddings) -> None:
        self.create = to_streamed_response_wrapper(resource.create)


class AsyncEmbeddingsWithRawResponse:
    """Each method of `AsyncEmbeddings` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncEmbeddings) -> None:
        self.create = async_to_raw_response_wrapper(resource.create)


class AsyncEmbeddingsWithStreamingResponse:
    """Each method of `AsyncEmbeddings` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncEmbeddings) -> None:
        self.create = async_to_streamed_response_wrapper(resource.create)
