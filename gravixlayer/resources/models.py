"""`client.models`: what the inference service can run (`GET /v1/inference/models`)."""

from __future__ import annotations

from collections.abc import Generator
from functools import cached_property, partial

import httpx
from typing_extensions import Unpack

from .._exceptions import GravixLayerNotFoundError
from .._request import APIRequest, single
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from .._types import RequestOptions
from .._validation import require_str
from ..types.models import Model, ModelList
from ._listing import parse_list

__all__ = ["Models", "AsyncModels"]

_parse_models = partial(parse_list, ModelList, keys=("data", "models"))


def _list_request(options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "inference", "models", options=options)


def _retrieve_step(model: str, options: RequestOptions) -> Generator[APIRequest, httpx.Response, Model]:
    # The wire contract documents no single-model endpoint (and ids contain "/"), so the listing is read.
    require_str("model", model)
    response = yield _list_request(options)
    for item in _parse_models(response):
        if item.id == model:
            return item
    raise GravixLayerNotFoundError(
        f"model {model!r} is not served here; client.models.list() shows the ones that are",
        status_code=404,
        request_id=response.headers.get("x-request-id"),
    )


class Models(SyncAPIResource):
    @cached_property
    def with_raw_response(self) -> ModelsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return ModelsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> ModelsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return ModelsWithStreamingResponse(self)

    def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        """Every model the inference service serves; iterate the result or call `.to_pandas()`."""
        return self._client.run(single(_list_request(options), _parse_models))

    def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """One model by id; `GravixLayerNotFoundError` when it is not served."""
        return self._client.run(_retrieve_step(model, options))


class AsyncModels(AsyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AsyncModelsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncModelsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncModelsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncModelsWithStreamingResponse(self)

    async def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        """Every model the inference service serves; iterate the result or call `.to_pandas()`."""
        return await self._client.run(single(_list_request(options), _parse_models))

    async def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """One model by id; `GravixLayerNotFoundError` when it is not served."""
        return await self._client.run(_retrieve_step(model, options))


class ModelsWithRawResponse:
    """Each method of `Models` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Models) -> None:
        self.list = to_raw_response_wrapper(resource.list)
        self.retrieve = to_raw_response_wrapper(resource.retrieve)


class ModelsWithStreamingResponse:
    """Each method of `Models` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Models) -> None:
        self.list = to_streamed_response_wrapper(resource.list)
        self.retrieve = to_streamed_response_wrapper(resource.retrieve)


class AsyncModelsWithRawResponse:
    """Each method of `AsyncModels` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncModels) -> None:
        self.list = async_to_raw_response_wrapper(resource.list)
        self.retrieve = async_to_raw_response_wrapper(resource.retrieve)


class AsyncModelsWithStreamingResponse:
    """Each method of `AsyncModels` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncModels) -> None:
        self.list = async_to_streamed_response_wrapper(resource.list)
        self.retrieve = async_to_streamed_response_wrapper(resource.retrieve)
