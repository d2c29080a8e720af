"""Chat completion responses (spec §2.1-2.2), OpenAI-compatible."""

from __future__ import annotations

from typing import Any, Optional

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
    name: Optional[str] = None
    arguments: Optional[str] = None


class ToolCall(BaseModel):
    id: Optional[str] = None
    type: Optional[str] = None
    index: Optional[int] = None
    function: Optional[FunctionCall] = None


class ChatCompletionMessage(BaseModel):
    role: Optional[str] = None
    content: Optional[str] = None
    name: Optional[str] = None
    tool_calls: Optional[list[ToolCall]] = None
    tool_call_id: Optional[str] = None


class Choice(BaseModel):
    index: Optional[int] = None
    message: ChatCompletionMessage = pydantic.Field(default_factory=ChatCompletionMessage)
    finish_reason: Optional[str] = None


class ChatCompletion(BaseModel):
    id: Optional[str] = None
    object: Optional[str] = None
    created: Optional[int] = None
    model: Optional[str] = None
    choices: list[Choice] = pydantic.Field(default_factory=list)
    usage: Optional[CompletionUsage] = None

    @property
    def text(self) -> str:
        """The first choice's text, or "" when the server sent none."""
        if not self.choices:
            return ""
        return self.choices[0].message.content or ""

    def _repr_markdown_(self) -> str:
        return self.text


class ChoiceDelta(BaseModel):
    role: Optional[str] = None
    content: Optional[str] = None
    tool_calls: Optional[list[ToolCall]] = None


class ChunkChoice(BaseModel):
    index: Optional[int] = None
    delta: ChoiceDelta = pydantic.Field(default_factory=ChoiceDelta)
    finish_reason: Optional[str] = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _message_as_delta(cls, data: Any) -> Any:
        # Some servers put a `message` where the spec expects `delta` (spec §2.2); read it as the delta.
        if isinstance(data, dict) and "delta" not in data and isinstance(data.get("message"), dict):
            data = {**data, "delta": data["message"]}
        return data


class ChatCompletionChunk(BaseModel):
    id: Optional[str] = None
    object: Optional[str] = None
    created: Optional[int] = None
    model: Optional[str] = None
    choices: list[ChunkChoice] = pydantic.Field(default_factory=list)
    usage: Optional[CompletionUsage] = None
