"""Embedding responses (spec §2.4)."""

from __future__ import annotations

import base64
import struct

import pydantic

from .._models import BaseModel

__all__ = ["Embedding", "EmbeddingUsage", "CreateEmbeddingResponse", "EmbeddingResponse"]


class Embedding(BaseModel):
    object: str | None = None
    embedding: list[float] | str = pydantic.Field(default_factory=list)
    index: int | None = None

    def as_floats(self) -> list[float]:
        """The vector as floats, decoding the base64 (little-endian float32) form when that was asked for."""
        if isinstance(self.embedding, str):
            raw = base64.b64decode(self.embedding)
            return list(struct.unpack(f"<{len(raw) // 4}f", raw))
        return self.embedding


class EmbeddingUsage(BaseModel):
    prompt_tokens: int | None = None
    total_tokens: int | None = None


class CreateEmbeddingResponse(BaseModel):
    object: str | None = None
    data: list[Embedding] = pydantic.Field(default_factory=list)
    model: str | None = None
    usage: EmbeddingUsage | None = None


EmbeddingResponse = CreateEmbeddingResponse
