"""Legacy text completion responses (spec §2.3)."""

from __future__ import annotations

from typing import Any, Optional

import pydantic

from .._models import BaseModel
from .shared import CompletionUsage

__all__ = ["CompletionChoice", "Completion"]


class CompletionChoice(BaseModel):
    text: Optional[str] = None
    index: Optional[int] = None
    logprobs: Optional[Any] = None
    finish_reason: Optional[str] = None

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

    id: Optional[str] = None
    object: Optional[str] = None
    created: Optional[int] = None
    model: Optional[str] = None
    choices: list[CompletionChoice] = pydantic.Field(default_factory=list)
    usage: Optional[CompletionUsage] = None

    @property
    def text(self) -> str:
        if not self.choices:
            return ""
        return self.choices[0].text or ""
