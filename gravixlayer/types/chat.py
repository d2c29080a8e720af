"""Chat completion responses (spec §2.1-2.2), OpenAI-compatible.

Closed sets (roles, finish reasons, tool-call types) are `Literal`s to a type checker, so a typo in
`choice.finish_reason == "lenght"` is caught before it runs. At run time they are read as plain
strings: a server that invents a new finish reason still yields a readable answer (the value is kept
as sent) instead of a validation error, and reading a stream chunk pays nothing for the check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pydantic

from .._models import BaseModel
from .shared import CompletionUsage

__all__ = [
    "FinishReason",
    "ChatRole",
    "Function",
    "FunctionCall",
    "ChatCompletionMessageToolCall",
    "ToolCall",
    "ChatCompletionTokenLogprob",
    "TopLogprob",
    "ChoiceLogprobs",
    "ChatCompletionMessage",
    "Choice",
    "ChatCompletion",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceDeltaToolCall",
    "ChoiceDelta",
    "ChunkChoice",
    "ChatCompletionChunk",
]

if TYPE_CHECKING:
    FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
    ChatRole = Literal["developer", "system", "user", "assistant", "tool"]
    AssistantRole = Literal["assistant"]
    FunctionType = Literal["function"]
else:  # read leniently (see the module docstring)
    FinishReason = ChatRole = AssistantRole = FunctionType = str


class Function(BaseModel):
    """The function a tool call invokes; `arguments` is JSON text written by the model (parse and check it)."""

    name: str
    arguments: str = ""


FunctionCall = Function


class ChatCompletionMessageToolCall(BaseModel):
    """A call the model asks you to make; answer it with a `{"role": "tool", "tool_call_id": id}` message."""

    id: str
    type: FunctionType = "function"
    function: Function


ToolCall = ChatCompletionMessageToolCall


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(BaseModel):
    """One generated token, its natural-log probability, and the `top_logprobs` alternatives asked for."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = pydantic.Field(default_factory=list)


class ChoiceLogprobs(BaseModel):
    """Present when the request set `logprobs=True`: one entry per generated token."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


class ChatCompletionMessage(BaseModel):
    """The model's message. `content` is `None` when the model answered only with `tool_calls`."""

    role: AssistantRole = "assistant"
    content: str | None = None
    refusal: str | None = None
    name: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    tool_call_id: str | None = None


class Choice(BaseModel):
    index: int = 0
    message: ChatCompletionMessage = pydantic.Field(default_factory=ChatCompletionMessage)
    finish_reason: FinishReason | None = None
    """Why the model stopped: `stop` (natural end or a stop sequence), `length` (max tokens),
    `tool_calls` (it wants tools run), `content_filter`."""
    logprobs: ChoiceLogprobs | None = None


class ChatCompletion(BaseModel):
    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[Choice] = pydantic.Field(default_factory=list)
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None

    @property
    def text(self) -> str:
        """The first choice's text, or "" when the server sent none."""
        if not self.choices:
            return ""
        return self.choices[0].message.content or ""

    def _repr_markdown_(self) -> str:
        return self.text


class ChoiceDeltaFunctionCall(BaseModel):
    name: str | None = None
    arguments: str | None = None


ChoiceDeltaToolCallFunction = ChoiceDeltaFunctionCall


class ChoiceDeltaToolCall(BaseModel):
    """A fragment of a tool call: chunks with the same `index` add up to one call (`arguments` concatenate)."""

    index: int = 0
    id: str | None = None
    type: FunctionType | None = None
    function: ChoiceDeltaFunctionCall | None = None


class ChoiceDelta(BaseModel):
    role: ChatRole | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    # Some servers put a `message` where the spec expects `delta` (spec §2.2): read it as the delta. An
    # alias, not a Python validator, so a chunk is validated straight from its JSON text.
    delta: ChoiceDelta = pydantic.Field(
        default_factory=ChoiceDelta, validation_alias=pydantic.AliasChoices("delta", "message")
    )
    finish_reason: FinishReason | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletionChunk(BaseModel):
    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChunkChoice] = pydantic.Field(default_factory=list)
    usage: CompletionUsage | None = None
    """Only on the last chunk, and only when the request set `stream_options={"include_usage": True}`."""
    system_fingerprint: str | None = None
