"""Small types used by several services, and the closed sets of the wire contract as `Literal`s.

The `Literal`s let a type checker refuse `purpose="fine_tune"` or `metric="cosin"` in your code; the
SDK still checks the same values at run time (with a `GravixLayerValidationError`) for untyped callers.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from .._models import BaseModel

__all__ = [
    "CompletionUsage",
    "FilePurpose",
    "VectorMetric",
    "VectorType",
    "IndexType",
    "EncodingFormat",
    "CodeLanguage",
]

FilePurpose: TypeAlias = Literal["assistants", "batch", "batch_output", "fine-tune", "vision", "user_data", "evals"]
"""What an uploaded file is for (spec §3.1)."""

VectorMetric: TypeAlias = Literal["cosine", "euclidean", "dot_product"]
"""Similarity of a vector index (ruling 15); the SDK also accepts the aliases `dot` and `dotproduct`."""

VectorType: TypeAlias = Literal["dense"]
IndexType: TypeAlias = Literal["serverless", "dedicated"]

EncodingFormat: TypeAlias = Literal["float", "base64"]
"""How embeddings travel on the wire (ruling 8); the SDK hands back floats either way."""

CodeLanguage: TypeAlias = Literal["python", "python3", "py", "javascript", "js", "node", "nodejs"]
"""Languages a sandbox runs code in."""


class CompletionUsage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
