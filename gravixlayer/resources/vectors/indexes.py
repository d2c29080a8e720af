"""`/v1/vectors/indexes`: create, list (every page), get, update and delete vector indexes (spec §6.1)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import quote

import httpx
from typing_extensions import Unpack

from ... import _defaults
from ..._base_client import AsyncAPIClient, SyncAPIClient
from ..._exceptions import GravixLayerValidationError
from ..._pages import AsyncPages, Pages
from ..._parse import json_body, parse_model, to_model
from ..._request import APIRequest, Step, single
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from ..._types import RequestOptions
from ..._validation import require_in, require_positive_int, require_str
from ...types.shared import IndexType, VectorMetric, VectorType
from ...types.vectors import IndexPage, VectorIndex, VectorIndexList

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Indexes",
    "AsyncIndexes",
    "METRICS",
    "CLOUD_PROVIDERS",
    "INDEX_TYPES",
    "MAX_DIMENSION",
    "normalize_metric",
    "normalize_cloud_provider",
    "create_index_request",
    "list_indexes_step",
    "find_index_step",
]

METRICS: tuple[str, ...] = get_args(VectorMetric)
_METRIC_ALIASES = {"dotproduct": "dot_product", "dot-product": "dot_product", "dot": "dot_product"}
CLOUD_PROVIDERS = {"aws": "AWS", "gcp": "GCP", "azure": "Azure", "gravix": "Gravix"}
INDEX_TYPES: tuple[str, ...] = get_args(IndexType)
VECTOR_TYPES: tuple[str, ...] = get_args(VectorType)
MAX_DIMENSION = 2000
MAX_NAME_LENGTH = 255
LIST_PAGE_SIZE = 100
"""Indexes asked for per page by `list()` (the API allows up to 1000)."""


def index_path(index_id: str) -> str:
    return f"indexes/{quote(require_str('index_id', index_id), safe='')}"


def normalize_metric(metric: str) -> str:
    """`cosine`, `euclidean` or `dot_product`; `dotproduct` (the vendor CLI's spelling) is accepted too."""
    if not isinstance(metric, str):
        raise GravixLayerValidationError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    value = metric.strip().lower()
    return require_in("metric", _METRIC_ALIASES.get(value, value), METRICS)


def normalize_cloud_provider(value: str | None, client: SyncAPIClient | AsyncAPIClient) -> str:
    """The wire spelling (`AWS`, `GCP`, `Azure`, `Gravix`) whatever case was given (decision 15).

    Unset, it falls back to the client's `cloud=`, then `GRAVIXLAYER_CLOUD`, then `AWS` (spec §1.3).
    """
    given = _defaults.cloud(value, client, "cloud_provider")
    provider = CLOUD_PROVIDERS.get(given.strip().lower())
    if provider is None:
        raise GravixLayerValidationError(
            f"cloud_provider must be one of AWS, GCP, Azure, Gravix (any case); got {given!r}"
        )
    return provider


def _region(value: str | None, client: SyncAPIClient | AsyncAPIClient) -> str:
    return _defaults.region(value, client)


def _metadata(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise GravixLayerValidationError(f"metadata must be a dict, got {type(value).__name__}")
    return dict(value)


def create_index_request(
    client: SyncAPIClient | AsyncAPIClient,
    *,
    name: str,
    dimension: int,
    metric: str,
    cloud_provider: str | None,
    region: str | None,
    vector_type: str,
    index_type: str,
    metadata: Mapping[str, Any] | None,
    delete_protection: bool,
    options: RequestOptions,
) -> APIRequest:
    name = require_str("name", name)
    if len(name) > MAX_NAME_LENGTH:
        raise GravixLayerValidationError(f"name must be at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    require_positive_int("dimension", dimension)
    if dimension > MAX_DIMENSION:
        raise GravixLayerValidationError(f"dimension must be between 1 and {MAX_DIMENSION}, got {dimension}")
    body = {
        "name": name,
        "dimension": dimension,
        "metric": normalize_metric(metric),
        "vector_type": require_in("vector_type", vector_type, VECTOR_TYPES),
        "cloud_provider": normalize_cloud_provider(cloud_provider, client),
        "region": _region(region, client),
        "index_type": require_in("index_type", index_type, INDEX_TYPES),
        "metadata": _metadata(metadata),
        "delete_protection": bool(delete_protection),
    }
    # Creating is not idempotent: retried only when the server provably did not act.
    return APIRequest("POST", "vectors", "indexes", options=options, idempotent=False).with_body(body)


def list_indexes_step(options: RequestOptions, page_size: int | None = None) -> Step[VectorIndexList]:
    """Every index, page after page, until the server's total is reached or a page adds nothing."""
    page_size = page_size or LIST_PAGE_SIZE
    found: dict[str, VectorIndex] = {}
    page = 1
    request_id: str | None = None
    while True:
        request = APIRequest(
            "GET", "vectors", "indexes", params={"page": page, "page_size": page_size}, options=options
        )
        response = yield request
        request_id = response.headers.get("x-request-id")
        body = parse_model(IndexPage, response)
        added = 0
        for index in body.indexes:
            if index.id not in found:
                found[index.id] = index
                added += 1
        total = body.pagination.total if body.pagination is not None else None
        if added == 0 or body.pagination is None:
            break  # an empty page, a page of repeats, or a server that sends everything at once
        if total is not None:
            if len(found) >= total:
                break
        elif len(body.indexes) < page_size:
            break
        page += 1
    result = VectorIndexList(data=list(found.values()))
    result._set_request_id(request_id)
    return result


class IndexPager:
    """Pages of `GET /v1/vectors/indexes` for `iter()`: the same stopping rules as `list_indexes_step`."""

    def __init__(self, options: RequestOptions, page_size: int | None) -> None:
        self._options = options
        self._page_size = page_size or LIST_PAGE_SIZE
        self._seen: set[str] = set()

    def request(self, page: int) -> APIRequest:
        params = {"page": page, "page_size": self._page_size}
        return APIRequest("GET", "vectors", "indexes", params=params, options=self._options)

    def read(self, response: httpx.Response) -> tuple[list[VectorIndex], bool]:
        body = parse_model(IndexPage, response)
        new = [index for index in body.indexes if index.id not in self._seen]
        self._seen.update(index.id for index in new)
        if body.pagination is None:
            return new, False
        total = body.pagination.total
        more = len(self._seen) < total if total is not None else len(body.indexes) >= self._page_size
        return new, more


def _indexes_frame(items: list[VectorIndex]) -> pandas.DataFrame:
    return VectorIndexList(data=items).to_pandas()


def find_index_step(name: str, options: RequestOptions) -> Step[VectorIndex | None]:
    """The index called `name`, searched across every page; None when there is none."""
    indexes = yield from list_indexes_step(options)
    for index in indexes:
        if index.name == name:
            return index
    return None


def _get_request(index_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "vectors", index_path(index_id), options=options)


def _update_step(
    index_id: str, metadata: Mapping[str, Any] | None, delete_protection: bool | None, options: RequestOptions
) -> Step[VectorIndex]:
    body: dict[str, Any] = {}
    if metadata is not None:
        body["metadata"] = _metadata(metadata)
    if delete_protection is not None:
        body["delete_protection"] = bool(delete_protection)
    if not body:
        raise GravixLayerValidationError("update needs metadata= or delete_protection= (or both)")
    response = yield APIRequest("PUT", "vectors", index_path(index_id), options=options).with_body(body)
    data = json_body(response)
    if isinstance(data, dict) and data.get("id") and data.get("created_at"):
        return to_model(VectorIndex, data, response)
    # A partial answer (the API may send only the changed fields): read the whole index back.
    response = yield _get_request(index_id, options)
    return parse_model(VectorIndex, response)


def _delete_step(index_id: str, force: bool, options: RequestOptions) -> Step[None]:
    path = index_path(index_id)
    if force:
        # Errors are not swallowed (D38): if protection cannot be lifted, the delete cannot succeed.
        yield APIRequest("PUT", "vectors", path, options=options).with_body({"delete_protection": False})
    yield APIRequest("DELETE", "vectors", path, options=options)
    return None


class Indexes(SyncAPIResource):
    """Vector indexes: `client.vectors.indexes`."""

    @cached_property
    def with_raw_response(self) -> IndexesWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return IndexesWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> IndexesWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return IndexesWithStreamingResponse(self)

    def create(
        self,
        name: str,
        dimension: int,
        metric: VectorMetric = "cosine",
        cloud_provider: str | None = None,
        region: str | None = None,
        vector_type: VectorType = "dense",
        index_type: IndexType = "serverless",
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> VectorIndex:
        """Create an index; `metric` is `cosine`, `euclidean` or `dot_product`, `cloud_provider` any case.

        `cloud_provider` / `region` default to the client's `cloud=` / `region=`, then the
        `GRAVIXLAYER_CLOUD` / `GRAVIXLAYER_REGION` variables, then `AWS` / `us-east-1`. A taken name
        raises `GravixLayerConflictError`.
        """
        request = create_index_request(
            self._client, name=name, dimension=dimension, metric=metric, cloud_provider=cloud_provider,
            region=region, vector_type=vector_type, index_type=index_type, metadata=metadata,
            delete_protection=delete_protection, options=options,
        )  # fmt: skip
        return self._client.run(single(request, partial(parse_model, VectorIndex)))

    def list(self, **options: Unpack[RequestOptions]) -> VectorIndexList:
        """Every index of the account (all pages are read); iterate it or use `.data`."""
        return self._client.run(list_indexes_step(options))

    def iter(self, page_size: int | None = None, **options: Unpack[RequestOptions]) -> Pages[VectorIndex]:
        """Every index, read page by page only as far as you iterate; `.to_pandas()` reads the rest (async: `async for`, awaited)."""
        return Pages(self._client, IndexPager(options, page_size), _indexes_frame)

    def get(self, index_id: str, **options: Unpack[RequestOptions]) -> VectorIndex:
        """One index by id; `GravixLayerNotFoundError` when there is none."""
        return self._client.run(single(_get_request(index_id, options), partial(parse_model, VectorIndex)))

    def find(self, name: str, **options: Unpack[RequestOptions]) -> VectorIndex | None:
        """The index called `name` (looked up across every page), or None."""
        return self._client.run(find_index_step(require_str("name", name), options))

    def update(
        self,
        index_id: str,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorIndex:
        """Replace the index's metadata and/or switch its delete protection; returns the whole index."""
        return self._client.run(_update_step(index_id, metadata, delete_protection, options))

    def delete(self, index_id: str, force: bool = False, **options: Unpack[RequestOptions]) -> None:
        """Delete an index and its vectors; `force=True` first turns delete protection off."""
        return self._client.run(_delete_step(index_id, force, options))


class AsyncIndexes(AsyncAPIResource):
    """Vector indexes: `client.vectors.indexes`."""

    @cached_property
    def with_raw_response(self) -> AsyncIndexesWithRawResponse:
        """The same methods, returning the HTTP response with the result (`.parse()`)."""
        return AsyncIndexesWithRawResponse(self)

    @cached_property
    def with_streaming_response(self) -> AsyncIndexesWithStreamingResponse:
        """The same methods as context managers that close the HTTP response on exit."""
        return AsyncIndexesWithStreamingResponse(self)

    async def create(
        self,
        name: str,
        dimension: int,
        metric: VectorMetric = "cosine",
        cloud_provider: str | None = None,
        region: str | None = None,
        vector_type: VectorType = "dense",
        index_type: IndexType = "serverless",
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> VectorIndex:
        """Create an index; `metric` is `cosine`, `euclidean` or `dot_product`, `cloud_provider` any case.

        `cloud_provider` / `region` default to the client's `cloud=` / `region=`, then the
        `GRAVIXLAYER_CLOUD` / `GRAVIXLAYER_REGION` variables, then `AWS` / `us-east-1`. A taken name
        raises `GravixLayerConflictError`.
        """
        request = create_index_request(
            self._client, name=name, dimension=dimension, metric=metric, cloud_provider=cloud_provider,
            region=region, vector_type=vector_type, index_type=index_type, metadata=metadata,
            delete_protection=delete_protection, options=options,
        )  # fmt: skip
        return await self._client.run(single(request, partial(parse_model, VectorIndex)))

    async def list(self, **options: Unpack[RequestOptions]) -> VectorIndexList:
        """Every index of the account (all pages are read); iterate it or use `.data`."""
        return await self._client.run(list_indexes_step(options))

    def iter(self, page_size: int | None = None, **options: Unpack[RequestOptions]) -> AsyncPages[VectorIndex]:
        """Every index, read page by page only as far as you iterate; `.to_pandas()` reads the rest (async: `async for`, awaited)."""
        return AsyncPages(self._client, IndexPager(options, page_size), _indexes_frame)

    async def get(self, index_id: str, **options: Unpack[RequestOptions]) -> VectorIndex:
        """One index by id; `GravixLayerNotFoundError` when there is none."""
        return await self._client.run(single(_get_request(index_id, options), partial(parse_model, VectorIndex)))

    async def find(self, name: str, **options: Unpack[RequestOptions]) -> VectorIndex | None:
        """The index called `name` (looked up across every page), or None."""
        return await self._client.run(find_index_step(require_str("name", name), options))

    async def update(
        self,
        index_id: str,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorIndex:
        """Replace the index's metadata and/or switch its delete protection; returns the whole index."""
        return await self._client.run(_update_step(index_id, metadata, delete_protection, options))

    async def delete(self, index_id: str, force: bool = False, **options: Unpack[RequestOptions]) -> None:
        """Delete an index and its vectors; `force=True` first turns delete protection off."""
        return await self._client.run(_delete_step(index_id, force, options))


class IndexesWithRawResponse:
    """Each method of `Indexes` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: Indexes) -> None:
        self.create = to_raw_response_wrapper(resource.create)
        self.list = to_raw_response_wrapper(resource.list)
        self.get = to_raw_response_wrapper(resource.get)
        self.update = to_raw_response_wrapper(resource.update)
        self.delete = to_raw_response_wrapper(resource.delete)


class IndexesWithStreamingResponse:
    """Each method of `Indexes` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: Indexes) -> None:
        self.create = to_streamed_response_wrapper(resource.create)
        self.list = to_streamed_response_wrapper(resource.list)
        self.get = to_streamed_response_wrapper(resource.get)
        self.update = to_streamed_response_wrapper(resource.update)
        self.delete = to_streamed_response_wrapper(resource.delete)


class AsyncIndexesWithRawResponse:
    """Each method of `AsyncIndexes` that returns an `APIResponse` (status, headers, `.parse()`)."""

    def __init__(self, resource: AsyncIndexes) -> None:
        self.create = async_to_raw_response_wrapper(resource.create)
        self.list = async_to_raw_response_wrapper(resource.list)
        self.get = async_to_raw_response_wrapper(resource.get)
        self.update = async_to_raw_response_wrapper(resource.update)
        self.delete = async_to_raw_response_wrapper(resource.delete)


class AsyncIndexesWithStreamingResponse:
    """Each method of `AsyncIndexes` that is a context manager giving an `APIResponse`, closed on exit."""

    def __init__(self, resource: AsyncIndexes) -> None:
        self.create = async_to_streamed_response_wrapper(resource.create)
        self.list = async_to_streamed_response_wrapper(resource.list)
        self.get = async_to_streamed_response_wrapper(resource.get)
        self.update = async_to_streamed_response_wrapper(resource.update)
        self.delete = async_to_streamed_response_wrapper(resource.delete)
