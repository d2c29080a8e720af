"""A memory as stored: one vector whose metadata holds its owner, text, hash, type and timestamps (decision 21).

Only the memory layer writes `RESERVED_KEYS`; caller metadata naming one is refused, so no caller can
move a memory to another user or rewrite its text behind the embedding (D44). Timestamps are
timezone-aware UTC ISO-8601; naive ones (written by the vendor's SDK) are read as UTC.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..._exceptions import GravixLayerValidationError
from ...types.memory import MEMORY_TYPES, MemoryItem

__all__ = [
    "RESERVED_KEYS",
    "MAX_MEMORY_CHARS",
    "Draft",
    "now",
    "content_hash",
    "caller_metadata",
    "memory_type",
    "record",
    "revised",
    "item",
    "newest_first",
]

RESERVED_KEYS = frozenset({"user_id", "content", "hash", "created_at", "updated_at"})
"""Metadata keys only the memory layer writes (decision 21); caller metadata naming one is refused."""
MAX_MEMORY_CHARS = 4000

_TYPE_ALIASES = {"preference": "factual", "preferences": "factual", "fact": "factual"}


def now() -> str:
    """The current time as timezone-aware UTC ISO-8601 (the vendor's SDK wrote naive local time, D45)."""
    return datetime.now(timezone.utc).isoformat()


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def caller_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise GravixLayerValidationError(f"metadata must be a dict, got {type(metadata).__name__}")
    taken = sorted(RESERVED_KEYS & set(metadata))
    if taken:
        raise GravixLayerValidationError(
            f"metadata may not set {', '.join(taken)}: the memory layer owns those keys "
            "(the owner is the user_id argument)"
        )
    result = dict(metadata)
    if "memory_type" in result:
        result["memory_type"] = memory_type(result["memory_type"], "metadata['memory_type']")
    if "importance_score" in result:
        result["importance_score"] = _importance(result["importance_score"], "metadata['importance_score']")
    return result


def memory_type(value: Any, name: str) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else ""
    text = _TYPE_ALIASES.get(text, text)
    if text not in MEMORY_TYPES:
        raise GravixLayerValidationError(f"{name} must be one of {', '.join(MEMORY_TYPES)}; got {value!r}")
    return text


def _importance(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise GravixLayerValidationError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


@dataclass
class Draft:
    """A memory about to be written."""

    content: str
    memory_type: str = "factual"
    metadata: dict[str, Any] = field(default_factory=dict)


def record(draft: Draft, user_id: str, model: str, now: str) -> dict[str, Any]:
    """The `text/batch` item of a new memory: a fresh UUID4 id, its text, and the reserved metadata."""
    metadata = {
        **draft.metadata,
        "memory_type": draft.metadata.get("memory_type", draft.memory_type),
        "importance_score": draft.metadata.get("importance_score", 1.0),
        "user_id": user_id,
        "content": draft.content,
        "hash": content_hash(draft.content),
        "created_at": now,
        "updated_at": now,
    }
    return {"id": str(uuid.uuid4()), "text": draft.content, "model": model, "metadata": metadata}


def revised(stored: Mapping[str, Any] | None, extra: dict[str, Any], content: str, user_id: str) -> dict[str, Any]:
    """The metadata of an updated memory: the stored keys, the caller's `extra`, the new text, hash and time."""
    metadata = {**(stored or {}), **extra, "content": content, "hash": content_hash(content), "updated_at": now()}
    metadata["user_id"] = user_id
    return metadata


def item(vector_id: str, metadata: Mapping[str, Any], score: float | None = None) -> MemoryItem:
    """The memory a stored vector (or search hit) holds, read from its metadata."""
    return MemoryItem(
        id=vector_id,
        memory=str(metadata.get("content") or ""),
        user_id=metadata.get("user_id"),
        memory_type=metadata.get("memory_type"),
        hash=metadata.get("hash"),
        score=score,
        metadata=dict(metadata),
        created_at=_parse_time(metadata.get("created_at")),
        updated_at=_parse_time(metadata.get("updated_at")),
    )


def newest_first(items: list[MemoryItem]) -> list[MemoryItem]:
    """Sorted by `created_at`, newest first; memories without a readable time go last."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(items, key=lambda m: _aware(m.created_at) or oldest, reverse=True)


def _aware(value: datetime | None) -> datetime | None:
    """Naive timestamps (the vendor SDK's) are taken as UTC, so they sort with aware ones."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
