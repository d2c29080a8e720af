"""Lazy listings: pages are fetched only as far as iteration goes, and `to_pandas()` still works."""

from __future__ import annotations

import uuid

import httpx

from gravixlayer import AsyncGravixLayer, GravixLayer


def _counting(client: GravixLayer, http: httpx.Client) -> tuple[GravixLayer, list[str]]:
    pages: list[str] = []

    def hook(request: httpx.Request) -> None:
        if request.url.path.endswith("/indexes"):
            pages.append(request.url.params.get("page", ""))

    http.event_hooks = {"request": [hook]}
    return client.with_options(http_client=http), pages


def test_iteration_fetches_only_the_pages_it_reaches(client: GravixLayer) -> None:
    made = [client.vectors.indexes.create(name=f"lazy-{uuid.uuid4().hex[:8]}", dimension=3).id for _ in range(5)]
    with httpx.Client() as http:  # closed here: an open socket would warn in a later test
        _iterate_lazily(client, http, made)


def _iterate_lazily(client: GravixLayer, http: httpx.Client, made: list[str]) -> None:
    try:
        counted, pages = _counting(client, http)
        lazy = counted.vectors.indexes.iter(page_size=2)
        first = next(iter(lazy))
        assert pages == ["1"] and first.id
        everything = [index.id for index in lazy]  # again from the start: page 1 is not fetched twice
        assert pages[0] == "1" and pages.count("1") == 1 and len(pages) >= 3
        assert everything == [index.id for index in client.vectors.indexes.list()]
        assert set(made) <= set(everything)
        fetched = len(pages)
        frame = lazy.to_pandas()
        assert list(frame["id"]) == everything and len(pages) == fetched
    finally:
        for index_id in made:
            client.vectors.indexes.delete(index_id)


async def test_async_iteration_and_to_pandas(aclient: AsyncGravixLayer) -> None:
    made = [(await aclient.vectors.indexes.create(name=f"lazy-{uuid.uuid4().hex[:8]}", dimension=3)).id for _ in range(3)]
    try:
        seen = [index.id async for index in aclient.vectors.indexes.iter(page_size=2)]
        assert set(made) <= set(seen) and len(seen) == len(set(seen))
        frame = await aclient.vectors.indexes.iter(page_size=1).to_pandas()
        assert list(frame["id"]) == seen
    finally:
        for index_id in made:
            await aclient.vectors.indexes.delete(index_id)
