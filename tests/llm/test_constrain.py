"""The JSON-schema automaton that constrained decoding relies on (no model needed)."""

from __future__ import annotations

from typing import Any

import pytest

from gravixlayer.local.llm.constrain import JsonConstraint

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 10},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "unit": {"enum": ["c", "f"]},
        "score": {"type": ["number", "null"]},
        "home": {"$ref": "#/$defs/place"},
    },
    "required": ["name", "age"],
    "$defs": {"place": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def whole(schema: dict[str, Any] | None, text: str, **kw: Any) -> bool:
    constraint = JsonConstraint(schema, **kw)
    state = constraint.feed(constraint.start(), text)
    return state is not None and constraint.complete(state)


def prefix(schema: dict[str, Any] | None, text: str) -> bool:
    constraint = JsonConstraint(schema)
    return constraint.feed(constraint.start(), text) is not None


def test_a_valid_document_is_accepted_whole() -> None:
    text = (
        '{"name": "Bo\\"b", "age": -42, "tags": ["a"], "unit": "f", "score": 1.5e3, "home": {"city": "Rome"}}'
    )
    assert whole(PERSON, text)
    assert whole(
        PERSON,
        '{\n  "name": "x",\n  "age": 0,\n  "tags": [],\n  "unit": "c",\n  "score": null,\n  "home": {"city": ""}\n}',
    )


@pytest.mark.parametrize(
    "text",
    [
        ' {"name"',  # leading whitespace
        '{"nam":',  # a key the schema does not have (keys are forced in order)
        '{"name": 3',  # wrong type
        '{"name": "abcdefghijk',  # longer than maxLength
        '{"name": "a", "age": 1.5',  # not an integer
        '{"name": "a", "age": 01',  # leading zero
        '{"name": "a", "age": 1, "tags": ["x", "y", "z"',  # over maxItems
        '{"name": "a", "age": 1, "tags": [], "unit": "k',  # not in the enum
        '{"name": "a\nb',  # raw control character in a string
        '{"name": "a", "age": 1}',  # closes before the remaining properties
    ],
)
def test_invalid_prefixes_are_refused(text: str) -> None:
    assert not prefix(PERSON, text)


def test_free_objects_and_json_object_mode() -> None:
    assert whole({"type": "object"}, '{"a": {"b": [1, true, null]}, "c": "d"}')
    assert whole({"type": "object"}, "{}")
    assert not whole({"type": "object"}, "{}", min_top_keys=1)
    assert not prefix({"type": "object"}, "[")
    assert not prefix({"type": "array"}, "[1,]")
    assert not prefix(None, '{"a": 1,}')


def test_a_top_level_number_is_complete_only_when_valid() -> None:
    constraint = JsonConstraint({"type": "number"})
    state = constraint.feed(constraint.start(), "-")
    assert state is not None and not constraint.complete(state)
    state = constraint.feed(state, "2.50")
    assert state is not None and constraint.complete(state)
