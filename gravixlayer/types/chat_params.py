"""What `chat.completions.create` accepts, as `TypedDict`s a type checker can hold you to.

Plain dict literals type-check against these, so `{"rol": "user"}`, `tool_choice="requried"` or
`response_format={"type": "jsn"}` are reported before the request is ever sent. Nothing here exists
at run time beyond ordinary dicts: the SDK sends what you built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeAlias

from typing_extensions import NotRequired, Required, TypedDict

__all__ = [
    "ChatCompletionContentPartTextParam",
    "ImageURL",
    "ChatCompletionContentPartImageParam",
    "ChatCompletionContentPartParam",
    "ChatCompletionSystemMessageParam",
    "ChatCompletionDeveloperMessageParam",
    "ChatCompletionUserMessageParam",
    "FunctionCallParam",
    "ChatCompletionMessageToolCallParam",
    "ChatCompletionAssistantMessageParam",
    "ChatCompletionToolMessageParam",
    "ChatCompletionMessageParam",
    "FunctionDefinition",
    "ChatCompletionToolParam",
    "ChatCompletionNamedToolChoiceParam",
    "ChatCompletionToolChoiceOptionParam",
    "ResponseFormatText",
    "ResponseFormatJSONObject",
    "JSONSchema",
    "ResponseFormatJSONSchema",
    "ResponseFormat",
    "ChatCompletionStreamOptionsParam",
]


class ChatCompletionContentPartTextParam(TypedDict):
    type: Literal["text"]
    text: str


class ImageURL(TypedDict, total=False):
    url: Required[str]
    """An `https://` URL or a `data:image/...;base64,` URL."""
    detail: Literal["auto", "low", "high"]


class ChatCompletionContentPartImageParam(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


ChatCompletionContentPartParam: TypeAlias = ChatCompletionContentPartTextParam | ChatCompletionContentPartImageParam


class ChatCompletionSystemMessageParam(TypedDict):
    role: Literal["system"]
    content: str | Iterable[ChatCompletionContentPartTextParam]
    name: NotRequired[str]


class ChatCompletionDeveloperMessageParam(TypedDict):
    role: Literal["developer"]
    content: str | Iterable[ChatCompletionContentPartTextParam]
    name: NotRequired[str]


class ChatCompletionUserMessageParam(TypedDict):
    role: Literal["user"]
    content: str | Iterable[ChatCompletionContentPartParam]
    name: NotRequired[str]


class FunctionCallParam(TypedDict):
    name: str
    arguments: str
    """JSON text, exactly as the model wrote it."""


class ChatCompletionMessageToolCallParam(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCallParam


class ChatCompletionAssistantMessageParam(TypedDict):
    """A previous answer of the model; `content` may be `None` when it only asked for tools."""

    role: Literal["assistant"]
    content: NotRequired[str | Iterable[ChatCompletionContentPartTextParam] | None]
    name: NotRequired[str]
    refusal: NotRequired[str | None]
    tool_calls: NotRequired[Iterable[ChatCompletionMessageToolCallParam]]


class ChatCompletionToolMessageParam(TypedDict):
    """The result of a tool call, sent back under the call's id."""

    role: Literal["tool"]
    content: str | Iterable[ChatCompletionContentPartTextParam]
    tool_call_id: str


ChatCompletionMessageParam: TypeAlias = ChatCompletionDeveloperMessageParam | ChatCompletionSystemMessageParam | ChatCompletionUserMessageParam | ChatCompletionAssistantMessageParam | ChatCompletionToolMessageParam


class FunctionDefinition(TypedDict, total=False):
    name: Required[str]
    description: str
    parameters: dict[str, object]
    """A JSON Schema object describing the arguments."""
    strict: bool | None


class ChatCompletionToolParam(TypedDict):
    type: Literal["function"]
    function: FunctionDefinition


class _NamedFunction(TypedDict):
    name: str


class ChatCompletionNamedToolChoiceParam(TypedDict):
    type: Literal["function"]
    function: _NamedFunction


ChatCompletionToolChoiceOptionParam: TypeAlias = Literal["none", "auto", "required"] | ChatCompletionNamedToolChoiceParam


class ResponseFormatText(TypedDict):
    type: Literal["text"]


class ResponseFormatJSONObject(TypedDict):
    type: Literal["json_object"]


class JSONSchema(TypedDict, total=False):
    name: Required[str]
    description: str
    schema: dict[str, object]
    strict: bool | None


class ResponseFormatJSONSchema(TypedDict):
    type: Literal["json_schema"]
    json_schema: JSONSchema


ResponseFormat: TypeAlias = ResponseFormatText | ResponseFormatJSONObject | ResponseFormatJSONSchema


class ChatCompletionStreamOptionsParam(TypedDict, total=False):
    include_usage: bool
    """Add a last chunk (with `choices: []`) carrying the whole answer's `usage`."""
