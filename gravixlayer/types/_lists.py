"""A list answer that behaves like a list: iterate it, index it, take its `len`, or read `.data`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar, overload

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
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.data[index]

    def __repr__(self) -> str:
        shown = ", ".join(repr(item) for item in self.data[:_REPR_ITEMS])
        more = len(self.data) - _REPR_ITEMS
        if more > 0:
            shown += f", ... {more} more"
        return f"{type(self).__name__}([{shown}])"

    __str__ = __repr__
