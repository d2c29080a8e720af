"""Adding stream chunks up into the answer a non-streamed call would have returned.

Written once for `Stream` and `AsyncStream`. Chat chunks merge per choice `index`: `content` and
`refusal` concatenate, tool-call fragments merge per tool-call `index` (`arguments` concatenate, the
first `id`/`name` wins), the last `finish_reason` wins, log-probabilities extend, and `usage` comes from
the chunk that carries it (the last one, with `stream_options={"include_usage": True}`).
"""

from __future__ import annotations

from typing import Any

from .types.chat import ChatCompletion, ChatCompletionChunk
from .types.completions import Completion

__all__ = ["accumulate_chat", "accumulate_completion", "delta_text"]


def delta_text(chunk: Any) -> str:
    """The first choice's new text in one chunk of either stream kind ("" when it carries none)."""
    choices = chunk.choices
    if not choices:
        return ""
    first = choices[0]
    if isinstance(chunk, ChatCompletionChunk):
        return first.delta.content or ""
    return first.text or ""


def _top_level(chunks: list[Any]) -> dict[str, Any]:
    head: dict[str, Any] = {}
    usage = None
    for chunk in chunks:
        for key in ("id", "created", "model", "system_fingerprint"):
            value = getattr(chunk, key, None)
            if value is not None and key not in head:
                head[key] = value
        if chunk.usage is not None:
            usage = chunk.usage
    head["usage"] = usage.to_dict() if usage is not None else None
    return head


def accumulate_chat(chunks: list[ChatCompletionChunk]) -> ChatCompletion:
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for piece in chunk.choices:
            choice = choices.setdefault(
                piece.index, {"index": piece.index, "message": {"role": "assistant"}, "finish_reason": None}
            )
            message = choice["message"]
            delta = piece.delta
            if delta.role is not None:
                message["role"] = delta.role
            for key in ("content", "refusal"):
                value = getattr(delta, key)
                if value is not None:
                    message[key] = (message.get(key) or "") + value
            for fragment in delta.tool_calls or ():
                calls = message.setdefault("tool_calls", {})
                call = calls.setdefault(
                    fragment.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
                )
                if fragment.id and not call["id"]:
                    call["id"] = fragment.id
                if fragment.type:
                    call["type"] = fragment.type
                if fragment.function is not None:
                    if fragment.function.name and not call["function"]["name"]:
                        call["function"]["name"] = fragment.function.name
                    if fragment.function.arguments:
                        call["function"]["arguments"] += fragment.function.arguments
            if piece.finish_reason is not None:
                choice["finish_reason"] = piece.finish_reason
            if piece.logprobs is not None:
                logprobs = choice.setdefault("logprobs", {})
                for key in ("content", "refusal"):
                    items = getattr(piece.logprobs, key)
                    if items is not None:
                        logprobs.setdefault(key, []).extend(item.to_dict() for item in items)
    for choice in choices.values():
        calls = choice["message"].pop("tool_calls", None)
        if calls:
            choice["message"]["tool_calls"] = [
                {**call, "id": call["id"] or f"call_{i}"} for i, call in sorted(calls.items())
            ]
    body = {**_top_level(chunks), "object": "chat.completion", "choices": [choices[i] for i in sorted(choices)]}
    return ChatCompletion.model_validate(body)


def accumulate_completion(chunks: list[Completion]) -> Completion:
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for piece in chunk.choices:
            choice = choices.setdefault(piece.index, {"index": piece.index, "text": "", "finish_reason": None})
            choice["text"] += piece.text or ""
            if piece.finish_reason is not None:
                choice["finish_reason"] = piece.finish_reason
            if piece.logprobs is not None:
                logprobs = choice.setdefault("logprobs", {})
                for key, value in piece.logprobs.to_dict().items():
                    if isinstance(value, list):
                        logprobs.setdefault(key, []).extend(value)
    body = {**_top_level(chunks), "object": "text_completion", "choices": [choices[i] for i in sorted(choices)]}
    return Completion.model_validate(body)
