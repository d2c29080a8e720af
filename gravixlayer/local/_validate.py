"""The one validation layer for JSON that GravixLayer Local accepts from a client.

Every route checks its input *before* it writes anything, so a refused request changes nothing.
The rules, shared by every router (the sandbox router may use them too):

* numbers are finite: JSON has no ``NaN``/``Infinity``, and a literal that overflows a double
  (``1e999``, or 400 digits) is refused rather than stored as ``Infinity`` (which no later answer
  could render);
* strings are valid Unicode: a lone surrogate (``"\\ud800"``) cannot be stored or sent back as
  UTF-8, so it is refused where it arrives;
* nesting is bounded (``MAX_DEPTH``), so no later ``json.dumps`` of a stored value can hit the
  interpreter's recursion limit;
* ids and names are non-empty, within their documented length and free of control characters.

Every refusal is a 400 whose message names the offending place (``vectors[3].metadata.x``).
``loads`` is the strict parser for routers that read JSON themselves; ``check_json`` checks an
already parsed value (``_body.RequestModel`` runs it over every model it validates).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import LocalAPIError

__all__ = [
    "MAX_DEPTH",
    "check_json",
    "name_problem",
    "decode_body",
    "decode_body",
    "loads",
    "has_control",
]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted anywhere in a request body."""

_NUMBERS = frozenset({int, float})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _Bad(Exception):
    """A problem found deep in a value; the path is built while unwinding (only on failure)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []


_MAX_PATH = 120


def _path(where: str, parts: list[str | int]) -> str:
    out = where
    for part in reversed(parts):
        if isinstance(part, int):
            out += f"[{part}]" if out else f"body[{part}]"
        else:
            out += f".{part}" if out else part
        if len(out) > _MAX_PATH:
            return out[:_MAX_PATH] + "..."
    return out or "body"


def _check_str(value: str) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad("is not valid Unicode (it holds a lone surrogate)") from None


def _all_finite(values: list[Any]) -> bool:
    try:
        return all(map(math.isfinite, values))
    except OverflowError:  # an integer beyond a double: finite, but math.isfinite cannot take it
        return all(math.isfinite(v) for v in values if type(v) is float)


def _check_list(value: list[Any], depth: int) -> None:
    kinds = set(map(type, value))
    if kinds <= _NUMBERS:  # the common case (embeddings): C-speed checks only
        if float in kinds and not _all_finite(value):
            exc = _non_finite()
            exc.path.append(next(i for i, v in enumerate(value) if type(v) is float and not math.isfinite(v)))
            raise exc
        return
    for i, item in enumerate(value):
        try:
            _check(item, depth)
        except _Bad as exc:
            exc.path.append(i)
            raise


def _non_finite() -> _Bad:
    return _Bad("must be a finite number (NaN, Infinity and numbers beyond 1.8e308 in size are not JSON numbers)")


def _check(value: Any, depth: int) -> None:
    kind = type(value)
    if kind is str:
        _check_str(value)
    elif kind is float:
        if not math.isfinite(value):
            raise _non_finite()
    elif kind is dict:
        if depth >= MAX_DEPTH:
            raise _Bad(f"nests deeper than {MAX_DEPTH} levels")
        for key, item in value.items():
            try:
                _check_str(key)
                _check(item, depth + 1)
            except _Bad as exc:
                exc.path.append(key if isinstance(key, str) and key.isascii() else repr(key))
                raise
    elif kind is list:
        if depth >= MAX_DEPTH:
            raise _Bad(f"nests deeper than {MAX_DEPTH} levels")
        _check_list(value, depth + 1)
    elif isinstance(value, (list, tuple)):
        _check_list(list(value), depth + 1)
    elif isinstance(value, dict):
        _check(dict(value), depth)


def check_json(value: Any, where: str = "", depth: int = 0) -> None:
    """Refuse (400 naming the place) a non-finite number, an invalid string or too deep a nesting.

    ``depth``: how deep ``value`` already sits in the body (for a part checked on its own).
    """
    try:
        _check(value, depth)
    except _Bad as exc:
        raise LocalAPIError(400, "invalid_request", f"{_path(where, exc.path)}: {exc.problem}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (only finite numbers are)")


def decode_body(raw: bytes | bytearray) -> str:
    """The body as text; 400 ``invalid_json`` if it is not UTF-8 (an encoded surrogate is not)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LocalAPIError(400, "invalid_json", f"request body is not valid UTF-8 (byte {exc.start})") from None


def loads(raw: bytes | bytearray | str) -> Any:
    """Strict JSON: 400 ``invalid_json`` for bad syntax or UTF-8, 400 ``invalid_request`` for bad values.

    Given text, the caller can drop the raw body before parsing, so a large body is held once.
    """
    text = raw if isinstance(raw, str) else decode_body(raw)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise LocalAPIError(400, "invalid_json", f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise LocalAPIError(
            400, "invalid_json", f"request body nests deeper than {MAX_DEPTH} levels"
        ) from None
    del text
    check_json(data)
    return data


def has_control(value: str) -> bool:
    """Whether ``value`` holds a C0/C1 control character (newline, tab, NUL, DEL, ...)."""
    return _CONTROL.search(value) is not None


def name_problem(value: Any, *, max_len: int) -> str | None:
    """What is wrong with ``value`` as an id or name (None: nothing): non-empty, within ``max_len``
    characters, valid Unicode, no control characters. Request models raise it as the field's error."""
    if not isinstance(value, str) or not value.strip():
        return "field required" if value is None else "must be a non-empty string"
    if len(value) > max_len:
        return f"at most {max_len} characters, got {len(value)}"
    try:
        _check_str(value)
    except _Bad as exc:
        return exc.problem
    if has_control(value):
        return "must not contain control characters"
    return None

