"""Chat completion responses (spec §2.1-2.2), OpenAI-compatible."""

from __future__ import annotations

from typing import Any

import pydantic

from .._models import BaseModel
from .shared import CompletionUsage

__all__ = [
    "FunctionCall",
    "ToolCall",
    "ChatCompletionMessage",
    "Choice",
    "ChatCompletion",
    "ChoiceDelta",
    "ChunkChoice",
    "ChatCompletionChunk",
]


class FunctionCall(BaseModel):
    name: str | None = None
    arguments: str | None = None


class ToolCall(BaseModel):
    id: str | None = None
    type: str | None = None
    index: int | None = None
    function: FunctionCall | None = None


class ChatCompletionMessage(BaseModel):
    role: str | None = None
    content: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class Choice(BaseModel):
    index: int | None = None
    message: ChatCompletionMessage = pydantic.Field(default_factory=ChatCompletionMessage)
    finish_reason: str | None = None


class ChatCompletion(BaseModel):
    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[Choice] = pydantic.Field(default_factory=list)
    usage: CompletionUsage | None = None

    @property
    def text(self) -> str:
        """The first choice's text, or "" when the server sent none."""
        if not self.choices:
            return ""
        return self.choices[0].message.content or ""

    def _repr_markdown_(self) -> str:
        return self.text


class ChoiceDelta(BaseModel):
    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChunkChoice(BaseModel):
    index: int | None = None
    delta: ChoiceDelta = pydantic.Field(default_factory=ChoiceDelta)
    finish_reason: str | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _message_as_delta(cls, data: Any) -> Any:
        # Some servers put a `message` where the spec expects `delta` (spec §2.2); read it as the delta.
        if isinstance(data, dict) and "delta" not in data and isinstance(data.get("message"), dict):
            data = {**data, "delta": data["message"]}
        return data


class ChatCompletionChunk(BaseModel):
    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChunkChoice] = pydantic.Field(default_factory=list)
    usage: CompletionUsage | None = None
