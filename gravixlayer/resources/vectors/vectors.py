"""`/v1/vectors/{index_id}/...`: vectors of one index (spec §6.2; decisions 16-20).

Writes answer with what was written, without the vendor's follow-up GET (D34); a vector upserted
without an id gets the server's id (never `"None"`, D14). Batches are split to the server's limits
(`MAX_BATCH_VECTORS` per request, `MAX_BATCH_BYTES` of JSON), and every item of a batch gets its id
before sending (a UUID4 when the caller gave none), which makes a retried batch harmless and
tells the caller which ids were written.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from typing_extensions import Unpack

from ..._base_client import AsyncAPIClient, SyncAPIClient
from ..._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerResponseValidationError,
    GravixLayerValidationError,
)
from ..._parse import json_body, parse_model, to_model
from ..._request import APIRequest, Step, single
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import RequestOptions
from ..._validation import require_positive_int, require_str
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

__all__ = [
    "IndexVectors",
    "AsyncIndexVectors",
    "MAX_BATCH_VECTORS",
    "MAX_BATCH_BYTES",
    "MAX_TOP_K",
    "MAX_DELETE_IDS",
    "VectorInput",
    "TextInput",
]

log = logging.getLogger("gravixlayer.vectors")

MAX_BATCH_VECTORS = 1000
"""Vectors per upsert request: GravixLayer Local refuses more (400); the vendor's limit is not published."""
MAX_BATCH_BYTES = 32 * 1024 * 1024
"""Estimated JSON bytes per upsert request; a batch is split before it grows past this."""
MAX_TOP_K = 1000
MAX_DELETE_IDS = 1000
"""Ids per delete request (Local's limit, the same as for upserts)."""
FETCH_IDS_PER_REQUEST = 100
"""Ids per `fetch?vector_ids=` request (also bounded by `FETCH_URL_BUDGET` characters of encoded ids)."""
FETCH_URL_BUDGET = 4000
"""Encoded id characters per fetch URL: well under the 8 KB request-line limit of common servers."""
_MAX_DELETE_ALL_ROUNDS = 1000

VectorInput = Mapping[str, Any] | Sequence[Any] | Any
"""A vector to upsert: `{"embedding" (or "values"), "id"?, "metadata"?, "delete_protection"?}`,
`(id, embedding)` / `(id, embedding, metadata)`, or a bare embedding (list or numpy array)."""
TextInput = Mapping[str, Any] | Sequence[Any] | str
"""A text to upsert: `{"text", "id"?, "metadata"?, "model"?}`, `(id, text)` / `(id, text, metadata)`, or a string."""


# -- argument helpers ------------------------------------------------------------------------------


def _quote(value: str, name: str) -> str:
    return quote(require_str(name, value), safe="")


_PLAIN_NUMBERS = frozenset({float, int})


def as_embedding(value: Any, name: str = "embedding") -> list[float]:
    """A list of floats from a list, tuple or numpy array of numbers (checked here, not on the server)."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        kind = getattr(getattr(value, "dtype", None), "kind", None)
        if kind is not None and kind not in "fiu":
            raise GravixLayerValidationError(f"{name} must hold numbers, got an array of dtype {value.dtype}")
        if kind is not None and getattr(value, "ndim", None) == 1 and value.size:
            # A numeric numpy vector: tolist() gives plain floats/ints, so only finiteness needs a check.
            floats: list[float] = value.tolist()
            if kind == "f" and not math.isfinite(sum(floats)):
                _non_finite(floats, name)
            return floats
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        raise GravixLayerValidationError(f"{name} must be a non-empty list of numbers, got {type(value).__name__}")
    if set(map(type, value)) <= _PLAIN_NUMBERS:  # the fast path: C-level passes only
        if not math.isfinite(sum(value)):
            _non_finite(value, name)
        return value if isinstance(value, list) else list(value)
    for x in value:
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise GravixLayerValidationError(f"{name} must contain only numbers, found {x!r}")
    converted = [float(x) for x in value]  # numpy scalars and friends: JSON needs plain floats
    if not math.isfinite(sum(converted)):
        _non_finite(converted, name)
    return converted


def _non_finite(values: Sequence[float], name: str) -> None:
    for i, x in enumerate(values):
        if not math.isfinite(x):
            raise GravixLayerValidationError(f"{name}[{i}] is {x!r}; JSON carries only finite numbers")
    raise GravixLayerValidationError(f"{name} holds values too large to add up; scale the vector down")


def _metadata(value: Any, name: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise GravixLayerValidationError(f"{name} must be a dict, got {type(value).__name__}")
    return dict(value)


def _optional_id(value: Any, name: str = "id") -> str | None:
    return None if value is None else require_str(name, value)


def _limit(limit: int, top_k: int | None) -> int:
    """`top_k` (the wire's name, the vendor SDK's argument) wins over `limit` when given."""
    value = require_positive_int("top_k" if top_k is not None else "limit", top_k if top_k is not None else limit)
    if value > MAX_TOP_K:
        raise GravixLayerValidationError(f"limit must be between 1 and {MAX_TOP_K}, got {value}")
    return value


def _filter(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise GravixLayerValidationError(
            "filter must be a dict of metadata key -> value (a list value means any of)"
        )
    return dict(value)


def _vector_item(item: VectorInput, position: int) -> dict[str, Any]:
    """The wire form of one batch item, with an id assigned when it had none."""
    where = f"vectors[{position}]"
    if isinstance(item, Mapping):
        unknown = set(item) - {"id", "embedding", "values", "vector", "metadata", "delete_protection"}
        if unknown:
            raise GravixLayerValidationError(f"{where} has unknown keys {sorted(unknown)}")
        raw = next((item[k] for k in ("embedding", "values", "vector") if item.get(k) is not None), None)
        if raw is None:
            raise GravixLayerValidationError(f"{where} needs an 'embedding'")
        vector_id = _optional_id(item.get("id"), f"{where}.id")
        metadata = _metadata(item.get("metadata"), f"{where}.metadata")
        protect = bool(item.get("delete_protection", False))
    elif isinstance(item, tuple) and item and isinstance(item[0], str):
        if len(item) not in (2, 3):
            raise GravixLayerValidationError(f"{where} must be (id, embedding) or (id, embedding, metadata)")
        vector_id, raw = item[0], item[1]
        metadata = _metadata(item[2] if len(item) == 3 else None, f"{where}.metadata")
        protect = False
    else:
        vector_id, raw, metadata, protect = None, item, {}, False
    return {
        "id": vector_id or _new_id(),
        "embedding": as_embedding(raw, f"{where}.embedding"),
        "metadata": metadata,
        "delete_protection": protect,
    }


def _text_item(item: TextInput, model: str | None, position: int) -> dict[str, Any]:
    where = f"texts[{position}]"
    vector_id: Any
    text: Any
    if isinstance(item, str):
        vector_id, text, metadata, item_model = None, item, {}, model
    elif isinstance(item, Mapping):
        unknown = set(item) - {"id", "text", "metadata", "model", "delete_protection"}
        if unknown:
            raise GravixLayerValidationError(f"{where} has unknown keys {sorted(unknown)}")
        vector_id = _optional_id(item.get("id"), f"{where}.id")
        text = item.get("text")
        metadata = _metadata(item.get("metadata"), f"{where}.metadata")
        item_model = item.get("model") or model
    elif isinstance(item, tuple) and len(item) in (2, 3):
        vector_id, text = item[0], item[1]
        metadata = _metadata(item[2] if len(item) == 3 else None, f"{where}.metadata")
        item_model = model
    else:
        raise GravixLayerValidationError(f"{where} must be a string, a dict with 'text', or (id, text[, metadata])")
    body: dict[str, Any] = {
        "id": _optional_id(vector_id, f"{where}.id") or _new_id(),
        "text": require_str(f"{where}.text", text),
        "model": require_str(f"{where}.model", item_model),  # None: the item had to name its model
        "metadata": metadata,
    }
    if isinstance(item, Mapping) and item.get("delete_protection") is not None:
        body["delete_protection"] = bool(item["delete_protection"])
    return body


def _estimated_bytes(item: dict[str, Any]) -> int:
    """A cheap upper estimate of an item's JSON size (about 20 bytes per float)."""
    size = 200 + len(item["id"])
    if "embedding" in item:
        size += 20 * len(item["embedding"])
    if "text" in item:
        size += 2 * len(item["text"])
    if item.get("metadata"):
        size += 64 * len(item["metadata"])
    return size


def _batches(items: Iterator[dict[str, Any]], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_size = _estimated_bytes(item)
        if chunk and (len(chunk) >= batch_size or size + item_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def _batch_size(value: int) -> int:
    require_positive_int("batch_size", value)
    if value > MAX_BATCH_VECTORS:
        raise GravixLayerValidationError(f"batch_size must be at most {MAX_BATCH_VECTORS}, got {value}")
    return value


def _progress_bar(enabled: bool, total: int | None, unit: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise GravixLayerValidationError("progress=True needs tqdm: pip install tqdm") from exc
    return tqdm(total=total, unit=unit, desc="upsert")


def _items(items: Iterator[dict[str, Any]], source: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Lists are checked whole before the first request, so a bad item never leaves a half-written batch;
    other iterables (generators, numpy arrays) are read lazily, batch by batch, to bound memory."""
    if isinstance(source, (list, tuple)):
        return iter(list(items))
    return items


def _length(value: Iterable[Any]) -> int | None:
    try:
        return len(value)  # type: ignore[arg-type]
    except TypeError:
        return None


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


def _upsert_step(
    index_id: str, embedding: Any, id: str | None, metadata: Mapping[str, Any] | None, delete_protection: bool,
    options: RequestOptions,
) -> Step[Vector]:  # fmt: skip
    vector_id = _optional_id(id)
    item: dict[str, Any] = {
        "embedding": as_embedding(embedding),
        "metadata": _metadata(metadata),
        "delete_protection": bool(delete_protection),
    }
    if vector_id is not None:
        item["id"] = vector_id
    request = APIRequest(
        "POST", "vectors", f"{_quote(index_id, 'index_id')}/upsert", options=options,
        idempotent=vector_id is not None,  # without an id, a repeated request would add a second vector
    ).with_body({"vectors": [item]})  # fmt: skip
    response = yield request
    written, _ = _written_id(response, vector_id)
    vector = Vector(
        id=written, embedding=item["embedding"], metadata=item["metadata"], delete_protection=item["delete_protection"]
    )
    vector._set_request_id(response.headers.get("x-request-id"))
    return vector


def _upsert_text_step(
    index_id: str, text: str, model: str, id: str | None, metadata: Mapping[str, Any] | None,
    delete_protection: bool, options: RequestOptions,
) -> Step[TextVector]:  # fmt: skip
    vector_id = _optional_id(id)
    item: dict[str, Any] = {
        "text": require_str("text", text),
        "model": require_str("model", model),
        "metadata": _metadata(metadata),
        "delete_protection": bool(delete_protection),
    }
    if vector_id is not None:
        item["id"] = vector_id
    request = APIRequest(
        "POST", "vectors", f"{_quote(index_id, 'index_id')}/text/upsert", options=options,
        idempotent=vector_id is not None,
    ).with_body({"vectors": [item]})  # fmt: skip
    response = yield request
    written, summary = _written_id(response, vector_id)
    vector = TextVector(
        id=written, text=item["text"], model=item["model"], metadata=item["metadata"],
        delete_protection=item["delete_protection"], usage=summary.usage,
    )  # fmt: skip
    vector._set_request_id(response.headers.get("x-request-id"))
    return vector


def _batch_step(
    path: str, items: Iterator[dict[str, Any]], batch_size: int, progress: bool, total: int | None,
    options: RequestOptions,
) -> Step[BatchUpsertResponse]:  # fmt: skip
    result = BatchUpsertResponse()
    bar = _progress_bar(progress, total, "vec")
    try:
        for chunk in _batches(items, batch_size):
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


def _new_id() -> str:
    """A random UUID4 string, several times cheaper than `str(uuid.uuid4())` (it matters per 10,000)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _is_matrix(value: Any) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 2


def _matrix_items(array: Any, batch_size: int) -> Iterator[dict[str, Any]]:
    """Rows of a 2-D numpy array as batch items: checked once with numpy, converted a batch at a time."""
    import numpy

    if array.dtype.kind not in "fiu" or 0 in array.shape:
        raise GravixLayerValidationError(f"vectors must be a non-empty 2-D array of numbers, got {array.dtype} "
                                         f"{array.shape}")  # fmt: skip
    if array.dtype.kind == "f":
        finite = numpy.isfinite(array).all(axis=1)
        if not finite.all():
            raise GravixLayerValidationError(f"vectors[{int(numpy.argmin(finite))}] holds NaN or infinity")
    return _matrix_rows(array, batch_size)


def _matrix_rows(array: Any, batch_size: int) -> Iterator[dict[str, Any]]:
    for start in range(0, len(array), batch_size):
        for row in array[start : start + batch_size].tolist():
            yield {"id": _new_id(), "embedding": row, "metadata": {}, "delete_protection": False}


def _upsert_many_step(
    index_id: str, vectors: Iterable[VectorInput], batch_size: int, progress: bool, options: RequestOptions
) -> Step[BatchUpsertResponse]:
    path = f"{_quote(index_id, 'index_id')}/batch"
    if isinstance(vectors, (str, bytes, Mapping)) or not isinstance(vectors, Iterable):
        raise GravixLayerValidationError("vectors must be a list (or iterable) of vectors")
    if _is_matrix(vectors):
        items = _matrix_items(vectors, _batch_size(batch_size))
    else:
        items = _items((_vector_item(item, i) for i, item in enumerate(vectors)), vectors)
    return (yield from _batch_step(path, items, _batch_size(batch_size), progress, _length(vectors), options))


def _upsert_text_many_step(
    index_id: str, texts: Iterable[TextInput], model: str | None, batch_size: int, progress: bool,
    options: RequestOptions,
) -> Step[BatchUpsertResponse]:  # fmt: skip
    path = f"{_quote(index_id, 'index_id')}/text/batch"
    if isinstance(texts, (str, bytes, Mapping)) or not isinstance(texts, Iterable):
        raise GravixLayerValidationError("texts must be a list (or iterable) of texts")
    if model is not None:
        model = require_str("model", model)
    items = _items((_text_item(item, model, i) for i, item in enumerate(texts)), texts)
    return (yield from _batch_step(path, items, _batch_size(batch_size), progress, _length(texts), options))


def _search_request(
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
        "top_k": _limit(limit, top_k),
        "include_metadata": bool(include_metadata),
        "include_values": bool(include_values),
    }
    if (flt := _filter(filter)) is not None:
        body["filter"] = flt
    return APIRequest("POST", "vectors", f"{_quote(index_id, 'index_id')}/search", options=options).with_body(body)


def _search_text_request(
    index_id: str, query: str, model: str, limit: int, filter: Mapping[str, Any] | None,
    include_metadata: bool, include_values: bool, top_k: int | None, options: RequestOptions,
) -> APIRequest:  # fmt: skip
    body: dict[str, Any] = {
        "query": require_str("query", query),
        "model": require_str("model", model),
        "top_k": _limit(limit, top_k),
        "include_metadata": bool(include_metadata),
        "include_values": bool(include_values),
    }
    if (flt := _filter(filter)) is not None:
        body["filter"] = flt
    path = f"{_quote(index_id, 'index_id')}/search/text"
    return APIRequest("POST", "vectors", path, options=options).with_body(body)


def _vector_path(index_id: str, vector_id: str) -> str:
    return f"{_quote(index_id, 'index_id')}/{_quote(vector_id, 'id')}"


def _update_request(
    index_id: str, id: str, metadata: Mapping[str, Any] | None, delete_protection: bool | None,
    options: RequestOptions,
) -> APIRequest:  # fmt: skip
    body: dict[str, Any] = {}
    if metadata is not None:
        body["metadata"] = _metadata(metadata)
    if delete_protection is not None:
        body["delete_protection"] = bool(delete_protection)
    if not body:
        raise GravixLayerValidationError("update needs metadata= or delete_protection= (or both)")
    return APIRequest("PUT", "vectors", _vector_path(index_id, id), options=options).with_body(body)


def _update_step(
    index_id: str, id: str, metadata: Mapping[str, Any] | None, delete_protection: bool | None,
    options: RequestOptions,
) -> Step[Vector]:  # fmt: skip
    response = yield _update_request(index_id, id, metadata, delete_protection, options)
    data = json_body(response)
    if isinstance(data, dict) and data.get("id") and "embedding" in data:
        return to_model(Vector, data, response)
    response = yield APIRequest("GET", "vectors", _vector_path(index_id, id), options=options)
    return parse_model(Vector, response)


def _ids_argument(ids: str | Iterable[str]) -> list[str]:
    if not isinstance(ids, (str, Iterable)) or isinstance(ids, (bytes, Mapping)):
        raise GravixLayerValidationError(f"ids must be an id or a list of ids, got {type(ids).__name__}")
    values = [ids] if isinstance(ids, str) else list(ids)
    if not values:
        raise GravixLayerValidationError("ids must name at least one vector")
    return [require_str("id", value) for value in values]


def _delete_step(index_id: str, ids: list[str], options: RequestOptions) -> Step[VectorDeleteResponse]:
    path = f"{_quote(index_id, 'index_id')}/delete"
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


def _list_ids_step(index_id: str, options: RequestOptions) -> Step[VectorIdList]:
    response = yield APIRequest("GET", "vectors", f"{_quote(index_id, 'index_id')}/list", options=options)
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


def fetch_chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """`ids` in groups small enough for one `fetch?vector_ids=` URL."""
    chunk: list[str] = []
    size = 0
    for vector_id in ids:
        cost = len(quote(vector_id, safe="")) + 3  # plus the encoded comma
        if chunk and (len(chunk) >= FETCH_IDS_PER_REQUEST or size + cost > FETCH_URL_BUDGET):
            yield chunk
            chunk, size = [], 0
        chunk.append(vector_id)
        size += cost
    if chunk:
        yield chunk


def fetch_step(index_id: str, ids: Sequence[str], options: RequestOptions) -> Step[VectorList]:
    """The named vectors, in the order asked (unknown ids skipped), a bounded number of ids per request."""
    path = f"{_quote(index_id, 'index_id')}/fetch"
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
        ids = (yield from _list_ids_step(index_id, options)).data
    return (yield from fetch_step(index_id, ids, options))


def delete_all_step(index_id: str, options: RequestOptions) -> Step[VectorDeleteResponse]:
    """List every id, delete them in batches, and list again until the index is empty."""
    total = 0
    previous: set[str] | None = None
    for _ in range(_MAX_DELETE_ALL_ROUNDS):
        ids = (yield from _list_ids_step(index_id, options)).data
        if not ids:
            return VectorDeleteResponse(deleted_count=total, message=f"deleted {total} vectors")
        if previous is not None and set(ids) >= previous:
            raise GravixLayerBadRequestError(
                f"delete_all made no progress: {len(ids)} vectors remain in index {index_id} after deleting them"
            )
        answer = yield from _delete_step(index_id, ids, options)
        total += answer.deleted_count if answer.deleted_count is not None else len(ids)
        previous = set(ids)
    raise GravixLayerBadRequestError(f"delete_all gave up after {_MAX_DELETE_ALL_ROUNDS} rounds on index {index_id}")


# -- resources -------------------------------------------------------------------------------------


def _upsert_dataframe_step(
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
        return (yield from _upsert_text_many_step(index_id, items, model, batch_size, show, options))
    return (yield from _upsert_many_step(index_id, items, batch_size, show, options))


class _Bound:
    index_id: str

    def __repr__(self) -> str:
        return f"<{type(self).__name__} index_id={self.index_id!r}>"


class IndexVectors(_Bound, SyncAPIResource):
    """The vectors of one index: `client.vectors.index(index_id)`."""

    def __init__(self, client: SyncAPIClient, index_id: str) -> None:
        super().__init__(client)
        self.index_id = require_str("index_id", index_id)

    def upsert(
        self,
        embedding: Any,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Insert or replace one vector (a list or numpy array); without `id` the server assigns one."""
        return self._client.run(_upsert_step(self.index_id, embedding, id, metadata, delete_protection, options))

    def upsert_text(
        self,
        text: str,
        model: str,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> TextVector:
        """Embed `text` with `model` on the server and store it; without `id` the server assigns one."""
        return self._client.run(
            _upsert_text_step(self.index_id, text, model, id, metadata, delete_protection, options)
        )

    def upsert_many(
        self,
        vectors: Iterable[VectorInput],
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert any number of vectors, split into requests the server accepts; `progress=True` shows tqdm.

        Items: `{"embedding", "id"?, "metadata"?}`, `(id, embedding[, metadata])` or a bare embedding.
        Items without an id get a UUID4; `.ids` lists every id written, in input order.
        """
        return self._client.run(_upsert_many_step(self.index_id, vectors, batch_size, progress, options))

    def upsert_text_many(
        self,
        texts: Iterable[TextInput],
        model: str,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Embed and store any number of texts in server-sized batches; `.ids` lists the ids written.

        Items: a string, `{"text", "id"?, "metadata"?, "model"?}` or `(id, text[, metadata])`.
        """
        return self._client.run(
            _upsert_text_many_step(self.index_id, texts, model, batch_size, progress, options)
        )

    def upsert_dataframe(
        self,
        df: Any,
        id_column: str | None = None,
        text_column: str | None = None,
        embedding_column: str | None = None,
        metadata_columns: Sequence[str] | None = None,
        model: str | None = None,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert the rows of a pandas DataFrame in batches (a progress bar in notebooks; `progress=`).

        Give `text_column=` (embedded on the server with `model=`) or `embedding_column=`; `id_column=`
        names the ids (missing ones get a UUID4). Metadata: `metadata_columns=`, or by default every
        `metadata.*` column, so a frame from `to_pandas(embeddings=True)` goes back unchanged.
        """
        return self._client.run(
            _upsert_dataframe_step(
                self.index_id, df, id_column, text_column, embedding_column, metadata_columns, model,
                batch_size, progress, options,
            )  # fmt: skip
        )

    def batch_upsert(self, vectors: Iterable[VectorInput], **options: Unpack[RequestOptions]) -> BatchUpsertResponse:
        """The vendor SDK's name for `upsert_many` (split into server-sized batches as well)."""
        return self._client.run(_upsert_many_step(self.index_id, vectors, MAX_BATCH_VECTORS, False, options))

    def batch_upsert_text(
        self, vectors: Iterable[Mapping[str, Any]], **options: Unpack[RequestOptions]
    ) -> BatchUpsertResponse:
        """The vendor SDK's form of `upsert_text_many`: items `{"text", "model", "id"?, "metadata"?}`."""
        return self._client.run(
            _upsert_text_many_step(self.index_id, vectors, None, MAX_BATCH_VECTORS, False, options)
        )

    def search(
        self,
        embedding: Any = None,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        vector: Any = None,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """The `limit` (at most 1000) nearest vectors, best first.

        `filter` matches metadata: `{"k": v}` is equality, `{"k": [a, b]}` any of. `vector=` and
        `top_k=` (the wire names) are accepted for `embedding=` and `limit=`.
        """
        request = _search_request(
            self.index_id, embedding, limit, filter, include_metadata, include_values, vector, top_k, options
        )
        return self._client.run(single(request, lambda r: parse_model(SearchResponse, r)))

    def search_text(
        self,
        query: str,
        model: str,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """Embed `query` with `model` on the server and search with it; `.usage` holds the tokens used."""
        request = _search_text_request(
            self.index_id, query, model, limit, filter, include_metadata, include_values, top_k, options
        )
        return self._client.run(single(request, lambda r: parse_model(SearchResponse, r)))

    def get(self, id: str, **options: Unpack[RequestOptions]) -> Vector:
        """One vector with its embedding; `GravixLayerNotFoundError` when there is none."""
        request = APIRequest("GET", "vectors", _vector_path(self.index_id, id), options=options)
        return self._client.run(single(request, lambda r: parse_model(Vector, r)))

    def list(self, vector_ids: Sequence[str] | None = None, **options: Unpack[RequestOptions]) -> VectorList:
        """Every vector of the index (or those in `vector_ids`), with embeddings and metadata, in a few requests."""
        ids = None if vector_ids is None else _ids_argument(vector_ids)
        return self._client.run(list_step(self.index_id, ids, options))

    def list_ids(self, **options: Unpack[RequestOptions]) -> VectorIdList:
        """The ids of every vector of the index."""
        return self._client.run(_list_ids_step(self.index_id, options))

    def update(
        self,
        id: str,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Replace a vector's metadata and/or switch its delete protection; returns the vector."""
        return self._client.run(_update_step(self.index_id, id, metadata, delete_protection, options))

    def delete(self, ids: str | Iterable[str], **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete one vector or many (any number; sent in batches). Unknown ids are ignored."""
        return self._client.run(_delete_step(self.index_id, _ids_argument(ids), options))

    def batch_delete(self, vector_ids: Iterable[str], **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """The vendor SDK's name for deleting several vectors."""
        return self._client.run(_delete_step(self.index_id, _ids_argument(vector_ids), options))

    def delete_all(self, **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete every vector of the index (the index stays): lists ids and deletes until none remain."""
        return self._client.run(delete_all_step(self.index_id, options))


class AsyncIndexVectors(_Bound, AsyncAPIResource):
    """The vectors of one index: `client.vectors.index(index_id)`."""

    def __init__(self, client: AsyncAPIClient, index_id: str) -> None:
        super().__init__(client)
        self.index_id = require_str("index_id", index_id)

    async def upsert(
        self,
        embedding: Any,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Insert or replace one vector (a list or numpy array); without `id` the server assigns one."""
        return await self._client.run(_upsert_step(self.index_id, embedding, id, metadata, delete_protection, options))

    async def upsert_text(
        self,
        text: str,
        model: str,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool = False,
        **options: Unpack[RequestOptions],
    ) -> TextVector:
        """Embed `text` with `model` on the server and store it; without `id` the server assigns one."""
        return await self._client.run(
            _upsert_text_step(self.index_id, text, model, id, metadata, delete_protection, options)
        )

    async def upsert_many(
        self,
        vectors: Iterable[VectorInput],
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert any number of vectors, split into requests the server accepts; `progress=True` shows tqdm.

        Items: `{"embedding", "id"?, "metadata"?}`, `(id, embedding[, metadata])` or a bare embedding.
        Items without an id get a UUID4; `.ids` lists every id written, in input order.
        """
        return await self._client.run(_upsert_many_step(self.index_id, vectors, batch_size, progress, options))

    async def upsert_text_many(
        self,
        texts: Iterable[TextInput],
        model: str,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Embed and store any number of texts in server-sized batches; `.ids` lists the ids written.

        Items: a string, `{"text", "id"?, "metadata"?, "model"?}` or `(id, text[, metadata])`.
        """
        return await self._client.run(
            _upsert_text_many_step(self.index_id, texts, model, batch_size, progress, options)
        )

    async def upsert_dataframe(
        self,
        df: Any,
        id_column: str | None = None,
        text_column: str | None = None,
        embedding_column: str | None = None,
        metadata_columns: Sequence[str] | None = None,
        model: str | None = None,
        batch_size: int = MAX_BATCH_VECTORS,
        progress: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> BatchUpsertResponse:
        """Upsert the rows of a pandas DataFrame in batches (a progress bar in notebooks; `progress=`).

        Give `text_column=` (embedded on the server with `model=`) or `embedding_column=`; `id_column=`
        names the ids (missing ones get a UUID4). Metadata: `metadata_columns=`, or by default every
        `metadata.*` column, so a frame from `to_pandas(embeddings=True)` goes back unchanged.
        """
        return await self._client.run(
            _upsert_dataframe_step(
                self.index_id, df, id_column, text_column, embedding_column, metadata_columns, model,
                batch_size, progress, options,
            )  # fmt: skip
        )

    async def batch_upsert(
        self, vectors: Iterable[VectorInput], **options: Unpack[RequestOptions]
    ) -> BatchUpsertResponse:
        """The vendor SDK's name for `upsert_many` (split into server-sized batches as well)."""
        return await self._client.run(_upsert_many_step(self.index_id, vectors, MAX_BATCH_VECTORS, False, options))

    async def batch_upsert_text(
        self, vectors: Iterable[Mapping[str, Any]], **options: Unpack[RequestOptions]
    ) -> BatchUpsertResponse:
        """The vendor SDK's form of `upsert_text_many`: items `{"text", "model", "id"?, "metadata"?}`."""
        return await self._client.run(
            _upsert_text_many_step(self.index_id, vectors, None, MAX_BATCH_VECTORS, False, options)
        )

    async def search(
        self,
        embedding: Any = None,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        vector: Any = None,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """The `limit` (at most 1000) nearest vectors, best first.

        `filter` matches metadata: `{"k": v}` is equality, `{"k": [a, b]}` any of. `vector=` and
        `top_k=` (the wire names) are accepted for `embedding=` and `limit=`.
        """
        request = _search_request(
            self.index_id, embedding, limit, filter, include_metadata, include_values, vector, top_k, options
        )
        return await self._client.run(single(request, lambda r: parse_model(SearchResponse, r)))

    async def search_text(
        self,
        query: str,
        model: str,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        include_metadata: bool = True,
        include_values: bool = False,
        *,
        top_k: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SearchResponse:
        """Embed `query` with `model` on the server and search with it; `.usage` holds the tokens used."""
        request = _search_text_request(
            self.index_id, query, model, limit, filter, include_metadata, include_values, top_k, options
        )
        return await self._client.run(single(request, lambda r: parse_model(SearchResponse, r)))

    async def get(self, id: str, **options: Unpack[RequestOptions]) -> Vector:
        """One vector with its embedding; `GravixLayerNotFoundError` when there is none."""
        request = APIRequest("GET", "vectors", _vector_path(self.index_id, id), options=options)
        return await self._client.run(single(request, lambda r: parse_model(Vector, r)))

    async def list(self, vector_ids: Sequence[str] | None = None, **options: Unpack[RequestOptions]) -> VectorList:
        """Every vector of the index (or those in `vector_ids`), with embeddings and metadata, in a few requests."""
        ids = None if vector_ids is None else _ids_argument(vector_ids)
        return await self._client.run(list_step(self.index_id, ids, options))

    async def list_ids(self, **options: Unpack[RequestOptions]) -> VectorIdList:
        """The ids of every vector of the index."""
        return await self._client.run(_list_ids_step(self.index_id, options))

    async def update(
        self,
        id: str,
        metadata: Mapping[str, Any] | None = None,
        delete_protection: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Vector:
        """Replace a vector's metadata and/or switch its delete protection; returns the vector."""
        return await self._client.run(_update_step(self.index_id, id, metadata, delete_protection, options))

    async def delete(self, ids: str | Iterable[str], **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete one vector or many (any number; sent in batches). Unknown ids are ignored."""
        return await self._client.run(_delete_step(self.index_id, _ids_argument(ids), options))

    async def batch_delete(
        self, vector_ids: Iterable[str], **options: Unpack[RequestOptions]
    ) -> VectorDeleteResponse:
        """The vendor SDK's name for deleting several vectors."""
        return await self._client.run(_delete_step(self.index_id, _ids_argument(vector_ids), options))

    async def delete_all(self, **options: Unpack[RequestOptions]) -> VectorDeleteResponse:
        """Delete every vector of the index (the index stays): lists ids and deletes until none remain."""
        return await self._client.run(delete_all_step(self.index_id, options))
