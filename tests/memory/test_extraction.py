"""The strict reader of the inference model's memory answer, and the prompt the stand-in understands."""

from __future__ import annotations

import json

import pytest

from gravixlayer.local.standin import Turn, extract_memories, is_memory_request
from gravixlayer.resources.memory import EXTRACTION_PROMPT, parse_extracted_memories


def test_reads_the_array_form_with_fences_and_prose() -> None:
    answer = 'Here you go:\n```json\n[{"content": " I prefer Python ", "memory_type": "FACTUAL", "importance": 0.9,' \
             ' "category": "preferences"}, {"content": "i prefer python"}]\n```'
    assert parse_extracted_memories(answer) == [
        {"content": "I prefer Python", "memory_type": "factual", "importance": 0.9, "category": "preferences"}
    ]  # the duplicate (case-insensitive) is dropped


def test_reads_the_vendor_async_object_form() -> None:
    answer = json.dumps({"memories": [{"content": "User prefers sci-fi", "type": "PREFERENCE", "importance": 1,
                                       "metadata": {"category": "preferences", "confidence": 0.9}}]})
    assert parse_extracted_memories(answer) == [
        {"content": "User prefers sci-fi", "memory_type": "factual", "importance": 1.0, "category": "preferences"}
    ]


def test_an_empty_array_means_nothing_to_remember() -> None:
    assert parse_extracted_memories("[]") == []


@pytest.mark.parametrize(
    "answer",
    ["no json here", "[1, 2]", '{"content": "x"}', '[{"content": ""}]', '[{"content": "x", "importance": true}]',
     '[{"content": "x", "importance": -0.1}]', '[{"content": "x", "category": 3}]',
     '[{"content": "x", "type": "rumour"}]', json.dumps([{"content": "x" * 4001}])],
)
def test_refuses_anything_off_schema(answer: str) -> None:
    with pytest.raises(ValueError):
        parse_extracted_memories(answer)


def test_the_prompt_is_one_the_local_stand_in_answers_in_the_parsed_format() -> None:
    turns = [Turn("system", EXTRACTION_PROMPT), Turn("user", "Conversation:\nUSER: I like Python\nASSISTANT: Noted.")]
    assert is_memory_request(turns)
    parsed = parse_extracted_memories(extract_memories(turns))
    assert parsed == [{"content": "I like Python", "memory_type": "factual", "importance": 0.8,
                       "category": "preferences"}]  # fmt: skip
