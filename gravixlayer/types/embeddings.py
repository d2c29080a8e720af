"""Embedding responses (spec §2.4).

The SDK asks for base64 on the wire by default (ruling 8: little-endian float32, 4 bytes a number
instead of ~20 characters of JSON), and `embedding` is always a `list[float]`: a base64 string is
decoded while the response is read, and a server that ignores the request and sends floats is read
as floats. `to_numpy()` gives the whole batch as one float32 matrix.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import TYPE_CHECKING, Annotated, Any

import pydantic

from .._models import BaseModel

if TYPE_CHECKING:
    import numpy

__all__ = ["Embedding", "EmbeddingUsage", "CreateEmbeddingResponse", "EmbeddingResponse", "decode_base64_floats"]



def decode_base64_floats(text: str) -> list[float]:
    """Little-endian float32 values from their base64 text."""
    values = array("f")
    values.frombytes(base64.b64decode(text, validate=True))
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def _floats(value: list[float] | str) -> list[float]:
    if isinstance(value, str):
        try:
            return decode_base64_floats(value)
        except ValueError as exc:  # binascii.Error, or a length that is not a multiple of 4
            raise ValueError(f"embedding is neither a list of numbers nor base64 float32: {exc}") from exc
    return value


if TYPE_CHECKING:
    Vector = list[float]
else:
    # Validated in pydantic's core straight from JSON (numbers, or a string), then a string decoded:
    # both wire forms stay on their fast path.
    Vector = Annotated[list[float] | str, pydantic.AfterValidator(_floats)]


class Embedding(BaseModel):
    object: str | None = None
    embedding: Vector = pydantic.Field(default_factory=list)
    """The vector, as floats whatever form it travelled in."""
    index: int | None = None

    def as_floats(self) -> list[float]:
        """The vector as floats (kept for code written when `embedding` could be base64 text)."""
        return self.embedding


class EmbeddingUsage(BaseModel):
    prompt_tokens: int | None = None
    total_tokens: int | None = None


class CreateEmbeddingResponse(BaseModel):
    object: str | None = None
    data: list[Embedding] = pydantic.Field(default_factory=list)
    model: str | None = None
    usage: EmbeddingUsage | None = None

    def to_numpy(self) -> numpy.ndarray[Any, numpy.dtype[numpy.float32]]:
        """The vectors as one `(len(data), dimension)` float32 array, rows in input order (needs numpy)."""
        import numpy

        ordered = sorted(self.data, key=lambda item: item.index if item.index is not None else 0)
        return numpy.array([item.embedding for item in ordered], dtype=numpy.float32)


EmbeddingResponse = CreateEmbeddingResponse
