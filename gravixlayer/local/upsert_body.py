"""Reading vector bodies without holding every number as a Python object.

An upsert body can be tens of MiB of numbers (1000 vectors of 2000 floats). Parsed whole, each
number becomes a 24-byte float object plus an 8-byte list slot, so a 47 MiB body costs a few hundred
MiB. ``parse_upsert`` walks the top-level object itself and decodes ``vectors`` one item at a time
(with the standard library's scanner), turning each item's embedding into a float32 row as soon as
the item is read: the body's text plus the float32 rows is all that is ever held, and a batch over
the item limit is refused at the first item too many. Every part still passes ``_validate``
(finite numbers, valid Unicode, bounded nesting), so the answer to bad input is the same 400 as
for a body parsed whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validate import MAX_DEPTH, check_json
from .errors import LocalAPIError

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

__all__ = ["embeddings", "parse_upsert", "check_value_count"]

_NUMBER_TYPES = frozenset({float, int})
_SPACE = re.compile(r"[ \t\n\r]*")


def _bad(message: str, code: str = "invalid_request") -> LocalAPIError:
    return LocalAPIError(400, code, message)


def embeddings(raw: Sequence[Any], dimension: int, label: Callable[[int], str]) -> FloatArray:
    """``raw`` (lists of numbers) as an ``(n, dimension)`` float32 matrix, or a 400 naming the bad item.

    JSON types are strict: ``true`` or ``"1"`` is not a number (one C-level type pass per row), and
    every value must be finite within float32's range (``1e39`` is refused, not stored as infinity).
    """
    for i, values in enumerate(raw):
        if not isinstance(values, list) or not values:
            raise _bad(f"{label(i)}: must be a non-empty list of numbers")
        if not set(map(type, values)) <= _NUMBER_TYPES:
            bad = next(v for v in values if type(v) not in _NUMBER_TYPES)
            raise _bad(f"{label(i)}: must contain only numbers, found {bad!r}")
        if len(values) != dimension:
            raise _bad(
                f"{label(i)}: has {len(values)} values but the index dimension is {dimension}", "dimension_mismatch"
            )
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            matrix = np.array(raw, dtype=np.float64).astype(np.float32)
    except OverflowError:  # an integer beyond float64
        raise _bad(f"{label(0)}: holds a number too large for float32") from None
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        bad_row = int(np.argmin(finite))
        raise _bad(f"{label(bad_row)}: every value must be a finite number within float32 range")
    return np.ascontiguousarray(matrix)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (only finite numbers are)")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _space(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _expect(text: str, pos: int, char: str) -> int:
    if pos >= len(text) or text[pos] != char:
        found = "the end of the body" if pos >= len(text) else repr(text[pos])
        raise json.JSONDecodeError(f"expected {char!r}, found {found}", text, pos)
    return _space(text, pos + 1)


def _item(item: Any, index: int, dimension: int | None) -> Any:
    """One ``vectors`` item, checked, with its embedding already a float32 row.

    The embedding is converted first (that checks its numbers), so the generic check that follows
    skips it (a numpy row is not a JSON value to walk)."""
    if dimension is not None and isinstance(item, dict):
        key = "embedding" if "embedding" in item else "values"
        values = item.get(key)
        if isinstance(values, list):
            item[key] = embeddings([values], dimension, lambda _: f"vectors[{index}].embedding")[0]
    check_json(item, f"vectors[{index}]", depth=2)
    return item


def _items(text: str, pos: int, dimension: int | None, max_items: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    pos = _expect(text, pos, "[")
    if text.startswith("]", pos):
        return items, pos + 1
    while True:
        if len(items) >= max_items:
            raise _bad(f"vectors: at most {max_items} per request, got more; send several requests")
        item, pos = _DECODER.raw_decode(text, pos)
        items.append(_item(item, len(items), dimension))
        pos = _space(text, pos)
        if text.startswith(",", pos):
            pos = _space(text, pos + 1)
            continue
        return items, _close(text, pos, "]")


def _close(text: str, pos: int, char: str) -> int:
    if pos >= len(text) or text[pos] != char:
        found = "the end of the body" if pos >= len(text) else repr(text[pos])
        raise json.JSONDecodeError(f"expected ',' or {char!r}, found {found}", text, pos)
    return pos + 1


def _parse(text: str, dimension: int | None, max_items: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    pos = _space(text, 0)
    if not text.startswith("{", pos):
        raise _bad("request body must be a JSON object", "invalid_json")
    pos = _space(text, pos + 1)
    if text.startswith("}", pos):
        pos += 1
    else:
        while True:
            if not text.startswith('"', pos):
                raise json.JSONDecodeError("expected a property name in double quotes", text, pos)
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _expect(text, _space(text, pos), ":")
            if key == "vectors" and text.startswith("[", pos):
                value, pos = _items(text, pos, dimension, max_items)
            else:
                value, pos = _DECODER.raw_decode(text, pos)
                check_json(value, key, depth=1)
            check_json(key, "body")
            body[key] = value
            pos = _space(text, pos)
            if text.startswith(",", pos):
                pos = _space(text, pos + 1)
                continue
            pos = _close(text, pos, "}")
            break
    pos = _space(text, pos)
    if pos != len(text):
        raise json.JSONDecodeError("Extra data", text, pos)
    return body


def check_value_count(raw: bytes | bytearray | str, max_values: int) -> None:
    """Refuse a body with more than ``max_values`` commas (an upper bound on the values it holds), so
    one made of a huge array of tiny numbers never becomes millions of objects. Run it on the raw
    bytes, before the body is even decoded."""
    comma: Any = "," if isinstance(raw, str) else b","
    if raw.count(comma) > max_values:
        raise _bad(f"request body holds more than {max_values} values; send several requests")


def parse_upsert(text: str, dimension: int | None, max_items: int, max_values: int | None = None) -> dict[str, Any]:
    """The body of an upsert as a dict, ``vectors`` decoded item by item (embeddings as float32 rows
    when ``dimension`` is given); 400 ``invalid_json`` / ``invalid_request`` as for any body.
    ``max_values``: see ``check_value_count`` (skipped when None, e.g. already checked on the bytes).
    """
    if max_values is not None:
        check_value_count(text, max_values)
    try:
        return _parse(text, dimension, max_items)
    except json.JSONDecodeError as exc:
        raise _bad(f"request body is not valid JSON: {exc}", "invalid_json") from None
    except ValueError as exc:  # a NaN/Infinity token
        raise _bad(f"request body is not valid JSON: {exc}", "invalid_json") from None
    except RecursionError:
        raise _bad(f"request body nests deeper than {MAX_DEPTH} levels", "invalid_json") from None
