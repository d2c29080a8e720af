"""Legacy text completion responses (spec §2.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pydantic

from .._models import BaseModel
from .shared import CompletionUsage

__all__ = ["CompletionFinishReason", "Logprobs", "CompletionChoice", "Completion"]

if TYPE_CHECKING:
    CompletionFinishReason = Literal["stop", "length", "content_filter"]
else:  # read leniently: an unknown reason is kept as sent (see types/chat.py)
    CompletionFinishReason = str


class Logprobs(BaseModel):
    """Per-token log-probabilities, present when the request set `logprobs=N`."""

    tokens: list[str] | None = None
    token_logprobs: list[float | None] | None = None
    top_logprobs: list[dict[str, float]] | None = None
    text_offset: list[int] | None = None


class CompletionChoice(BaseModel):
    text: str | None = None
    index: int = 0
    logprobs: Logprobs | None = None
    finish_reason: CompletionFinishReason | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _text_from_alternatives(cls, data: Any) -> Any:
        # Spec §2.3: servers may put the text in `delta.content`/`delta.text` or `content`.
        if isinstance(data, dict) and not data.get("text"):
            delta = data.get("delta")
            for candidate in (
                delta.get("content") if isinstance(delta, dict) else None,
                delta.get("text") if isinstance(delta, dict) else None,
                data.get("content"),
            ):
                if isinstance(candidate, str) and candidate:
                    return {**data, "text": candidate}
        return data


class Completion(BaseModel):
    """A completion, or (with `stream=True`) one chunk of it."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[CompletionChoice] = pydantic.Field(default_factory=list)
    usage: CompletionUsage | None = None

    @property
    def text(self) -> str:
        if not self.choices:
            return ""
        return self.choices[0].text or ""
