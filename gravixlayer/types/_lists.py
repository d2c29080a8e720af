"""A list answer that behaves like a list: iterate it, index it, take its `len`, or read `.data`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar, overload

import pydantic

from .._models import BaseModel

__all__ = ["DataList"]

T = TypeVar("T", bound=BaseModel)

_REPR_ITEMS = 5


class DataList(BaseModel, Generic[T]):
    """Items in `.data`; iteration yields the items (not pydantic's field pairs)."""

    data: list[T] = pydantic.Field(default_factory=list)

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    @overload
    def __getitem__(self, index: str) -> Any: ...
    def __getitem__(self, index: int | slice | str) -> Any:
        """`res[0]` (an item), `res[1:3]` (items) or `res["data"]` (a field, as dict-based code reads it)."""
        if isinstance(index, str):
            return self._item(index)
        return self.data[index]

    def __contains__(self, item: object) -> bool:
        """An item of the list, or (for a name) a set field: `"data" in res`."""
        return item in self.data or self._has_key(item)

    def __repr__(self) -> str:
        shown = ", ".join(repr(item) for item in self.data[:_REPR_ITEMS])
        more = len(self.data) - _REPR_ITEMS
        if more > 0:
            shown += f", ... {more} more"
        return f"{type(self).__name__}([{shown}])"

    __str__ = __repr__
