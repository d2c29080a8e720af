"""`POST /v1/inference/embeddings` (spec §2.4)."""

from __future__ import annotations

from functools import partial

from typing_extensions import Unpack

from .._exceptions import GravixLayerValidationError
from .._parse import parse_model
from .._request import APIRequest, single, without_none
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import RequestOptions
from .._validation import require_in, require_positive_int, require_str
from ..types.embeddings import CreateEmbeddingResponse

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


class Embeddings(SyncAPIResource):
    def create(
        self,
        *,
        model: str,
        input: str | list[str],
        encoding_format: str = "float",
        dimensions: int | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """Embed one text or a list of texts; `data[i].embedding` is the vector of `input[i]`."""
        request = _create_request(
            model=model, input=input, encoding_format=encoding_format, dimensions=dimensions, user=user,
            options=options,
        )
        return self._client.run(single(request, partial(parse_model, CreateEmbeddingResponse)))


class AsyncEmbeddings(AsyncAPIResource):
    async def create(
        self,
        *,
        model: str,
        input: str | list[str],
        encoding_format: str = "float",
        dimensions: int | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """Embed one text or a list of texts; `data[i].embedding` is the vector of `input[i]`."""
        request = _create_request(
            model=model, input=input, encoding_format=encoding_format, dimensions=dimensions, user=user,
            options=options,
        )
        return await self._client.run(single(request, partial(parse_model, CreateEmbeddingResponse)))
