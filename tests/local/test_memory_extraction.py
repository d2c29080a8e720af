"""The stand-in answers memory-extraction prompts with JSON memories from the user's turns."""

from __future__ import annotations

import json

import httpx

from gravixlayer.local.standin import Turn, extract_memories, is_memory_request

from .conftest import CHAT_MODEL

SYSTEM = "You are a memory extraction assistant. Respond only with valid JSON."


def ask(http: httpx.Client, messages: list[dict[str, str]]) -> str:
    response = http.post(
        "/v1/inference/chat/completions",
        json={"model": CHAT_MODEL, "messages": messages, "temperature": 0.1, "max_tokens": 1000},
    )
    assert response.status_code == 200
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def test_conversation_turns_become_memories(http: httpx.Client) -> None:
    answer = ask(
        http,
        [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Hi there! I like Python. What time is it?"},
            {"role": "assistant", "content": "I am an assistant and I like helping."},
            {"role": "user", "content": "My name is Ana and I live in Lisbon. I will learn Rust next year."},
        ],
    )
    memories = json.loads(answer)
    assert [m["content"] for m in memories] == [
        "I like Python",
        "My name is Ana and I live in Lisbon",
        "I will learn Rust next year",
    ]
    assert [m["category"] for m in memories] == ["preferences", "personal", "decisions"]
    assert all(m["memory_type"] == "factual" and m["importance"] == 0.8 for m in memories)


def test_vendor_style_transcript_prompt(http: httpx.Client) -> None:
    """The vendor SDK renders the conversation as ROLE: content lines inside one user message."""
    prompt = (
        "Extract memories for user alice from this conversation:\n"
        "USER: I prefer coding in Python\nASSISTANT: Noted, I prefer nothing.\n"
        "Return a JSON array of objects with content, memory_type, importance and category."
    )
    answer = ask(http, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}])
    start, end = answer.index("["), answer.rindex("]") + 1
    assert json.loads(answer[start:end]) == [
        {
            "content": "I prefer coding in Python",
            "memory_type": "factual",
            "importance": 0.8,
            "category": "preferences",
        }
    ]


def test_object_form_when_asked_for_memories_key() -> None:
    turns = [
        Turn("system", 'Extract memories. Answer JSON like {"memories": [...]}'),
        Turn("user", "Conversation:\nUSER: I love sci-fi movies"),
    ]
    assert is_memory_request(turns)
    parsed = json.loads(extract_memories(turns))
    assert parsed["memories"][0]["content"] == "I love sci-fi movies"
    assert parsed["memories"][0]["type"] == "FACTUAL"


def test_no_facts_gives_empty_array_and_plain_chat_is_unaffected(http: httpx.Client) -> None:
    assert (
        json.loads(
            ask(
                http,
                [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": "What is the capital of France?"},
                ],
            )
        )
        == []
    )
    plain = ask(http, [{"role": "user", "content": "I like Python"}])
    assert "stand-in" in plain
