"""Constrained decoding: a JSON-Schema-directed character automaton.

The sampler asks, for each candidate token, whether its text can extend the
output so far; a candidate that would break the JSON (or the schema) is
skipped, so what comes out always parses. The automaton's state is an
immutable tuple (a stack of frames), so trying a candidate costs no copying.

Supported schema: ``type`` (one or a list), ``properties`` (every property
is written, in the schema's order: keys are forced, values are the model's),
``required``, ``additionalProperties`` (schema or bool, for objects without
``properties``), ``items``, ``minItems``/``maxItems``, ``enum``/``const``,
``minLength``/``maxLength``, ``anyOf``/``oneOf`` of plain types, and local
``$ref`` into ``$defs``/``definitions``. ``pattern``, ``format`` and numeric
bounds are not enforced. To keep a small model from running on, free strings
are capped at 200 characters, arrays at 16 items, nesting at 6 levels (3 for
values the schema leaves free), the value starts without whitespace and
whitespace runs at 16 characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["JsonConstraint", "State"]

Frame = tuple[Any, ...]
State = tuple[tuple[Frame, ...], int]
"""(stack of frames, length of the current whitespace run)."""

_WS = " \n\t"
_MAX_WS = 16
_MAX_STRING = 200
_MAX_KEY = 40
_MAX_ITEMS = 16
_MAX_DEPTH = 6
_MAX_FREE_DEPTH = 3
_MAX_NUMBER = 12
_ALL_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_NUM_PREFIX = re.compile(r"-?(?:(?:0|[1-9]\d*)(?:\.\d*)?(?:(?<=\d)[eE][+-]?\d*)?)?\Z")
_NUM_DONE = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")
_INT_PREFIX = re.compile(r"-?(?:0|[1-9]\d*)?\Z")
_INT_DONE = re.compile(r"-?(?:0|[1-9]\d*)\Z")
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPES = frozenset('"\\/bfnrtu')


class JsonConstraint:
    """Accepts exactly the texts that are (prefixes of) JSON values valid for ``schema``."""

    def __init__(self, schema: Mapping[str, Any] | None, *, min_top_keys: int = 0) -> None:
        self.root: Mapping[str, Any] = schema if schema is not None else {}
        self.min_top_keys = min_top_keys

    # -- public ---------------------------------------------------------------

    def start(self) -> State:
        return ((("V", self._resolve(self.root), 0),), 0)

    def feed(self, state: State, text: str) -> State | None:
        """The state after ``text``, or None if ``text`` cannot continue the value."""
        current: State | None = state
        for ch in text:
            if current is None:
                return None
            current = self._char(current, ch)
        return current

    def complete(self, state: State) -> bool:
        """Whether the text so far is a whole value (nothing may follow)."""
        stack, _ = state
        if not stack:
            return True
        if len(stack) == 1 and stack[0][0] in ("N", "E"):
            return self._scalar_done(stack[0])
        return False

    # -- schema -----------------------------------------------------------------

    def _resolve(self, schema: Any) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema, Mapping) and "$ref" in schema and seen < 32:
            ref = str(schema["$ref"])
            if not ref.startswith("#/"):
                return {}
            node: Any = self.root
            for part in ref[2:].split("/"):
                node = node.get(part, {}) if isinstance(node, Mapping) else {}
            schema, seen = node, seen + 1
        return schema if isinstance(schema, Mapping) else {}

    def _types(self, schema: Mapping[str, Any]) -> frozenset[str]:
        declared = schema.get("type")
        if isinstance(declared, str):
            return frozenset({declared}) & _ALL_TYPES
        if isinstance(declared, list):
            return frozenset(t for t in declared if isinstance(t, str)) & _ALL_TYPES
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                types: set[str] = set()
                for option in options:
                    inner = self._types(self._resolve(option))
                    types |= inner
                return frozenset(types) or _ALL_TYPES
        return _ALL_TYPES

    @staticmethod
    def _enum(schema: Mapping[str, Any]) -> tuple[str, ...] | None:
        if "const" in schema:
            return (json.dumps(schema["const"], ensure_ascii=False),)
        values = schema.get("enum")
        if isinstance(values, list) and values:
            return tuple(json.dumps(v, ensure_ascii=False) for v in values)
        return None

    # -- the automaton -------------------------------------------------------------

    def _char(self, state: State, ch: str) -> State | None:
        stack, ws = state
        if not stack:
            return None
        top = stack[-1]
        kind = top[0]
        if ch in _WS and kind in ("V", "O", "A"):
            if kind == "V" and len(stack) == 1:
                return None  # no leading whitespace: the value starts at once
            return (stack, ws + 1) if ws < _MAX_WS else None
        rest = stack[:-1]
        if kind == "V":
            return self._start_value(rest, top[1], ch, len(stack))
        if kind == "S":
            return self._string(rest, top, ch)
        if kind in ("N", "E"):
            return self._scalar(rest, top, ch)
        if kind == "L":
            literal, pos = top[1], top[2]
            if literal[pos] != ch:
                return None
            if pos + 1 < len(literal):
                return ((*rest, ("L", literal, pos + 1, top[3])), 0)
            return self._finish(rest, top[3])
        if kind == "O":
            return self._object(rest, top, ch)
        if kind == "A":
            return self._array(rest, top, ch)
        return None

    def _finish(self, rest: tuple[Frame, ...], then: Frame | None) -> State:
        """A value (or forced key) ended: replace it by ``then`` or tell the parent container."""
        if then is not None:
            return ((*rest, then), 0)
        if not rest:
            return ((), 0)
        parent = rest[-1]
        if parent[0] == "O":
            return ((*rest[:-1], ("O", parent[1], "after_value", parent[3], parent[4])), 0)
        if parent[0] == "A":
            return ((*rest[:-1], ("A", parent[1], "after_value", parent[3] + 1)), 0)
        return (rest, 0)

    def _start_value(
        self, rest: tuple[Frame, ...], schema: Mapping[str, Any], ch: str, depth: int
    ) -> State | None:
        enum = self._enum(schema)
        if enum is not None:
            return self._scalar(rest, ("E", enum, ""), ch)
        types = self._types(schema)
        if depth > _MAX_DEPTH or (not schema and depth > _MAX_FREE_DEPTH):
            types = types - {"object", "array"}
        if ch == "{" and "object" in types:
            return ((*rest, ("O", schema, "open", 0, len(rest) == 0)), 0)
        if ch == "[" and "array" in types:
            return ((*rest, ("A", schema, "open", 0)), 0)
        if ch == '"' and "string" in types:
            limit = int(schema.get("maxLength", _MAX_STRING))
            return ((*rest, ("S", min(limit, _MAX_STRING), int(schema.get("minLength", 0)), 0, "", None)), 0)
        if (ch == "-" or ch.isdigit()) and types & {"number", "integer"}:
            return self._scalar(rest, ("N", "number" not in types, ""), ch)
        if ch in "tf" and "boolean" in types:
            literal = "true" if ch == "t" else "false"
            return ((*rest, ("L", literal, 1, None)), 0)
        if ch == "n" and "null" in types:
            return ((*rest, ("L", "null", 1, None)), 0)
        return None

    def _string(self, rest: tuple[Frame, ...], top: Frame, ch: str) -> State | None:
        _, limit, minimum, length, escape, then = top
        if escape == "\\":
            if ch not in _ESCAPES:
                return None
            nxt = "u0" if ch == "u" else ""
            return ((*rest, ("S", limit, minimum, length + 1 if not nxt else length, nxt, then)), 0)
        if escape.startswith("u"):
            if ch not in _HEX:
                return None
            count = int(escape[1:]) + 1
            done = count == 4
            return (
                (
                    *rest,
                    ("S", limit, minimum, length + 1 if done else length, "" if done else f"u{count}", then),
                ),
                0,
            )
        if ch == '"':
            if length < minimum:
                return None
            return self._finish(rest, then)
        if ord(ch) < 0x20 or ch == "\ufffd" or length >= limit:
            return None
        if ch == "\\":
            return ((*rest, ("S", limit, minimum, length, "\\", then)), 0)
        return ((*rest, ("S", limit, minimum, length + 1, "", then)), 0)

    @staticmethod
    def _scalar_done(top: Frame) -> bool:
        if top[0] == "E":
            return top[2] in top[1]
        return bool((_INT_DONE if top[1] else _NUM_DONE).match(top[2]))

    def _scalar(self, rest: tuple[Frame, ...], top: Frame, ch: str) -> State | None:
        """Numbers and enums end only when the next character cannot extend them."""
        grown = top[2] + ch
        if top[0] == "E":
            if any(option.startswith(grown) for option in top[1]):
                return ((*rest, ("E", top[1], grown)), 0)
        elif len(grown) <= _MAX_NUMBER and (_INT_PREFIX if top[1] else _NUM_PREFIX).match(grown):
            return ((*rest, ("N", top[1], grown)), 0)
        if not self._scalar_done(top) or not rest:
            return None
        after = self._finish(rest, None)
        return self._char(after, ch)

    def _object(self, rest: tuple[Frame, ...], top: Frame, ch: str) -> State | None:
        _, schema, phase, count, is_top = top
        props = schema.get("properties")
        ordered = list(props.items()) if isinstance(props, Mapping) and props else None
        if phase in ("open", "after_value"):
            minimum = self.min_top_keys if is_top else 0
            if ordered is not None:
                if count == len(ordered):
                    return self._finish(rest, None) if ch == "}" else None
                expected = "," if count else ""
                if phase == "after_value" and ch == ",":
                    return ((*rest, ("O", schema, "key_next", count, is_top)), 0)
                if expected:
                    return None
                return self._forced_key(rest, top, ordered[count][0], ch)
            if ch == "}" and count >= minimum:
                return self._finish(rest, None)
            if phase == "after_value":
                return ((*rest, ("O", schema, "key_next", count, is_top)), 0) if ch == "," else None
            phase = "key_next"
        if phase == "key_next":
            if ordered is not None:
                return self._forced_key(rest, top, ordered[count][0], ch)
            if ch != '"':
                return None
            colon = ("O", schema, "colon", count, is_top)
            return ((*rest, ("S", _MAX_KEY, 1, 0, "", colon)), 0)
        if phase == "colon":
            if ch != ":":
                return None
            if ordered is not None:
                value_schema: Any = ordered[count][1]
            else:
                extra = schema.get("additionalProperties", {})
                value_schema = extra if isinstance(extra, Mapping) else {}
            waiting = ("O", schema, "value", count + 1, is_top)
            return ((*rest, waiting, ("V", self._resolve(value_schema), 0)), 0)
        return None

    def _forced_key(self, rest: tuple[Frame, ...], top: Frame, key: str, ch: str) -> State | None:
        literal = json.dumps(key, ensure_ascii=False)
        if ch != literal[0]:
            return None
        colon = ("O", top[1], "colon", top[3], top[4])
        return ((*rest, ("L", literal, 1, colon)), 0)

    def _array(self, rest: tuple[Frame, ...], top: Frame, ch: str) -> State | None:
        _, schema, phase, count = top
        minimum = int(schema.get("minItems", 0))
        maximum = min(int(schema.get("maxItems", _MAX_ITEMS)), _MAX_ITEMS)
        items = self._resolve(schema.get("items", {}))
        if ch == "]" and count >= minimum and not (phase == "comma"):
            return self._finish(rest, None)
        if phase == "after_value":
            if ch == "," and count < maximum:
                return ((*rest, ("A", schema, "comma", count)), 0)
            return None
        if count >= maximum:
            return None
        waiting = ("A", schema, "value", count)
        return self._start_value((*rest, waiting), items, ch, len(rest) + 2)
