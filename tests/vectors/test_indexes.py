"""Index CRUD through the SDK (sync and async) against a real Local."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import gravixlayer.resources.vectors.indexes as indexes_module
from gravixlayer import GravixLayer
from gravixlayer._exceptions import (
    GravixLayerConflictError,
    GravixLayerNotFoundError,
    GravixLayerValidationError,
)
from gravixlayer.types.vectors import VectorIndex, VectorIndexList

from .conftest import call, make_index, unique


async def test_seed_create_then_get_update_delete(api: Any) -> None:
    name = unique("my-index")
    index = await call(
        api.vectors.indexes.create(
            name=name, dimension=1024, metric="cosine", cloud_provider="aws", region="us-east-1", vector_type="dense"
        )
    )
    assert isinstance(index, VectorIndex)
    assert (index.name, index.dimension, index.metric, index.cloud_provider) == (name, 1024, "cosine", "AWS")
    assert (index.region, index.index_type, index.vector_type, index.delete_protection) == (
        "us-east-1", "serverless", "dense", False,
    )  # fmt: skip
    assert index.created_at and index.status == "ready" and index.metadata == {}

    got = await call(api.vectors.indexes.get(index.id))
    assert got.to_dict() == index.to_dict()

    updated = await call(api.vectors.indexes.update(index.id, metadata={"team": "search"}, delete_protection=True))
    assert updated.metadata == {"team": "search"} and updated.delete_protection is True
    assert updated.updated_at is not None and updated.created_at == index.created_at

    with pytest.raises(GravixLayerConflictError) as refused:
        await call(api.vectors.indexes.delete(index.id))
    assert refused.value.status_code == 409
    assert (await call(api.vectors.indexes.get(index.id))).id == index.id  # still there

    assert await call(api.vectors.indexes.delete(index.id, force=True)) is None
    with pytest.raises(GravixLayerNotFoundError):
        await call(api.vectors.indexes.get(index.id))
    with pytest.raises(GravixLayerNotFoundError):
        await call(api.vectors.indexes.delete(index.id))


async def test_duplicate_name_is_a_conflict(api: Any) -> None:
    index = await make_index(api)
    with pytest.raises(GravixLayerConflictError):
        await make_index(api, name=index.name)
    await call(api.vectors.indexes.delete(index.id))


@pytest.mark.parametrize("spelling,wire", [("dot_product", "dot_product"), ("dotproduct", "dot_product"),
                                           ("EUCLIDEAN", "euclidean"), ("cosine", "cosine")])  # fmt: skip
async def test_metric_spellings(api: Any, spelling: str, wire: str) -> None:
    index = await make_index(api, metric=spelling)
    assert index.metric == wire
    await call(api.vectors.indexes.delete(index.id))


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"metric": "manhattan"}, "metric"),
        ({"dimension": 0}, "dimension"),
        ({"dimension": 2001}, "dimension"),
        ({"cloud_provider": "oracle"}, "cloud_provider"),
        ({"index_type": "hnsw"}, "index_type"),
        ({"vector_type": "sparse"}, "vector_type"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
    ],
)
def test_bad_arguments_are_refused_before_sending(kwargs: dict[str, Any], fragment: str) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    transport = httpx.MockTransport(never)
    with GravixLayer(api_key="k", base_url="http://test", http_client=httpx.Client(transport=transport)) as c:
        args = {"name": "n", "dimension": 4, "metric": "cosine", "cloud_provider": "aws", "region": "r", **kwargs}
        with pytest.raises(GravixLayerValidationError, match=fragment):
            c.vectors.indexes.create(**args)


async def test_cloud_and_region_default_to_the_client(vserver: Any) -> None:
    from gravixlayer import AsyncGravixLayer

    from .conftest import KEY_A

    async with AsyncGravixLayer(api_key=KEY_A, base_url=vserver.base_url, cloud="gcp", region="us-central1") as c:
        index = await c.vectors.indexes.create(name=unique(), dimension=3)
        assert (index.cloud_provider, index.region, index.metric) == ("GCP", "us-central1", "cosine")
        await c.vectors.indexes.delete(index.id)


async def test_list_reads_every_page(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes_module, "LIST_PAGE_SIZE", 2)
    made = [await make_index(api) for _ in range(5)]
    listed = await call(api.vectors.indexes.list())
    assert isinstance(listed, VectorIndexList)
    ids = [index.id for index in listed]
    assert len(ids) == len(set(ids)) >= 5
    assert {index.id for index in made} <= set(ids)
    assert listed.indexes == listed.data and len(listed) == len(ids)
    found = await call(api.vectors.indexes.find(made[-1].name))
    assert found is not None and found.id == made[-1].id
    assert await call(api.vectors.indexes.find(unique("absent"))) is None
    for index in made:
        await call(api.vectors.indexes.delete(index.id))
    frame = listed.to_pandas()
    assert list(frame["id"]) == ids


def test_tenants_never_see_each_other(sync_a: GravixLayer, sync_b: GravixLayer) -> None:
    index = sync_a.vectors.indexes.create(name=unique("shared"), dimension=3, cloud_provider="aws", region="r")
    assert index.id not in {i.id for i in sync_b.vectors.indexes.list()}
    with pytest.raises(GravixLayerNotFoundError):
        sync_b.vectors.indexes.get(index.id)
    with pytest.raises(GravixLayerNotFoundError):
        sync_b.vectors.indexes.update(index.id, metadata={"x": 1})
    with pytest.raises(GravixLayerNotFoundError):
        sync_b.vectors.indexes.delete(index.id)
    theirs = sync_b.vectors.index(index.id)
    with pytest.raises(GravixLayerNotFoundError):
        theirs.upsert([1, 2, 3], id="v")
    with pytest.raises(GravixLayerNotFoundError):
        theirs.search([1, 2, 3])
    with pytest.raises(GravixLayerNotFoundError):
        theirs.list_ids()
    # The same name is free in another tenant.
    twin = sync_b.vectors.indexes.create(name=index.name, dimension=3, cloud_provider="aws", region="r")
    assert twin.id != index.id
    sync_a.vectors.index(index.id).upsert([1, 0, 0], id="only-a")
    assert sync_b.vectors.index(twin.id).list_ids().data == []
    sync_a.vectors.indexes.delete(index.id)
    sync_b.vectors.indexes.delete(twin.id)
