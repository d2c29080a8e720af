"""Hypothesis strategies for what a hostile client sends: JSON text no ``json.dumps`` would write.

``render`` writes JSON text by hand so a body can hold what Python's encoder refuses or rewrites:
number literals beyond a double (``1e999``), ``NaN``/``Infinity`` tokens, lone surrogate escapes,
raw control characters, and nesting deeper than any parser likes. ``mutated`` takes a valid body of
a route and breaks it in one place (or adds a hostile unknown key), so the route's own validation
is reached instead of a missing-field error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is (a number literal, a token, an escape sequence)."""

    text: str


@dataclass(frozen=True)
class Deep:
    """``depth`` nested arrays (or objects) around a leaf, rendered without recursion."""

    depth: int
    objects: bool = False


def render(value: Any) -> str:
    """JSON text for ``value``; ``Raw`` and ``Deep`` are written verbatim."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Deep):
        if value.objects:
            return '{"d":' * value.depth + "0" + "}" * value.depth
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, dict):
        return "{" + ",".join(f"{render(str(k))}:{render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else json.dumps(value)
    return json.dumps(value)  # ensure_ascii: a lone surrogate becomes its \\uXXXX escape


def body_bytes(value: Any) -> bytes:
    return render(value).encode("utf-8")


extreme_numbers = st.sampled_from(
    [
        Raw("1e999"), Raw("-1e999"), Raw("1E+400"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"),
        Raw("1" * 400), Raw("1" * 400 + ".5"), Raw("-0"), Raw("0e-999"), Raw("4.9e-324"),
        1.7976931348623157e308, -1.7976931348623157e308, 3.4028235e38, 3.5e38, -3.4028235e38, 1e-45, -0.0,
        2**63, -(2**63) - 1, 10**30,
    ]
)  # fmt: skip
"""Numbers at and beyond every limit: double overflow, float32 overflow, subnormals, big integers."""

hostile_strings = st.sampled_from(
    ["\ud800", "\udfff", "a\ud800b", "\ud83d", "\x00", "a\nb", "\t", "\x1b[31m", "\x7f", "\x85", "\u2028", "",
     " ", "\ufeff", "\U0001f600", "报告", "../../etc/passwd", "%00", "a" * 600, "\\", '"']
) | st.text(alphabet=st.characters(categories=("Cc", "Cs", "Zs", "So")), max_size=8)  # fmt: skip
"""Lone surrogates, control characters, separators, emoji, traversal, over-long ids."""

deep_values = st.builds(Deep, st.sampled_from([63, 64, 65, 200, 1000, 5000]), st.booleans())

hostile_leaves = extreme_numbers | hostile_strings | st.none() | st.booleans() | deep_values

hostile_values = st.recursive(
    hostile_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(hostile_strings | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)

wide_values = st.one_of(
    st.integers(500, 5000).map(lambda n: {f"k{i}": i for i in range(n)}),
    st.integers(500, 20000).map(lambda n: [0.5] * n),
    st.integers(500, 5000).map(lambda n: ["x"] * n),
)
"""Wide objects and arrays (many keys or items, shallow)."""


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_paths(item, (*prefix, i)))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """``template`` broken in one place: a field replaced, or a hostile unknown key added somewhere."""
    paths = [p for p in _paths(template) if p]
    new = draw(hostile_values | wide_values)
    if draw(st.booleans()) and paths:
        return _replace(template, draw(st.sampled_from(paths)), new)
    containers = [p for p in _paths(template) if isinstance(_get(template, p), dict)]
    where = draw(st.sampled_from(containers))
    key = draw(hostile_strings | st.sampled_from(["extra", "metadata", "filter", "id"]))
    return _replace(template, where, {**_get(template, where), key: new})


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value
