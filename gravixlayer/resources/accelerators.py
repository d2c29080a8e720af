"""`GET /v1/accelerators`: the GPU types deployments can use, with prices (spec §5.1)."""

from __future__ import annotations

from functools import cached_property, partial

from typing_extensions import Unpack

from .._request import APIRequest, single
from .._resource import AsyncAPIResource, SyncAPIResource
from .._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from .._types import RequestOptions
from ..types.accelerators import AcceleratorList
from ._listing import parse_list

__all__ = ["Accelerators", "AsyncAccelerators", "list_request", "parse_accelerators"]

parse_accelerators = partial(parse_list, AcceleratorList, keys=("accelerators", "data"))


def list_request(options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "accelerators", options=options)


class Accelerators(SyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AcceleratorsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AcceleratorsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AcceleratorsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AcceleratorsWithStreamingResponse(self)

    def list(self, **options: Unpack[RequestOptions]) -> AcceleratorList:
        """Every accelerator type with its memory, interconnect and price per hour; iterate the result."""
        return self._client.run(single(list_request(options), parse_accelerators))


class AsyncAccelerators(AsyncAPIResource):
    @cached_property
    def with_raw_response(self) -> AsyncAcceleratorsWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncAcceleratorsWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncAcceleratorsWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncAcceleratorsWithStreamingResponse(self)

    async def list(self, **options: Unpack[RequestOptions]) -> AcceleratorList:
        """Every accelerator type with its memory, interconnect and price per hour; iterate the result."""
        return await self._client.run(single(list_request(options), parse_accelerators))


class AcceleratorsWithRawResponse:
    """Each method of `Accelerators` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Accelerators) -> None:
        self.list = to_raw_response_wrapper(resource.list)


class AcceleratorsWithStreamingResponse:
    """Each method of `Accelerators` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Accelerators) -> None:
        self.list = to_streamed_response_wrapper(resource.list)


class AsyncAcceleratorsWithRawResponse:
    """Each method of `AsyncAccelerators` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncAccelerators) -> None:
        self.list = async_to_raw_response_wrapper(resource.list)


class AsyncAcceleratorsWithStreamingResponse:
    """Each method of `AsyncAccelerators` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncAccelerators) -> None:
        self.list = async_to_streamed_response_wrapper(resource.list)
