"""What callers hand to `client.vectors.index(id)`, made ready for the wire: checked, given ids, batched.

Nothing here sends a request. Vectors come as dicts, `(id, embedding[, metadata])` tuples, bare lists
or numpy arrays (a 2-D array is checked once with numpy); texts as strings, dicts or tuples. Every
item gets its id before sending (a UUID4 when the caller gave none), which makes a retried batch
harmless. Batches are cut at `MAX_BATCH_VECTORS` items or `MAX_BATCH_BYTES` of estimated JSON, and
fetches at `FETCH_IDS_PER_REQUEST` ids or `FETCH_URL_BUDGET` characters of URL.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from ..._exceptions import GravixLayerValidationError
from ..._validation import require_positive_int, require_str

T = TypeVar("T")

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

VectorInput = Mapping[str, Any] | Sequence[Any] | Any
"""A vector to upsert: `{"embedding" (or "values"), "id"?, "metadata"?, "delete_protection"?}`,
`(id, embedding)` / `(id, embedding, metadata)`, or a bare embedding (list or numpy array)."""
TextInput = Mapping[str, Any] | Sequence[Any] | str
"""A text to upsert: `{"text", "id"?, "metadata"?, "model"?}`, `(id, text)` / `(id, text, metadata)`, or a string."""


# -- arguments -------------------------------------------------------------------------------------


def quote_id(value: str, name: str) -> str:
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


def metadata_of(value: Any, name: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise GravixLayerValidationError(f"{name} must be a dict, got {type(value).__name__}")
    return dict(value)


def optional_id(value: Any, name: str = "id") -> str | None:
    return None if value is None else require_str(name, value)


def top_k_of(limit: int, top_k: int | None) -> int:
    """`top_k` (the wire's name, the vendor SDK's argument) wins over `limit` when given."""
    value = require_positive_int("top_k" if top_k is not None else "limit", top_k if top_k is not None else limit)
    if value > MAX_TOP_K:
        raise GravixLayerValidationError(f"limit must be between 1 and {MAX_TOP_K}, got {value}")
    return value


def filter_of(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise GravixLayerValidationError(
            "filter must be a dict of metadata key -> value (a list value means any of)"
        )
    return dict(value)


def ids_argument(ids: str | Iterable[str]) -> list[str]:
    if not isinstance(ids, (str, Iterable)) or isinstance(ids, (bytes, Mapping)):
        raise GravixLayerValidationError(f"ids must be an id or a list of ids, got {type(ids).__name__}")
    values = [ids] if isinstance(ids, str) else list(ids)
    if not values:
        raise GravixLayerValidationError("ids must name at least one vector")
    return [require_str("id", value) for value in values]


# -- batch items -----------------------------------------------------------------------------------


def vector_item(item: VectorInput, position: int) -> dict[str, Any]:
    """The wire form of one batch item, with an id assigned when it had none."""
    where = f"vectors[{position}]"
    if isinstance(item, Mapping):
        unknown = set(item) - {"id", "embedding", "values", "vector", "metadata", "delete_protection"}
        if unknown:
            raise GravixLayerValidationError(f"{where} has unknown keys {sorted(unknown)}")
        raw = next((item[k] for k in ("embedding", "values", "vector") if item.get(k) is not None), None)
        if raw is None:
            raise GravixLayerValidationError(f"{where} needs an 'embedding'")
        vector_id = optional_id(item.get("id"), f"{where}.id")
        metadata = metadata_of(item.get("metadata"), f"{where}.metadata")
        protect = bool(item.get("delete_protection", False))
    elif isinstance(item, tuple) and item and isinstance(item[0], str):
        if len(item) not in (2, 3):
            raise GravixLayerValidationError(f"{where} must be (id, embedding) or (id, embedding, metadata)")
        vector_id, raw = item[0], item[1]
        metadata = metadata_of(item[2] if len(item) == 3 else None, f"{where}.metadata")
        protect = False
    else:
        vector_id, raw, metadata, protect = None, item, {}, False
    return {
        "id": vector_id or new_id(),
        "embedding": as_embedding(raw, f"{where}.embedding"),
        "metadata": metadata,
        "delete_protection": protect,
    }


def text_item(item: TextInput, model: str | None, position: int) -> dict[str, Any]:
    where = f"texts[{position}]"
    vector_id: Any
    text: Any
    if isinstance(item, str):
        vector_id, text, metadata, item_model = None, item, {}, model
    elif isinstance(item, Mapping):
        unknown = set(item) - {"id", "text", "metadata", "model", "delete_protection"}
        if unknown:
            raise GravixLayerValidationError(f"{where} has unknown keys {sorted(unknown)}")
        vector_id = optional_id(item.get("id"), f"{where}.id")
        text = item.get("text")
        metadata = metadata_of(item.get("metadata"), f"{where}.metadata")
        item_model = item.get("model") or model
    elif isinstance(item, tuple) and len(item) in (2, 3):
        vector_id, text = item[0], item[1]
        metadata = metadata_of(item[2] if len(item) == 3 else None, f"{where}.metadata")
        item_model = model
    else:
        raise GravixLayerValidationError(f"{where} must be a string, a dict with 'text', or (id, text[, metadata])")
    body: dict[str, Any] = {
        "id": optional_id(vector_id, f"{where}.id") or new_id(),
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


def _chunked(items: Iterable[T], max_count: int, budget: int, cost: Callable[[T], int]) -> Iterator[list[T]]:
    """`items` in lists of at most `max_count` whose `cost` adds up to at most `budget` (one item may exceed it)."""
    chunk: list[T] = []
    size = 0
    for item in items:
        item_size = cost(item)
        if chunk and (len(chunk) >= max_count or size + item_size > budget):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def batches(items: Iterator[dict[str, Any]], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Upsert items in requests of at most `batch_size` items and about `MAX_BATCH_BYTES` of JSON."""
    return _chunked(items, batch_size, MAX_BATCH_BYTES, _estimated_bytes)


def batch_size_of(value: int) -> int:
    require_positive_int("batch_size", value)
    if value > MAX_BATCH_VECTORS:
        raise GravixLayerValidationError(f"batch_size must be at most {MAX_BATCH_VECTORS}, got {value}")
    return value


def progress_bar(enabled: bool, total: int | None, unit: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise GravixLayerValidationError("progress=True needs tqdm: pip install tqdm") from exc
    return tqdm(total=total, unit=unit, desc="upsert")


def checked_items(items: Iterator[dict[str, Any]], source: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Lists are checked whole before the first request, so a bad item never leaves a half-written batch;
    other iterables (generators, numpy arrays) are read lazily, batch by batch, to bound memory."""
    if isinstance(source, (list, tuple)):
        return iter(list(items))
    return items


def length_of(value: Iterable[Any]) -> int | None:
    try:
        return len(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def new_id() -> str:
    """A random UUID4 string, several times cheaper than `str(uuid.uuid4())` (it matters per 10,000)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_matrix(value: Any) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 2


def matrix_items(array: Any, batch_size: int) -> Iterator[dict[str, Any]]:
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
            yield {"id": new_id(), "embedding": row, "metadata": {}, "delete_protection": False}


def fetch_chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """`ids` in groups small enough for one `fetch?vector_ids=` URL."""
    return _chunked(ids, FETCH_IDS_PER_REQUEST, FETCH_URL_BUDGET, _encoded_length)


def _encoded_length(vector_id: str) -> int:
    return len(quote(vector_id, safe="")) + 3  # plus the encoded comma
