"""The vectors SDK against scripted servers: request counts, retries, paging and answers the vendor's API may give."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import gravixlayer._base_client as base_client
from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerPermissionDeniedError,
    GravixLayerResponseValidationError,
    GravixLayerServerError,
)
from tests.core.scripted import Script, json_response

from .conftest import call

INDEX = {"id": "idx-1", "name": "n", "dimension": 3, "metric": "cosine", "vector_type": "dense",
         "cloud_provider": "AWS", "region": "r", "index_type": "serverless", "delete_protection": False,
         "created_at": "2025-01-01T00:00:00Z", "metadata": {}, "updated_at": None, "status": "ready"}  # fmt: skip
UPSERTED = {"upserted_count": 1, "failed_count": 0, "errors": [], "ids": ["srv-1"], "count": 1}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base_client, "retry_delay", lambda attempt, headers=None: 0.0)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Scripted:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def client(self, script: Script) -> Any:
        if self.kind == "sync":
            return GravixLayer(api_key="k", base_url="http://api.test", http_client=script.sync_client())
        return AsyncGravixLayer(api_key="k", base_url="http://api.test", http_client=script.async_client())


@pytest.fixture
async def make(kind: str) -> AsyncIterator[Any]:
    made: list[Any] = []

    def build(*reactions: Any) -> tuple[Any, Script]:
        script = Script(*reactions)
        client = Scripted(kind).client(script)
        made.append(client)
        return client, script

    yield build
    for client in made:
        await call(client.close())


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_single_upsert_is_one_request_and_returns_the_server_id(make: Any) -> None:
    client, script = make(json_response(200, UPSERTED))
    vector = await call(client.vectors.index("idx-1").upsert([1, 2, 3], metadata={"a": 1}))
    assert vector.id == "srv-1" and vector.embedding == [1, 2, 3] and vector.metadata == {"a": 1}
    assert [(r.method, r.url.path) for r in script.requests] == [("POST", "/v1/vectors/idx-1/upsert")]
    assert body(script.requests[0]) == {"vectors": [{"embedding": [1, 2, 3], "metadata": {"a": 1},
                                                     "delete_protection": False}]}  # fmt: skip


@pytest.mark.parametrize(
    "answer,expected",
    [
        ({"upserted_count": 1, "failed_count": 0, "errors": [], "vectors": [{"id": "from-vectors"}]}, "from-vectors"),
        ({"ids": ["node-style"], "count": 1}, "node-style"),
        ({"id": "vector-itself", "embedding": [1, 2, 3]}, "vector-itself"),
    ],
)
async def test_the_new_id_is_read_from_every_known_answer_shape(make: Any, answer: Any, expected: str) -> None:
    client, _ = make(json_response(200, answer))
    assert (await call(client.vectors.index("i").upsert([1, 2, 3]))).id == expected


async def test_an_answer_without_the_new_id_is_an_error_not_none(make: Any) -> None:
    client, script = make(json_response(200, {"upserted_count": 1, "failed_count": 0, "errors": []}))
    with pytest.raises(GravixLayerResponseValidationError, match="id"):
        await call(client.vectors.index("i").upsert([1, 2, 3]))
    assert len(script.requests) == 1  # no GET of /i/None


async def test_a_refused_upsert_in_a_2xx_raises(make: Any) -> None:
    client, _ = make(json_response(200, {"upserted_count": 0, "failed_count": 1, "errors": ["bad vector"]}))
    with pytest.raises(GravixLayerBadRequestError, match="bad vector"):
        await call(client.vectors.index("i").upsert_text("t", "m", id="x"))


async def test_upsert_without_id_is_not_retried_after_the_server_may_have_acted(make: Any) -> None:
    client, script = make(json_response(502, {"error": "bad gateway"}))
    with pytest.raises(GravixLayerServerError):
        await call(client.vectors.index("i").upsert([1, 2, 3]))
    assert len(script.requests) == 1
    client, script = make(json_response(502, {"error": "bad gateway"}), json_response(200, UPSERTED))
    assert (await call(client.vectors.index("i").upsert([1, 2, 3], id="mine"))).id == "mine"
    assert len(script.requests) == 2  # with its id, a repeat rewrites the same vector


async def test_a_retried_batch_resends_the_same_ids(make: Any) -> None:
    ok = {"upserted_count": 2, "failed_count": 0, "errors": []}
    client, script = make(json_response(503, {"error": "busy"}), json_response(200, ok))
    result = await call(client.vectors.index("i").upsert_many([[1, 2, 3], {"embedding": [4, 5, 6], "id": "keep"}]))
    first, second = (body(r) for r in script.requests)
    assert first == second and [v["id"] for v in first["vectors"]][1] == "keep"
    assert result.ids == [v["id"] for v in first["vectors"]] and result.upserted_count == 2


async def test_batches_are_split_at_the_server_limit(make: Any) -> None:
    def ok(request: httpx.Request) -> httpx.Response:
        n = len(body(request)["vectors"])
        return json_response(200, {"upserted_count": n, "failed_count": 0, "errors": [],
                                   "usage": {"prompt_tokens": n, "total_tokens": n}})  # fmt: skip

    client, script = make(ok, ok, ok)
    result = await call(client.vectors.index("i").upsert_text_many([f"text {i}" for i in range(2500)], "m"))
    assert [len(body(r)["vectors"]) for r in script.requests] == [1000, 1000, 500]
    assert all(r.url.path == "/v1/vectors/i/text/batch" for r in script.requests)
    assert result.upserted_count == 2500 and result.usage.total_tokens == 2500 and len(set(result.ids)) == 2500


async def test_an_invalid_item_stops_a_list_before_anything_is_sent(make: Any) -> None:
    client, script = make()
    with pytest.raises(ValueError, match=r"vectors\[1500\]"):
        await call(client.vectors.index("i").upsert_many([[1.0, 2.0]] * 1500 + [["x"]]))
    assert script.requests == []


async def test_index_list_reads_every_page(make: Any) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        items = [{**INDEX, "id": f"i{k}", "name": f"n{k}"} for k in range((number - 1) * size, min(number * size, 230))]
        return json_response(200, {"indexes": items, "pagination": {"page": number, "page_size": size, "total": 230}})

    client, script = make(page, page, page)
    listed = await call(client.vectors.indexes.list())
    assert [i.id for i in listed] == [f"i{k}" for k in range(230)]
    assert [r.url.params["page"] for r in script.requests] == ["1", "2", "3"]


async def test_index_list_stops_on_a_server_that_ignores_paging(make: Any) -> None:
    same = {"indexes": [INDEX], "pagination": {"page": 1, "page_size": 100, "total": 5}}
    client, script = make(json_response(200, same), json_response(200, same))
    assert len(await call(client.vectors.indexes.list())) == 1
    assert len(script.requests) == 2
    client, script = make(json_response(200, {"indexes": [INDEX]}))  # no pagination: everything at once
    assert len(await call(client.vectors.indexes.list())) == 1 and len(script.requests) == 1


async def test_a_partial_update_answer_is_completed_with_a_get(make: Any) -> None:
    client, script = make(json_response(200, {"message": "updated"}), json_response(200, {**INDEX, "metadata": {"x": 1}}))
    index = await call(client.vectors.indexes.update("idx-1", metadata={"x": 1}))
    assert index.metadata == {"x": 1}
    assert [r.method for r in script.requests] == ["PUT", "GET"]


async def test_force_delete_does_not_swallow_a_failed_unprotect(make: Any) -> None:
    client, script = make(json_response(403, {"error": "not yours"}))
    with pytest.raises(GravixLayerPermissionDeniedError):
        await call(client.vectors.indexes.delete("idx-1", force=True))
    assert [r.method for r in script.requests] == ["PUT"]  # the DELETE was not attempted


async def test_delete_all_keeps_going_on_a_server_that_lists_1000_at_a_time(make: Any) -> None:
    stored = [f"v{i}" for i in range(2500)]
    deletes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/list"):
            return json_response(200, {"vector_ids": stored[:1000], "count": min(len(stored), 1000)})
        ids = body(request)["vector_ids"]
        deletes.append(len(ids))
        for vid in ids:
            stored.remove(vid)
        return json_response(200, {"message": "ok"})  # count keys are not documented: may be absent

    client, script = make(*([handler] * 10))
    result = await call(client.vectors.index("i").delete_all())
    assert stored == [] and result.deleted_count == 2500 and deletes == [1000, 1000, 500]
    script.reactions.clear()


async def test_ids_are_url_encoded(make: Any) -> None:
    client, script = make(
        json_response(200, {"id": "a/b c", "embedding": [1.0], "metadata": None}),
        json_response(200, {"vectors": {"x,y": {"embedding": [1.0]}}}),  # the older object form
    )
    await call(client.vectors.index("idx 1").get("a/b c"))
    listed = await call(client.vectors.index("idx 1").list(vector_ids=["x,y"]))
    assert script.requests[0].url.raw_path == b"/v1/vectors/idx%201/a%2Fb%20c"
    assert script.requests[1].url.params["vector_ids"] == "x,y" and listed.ids == ["x,y"]


async def test_hits_iterate_best_first_whatever_the_server_order(make: Any) -> None:
    client, _ = make(json_response(200, {"hits": [{"id": "b", "score": 0.2}, {"id": "a", "score": 0.9},
                                                  {"id": "c", "score": 0.5}], "query_time_ms": 3}))  # fmt: skip
    result = await call(client.vectors.index("i").search([1, 2, 3]))
    assert [h.id for h in result] == ["a", "c", "b"] and result.query_time_ms == 3.0


async def test_list_reads_ids_then_bounded_fetches(make: Any) -> None:
    ids = [f"id-{i}" for i in range(250)] + ["x" * 1500, "y" * 1500, "z" * 1500]

    def fetch(request: httpx.Request) -> httpx.Response:
        asked = request.url.params["vector_ids"].split(",")
        return json_response(200, {"vectors": [{"id": i, "embedding": [0.0]} for i in asked]})

    client, script = make(json_response(200, {"vector_ids": ids, "count": len(ids)}), *([fetch] * 10))
    listed = await call(client.vectors.index("i").list())
    assert listed.ids == ids
    fetches = [r for r in script.requests if r.url.path.endswith("/fetch")]
    assert [len(r.url.params["vector_ids"].split(",")) for r in fetches] == [100, 100, 52, 1]
    assert all(len(str(r.url)) < 8000 for r in fetches)
    script.reactions.clear()


def test_sync_and_async_docstrings_match() -> None:
    import inspect

    from gravixlayer.resources import vectors as package
    from gravixlayer.resources.vectors import indexes, vectors

    for sync_cls, async_cls in ((package.Vectors, package.AsyncVectors), (indexes.Indexes, indexes.AsyncIndexes),
                                (vectors.IndexVectors, vectors.AsyncIndexVectors)):  # fmt: skip
        for name, member in inspect.getmembers(sync_cls, inspect.isfunction):
            if not name.startswith("_"):
                assert member.__doc__ and member.__doc__ == getattr(async_cls, name).__doc__, name


async def test_a_numpy_matrix_is_checked_once_and_sent_in_batches(make: Any) -> None:
    import numpy as np

    def ok(request: httpx.Request) -> httpx.Response:
        return json_response(200, {"upserted_count": len(body(request)["vectors"]), "failed_count": 0, "errors": []})

    client, script = make(ok, ok, ok)
    data = np.arange(2100 * 4, dtype=np.float32).reshape(2100, 4)
    result = await call(client.vectors.index("i").upsert_many(data, batch_size=1000))
    sent = [v for r in script.requests for v in body(r)["vectors"]]
    assert [len(body(r)["vectors"]) for r in script.requests] == [1000, 1000, 100]
    assert [v["embedding"] for v in sent] == data.tolist() and [v["id"] for v in sent] == result.ids
    bad = data.copy()
    bad[1500, 2] = np.inf
    client, script = make()
    with pytest.raises(ValueError, match=r"vectors\[1500\]"):
        await call(client.vectors.index("i").upsert_many(bad))
    with pytest.raises(ValueError, match="2-D array of numbers"):
        await call(client.vectors.index("i").upsert_many(np.array([["a", "b"]])))
    assert script.requests == []  # refused before anything was sent
