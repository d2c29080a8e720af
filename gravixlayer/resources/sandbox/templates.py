"""`GET /v1/agents/templates` (spec §8.1)."""

from __future__ import annotations

from functools import partial

from typing_extensions import Unpack

from ..._parse import parse_model
from ..._request import APIRequest, single
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import RequestOptions
from ..._validation import require_positive_int
from ...types.sandbox import TemplateList

__all__ = ["Templates", "AsyncTemplates"]


def _list_request(*, limit: int, offset: int, options: RequestOptions) -> APIRequest:
    params = {
        "limit": require_positive_int("limit", limit),
        "offset": require_positive_int("offset", offset, allow_zero=True),
    }
    return APIRequest("GET", "agents", "templates", params=params, options=options)


class Templates(SyncAPIResource):
    def list(self, limit: int = 100, offset: int = 0, **options: Unpack[RequestOptions]) -> TemplateList:
        """The templates a sandbox can be created from, with the CPUs, memory and disk each provides."""
        request = _list_request(limit=limit, offset=offset, options=options)
        return self._client.run(single(request, partial(parse_model, TemplateList)))


class AsyncTemplates(AsyncAPIResource):
    async def list(
        self, limit: int = 100, offset: int = 0, **options: Unpack[RequestOptions]
    ) -> TemplateList:
        """The templates a sandbox can be created from, with the CPUs, memory and disk each provides."""
        request = _list_request(limit=limit, offset=offset, options=options)
        return await self._client.run(single(request, partial(parse_model, TemplateList)))
