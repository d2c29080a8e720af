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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "require_pandas",
    "flatten_mapping",
    "frame_from_items",
    "frame_from_columns",
    "upsert_dataframe_batches",
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


def _flatten_column(values: Sequence[Any], prefix: str) -> dict[str, list[Any]]:
    """Columns for a list of (possibly nested, possibly missing) dicts, keys in first-seen order."""
    flat: list[Mapping[str, Any]] = []
    keys: dict[str, None] = {}
    for value in values:
        if not value:
            flat.append({})
            continue
        if any(isinstance(v, Mapping) and v for v in value.values()):
            row: dict[str, Any] = {}
            flatten_mapping(value, prefix, row)
        else:
            row = {f"{prefix}.{k}": v for k, v in value.items()}
        flat.append(row)
        for key in row:
            if key not in keys:
                keys[key] = None
    return {key: [row.get(key) for row in flat] for key in keys}


def _to_datetime(pd: Any, values: list[Any]) -> Any:
    """ISO strings (naive ones read as UTC) or unix seconds -> datetime64[UTC]; bad values -> NaT."""
    sample = next((v for v in values if v is not None and v != ""), None)
    if isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return pd.to_datetime(pd.Series(values, dtype="float64"), unit="s", utc=True)
    cleaned = [v if v not in ("",) else None for v in values]
    return pd.to_datetime(pd.Series(cleaned, dtype="object"), utc=True, format="ISO8601", errors="coerce")


def _to_float(pd: Any, values: list[Any]) -> Any:
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
    columns: dict[str, list[Any]] = {}
    for name in fields:
        if name in vector_set and not embeddings:
            continue
        getter = getters.get(name)
        if getter is not None:
            columns[name] = [getter(row) for row in rows]
        elif rows and isinstance(rows[0], Mapping):
            columns[name] = [row.get(name) for row in rows]
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


def upsert_dataframe_batches(
    df: Any,
    *,
    id_column: str | None,
    text_column: str | None,
    embedding_column: str | None,
    metadata_columns: Sequence[str] | None,
    model: str | None,
    batch_size: int,
) -> Iterable[tuple[bool, list[dict[str, Any]]]]:
    """Validate the frame, then yield `(is_text, vectors)` batches ready for the batch upsert endpoints.

    Exactly one of `text_column` (embedded server-side with `model`) or `embedding_column` is used.
    """
    if (text_column is None) == (embedding_column is None):
        raise ValueError("give exactly one of text_column= (server-side embedding) or embedding_column=")
    if text_column is not None and not model:
        raise ValueError("text_column= needs model= (the embedding model that turns the text into vectors)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    used: set[str] = set()
    for label, column in (("id_column", id_column), ("text_column", text_column), ("embedding_column", embedding_column)):
        if column is not None:
            if column not in df.columns:
                raise KeyError(f"{label}={column!r} is not a column of the DataFrame (columns: {list(df.columns)})")
            used.add(column)
    meta_map = _metadata_columns(df, metadata_columns, used)
    ids = [None if _native(v) is None else str(_native(v)) for v in df[id_column]] if id_column else None
    payload = df[text_column] if text_column else df[embedding_column]
    meta_frame = {col: df[col].tolist() for col in meta_map}
    total = len(df)
    for start in range(0, total, batch_size):
        batch: list[dict[str, Any]] = []
        for i in range(start, min(start + batch_size, total)):
            item: dict[str, Any] = {}
            value = payload.iloc[i]
            if text_column:
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    raise ValueError(f"row {i}: {text_column!r} is empty")
                item["text"] = str(value)
                item["model"] = model
            else:
                vector = _native(value)
                if not isinstance(vector, list) or not vector:
                    raise ValueError(f"row {i}: {embedding_column!r} must be a non-empty list or array of numbers")
                item["embedding"] = [float(x) for x in vector]
            if ids is not None and ids[i] is not None:
                item["id"] = ids[i]
            metadata = nest_metadata({meta_map[col]: meta_frame[col][i] for col in meta_map})
            if metadata:
                item["metadata"] = metadata
            batch.append(item)
        yield text_column is not None, batch


def progress_bar(total: int, enabled: bool | None, desc: str) -> Any:
    """A tqdm bar (notebook widget when available) or None; auto (None) = only in an IPython kernel."""
    if enabled is None:
        import sys

        enabled = "ipykernel" in sys.modules
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="rows")
