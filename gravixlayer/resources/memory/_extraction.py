"""Turning a conversation into memories: the inference model's extraction, and its fallback.

`infer_step` asks the inference model (one chat completion, temperature 0) for a JSON array of
atomic first-person facts (`EXTRACTION_PROMPT`), and `parse_extracted_memories` validates the answer
against a strict schema, all items or none. A chat call that fails raises (typed, D39); an unusable
*answer* is not an error: the conversation is stored as one episodic memory and a warning is logged.
The same prompt and schema serve sync and async (the vendor's twins differed, D43).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..._exceptions import GravixLayerValidationError
from ..._parse import json_body
from ..._request import APIRequest, Step
from ..._types import RequestOptions
from ._records import MAX_MEMORY_CHARS, Draft, memory_type

__all__ = ["EXTRACTION_PROMPT", "parse_extracted_memories", "infer_step", "episodic"]

log = logging.getLogger("gravixlayer.memory")

EXTRACTION_PROMPT = (
    "You extract long-term memories about the user from a conversation. Reply with JSON only, no prose: "
    "an array of objects, one per atomic fact the user stated about themselves (preferences, personal "
    "facts, decisions and plans, habits), each "
    '{"content": <the fact as a short first-person sentence, e.g. "I prefer Python">, '
    '"memory_type": "factual" | "episodic" | "semantic", "importance": <number from 0.1 to 1.0>, '
    '"category": "preferences" | "personal" | "decisions" | "behavior"}. '
    "Use only what the user said, never the assistant. Reply [] when there is nothing worth remembering."
)
"""The system message of the extraction request (asks for the strict schema `parse_extracted_memories` reads)."""

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return "" if content is None else str(content)


def transcript(messages: list[dict[str, Any]]) -> str:
    return "\n".join(f"{str(m['role']).upper()}: {_text_of(m.get('content')).strip()}" for m in messages)


def _json_candidates(text: str) -> Iterable[str]:
    stripped = _FENCE.sub("", text.strip())
    yield stripped
    for opener, closer in (("[", "]"), ("{", "}")):
        start, end = stripped.find(opener), stripped.rfind(closer)
        if 0 <= start < end:
            yield stripped[start : end + 1]


def parse_extracted_memories(text: str) -> list[dict[str, Any]]:
    """The memories in an extraction answer, validated; raises ValueError when the answer is unusable.

    Schema: a JSON array (or `{"memories": [...]}`) of objects with a non-empty string `content`;
    optional `memory_type` (or `type`) among factual/episodic/semantic/working ("preference" means
    factual), optional `importance` in [0, 1], optional string `category` (also read from
    `metadata.category`). Every item must pass, or the whole answer is refused.
    """
    data: Any = None
    for candidate in _json_candidates(text):
        try:
            data = json.loads(candidate)
            break
        except ValueError:
            continue
    else:
        raise ValueError("the answer holds no JSON")
    if isinstance(data, dict) and isinstance(data.get("memories"), list):
        data = data["memories"]
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array of memories, got {type(data).__name__}")
    memories: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"item {i} is not an object")
        content = item.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"item {i} has no 'content' string")
        if len(content) > MAX_MEMORY_CHARS:
            raise ValueError(f"item {i} is longer than {MAX_MEMORY_CHARS} characters")
        kind = item.get("memory_type", item.get("type", "factual"))
        try:
            kind_checked = memory_type(kind, "memory_type")
        except GravixLayerValidationError:
            raise ValueError(f"item {i} has an unknown memory_type {kind!r}") from None
        importance = item.get("importance", 0.5)
        if isinstance(importance, bool) or not isinstance(importance, (int, float)) or not math.isfinite(importance):
            raise ValueError(f"item {i} has a non-numeric importance {importance!r}")
        if not 0.0 <= importance <= 1.0:
            raise ValueError(f"item {i} has importance {importance} outside [0, 1]")
        nested = item.get("metadata")
        category = item.get("category", nested.get("category") if isinstance(nested, dict) else None)
        if category is not None and not isinstance(category, str):
            raise ValueError(f"item {i} has a non-string category")
        key = content.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        memories.append(
            {"content": content.strip(), "memory_type": kind_checked, "importance": float(importance), "category": category}
        )
    return memories


def _chat_text(data: Any) -> str | None:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def episodic(conversation: list[dict[str, Any]], extra: dict[str, Any], source: str) -> Draft:
    """The whole conversation as one episodic memory (`infer=False`, or the extraction's fallback)."""
    text = "Conversation:\n" + transcript(conversation)
    metadata = {"source": source, "inferred": False, "message_count": len(conversation), **extra}
    return Draft(text[:MAX_MEMORY_CHARS], "episodic", metadata)


def infer_step(
    inference_model: str, conversation: list[dict[str, Any]], extra: dict[str, Any], options: RequestOptions
) -> Step[list[Draft]]:
    """The memories the inference model finds in `conversation` (each with `extra` merged last)."""
    body = {
        "model": inference_model,
        "messages": [
            {"role": "system", "content": EXTRACTION_PROMPT},
            {"role": "user", "content": "Conversation:\n" + transcript(conversation)},
        ],
        "temperature": 0,
        "max_tokens": 1000,
        "stream": False,
    }
    # A chat call that fails raises (typed); only an unusable *answer* falls back.
    response = yield APIRequest("POST", "inference", "chat/completions", options=options).with_body(body)
    text = _chat_text(json_body(response))
    try:
        if text is None:
            raise ValueError("the answer has no message content")
        found = parse_extracted_memories(text)
    except ValueError as exc:
        log.warning(
            "memory extraction by %s gave an unusable answer (%s); storing the conversation as one "
            "episodic memory instead", inference_model, exc,
        )  # fmt: skip
        return [episodic(conversation, extra, "extraction_fallback")]
    return [
        Draft(
            m["content"],
            m["memory_type"],
            {
                **({"category": m["category"]} if m["category"] is not None else {}),
                "importance_score": m["importance"],
                "inferred": True,
                "source": "inference",
                "inference_model": inference_model,
                **extra,
            },
        )
        for m in found
    ]
