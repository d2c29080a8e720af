"""Lazy listings: pages are fetched as iteration reaches them, and `to_pandas()` still works.

A paged listing is described once, independent of sync or async, by a `Pager`: the request for page N
and what a page's answer adds. `Pages` (sync) and `AsyncPages` (async) drive it; iterating stops
fetching as soon as you stop iterating, so `for index in ...: break` costs one request however many
pages there are. Items already fetched are kept, so a second iteration or `to_pandas()` does not
fetch them again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import httpx

from ._request import APIRequest, single

if TYPE_CHECKING:
    import pandas

    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["Pager", "Pages", "AsyncPages"]

T = TypeVar("T")


class Pager(Protocol[T]):
    """How one listing pages: `request(n)` for page n (from 1); `read(response)` gives the page's items
    and whether another page may follow."""

    def request(self, page: int) -> APIRequest: ...

    def read(self, response: httpx.Response) -> tuple[list[T], bool]: ...


class _Pages(Generic[T]):
    def __init__(self, pager: Pager[T], frame: Callable[[list[T]], pandas.DataFrame]) -> None:
        self._pager = pager
        self._frame = frame
        self._items: list[T] = []
        self._next_page: int | None = 1

    def _add(self, response: httpx.Response) -> None:
        items, more = self._pager.read(response)
        self._items.extend(items)
        self._next_page = self._next_page + 1 if more and items and self._next_page is not None else None


class Pages(_Pages[T]):
    """A listing read page by page as you iterate; `to_pandas()` / `to_list()` read the rest first."""

    def __init__(self, client: SyncAPIClient, pager: Pager[T], frame: Callable[[list[T]], pandas.DataFrame]) -> None:
        super().__init__(pager, frame)
        self._client = client

    def __iter__(self) -> Iterator[T]:
        index = 0
        while True:
            while index < len(self._items):
                yield self._items[index]
                index += 1
            if self._next_page is None:
                return
            self._client.run(single(self._pager.request(self._next_page), self._add))

    def to_list(self) -> list[T]:
        for _ in self:
            pass
        return list(self._items)

    def to_pandas(self) -> pandas.DataFrame:
        return self._frame(self.to_list())


class AsyncPages(_Pages[T]):
    """The async twin of `Pages`: `async for item in ...`, `await ....to_pandas()`."""

    def __init__(self, client: AsyncAPIClient, pager: Pager[T], frame: Callable[[list[T]], pandas.DataFrame]) -> None:
        super().__init__(pager, frame)
        self._client = client

    async def __aiter__(self) -> AsyncIterator[T]:
        index = 0
        while True:
            while index < len(self._items):
                yield self._items[index]
                index += 1
            if self._next_page is None:
                return
            await self._client.run(single(self._pager.request(self._next_page), self._add))

    async def to_list(self) -> list[T]:
        async for _ in self:
            pass
        return list(self._items)

    async def to_pandas(self) -> pandas.DataFrame:
        return self._frame(await self.to_list())

