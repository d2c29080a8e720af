"""`GET /v1/accelerators`: the GPU types deployments can use, with prices (spec §5.1)."""

from __future__ import annotations

from functools import partial

from typing_extensions import Unpack

from .._request import APIRequest, single
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import RequestOptions
from ..types.accelerators import AcceleratorList
from ._listing import parse_list

__all__ = ["Accelerators", "AsyncAccelerators", "list_request", "parse_accelerators"]

parse_accelerators = partial(parse_list, AcceleratorList, keys=("accelerators", "data"))


def list_request(options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "accelerators", options=options)


class Accelerators(SyncAPIResource):
    def list(self, **options: Unpack[RequestOptions]) -> AcceleratorList:
        """Every accelerator type with its memory, interconnect and price per hour; iterate the result."""
        return self._client.run(single(list_request(options), parse_accelerators))


class AsyncAccelerators(AsyncAPIResource):
    async def list(self, **options: Unpack[RequestOptions]) -> AcceleratorList:
        """Every accelerator type with its memory, interconnect and price per hour; iterate the result."""
        return await self._client.run(single(list_request(options), parse_accelerators))
