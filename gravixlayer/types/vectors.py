"""Vector database responses (spec §6; decisions 16-20).

Every model is lenient (unknown keys kept, nothing invented). List-like answers are iterable,
indexable and sized, keep their items in `data`, and convert to a DataFrame with `to_pandas()`
(pandas is imported only then).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast, overload

import pydantic

from .._models import BaseModel, short_repr
from .embeddings import EmbeddingUsage

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ListModel",
    "VectorIndex",
    "VectorIndexList",
    "Vector",
    "TextVector",
    "VectorList",
    "VectorIdList",
    "SearchHit",
    "SearchResponse",
    "VectorSearchResponse",
    "UpsertResponse",
    "BatchUpsertResponse",
    "VectorDeleteResponse",
]

T = TypeVar("T")


class ListModel(BaseModel, Generic[T]):
    """A response holding a list: `len()`, `[i]`, iteration and `data` all reach the items."""

    _items_field: ClassVar[str] = "data"
    _names_are_keys: ClassVar[bool] = True
    """False for a list of strings, where `"x" in res` can only ask about the items."""

    @property
    def _items(self) -> list[T]:
        return cast("list[T]", getattr(self, self._items_field))

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    @overload
    def __getitem__(self, index: str) -> Any: ...

    def __getitem__(self, index: int | slice | str) -> Any:
        """`res[0]` (an item), `res[1:3]` (items) or `res["results"]` (a field, as dict-based code reads it)."""
        if isinstance(index, str):
            return self._item(index)
        return self._items[index]

    def __contains__(self, item: object) -> bool:
        """An item of the list, or (for a name) a set field: `"results" in res`."""
        return item in self._items or (self._names_are_keys and self._has_key(item))

    def __repr__(self) -> str:
        items = self._items
        shown = ", ".join(short_repr(item) for item in items[:3])
        more = f", ... {len(items) - 3} more" if len(items) > 3 else ""
        return f"{type(self).__name__}({len(items)} items: [{shown}{more}])"

    __str__ = __repr__


# -- indexes ---------------------------------------------------------------------------------------


class VectorIndex(BaseModel):
    """A vector index (spec §6.1). `id` is what `client.vectors.index(...)` needs."""

    id: str
    name: str | None = None
    dimension: int | None = None
    metric: str | None = None
    vector_type: str | None = None
    cloud_provider: str | None = None
    region: str | None = None
    index_type: str | None = None
    delete_protection: bool | None = None
    created_at: str | None = None
    metadata: dict[str, Any] | None = None
    updated_at: str | None = None
    status: str | None = None


class Pagination(BaseModel):
    page: int | None = None
    page_size: int | None = None
    total: int | None = None


class IndexPage(BaseModel):
    """One page of `GET /v1/vectors/indexes` as the wire sends it."""

    indexes: list[VectorIndex]
    pagination: Pagination | None = None


class VectorIndexList(ListModel[VectorIndex]):
    """Every index of the account, gathered across all pages."""

    data: list[VectorIndex] = pydantic.Field(default_factory=list)

    @property
    def indexes(self) -> list[VectorIndex]:
        """The vendor SDK's name for `data`."""
        return self.data

    def to_pandas(self, *, flatten: bool = True) -> pandas.DataFrame:
        """One row per index; timestamps as UTC datetimes, metadata as `metadata.*` columns."""
        from .._dataframes import indexes_frame

        return indexes_frame(self.data, flatten=flatten)


# -- vectors ---------------------------------------------------------------------------------------


class Vector(BaseModel):
    """A stored vector (spec §6.2). `values` is an alias of `embedding`."""

    id: str
    embedding: list[float] | None = None
    metadata: dict[str, Any] | None = None
    delete_protection: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def values(self) -> list[float] | None:
        return self.embedding


class TextVector(Vector):
    """What `upsert_text` wrote: the text, the model that embedded it, and the tokens used."""

    text: str | None = None
    model: str | None = None
    usage: EmbeddingUsage | None = None


class VectorList(ListModel[Vector]):
    """Vectors of an index, in the order the server listed them."""

    data: list[Vector] = pydantic.Field(default_factory=list)

    @property
    def vectors(self) -> list[Vector]:
        return self.data

    @property
    def ids(self) -> list[str]:
        return [vector.id for vector in self.data]

    def to_pandas(
        self, *, embeddings: bool = False, flatten: bool = True, include_values: bool = False
    ) -> pandas.DataFrame:
        """One row per vector: `id`, `metadata.*` columns, UTC timestamps, and `embedding` (one float32
        array per row) only with `embeddings=True` (`include_values=True` is the same)."""
        from .._dataframes import vectors_frame

        return vectors_frame(self.data, embeddings=embeddings or include_values, flatten=flatten)


class VectorIdList(ListModel[str]):
    """The ids of every vector of an index (`"id" in ids` asks whether a vector has that id)."""

    _names_are_keys: ClassVar[bool] = False
    data: list[str] = pydantic.Field(default_factory=list)

    @property
    def vector_ids(self) -> list[str]:
        return self.data

    @property
    def count(self) -> int:
        return len(self.data)


# -- search ----------------------------------------------------------------------------------------


class SearchHit(BaseModel):
    """One search result; higher `score` is better for every metric (decision 20)."""

    id: str
    score: float
    values: list[float] | None = None
    metadata: dict[str, Any] | None = None


class SearchResponse(ListModel[SearchHit]):
    """Search hits in score order, best first, plus the server's own timing (and tokens, for text)."""

    _items_field: ClassVar[str] = "hits"

    hits: list[SearchHit] = pydantic.Field(default_factory=list)
    query_time_ms: float | None = None
    usage: EmbeddingUsage | None = None

    @pydantic.model_validator(mode="after")
    def _best_first(self) -> SearchResponse:
        self.hits.sort(key=lambda hit: hit.score, reverse=True)
        return self

    @property
    def data(self) -> list[SearchHit]:
        return self.hits

    def __repr__(self) -> str:
        shown = ", ".join(f"{hit.id!r}: {hit.score:.4f}" for hit in self.hits[:5])
        more = f", ... {len(self.hits) - 5} more" if len(self.hits) > 5 else ""
        return f"SearchResponse({len(self.hits)} hits: {{{shown}{more}}}, query_time_ms={self.query_time_ms})"

    __str__ = __repr__

    def to_pandas(self, *, embeddings: bool = False, flatten: bool = True) -> pandas.DataFrame:
        """One row per hit, best first: `id`, `score` (float), `metadata.*` columns, and `embedding` (one
        float32 array per row) only with `embeddings=True` and a search made with `include_values=True`."""
        from .._dataframes import hits_frame

        return hits_frame(self.hits, embeddings=embeddings, flatten=flatten)


VectorSearchResponse = SearchResponse


# -- writes ----------------------------------------------------------------------------------------


class UpsertResponse(BaseModel):
    """The wire answer of a single upsert (decision 17); the SDK returns a `Vector` built from it."""

    upserted_count: int | None = None
    failed_count: int | None = None
    errors: list[Any] | None = None
    ids: list[str] | None = None
    count: int | None = None
    usage: EmbeddingUsage | None = None


class BatchUpsertResponse(BaseModel):
    """Totals over every request of a batch upsert; `ids` lists the ids written, in input order."""

    upserted_count: int = 0
    failed_count: int = 0
    errors: list[Any] = pydantic.Field(default_factory=list)
    usage: EmbeddingUsage | None = None
    ids: list[str] = pydantic.Field(default_factory=list)


class VectorDeleteResponse(BaseModel):
    """What a delete removed. `deleted_count` is None when the server did not say."""

    deleted_count: int | None = None
    deleted_ids: list[str] | None = None
    message: str | None = None
