"""Memory results (spec §7, decision 21).

A memory is one vector in the memory index; these types are what `client.memory(...)` methods
return. Timestamps are timezone-aware UTC `datetime`s (memories written by the vendor SDK carry
naive local times, which are read as they are).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic

from .._models import BaseModel
from .vectors import ListModel

if TYPE_CHECKING:
    import pandas

__all__ = [
    "MemoryItem",
    "MemoryResults",
    "MemorySearchResult",
    "MemoryEvent",
    "MemoryAddResult",
    "MemoryDeleteResult",
    "MEMORY_TYPES",
]

MEMORY_TYPES = ("factual", "episodic", "semantic", "working")


class MemoryItem(BaseModel):
    """One memory of one user. `score` is set by `search` only."""

    _repr_fields: ClassVar[tuple[str, ...] | None] = ("id", "memory", "score", "memory_type", "created_at")

    id: str
    memory: str
    user_id: str | None = None
    memory_type: str | None = None
    hash: str | None = None
    score: float | None = None
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class MemoryResults(ListModel[MemoryItem]):
    """Memories of a user: `results[i].memory`, `.score`, `.id`, `.created_at`, `.metadata`."""

    _items_field: ClassVar[str] = "results"

    results: list[MemoryItem] = pydantic.Field(default_factory=list)

    @property
    def data(self) -> list[MemoryItem]:
        return self.results

    def to_pandas(self, *, flatten: bool = True) -> pandas.DataFrame:
        """One row per memory: id, memory, score (float), memory_type, user_id, created_at/updated_at
        (UTC datetimes) and `metadata.*` columns (`flatten=False`: one `metadata` column of dicts)."""
        from .._dataframes import memories_frame

        return memories_frame(self.results, flatten=flatten)


MemorySearchResult = MemoryResults


class MemoryEvent(BaseModel):
    """One memory written by `add`: its id, its text and what happened (`ADD`)."""

    id: str
    memory: str
    event: str = "ADD"
    memory_type: str | None = None


class MemoryAddResult(ListModel[MemoryEvent]):
    """The memories an `add` stored (several when `infer=True` found several facts)."""

    _items_field: ClassVar[str] = "results"

    results: list[MemoryEvent] = pydantic.Field(default_factory=list)

    @property
    def data(self) -> list[MemoryEvent]:
        return self.results


class MemoryDeleteResult(BaseModel):
    """What `delete` / `delete_all` removed."""

    message: str
    deleted_count: int
