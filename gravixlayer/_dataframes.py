"""Every `to_pandas()` and `upsert_dataframe()` of the SDK, in one place.

pandas and numpy are imported inside the functions, so `import gravixlayer` never loads them and the
SDK keeps working where they are not installed. The conversions are column-wise: one pass over the
items per field, then one `DataFrame` construction, so 100,000 search hits convert about as fast as
building the same frame by hand from Python lists.

Conventions for every frame:
- nested `metadata` dicts are flattened into prefixed columns (`metadata.category`,
  `metadata.a.b` for deeper levels); with `flatten=False` one `metadata` column keeps the dicts;
- timestamps (ISO strings or unix seconds) become timezone-aware UTC datetimes;
- scores, prices and other measures are float64;
- embeddings appear only when asked for (`embeddings=True`), as one float32 numpy array per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "require_pandas",
    "flatten_mapping",
    "frame_from_items",
    "frame_from_columns",
    "dataframe_to_vectors",
    "want_progress",
    "nest_metadata",
]

_INSTALL_HINT = "pandas is needed for to_pandas(); install it with: pip install 'gravixlayer[notebook]' (or pip install pandas)"


def require_pandas() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - exercised only without pandas
        raise ImportError(_INSTALL_HINT) from exc
    return pandas


def flatten_mapping(value: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    """Write `value` into `out` with dotted keys: {"a": {"b": 1}} under "metadata" -> "metadata.a.b"."""
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, Mapping) and item:
            flatten_mapping(item, name, out)
        else:
            out[name] = item


_is_dict = dict.__instancecheck__  # a C-level test, usable with map()


def _flatten_column(values: Sequence[Any], prefix: str) -> dict[str, list[Any]]:
    """Columns for a list of (possibly nested, possibly missing) dicts, keys in first-seen order.

    Column-wise and mostly C-level (map over dict.get): one key union, then one list per key; only
    keys that hold dicts are descended into.
    """
    rows = values if all(map(_is_dict, values)) else [v if _is_dict(v) else {} for v in values]
    keys = dict.fromkeys(chain.from_iterable(rows))
    out: dict[str, list[Any]] = {}
    for key in keys:
        column = list(map(dict.get, rows, repeat(key)))
        name = f"{prefix}.{key}"
        if any(map(_is_dict, column)):
            nested: list[Any] = [x if _is_dict(x) else {} for x in column]
            scalars = [None if _is_dict(x) else x for x in column]
            if any(x is not None for x in scalars):
                out[name] = scalars
            out.update(_flatten_column(nested, name))
        else:
            out[name] = column
    return out


def _to_datetime(pd: Any, values: list[Any]) -> Any:
    """ISO strings (naive ones read as UTC) or unix seconds -> datetime64[UTC]; bad values -> NaT."""
    sample = next((v for v in values if v is not None and v != ""), None)
    if hasattr(sample, "tzinfo"):  # datetime objects: naive ones are read as UTC
        return pd.to_datetime(pd.Series(values, dtype="object"), utc=True, errors="coerce")
    if isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return pd.to_datetime(pd.Series(values, dtype="float64"), unit="s", utc=True)
    cleaned = [v if v not in ("",) else None for v in values]
    return pd.to_datetime(pd.Series(cleaned, dtype="object"), utc=True, format="ISO8601", errors="coerce")


def _to_float(pd: Any, values: list[Any]) -> Any:
    try:
        return pd.Series(values, dtype="float64")  # numbers and None: the fast path
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype("float64")


def _as_float32(np: Any, vector: Any) -> Any:
    if vector is None:
        return None
    if hasattr(vector, "as_floats"):
        vector = vector.as_floats()
    return np.asarray(vector, dtype=np.float32)


def frame_from_columns(
    columns: dict[str, list[Any]],
    *,
    datetimes: Iterable[str] = (),
    floats: Iterable[str] = (),
    flatten: Iterable[str] = (),
    do_flatten: bool = True,
    vectors: Iterable[str] = (),
    index: str | None = None,
) -> pd.DataFrame:
    """A typed DataFrame from plain column lists (the shared last step of every conversion)."""
    pd = require_pandas()
    data: dict[str, Any] = {}
    datetime_set, float_set, flatten_set, vector_set = set(datetimes), set(floats), set(flatten), set(vectors)
    length = len(next(iter(columns.values()))) if columns else 0
    np: Any = None
    for name, values in columns.items():
        if name in flatten_set and do_flatten:
            for flat_name, flat_values in _flatten_column(values, name).items():
                if flat_name in columns:
                    flat_name = f"{flat_name}_"  # never shadow a top-level field
                data[flat_name] = flat_values
        elif name in datetime_set:
            data[name] = _to_datetime(pd, values)
        elif name in float_set:
            data[name] = _to_float(pd, values)
        elif name in vector_set:
            if np is None:
                import numpy

                np = numpy
            data[name] = pd.Series([_as_float32(np, v) for v in values], dtype="object")
        else:
            data[name] = values
    frame = pd.DataFrame(data, index=range(length)) if data else pd.DataFrame(index=range(length))
    if index is not None and index in frame.columns:
        frame = frame.set_index(index)
    return frame


def frame_from_items(
    items: Iterable[Any],
    fields: Sequence[str],
    *,
    datetimes: Iterable[str] = (),
    floats: Iterable[str] = (),
    flatten: Iterable[str] = ("metadata",),
    do_flatten: bool = True,
    vectors: Iterable[str] = (),
    embeddings: bool = False,
    getters: Mapping[str, Callable[[Any], Any]] | None = None,
) -> pd.DataFrame:
    """A DataFrame with one row per item and one column per field (read as attribute or dict key).

    Vector fields are kept only when `embeddings=True`. `getters` computes a column from an item when
    the field is not a plain attribute (a fallback between two field names, for example).
    """
    rows = list(items)
    vector_set = set(vectors)
    getters = getters or {}
    # Plain dicts, or pydantic models whose field values live in `__dict__`: read those with dict.get
    # (several times faster than getattr on 100,000 rows); properties fall back to getattr.
    dicts: list[Mapping[str, Any]] | None = None
    field_names: set[str] = set()
    if rows and isinstance(rows[0], Mapping):
        dicts, field_names = rows, set(fields)
    elif rows and hasattr(type(rows[0]), "model_fields"):
        dicts = [row.__dict__ for row in rows]
        field_names = set(type(rows[0]).model_fields)
    columns: dict[str, list[Any]] = {}
    for name in fields:
        if name in vector_set and not embeddings:
            continue
        getter = getters.get(name)
        if getter is not None:
            columns[name] = [getter(row) for row in rows]
        elif dicts is not None and name in field_names:
            columns[name] = [d.get(name) for d in dicts]
        else:
            columns[name] = [getattr(row, name, None) for row in rows]
    return frame_from_columns(
        columns,
        datetimes=datetimes,
        floats=floats,
        flatten=flatten,
        do_flatten=do_flatten,
        vectors=vector_set if embeddings else (),
    )


# -- DataFrame -> vectors ---------------------------------------------------------------------------------


def _native(value: Any) -> Any:
    """A JSON-ready Python value from a pandas/numpy cell; None for missing values."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", 0) == 0:
        value = item()
        if isinstance(value, float) and math.isnan(value):
            return None
        return value
    if hasattr(value, "isoformat"):
        try:
            import pandas as pd

            if value is pd.NaT:
                return None
        except ImportError:  # pragma: no cover
            pass
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def nest_metadata(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Undo the `metadata.a.b` flattening: {"a.b": 1} -> {"a": {"b": 1}}; missing values dropped."""
    out: dict[str, Any] = {}
    for key, raw in flat.items():
        value = _native(raw)
        if value is None:
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return out


def _metadata_columns(df: Any, metadata_columns: Sequence[str] | None, used: set[str]) -> dict[str, str]:
    """Frame column -> metadata key. Default: every `metadata.*` column (prefix removed)."""
    if metadata_columns is None:
        return {c: c[len("metadata.") :] for c in df.columns if isinstance(c, str) and c.startswith("metadata.")}
    mapping: dict[str, str] = {}
    for column in metadata_columns:
        if column not in df.columns:
            raise KeyError(f"metadata column {column!r} is not in the DataFrame (columns: {list(df.columns)})")
        if column in used:
            raise ValueError(f"column {column!r} is already used as the id, text or embedding column")
        mapping[column] = column[len("metadata.") :] if column.startswith("metadata.") else column
    return mapping


def dataframe_to_vectors(
    df: Any,
    *,
    id_column: str | None,
    text_column: str | None,
    embedding_column: str | None,
    metadata_columns: Sequence[str] | None,
) -> tuple[bool, list[dict[str, Any]]]:
    """Validate the frame and turn each row into a vector item for `upsert_many` / `upsert_text_many`.

    Returns `(is_text, items)`: items are `{"text" | "embedding", "id"?, "metadata"?}`. Exactly one of
    `text_column` (embedded on the server) or `embedding_column` must be given. Metadata comes from
    `metadata_columns`, or by default from every `metadata.*` column (so a frame made by `to_pandas()`
    goes back as it came); dotted names are nested again and missing values are left out.
    """
    if (text_column is None) == (embedding_column is None):
        raise ValueError("give exactly one of text_column= (embedded on the server) or embedding_column=")
    used: set[str] = set()
    for label, column in (("id_column", id_column), ("text_column", text_column), ("embedding_column", embedding_column)):
        if column is not None:
            if column not in df.columns:
                raise KeyError(f"{label}={column!r} is not a column of the DataFrame (columns: {list(df.columns)})")
            used.add(column)
    meta_map = _metadata_columns(df, metadata_columns, used)
    ids = [_native(v) for v in df[id_column].tolist()] if id_column else None
    meta_values = {meta_map[col]: df[col].tolist() for col in meta_map}
    items: list[dict[str, Any]] = []
    if text_column is not None:
        for i, value in enumerate(df[text_column].tolist()):
            if _native(value) is None or not str(value).strip():
                raise ValueError(f"row {i}: {text_column!r} is empty")
            items.append({"text": str(value)})
    else:
        import numpy as np

        for i, value in enumerate(df[embedding_column].tolist()):
            try:
                vector = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                vector = np.asarray([])
            if vector.ndim != 1 or vector.size == 0 or not np.isfinite(vector).all():
                raise ValueError(f"row {i}: {embedding_column!r} must be a non-empty list or array of finite numbers")
            items.append({"embedding": vector.tolist()})
    for i, item in enumerate(items):
        if ids is not None and ids[i] is not None:
            item["id"] = str(ids[i])
        if meta_values:
            metadata = nest_metadata({key: values[i] for key, values in meta_values.items()})
            if metadata:
                item["metadata"] = metadata
    return text_column is not None, items


def want_progress(progress: bool | None, total: int) -> bool:
    """`progress=None` (auto): a bar only inside a Jupyter kernel, for more than one batch worth of rows,
    and never when `TQDM_DISABLE` is set."""
    if progress is not None:
        return progress
    import os
    import sys

    if os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes"):
        return False
    return "ipykernel" in sys.modules and total > 100


# -- one function per SDK list type (the types' `to_pandas()` methods call these) --------------------------


def files_frame(items: Iterable[Any]) -> pd.DataFrame:
    """Files: id, filename, bytes, purpose, created_at (UTC), expires_after."""
    return frame_from_items(
        items, ("id", "filename", "bytes", "purpose", "created_at", "expires_after"), datetimes=("created_at",)
    )


def deployments_frame(items: Iterable[Any]) -> pd.DataFrame:
    """Deployments: name, model, GPU, replicas, status, created_at (UTC) and the rest of the fields."""
    return frame_from_items(
        items,
        ("deployment_id", "deployment_name", "model_name", "gpu_model", "gpu_count", "min_replicas",
         "max_replicas", "status", "created_at", "hw_type"),
        datetimes=("created_at",),
    )  # fmt: skip


def accelerators_frame(items: Iterable[Any]) -> pd.DataFrame:
    """GPUs: id, model, display name, memory (GB), link, provider, pricing (USD/hour, float), status."""
    return frame_from_items(
        items,
        ("gpu_id", "gpu_model", "name", "gpu_memory", "gpu_link", "provider", "pricing", "status", "updated_at"),
        datetimes=("updated_at",),
        floats=("pricing", "gpu_memory"),
    )


def indexes_frame(items: Iterable[Any], *, flatten: bool = True) -> pd.DataFrame:
    return frame_from_items(
        items,
        ("id", "name", "dimension", "metric", "vector_type", "cloud_provider", "region", "index_type",
         "delete_protection", "status", "created_at", "updated_at", "metadata"),
        datetimes=("created_at", "updated_at"),
        do_flatten=flatten,
    )  # fmt: skip


def vectors_frame(items: Iterable[Any], *, embeddings: bool = False, flatten: bool = True) -> pd.DataFrame:
    """Stored vectors: id, metadata.*, timestamps (UTC), and `embedding` (float32 arrays) only when asked."""
    return frame_from_items(
        items,
        ("id", "metadata", "delete_protection", "created_at", "updated_at", "embedding"),
        datetimes=("created_at", "updated_at"),
        vectors=("embedding",),
        embeddings=embeddings,
        do_flatten=flatten,
    )


def hits_frame(items: Iterable[Any], *, embeddings: bool = False, flatten: bool = True) -> pd.DataFrame:
    """Search hits, best first: id, score (float), metadata.*, and `embedding` only when asked (and sent)."""
    return frame_from_items(
        items,
        ("id", "score", "metadata", "embedding"),
        floats=("score",),
        vectors=("embedding",),
        embeddings=embeddings,
        do_flatten=flatten,
        getters={"embedding": lambda hit: getattr(hit, "values", None)},
    )


def memories_frame(items: Iterable[Any], *, flatten: bool = True) -> pd.DataFrame:
    """Memories: id, memory, score (float), memory_type, user_id, timestamps (UTC), metadata.*."""
    return frame_from_items(
        items,
        ("id", "memory", "score", "memory_type", "user_id", "created_at", "updated_at", "metadata"),
        datetimes=("created_at", "updated_at"),
        floats=("score",),
        do_flatten=flatten,
    )
