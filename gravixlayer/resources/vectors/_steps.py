"""The operations on one index's vectors, written once as request builders and `Step`s (spec §6.2, D16-D20).

`IndexVectors` and `AsyncIndexVectors` (and the memory layer) drive these; nothing here knows whether
it runs sync or async. Writes answer with what was written, without the vendor's follow-up GET (D34);
a vector upserted without an id gets the server's id (never `"None"`, D14).

Costs: the wire has no way to leave embeddings out of `GET /{id}`, `fetch` or `list` (only search
has `include_values`), so every vector those return carries its values (about 20 bytes a dimension
as JSON). `list_ids_step` is the cheap listing: ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from ..._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerResponseValidationError,
    GravixLayerValidationError,
)
from ..._parse import json_body, parse_model, to_model
from ..._request import APIRequest, Step, single
from ..._types import RequestOptions
from ..._validation import require_str
from ...types.embeddings import EmbeddingUsage
from ...types.vectors import (
    BatchUpsertResponse,
    SearchResponse,
    TextVector,
    UpsertResponse,
    Vector,
    VectorDeleteResponse,
    VectorIdList,
    VectorList,
)
from ._inputs import (
    MAX_DELETE_IDS,
    TextInput,
    VectorInput,
    as_embedding,
    batch_size_of,
    batches,
    checked_items,
    fetch_chunks,
    filter_of,
    is_matrix,
    length_of,
    matrix_items,
    metadata_of,
    optional_id,
    progress_bar,
    quote_id,
    text_item,
    top_k_of,
    vector_item,
)

__all__ = [
    "upsert_step",
    "upsert_text_step",
    "upsert_many_step",
    "upsert_text_many_step",
    "upsert_dataframe_step",
    "search_request",
    "search_text_request",
    "search_step",
    "get_step",
    "update_step",
    "delete_step",
    "list_ids_step",
    "fetch_step",
    "list_step",
    "delete_all_step",
]

log = logging.getLogger("gravixlayer.vectors")

_MAX_DELETE_ALL_ROUNDS = 1000


# -- response helpers ------------------------------------------------------------------------------


def _refused(response: httpx.Response, body: Any, why: str) -> GravixLayerBadRequestError:
    return GravixLayerBadRequestError(
        f"{response.request.method} {response.request.url.path}: {why}",
        status_code=response.status_code,
        body=body,
        request_id=response.headers.get("x-request-id"),
        response=response,
    )


def _written_id(response: httpx.Response, sent_id: str | None) -> tuple[str, UpsertResponse]:
    """The id a single upsert wrote, read from the answer; raises when the server refused the write."""
    data = json_body(response)
    if not isinstance(data, dict):
        raise GravixLayerResponseValidationError(
            f"upsert answered {response.status_code} with a body that is not an object",
            status_code=response.status_code, body=data, response=response,
        )  # fmt: skip
    summary = to_model(UpsertResponse, data, response)
    if data.get("error") or summary.failed_count or summary.upserted_count == 0:
        errors = summary.errors or [data.get("error") or "the server reported 0 vectors upserted"]
        raise _refused(response, data, str(errors[0]))
    if sent_id is not None:
        return sent_id, summary
    if summary.ids:
        return str(summary.ids[0]), summary
    vectors = data.get("vectors")
    if isinstance(vectors, list) and vectors and isinstance(vectors[0], dict) and vectors[0].get("id"):
        return str(vectors[0]["id"]), summary
    if "upserted_count" not in data and isinstance(data.get("id"), str):
        return data["id"], summary  # an older server answering with the vector itself
    raise GravixLayerResponseValidationError(
        "the upsert succeeded but the answer does not name the new vector's id; pass id= to choose one",
        status_code=response.status_code, body=data, response=response,
    )  # fmt: skip


def _add_usage(total: EmbeddingUsage | None, usage: EmbeddingUsage | None) -> EmbeddingUsage | None:
    if usage is None:
        return total
    if total is None:
        return EmbeddingUsage(prompt_tokens=usage.prompt_tokens or 0, total_tokens=usage.total_tokens or 0)
    total.prompt_tokens = (total.prompt_tokens or 0) + (usage.prompt_tokens or 0)
    total.total_tokens = (total.total_tokens or 0) + (usage.total_tokens or 0)
    return total


# -- operations ------------------------------------------------------------------------------------


def _single_upsert(
    index_id: str, route: str, item: dict[str, Any], id: str | None, delete_protection: bool,
    options: RequestOptions,
) -> Step[tuple[str, UpsertResponse, httpx.Response]]:  # fmt: skip
    """One vector through `/upsert` or `/text/upsert`; the id written, the answer, and the response."""
    vector_id = optional_id(id)
    item["delete_protection"] = bool(delete_protection)
    if vector_id is not None:
        item["id"] = vector_id
    request = APIRequest(
        "POST", "vectors", f"{quote_id(index_id, 'index_id')}/{route}", options=options,
        idempotent=vector_id is not None,  # without an id, a repeated request would add a second vector
    ).with_body({"vectors": [item]})  # fmt: skip
    response = yield request
    written, summary = _written_id(response, vector_id)
    return written, summary, response


def upsert_step(
    index_id: str, embedding: Any, id: str | None, metadata: Mapping[str, Any] | None, delete_protection: bool,
    options: RequestOptions,
) -> Step[Vector]:  # fmt: skip
    item: dict[str, Any] = {"embedding": as_embedding(embedding), "metadata": metadata_of(metadata)}
    written, _, response = yield from _single_upsert(index_id, "upsert", item, id, delete_protection, options)
    vector = Vector(
        id=written, embedding=item["embedding"], metadata=item["metadata"], delete_protection=item["delete_protection"]
    )
    vector._set_request_id(response.headers.get("x-request-id"))
    return vector


def upsert_text_step(
    index_id: str, text: str, model: str, id: str | None, metadata: Mapping[str, Any] | None,
    delete_protection: bool, options: RequestOptions,
) -> Step[TextVector]:  # fmt: skip
    item: dict[str, Any] = {
        "text": require_str("text", text),
        "model": require_str("model", model),
        "metadata": metadata_of(metadata),
    }
    written, summary, response = yield from _single_upsert(
        index_id, "text/upsert", item, id, delete_protection, options
    )
    vector = TextVector(
        id=written, text=item["text"], model=item["model"], metadata=item["metadata"],
        delete_protection=item["delete_protection"], usage=summary.usage,
    )  # fmt: skip
    vector._set_request_id(response.headers.get("x-request-id"))
    return vector


def batch_step(
    path: str, items: Iterator[dict[str, Any]], batch_size: int, progress: bool, total: int | None,
    options: RequestOptions,
) -> Step[BatchUpsertResponse]:  # fmt: skip
    result = BatchUpsertResponse()
    bar = progress_bar(progress, total, "vec")
    try:
        for chunk in batches(items, batch_size):
            # Every item carries its id, so a retried chunk rewrites the same vectors: idempotent.
            request = APIRequest("POST", "vectors", path, options=options).with_body({"vectors": chunk})
            response = yield request
            answer = to_model(UpsertResponse, json_body(response), response)
            failed = answer.failed_count or 0
            result.upserted_count += answer.upserted_count if answer.upserted_count is not None else len(chunk) - failed
            result.failed_count += failed
            result.errors.extend(answer.errors or [])
            result.usage = _add_usage(result.usage, answer.usage)
            result.ids.extend(item["id"] for item in chunk)
            result._set_request_id(response.headers.get("x-request-id"))
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    if result.failed_count:
        log.warning("batch upsert: %d of %d vectors failed: %s", result.failed_count, len(result.ids), result.errors[:3])
    return result


def upsert_many_step(
    index_id: str, vectors: Iterable[VectorInput], batch_size: int, progress: bool, options: RequestOptions
) -> Step[BatchUpsertResponse]:
    path = f"{quote_id(index_id, 'index_id')}/batch"
    if isinstance(vectors, (str, bytes, Mapping)) or not isinstance(vectors, Iterable):
        raise GravixLayerValidationError("vectors must be a list (or iterable) of vectors")
    if is_matrix(vectors):
        items = matrix_items(vectors, batch_size_of(batch_size))
    else:
        items = checked_items((vector_item(item, i) for i, item in enumerate(vectors)), vectors)
    return (yield from batch_step(path, items, batch_size_of(batch_size), progress, length_of(vectors), options))


def upsert_text_many_step(
    index_id: str, texts: Iterable[TextInput], model: str | None, batch_size: int, progress: bool,
    options: RequestOptions,
) -> Step[BatchUpsertResponse]:  # fmt: skip
    path = f"{quote_id(index_id, 'index_id')}/text/batch"
    if isinstance(texts, (str, bytes, Mapping)) or not isinstance(texts, Iterable):
        raise GravixLayerValidationError("texts must be a list (or iterable) of texts")
    if model is not None:
        model = require_str("model", model)
    items = checked_items((text_item(item, model, i) for i, item in enumerate(texts)), texts)
    return (yield from batch_step(path, items, batch_size_of(batch_size), progress, length_of(texts), options))


def search_request(
    index_id: str, embedding: Any, limit: int, filter: Mapping[str, Any] | None, include_metadata: bool,
    include_values: bool, vector: Any, top_k: int | None, options: RequestOptions,
) -> APIRequest:  # fmt: skip
    if embedding is not None and vector is not None:
        raise GravixLayerValidationError("give embedding= or vector= (the same thing), not both")
    query = embedding if embedding is not None else vector
    if query is None:
        raise GravixLayerValidationError("search needs embedding= (the query vector)")
    body: dict[str, Any] = {
        "vector": as_embedding(query),
        "top_k": top_k_of(limit, top_k),
        "include_metadata": bool(include_metadata),
        "include_values": bool(include_values),
    }
    if (flt := filter_of(filter)) is not None:
        body["filter"] = flt
    return APIRequest("POST", "vectors", f"{quote_id(index_id, 'index_id')}/search", options=options).with_body(body)


def search_text_request(
    index_id: str, query: str, model: str, limit: int, filter: Mapping[str, Any] | None,
    include_metadata: bool, include_values: bool, top_k: int | None, options: RequestOptions,
) -> APIRequest:  # fmt: skip
    body: dict[str, Any] = {
        "query": require_str("query", query),
        "model": require_str("model", model),
        "top_k": top_k_of(limit, top_k),
        "include_metadata": bool(include_metadata),
        "include_values": bool(include_values),
    }
    if (flt := filter_of(filter)) is not None:
        body["filter"] = flt
    path = f"{quote_id(index_id, 'index_id')}/search/text"
    return APIRequest("POST", "vectors", path, options=options).with_body(body)


def search_step(request: APIRequest) -> Step[SearchResponse]:
    """A `search_request` or `search_text_request` sent, its hits read (best first)."""
    return single(request, lambda response: parse_model(SearchResponse, response))


def vector_path(index_id: str, vector_id: str) -> str:
    return f"{quote_id(index_id, 'index_id')}/{quote_id(vector_id, 'id')}"


def get_step(index_id: str, vector_id: str, options: RequestOptions) -> Step[Vector]:
    """One vector, embedding included (the wire has no way to leave it out); 404 when there is none."""
    return single(APIRequest("GET", "vectors", vector_path(index_id, vector_id), options=options),
                  lambda response: parse_model(Vector, response))  # fmt: skip


def _update_request(
    index_id: str, id: str, metadata: Mapping[str, Any] | None, delete_protection: bool | None,
    options: RequestOptions,
) -> APIRequest:  # fmt: skip
    body: dict[str, Any] = {}
    if metadata is not None:
        body["metadata"] = metadata_of(metadata)
    if delete_protection is not None:
        body["delete_protection"] = bool(delete_protection)
    if not body:
        raise GravixLayerValidationError("update needs metadata= or delete_protection= (or both)")
    return APIRequest("PUT", "vectors", vector_path(index_id, id), options=options).with_body(body)


def update_step(
    index_id: str, id: str, metadata: Mapping[str, Any] | None, delete_protection: bool | None,
    options: RequestOptions,
) -> Step[Vector]:  # fmt: skip
    response = yield _update_request(index_id, id, metadata, delete_protection, options)
    data = json_body(response)
    if isinstance(data, dict) and data.get("id") and "embedding" in data:
        return to_model(Vector, data, response)
    response = yield APIRequest("GET", "vectors", vector_path(index_id, id), options=options)
    return parse_model(Vector, response)


def delete_step(index_id: str, ids: list[str], options: RequestOptions) -> Step[VectorDeleteResponse]:
    path = f"{quote_id(index_id, 'index_id')}/delete"
    counted: int | None = 0
    deleted: list[str] | None = []
    request_id = None
    for start in range(0, len(ids), MAX_DELETE_IDS):
        chunk = ids[start : start + MAX_DELETE_IDS]
        response = yield APIRequest("POST", "vectors", path, options=options).with_body({"vector_ids": chunk})
        request_id = response.headers.get("x-request-id")
        data = json_body(response)
        answer = to_model(VectorDeleteResponse, data if isinstance(data, dict) else {}, response)
        counted = None if counted is None or answer.deleted_count is None else counted + answer.deleted_count
        deleted = None if deleted is None or answer.deleted_ids is None else deleted + answer.deleted_ids
    result = VectorDeleteResponse(deleted_count=counted, deleted_ids=deleted)
    result._set_request_id(request_id)
    return result


def list_ids_step(index_id: str, options: RequestOptions) -> Step[VectorIdList]:
    response = yield APIRequest("GET", "vectors", f"{quote_id(index_id, 'index_id')}/list", options=options)
    data = json_body(response)
    ids = data.get("vector_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise GravixLayerResponseValidationError(
            "list answered without a 'vector_ids' list of strings",
            status_code=response.status_code, body=data, response=response,
        )  # fmt: skip
    result = VectorIdList(data=ids)
    result._set_request_id(response.headers.get("x-request-id"))
    return result


def _vectors_of(response: httpx.Response) -> list[Vector]:
    """`{"vectors": [...]}` (array form) or `{"vectors": {id: vector}}` (the older object form)."""
    data = json_body(response)
    raw = data.get("vectors") if isinstance(data, dict) else None
    if isinstance(raw, dict):
        raw = [{"id": key, **value} if isinstance(value, dict) else value for key, value in raw.items()]
    if not isinstance(raw, list):
        raise GravixLayerResponseValidationError(
            "fetch answered without a 'vectors' list",
            status_code=response.status_code, body=data, response=response,
        )  # fmt: skip
    return [to_model(Vector, item, response) for item in raw]


def fetch_step(index_id: str, ids: Sequence[str], options: RequestOptions) -> Step[VectorList]:
    """The named vectors, in the order asked (unknown ids skipped), a bounded number of ids per request."""
    path = f"{quote_id(index_id, 'index_id')}/fetch"
    found: list[Vector] = []
    request_id = None
    for chunk in fetch_chunks(ids):
        response = yield APIRequest(
            "GET", "vectors", path, params={"vector_ids": ",".join(chunk)}, options=options
        )  # httpx URL-encodes the value (decision 19)
        request_id = response.headers.get("x-request-id")
        found.extend(_vectors_of(response))
    result = VectorList(data=found)
    result._set_request_id(request_id)
    return result


def list_step(index_id: str, ids: Sequence[str] | None, options: RequestOptions) -> Step[VectorList]:
    """Every vector (the ids first, then bounded fetches: no answer grows with the index) or the named ones."""
    if ids is None:
        ids = (yield from list_ids_step(index_id, options)).data
    return (yield from fetch_step(index_id, ids, options))


def delete_all_step(index_id: str, options: RequestOptions) -> Step[VectorDeleteResponse]:
    """List every id, delete them in batches, and list again until the index is empty."""
    total = 0
    previous: set[str] | None = None
    for _ in range(_MAX_DELETE_ALL_ROUNDS):
        ids = (yield from list_ids_step(index_id, options)).data
        if not ids:
            return VectorDeleteResponse(deleted_count=total, message=f"deleted {total} vectors")
        if previous is not None and set(ids) >= previous:
            raise GravixLayerBadRequestError(
                f"delete_all made no progress: {len(ids)} vectors remain in index {index_id} after deleting them"
            )
        answer = yield from delete_step(index_id, ids, options)
        total += answer.deleted_count if answer.deleted_count is not None else len(ids)
        previous = set(ids)
    raise GravixLayerBadRequestError(f"delete_all gave up after {_MAX_DELETE_ALL_ROUNDS} rounds on index {index_id}")


def upsert_dataframe_step(
    index_id: str, df: Any, id_column: str | None, text_column: str | None, embedding_column: str | None,
    metadata_columns: Sequence[str] | None, model: str | None, batch_size: int, progress: bool | None,
    options: RequestOptions,
) -> Step[BatchUpsertResponse]:  # fmt: skip
    """Rows of a DataFrame -> the batch upserts (conversion in gravixlayer._dataframes; pandas not imported)."""
    from ..._dataframes import dataframe_to_vectors, want_progress

    try:
        is_text, items = dataframe_to_vectors(
            df, id_column=id_column, text_column=text_column, embedding_column=embedding_column,
            metadata_columns=metadata_columns,
        )  # fmt: skip
    except (KeyError, ValueError) as exc:
        raise GravixLayerValidationError(str(exc).strip("'\"")) from exc
    show = want_progress(progress, len(items))
    if is_text:
        if not model:
            raise GravixLayerValidationError("text_column= needs model=, the embedding model for the texts")
        return (yield from upsert_text_many_step(index_id, items, model, batch_size, show, options))
    return (yield from upsert_many_step(index_id, items, batch_size, show, options))
