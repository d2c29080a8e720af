"""Vector operations through the SDK (sync and async) against a real Local."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from gravixlayer._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerConflictError,
    GravixLayerNotFoundError,
    GravixLayerValidationError,
)
from gravixlayer.types.vectors import (
    BatchUpsertResponse,
    SearchHit,
    SearchResponse,
    TextVector,
    Vector,
    VectorIdList,
    VectorList,
)

from .conftest import TEXT_DIM, TEXT_MODEL, call, make_index


@pytest.fixture
async def index(api: Any) -> Any:
    made = await make_index(api, dimension=3)
    yield made
    await call(api.vectors.indexes.delete(made.id, force=True))


async def test_seed_vector_snippets(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    written = await call(vectors.upsert(embedding=[0.1, 0.2, 0.3], id="vec-1", metadata={"category": "test"}))
    assert isinstance(written, Vector)
    assert (written.id, written.embedding, written.metadata) == ("vec-1", [0.1, 0.2, 0.3], {"category": "test"})

    results = await call(vectors.search(embedding=[0.1, 0.2, 0.3], limit=10))
    assert isinstance(results, SearchResponse)
    assert [hit.id for hit in results] == ["vec-1"]
    assert results[0].score == pytest.approx(1.0, abs=1e-6) and results[0].metadata == {"category": "test"}
    assert results[0].values is None and results.query_time_ms is not None and results.query_time_ms >= 0

    vector = await call(vectors.get("vec-1"))
    assert vector.id == "vec-1" and vector.metadata == {"category": "test"}
    assert vector.embedding == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)  # stored as float32
    assert vector.created_at and vector.updated_at and vector.delete_protection is False

    all_vectors = await call(vectors.list())
    assert isinstance(all_vectors, VectorList) and all_vectors.ids == ["vec-1"]

    await call(vectors.delete("vec-1"))
    with pytest.raises(GravixLayerNotFoundError):
        await call(vectors.get("vec-1"))
    await call(vectors.upsert(embedding=[1, 2, 3], id="again"))
    await call(vectors.delete_all())
    assert (await call(vectors.list_ids())).data == []


async def test_upsert_without_id_returns_the_server_id(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    written = await call(vectors.upsert(np.array([1.0, 0.0, 0.0], dtype=np.float32)))
    assert written.id not in ("None", "auto-generated", "")
    assert str(uuid.UUID(written.id)) == written.id  # a UUID4 made by the server (decision 6)
    assert (await call(vectors.get(written.id))).embedding == [1.0, 0.0, 0.0]
    assert (await call(vectors.list_ids())).data == [written.id]


async def test_upsert_replaces_and_update_changes_metadata(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    await call(vectors.upsert([1, 0, 0], id="a", metadata={"v": 1}))
    first = await call(vectors.get("a"))
    await call(vectors.upsert([0, 1, 0], id="a", metadata={"v": 2}))
    second = await call(vectors.get("a"))
    assert second.embedding == [0.0, 1.0, 0.0] and second.metadata == {"v": 2}
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    assert len(await call(vectors.list_ids())) == 1

    updated = await call(vectors.update("a", metadata={"v": 3, "tag": "x"}))
    assert updated.metadata == {"v": 3, "tag": "x"} and updated.embedding == [0.0, 1.0, 0.0]
    hits = await call(vectors.search([0, 1, 0], filter={"tag": "x"}))
    assert [h.id for h in hits] == ["a"] and hits[0].metadata == {"v": 3, "tag": "x"}
    with pytest.raises(GravixLayerNotFoundError):
        await call(vectors.update("missing", metadata={}))
    with pytest.raises(GravixLayerValidationError):
        await call(vectors.update("a"))


async def test_delete_protection_of_a_vector(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    await call(vectors.upsert([1, 0, 0], id="keep", delete_protection=True))
    await call(vectors.upsert([0, 1, 0], id="free"))
    with pytest.raises(GravixLayerConflictError):
        await call(vectors.delete(["keep", "free"]))
    assert sorted((await call(vectors.list_ids())).data) == ["free", "keep"]  # nothing deleted
    with pytest.raises(GravixLayerConflictError):
        await call(vectors.delete_all())
    await call(vectors.update("keep", delete_protection=False))
    answer = await call(vectors.delete(["keep", "free", "never-existed"]))
    assert answer.deleted_count == 2 and sorted(answer.deleted_ids) == ["free", "keep"]


async def test_text_upsert_and_search(api: Any) -> None:
    index = await make_index(api, dimension=TEXT_DIM)
    vectors = api.vectors.index(index.id)
    written = await call(vectors.upsert_text(text="Hello world", model=TEXT_MODEL, id="doc-1", metadata={"k": "g"}))
    assert isinstance(written, TextVector)
    assert (written.id, written.text, written.model) == ("doc-1", "Hello world", TEXT_MODEL)
    assert written.usage is not None and written.usage.prompt_tokens and written.usage.prompt_tokens > 0
    auto = await call(vectors.upsert_text("The weather is cold today", TEXT_MODEL))
    uuid.UUID(auto.id)
    batch = await call(
        vectors.upsert_text_many(
            ["I love pasta", {"text": "Rust is a systems language", "id": "rust", "metadata": {"k": "lang"}},
             ("py", "Python is a programming language", {"k": "lang"})],
            model=TEXT_MODEL,
        )
    )  # fmt: skip
    assert batch.upserted_count == 3 and batch.ids[1:] == ["rust", "py"] and batch.usage.total_tokens > 0

    results = await call(vectors.search_text(query="Hello", model=TEXT_MODEL, limit=10))
    assert results[0].id == "doc-1" and results.usage is not None and results.usage.prompt_tokens > 0
    assert [h.score for h in results] == sorted((h.score for h in results), reverse=True)
    langs = await call(vectors.search_text("programming language", TEXT_MODEL, filter={"k": "lang"}, top_k=5))
    assert [h.id for h in langs] == ["py", "rust"]

    with pytest.raises(GravixLayerBadRequestError) as wrong_dim:
        await call(vectors.upsert_text("x", "microsoft/multilingual-e5-large"))
    assert wrong_dim.value.status_code == 400
    with pytest.raises(GravixLayerNotFoundError):
        await call(vectors.upsert_text("x", "no-such-model"))
    await call(api.vectors.indexes.delete(index.id))


async def test_search_options_filters_and_aliases(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    await call(
        vectors.upsert_many(
            [
                {"id": "red", "embedding": [1, 0, 0], "metadata": {"color": "red", "n": 1, "ok": True}},
                {"id": "green", "values": [0.9, 0.1, 0], "metadata": {"color": "green", "n": 2, "ok": False}},
                ("blue", [0, 0, 1], {"color": "blue", "n": 1}),
            ]
        )
    )
    hits = await call(vectors.search([1, 0, 0], limit=3, include_values=True, include_metadata=False))
    assert [h.id for h in hits] == ["red", "green", "blue"]
    assert hits[0].values == [1.0, 0.0, 0.0] and hits[0].metadata is None
    assert isinstance(hits[0], SearchHit)

    async def ids(**kw: Any) -> list[str]:
        return [h.id for h in await call(vectors.search([1, 0, 0], **kw))]

    assert await ids(filter={"color": "blue"}) == ["blue"]
    assert await ids(filter={"color": ["blue", "green"]}) == ["green", "blue"]  # a list means any of
    assert await ids(filter={"n": 1}) == ["red", "blue"]
    assert await ids(filter={"n": 1, "color": "red"}) == ["red"]
    assert await ids(filter={"ok": True}) == ["red"]
    assert await ids(filter={"ok": 1}) == []  # true is not 1
    assert await ids(filter={"absent": "x"}) == []
    assert await ids(filter={"color": []}) == []
    assert await ids(top_k=1) == ["red"]
    # red and green tie at cosine 0 with the query: ties keep insertion order
    assert [h.id for h in await call(vectors.search(vector=[0, 0, 1], limit=2))] == ["blue", "red"]

    assert len(await call(vectors.search([1, 0, 0], limit=1, top_k=2))) == 2  # the wire name wins
    for bad in ({"limit": 0}, {"limit": 1001}, {"top_k": 0}, {"filter": "color=red"}):
        with pytest.raises(GravixLayerValidationError):
            await call(vectors.search([1, 0, 0], **bad))
    with pytest.raises(GravixLayerValidationError):
        await call(vectors.search())
    with pytest.raises(GravixLayerValidationError):
        await call(vectors.search([1, 0, 0], vector=[1, 0, 0]))
    frame = hits.to_pandas()
    assert list(frame["id"]) == ["red", "green", "blue"]


async def test_dimension_and_unknown_index_errors(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    with pytest.raises(GravixLayerBadRequestError) as upsert:
        await call(vectors.upsert([1, 2], id="short"))
    assert upsert.value.status_code == 400 and upsert.value.code == "dimension_mismatch"
    with pytest.raises(GravixLayerBadRequestError) as search:
        await call(vectors.search([1, 2, 3, 4]))
    assert search.value.status_code == 400
    with pytest.raises(GravixLayerBadRequestError) as batch:
        await call(vectors.upsert_many([[1, 2, 3], [1, 2]]))
    assert "vectors[1]" in str(batch.value)
    assert (await call(vectors.list_ids())).data == []  # the refused batch wrote nothing
    ghost = api.vectors.index(str(uuid.uuid4()))
    attempts = (
        lambda: ghost.upsert([1, 2, 3]), lambda: ghost.search([1, 2, 3]), lambda: ghost.get("x"),
        lambda: ghost.list_ids(), lambda: ghost.list(), lambda: ghost.delete("x"),
        lambda: ghost.upsert_text("hi", TEXT_MODEL),
    )  # fmt: skip
    for attempt in attempts:
        with pytest.raises(GravixLayerNotFoundError):
            await call(attempt())
    for bad in ([], ["a", 1], [True, 1.0, 2.0], [float("nan"), 1, 2], "123", None):
        with pytest.raises(GravixLayerValidationError):
            await call(vectors.upsert(bad))


async def test_list_by_ids_and_list_ids(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    ids = [f"v/{i} é" for i in range(150)]  # ids needing URL encoding; more than one fetch request
    await call(vectors.upsert_many([(vid, [i, 1, 0]) for i, vid in enumerate(ids)]))
    listed = await call(vectors.list_ids())
    assert isinstance(listed, VectorIdList) and listed.data == ids and listed.count == 150
    some = await call(vectors.list(vector_ids=[ids[149], ids[0], "missing"]))
    assert some.ids == [ids[149], ids[0]]
    assert some[0].embedding == [149.0, 1.0, 0.0]
    assert (await call(vectors.get(ids[3]))).embedding == [3.0, 1.0, 0.0]
    everything = await call(vectors.list())
    assert sorted(everything.ids) == sorted(ids)
    frame = everything.to_pandas()
    assert sorted(frame["id"]) == sorted(ids) and "embedding" not in frame.columns


async def test_batch_upsert_of_10000_vectors_then_delete_all(api: Any, index: Any) -> None:
    vectors = api.vectors.index(index.id)
    data = np.random.default_rng(7).standard_normal((10_000, 3)).astype(np.float32)
    result = await call(vectors.upsert_many(data, progress=False))
    assert isinstance(result, BatchUpsertResponse)
    assert (result.upserted_count, result.failed_count, len(result.ids), len(set(result.ids))) == (
        10_000, 0, 10_000, 10_000,
    )  # fmt: skip
    assert len(await call(vectors.list_ids())) == 10_000
    # The ids returned are the ids written: vector i is where upsert_many said it is.
    probe = await call(vectors.get(result.ids[1234]))
    assert probe.embedding == data[1234].tolist()
    deleted = await call(vectors.delete_all())
    assert deleted.deleted_count == 10_000
    assert (await call(vectors.list_ids())).data == []


async def test_batch_from_a_generator_with_progress(api: Any, index: Any, capsys: pytest.CaptureFixture[str]) -> None:
    vectors = api.vectors.index(index.id)
    result = await call(
        vectors.upsert_many(({"id": f"g{i}", "embedding": [i, 0, 1]} for i in range(2500)), batch_size=600,
                            progress=True)
    )  # fmt: skip
    assert result.upserted_count == 2500 and result.ids[:2] == ["g0", "g1"]
    assert "2500vec" in capsys.readouterr().err  # tqdm draws on stderr (no total: a generator has no len)
    legacy = await call(vectors.batch_upsert([{"id": "legacy", "embedding": [1, 1, 1]}]))
    assert legacy.upserted_count == 1
    removed = await call(vectors.batch_delete(["legacy", "g0"]))
    assert removed.deleted_count == 2
    assert len(await call(vectors.list_ids())) == 2499


async def test_concurrent_searches_and_writes_stay_consistent(vserver: Any) -> None:
    import asyncio

    from gravixlayer import AsyncGravixLayer

    from .conftest import KEY_A

    async with AsyncGravixLayer(api_key=KEY_A, base_url=vserver.base_url) as client:
        made = await make_index(client, dimension=8)
        vectors = client.vectors.index(made.id)
        await vectors.upsert_many({"id": f"s{i}", "embedding": [i % 7, 1, 0, 0, 0, 0, 0, i]} for i in range(2999))
        await vectors.upsert([0, 0, 0, 0, 0, 1, 0, 0], id="needle")

        async def write(n: int) -> None:
            await vectors.upsert_many({"id": f"w{n}-{i}", "embedding": [1] * 8} for i in range(200))

        async def read() -> list[str]:
            return [h.id for h in await vectors.search([1, 1, 0, 0, 0, 0, 0, 1], limit=5, filter={"absent": None})]

        results = await asyncio.gather(*(write(n) for n in range(5)), *(read() for _ in range(20)),
                                       *(vectors.search([0, 0, 0, 0, 0, 1, 0, 0], limit=3) for _ in range(20)))  # fmt: skip
        assert all(r == [] for r in results[5:25])  # the filter matches nothing, even mid-write
        assert all(len(r) == 3 and r[0].id == "needle" and r[0].score == pytest.approx(1) for r in results[25:])
        assert len(await vectors.list_ids()) == 4000
        await client.vectors.indexes.delete(made.id)
        with pytest.raises(GravixLayerNotFoundError):  # the cached index is forgotten with it
            await vectors.search([0] * 8)
        with pytest.raises(GravixLayerNotFoundError):
            await vectors.upsert([0] * 8)
