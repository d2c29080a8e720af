"""Local's vector answers, read raw: exactly the keys of spec §6 / decision 16-17, and 4xx (never 500) for mistakes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gravixlayer.local import LocalServer

from .conftest import KEY_A, KEY_B, TEXT_DIM, TEXT_MODEL

INDEX_KEYS = {"id", "name", "dimension", "metric", "vector_type", "cloud_provider", "region", "index_type",
              "delete_protection", "created_at", "metadata", "updated_at", "status"}  # fmt: skip
VECTOR_KEYS = {"id", "embedding", "metadata", "delete_protection", "created_at", "updated_at"}
SINGLE_UPSERT_KEYS = {"upserted_count", "failed_count", "errors", "ids", "count"}
BATCH_UPSERT_KEYS = {"upserted_count", "failed_count", "errors"}


@pytest.fixture(scope="module")
def raw(vserver: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{vserver.base_url}/v1/vectors", headers={"Authorization": f"Bearer {KEY_A}"},
                      timeout=30) as client:  # fmt: skip
        yield client


@pytest.fixture(scope="module")
def index(raw: httpx.Client) -> Iterator[dict[str, Any]]:
    body = {"name": f"wire-{uuid.uuid4().hex[:8]}", "dimension": 3, "metric": "cosine", "vector_type": "dense",
            "cloud_provider": "AWS", "region": "us-east-1", "index_type": "serverless", "metadata": {},
            "delete_protection": False}  # fmt: skip
    response = raw.post("/indexes", json=body)
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    yield created
    raw.delete(f"/indexes/{created['id']}")


def test_index_objects_have_exactly_the_documented_keys(raw: httpx.Client, index: dict[str, Any]) -> None:
    assert set(index) == INDEX_KEYS
    assert index["status"] == "ready" and index["updated_at"] is None and index["metadata"] == {}
    assert set(raw.get(f"/indexes/{index['id']}").json()) == INDEX_KEYS
    listed = raw.get("/indexes", params={"page": 1, "page_size": 1000}).json()
    assert set(listed) == {"indexes", "pagination"}
    assert set(listed["pagination"]) == {"page", "page_size", "total"}
    assert all(set(item) == INDEX_KEYS for item in listed["indexes"])
    updated = raw.put(f"/indexes/{index['id']}", json={"metadata": {"a": 1}})
    assert updated.status_code == 200 and set(updated.json()) == INDEX_KEYS


def test_vector_answers_have_exactly_the_documented_keys(raw: httpx.Client, index: dict[str, Any]) -> None:
    iid = index["id"]
    single = raw.post(f"/{iid}/upsert", json={"vectors": [{"embedding": [1, 0, 0], "metadata": {"m": 1}}]})
    assert single.status_code == 200 and set(single.json()) == SINGLE_UPSERT_KEYS
    assert single.json()["upserted_count"] == 1 and single.json()["count"] == 1
    new_id = single.json()["ids"][0]
    uuid.UUID(new_id)
    batch = raw.post(f"/{iid}/batch", json={"vectors": [{"id": "b1", "embedding": [0, 1, 0]},
                                                        {"id": "b2", "embedding": [0, 0, 1]}]})  # fmt: skip
    assert batch.json() == {"upserted_count": 2, "failed_count": 0, "errors": []}
    vector = raw.get(f"/{iid}/{new_id}").json()
    assert set(vector) == VECTOR_KEYS and vector["metadata"] == {"m": 1}
    fetched = raw.get(f"/{iid}/fetch", params={"vector_ids": f"b2,{new_id},nope"}).json()
    assert set(fetched) == {"vectors"} and [v["id"] for v in fetched["vectors"]] == ["b2", new_id]
    assert all(set(v) == VECTOR_KEYS for v in fetched["vectors"])
    assert raw.get(f"/{iid}/list").json() == {"vector_ids": [new_id, "b1", "b2"], "count": 3}
    assert set(raw.put(f"/{iid}/b1", json={"metadata": {"x": 2}}).json()) == VECTOR_KEYS

    plain = raw.post(f"/{iid}/search", json={"vector": [1, 0, 0], "top_k": 2, "include_metadata": False,
                                             "include_values": False}).json()  # fmt: skip
    assert set(plain) == {"hits", "query_time_ms"} and all(set(h) == {"id", "score"} for h in plain["hits"])
    assert isinstance(plain["query_time_ms"], float)
    full = raw.post(f"/{iid}/search", json={"vector": [1, 0, 0], "top_k": 3, "include_metadata": True,
                                            "include_values": True}).json()  # fmt: skip
    assert all(set(h) == {"id", "score", "values", "metadata"} for h in full["hits"])
    deleted = raw.post(f"/{iid}/delete", json={"vector_ids": ["b1", "b2", "ghost"]}).json()
    assert deleted == {"deleted_ids": ["b1", "b2"], "deleted_count": 2}


def test_text_answers_carry_usage(raw: httpx.Client) -> None:
    made = raw.post("/indexes", json={"name": f"wt-{uuid.uuid4().hex[:8]}", "dimension": TEXT_DIM, "metric": "cosine",
                                      "cloud_provider": "gravix", "region": "gl-eu-west1"}).json()  # fmt: skip
    assert made["cloud_provider"] == "Gravix" and made["index_type"] == "serverless"
    iid = made["id"]
    single = raw.post(f"/{iid}/text/upsert", json={"vectors": [{"text": "hello there", "model": TEXT_MODEL}]}).json()
    assert set(single) == SINGLE_UPSERT_KEYS | {"usage"}
    assert single["usage"]["prompt_tokens"] == single["usage"]["total_tokens"] > 0
    batch = raw.post(f"/{iid}/text/batch", json={"vectors": [{"text": "a b c", "model": TEXT_MODEL, "id": "t"}]})
    assert set(batch.json()) == BATCH_UPSERT_KEYS | {"usage"}
    found = raw.post(f"/{iid}/search/text", json={"query": "hello", "model": TEXT_MODEL, "top_k": 5,
                                                  "include_metadata": True, "include_values": False}).json()  # fmt: skip
    assert set(found) == {"hits", "query_time_ms", "usage"} and found["hits"][0]["id"] == single["ids"][0]
    raw.delete(f"/indexes/{iid}")


@pytest.mark.parametrize(
    "method,path,body,status,code",
    [
        ("post", "/indexes", {"name": "x", "dimension": 3, "metric": "l1", "cloud_provider": "AWS", "region": "r"},
         400, "invalid_request"),
        ("post", "/indexes", {"name": "x", "dimension": 2001, "metric": "cosine", "cloud_provider": "AWS",
                              "region": "r"}, 400, "invalid_request"),
        ("post", "/indexes", {"name": "x", "dimension": "3", "metric": "cosine", "cloud_provider": "AWS",
                              "region": "r"}, 400, "invalid_request"),
        ("post", "/indexes", {"dimension": 3, "metric": "cosine", "cloud_provider": "AWS", "region": "r"},
         400, "invalid_request"),
        ("post", "/indexes", {"name": "x", "dimension": 3, "metric": "cosine", "cloud_provider": "IBM",
                              "region": "r"}, 400, "invalid_request"),
        ("post", "/indexes", [1, 2], 400, "invalid_json"),
        ("get", "/indexes?page_size=1001", None, 400, "invalid_request"),
        ("get", "/indexes?page=zero", None, 400, "invalid_request"),
        ("get", "/indexes/not-an-index", None, 404, "not_found"),
        ("post", "/{iid}/upsert", {}, 400, "invalid_request"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": [1, 2]}]}, 400, "dimension_mismatch"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": ["a", 1, 2]}]}, 400, "invalid_request"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": [True, 1, 2]}]}, 400, "invalid_request"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": [1, 2, 3], "metadata": [1]}]}, 400, "invalid_request"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": [1e39, 2, 3]}]}, 400, "invalid_request"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": [10**400, 2, 3]}]}, 400, "invalid_request"),
        ("post", "/{iid}/search", {"vector": [1, None, 3]}, 400, "invalid_request"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": [1, 2, 3], "id": 5}]}, 400, "invalid_request"),
        ("post", "/{iid}/batch", {"vectors": [{"embedding": [1, 2, 3]}] * 1001}, 400, "invalid_request"),
        ("post", "/{iid}/search", {"vector": [1, 2, 3], "top_k": 0}, 400, "invalid_request"),
        ("post", "/{iid}/search", {"vector": [1, 2, 3], "top_k": 1001}, 400, "invalid_request"),
        ("post", "/{iid}/search", {"vector": [1, 2, 3], "filter": "x"}, 400, "invalid_request"),
        ("post", "/{iid}/search", {"top_k": 3}, 400, "invalid_request"),
        ("post", "/{iid}/search/text", {"query": "hi", "model": "nope"}, 404, "model_not_found"),
        ("post", "/{iid}/text/upsert", {"vectors": [{"text": "hi", "model": TEXT_MODEL}]}, 400, "dimension_mismatch"),
        ("post", "/{iid}/delete", {"vector_ids": []}, 400, "invalid_request"),
        ("post", "/{iid}/delete", {"vector_ids": [1]}, 400, "invalid_request"),
        ("put", "/{iid}/missing-vector", {"metadata": {}}, 404, "not_found"),
        ("put", "/{iid}/some-vector", {}, 400, "invalid_request"),
        ("get", "/{iid}/missing-vector", None, 404, "not_found"),
        ("post", "/00000000-0000-4000-8000-000000000000/upsert", {"vectors": [{"embedding": [1]}]}, 404, "not_found"),
        ("put", "/indexes/{iid}", {}, 400, "invalid_request"),
    ],
)
def test_mistakes_are_4xx_with_the_error_shape(
    raw: httpx.Client, index: dict[str, Any], method: str, path: str, body: Any, status: int, code: str
) -> None:
    url = path.replace("{iid}", index["id"])
    response = raw.request(method.upper(), url, json=body) if body is not None else raw.request(method.upper(), url)
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error", "code"} and payload["code"] == code and payload["error"]


def test_malformed_json_and_nan_are_400(raw: httpx.Client, index: dict[str, Any]) -> None:
    iid = index["id"]
    for content in (b"{not json", b"", b'{"vectors": [{"embedding": [NaN, 1, 2]}]}', b'"text"',
                    b'{"vectors": [{"embedding": [1, 2, 3], "metadata": {"x": Infinity}}]}', b"\xff\xfe"):
        response = raw.post(f"/{iid}/upsert", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 400, content
        assert response.json()["code"] in ("invalid_json", "invalid_request")


def test_conflicts_and_other_tenants(vserver: LocalServer, raw: httpx.Client, index: dict[str, Any]) -> None:
    duplicate = raw.post("/indexes", json={"name": index["name"], "dimension": 3, "metric": "cosine",
                                           "cloud_provider": "aws", "region": "r"})  # fmt: skip
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "conflict"
    with httpx.Client(base_url=f"{vserver.base_url}/v1/vectors", headers={"Authorization": f"Bearer {KEY_B}"}) as b:
        assert b.get(f"/indexes/{index['id']}").status_code == 404
        assert b.get(f"/{index['id']}/list").status_code == 404
        assert b.post(f"/{index['id']}/search", json={"vector": [1, 0, 0]}).status_code == 404
        assert b.post(f"/{index['id']}/delete", json={"vector_ids": ["b1"]}).status_code == 404
        assert index["id"] not in {i["id"] for i in b.get("/indexes").json()["indexes"]}
    with httpx.Client(base_url=f"{vserver.base_url}/v1/vectors") as anonymous:
        assert anonymous.get("/indexes").status_code == 401


NEW_INDEX = {"dimension": 3, "metric": "cosine"}
GOOD = {"embedding": [1, 2, 3]}


@pytest.mark.parametrize(
    "method,path,body,message",
    [
        ("post", "/indexes", {**NEW_INDEX, "dimension": "3"}, "dimension: must be an integer"),
        ("post", "/indexes", {**NEW_INDEX, "dimension": True}, "dimension: must be an integer"),
        ("post", "/indexes", {**NEW_INDEX, "dimension": 0}, "dimension: must be between 1 and 2000, got 0"),
        ("post", "/indexes", {**NEW_INDEX, "name": 5}, "name: must be a non-empty string"),
        ("post", "/indexes", {**NEW_INDEX, "metric": "l2"},
         "metric: must be one of cosine, euclidean, dot_product, got 'l2'"),
        ("post", "/indexes", {**NEW_INDEX, "delete_protection": "yes"}, "delete_protection: must be a boolean"),
        ("post", "/indexes", {**NEW_INDEX, "metadata": [1]}, "metadata: must be a JSON object"),
        ("post", "/indexes", {**NEW_INDEX, "cloud_provider": 7},
         "cloud_provider: must be one of AWS, GCP, Azure, Gravix (any case), got 7"),
        ("post", "/indexes", {**NEW_INDEX, "region": " "}, "region: must be a non-empty string"),
        ("post", "/indexes", {**NEW_INDEX, "vector_type": "sparse"},
         "vector_type: only 'dense' is supported, got 'sparse'"),
        ("post", "/indexes", {**NEW_INDEX, "index_type": "pod"},
         "index_type: must be one of serverless, dedicated, got 'pod'"),
        ("post", "/{iid}/upsert", {"vectors": "x"}, "vectors: must be a non-empty list"),
        ("post", "/{iid}/upsert", {"vectors": [GOOD, 5]}, "vectors[1]: must be a JSON object"),
        ("post", "/{iid}/upsert", {"vectors": [GOOD, {**GOOD, "id": 5}]}, "vectors[1].id: must be a non-empty string"),
        ("post", "/{iid}/batch", {"vectors": [{**GOOD, "delete_protection": "no"}]},
         "vectors[0].delete_protection: must be a boolean"),
        ("post", "/{iid}/batch", {"vectors": [{**GOOD, "metadata": "m"}]}, "vectors[0].metadata: must be a JSON object"),
        ("post", "/{iid}/upsert", {"vectors": [GOOD, {"id": "a"}]}, "vectors[1].embedding: field required"),
        ("post", "/{iid}/upsert", {"vectors": [{"embedding": "1,2,3"}]},
         "vectors[0].embedding: must be a non-empty list of numbers"),
        ("post", "/{iid}/text/upsert", {"vectors": [{"text": 5, "model": TEXT_MODEL}]},
         "vectors[0].text: must be a non-empty string"),
        ("post", "/{iid}/search", {"vector": [1, 2, 3], "top_k": "5"}, "top_k: must be an integer"),
        ("post", "/{iid}/search", {"vector": [1, 2, 3], "include_values": 1}, "include_values: must be a boolean"),
        ("post", "/{iid}/search", {"vector": [1, 2, 3], "filter": [1]}, "filter: must be a JSON object"),
        ("post", "/{iid}/search", {"top_k": 3}, "vector: field required"),
        ("post", "/{iid}/search/text", {"query": 5, "model": TEXT_MODEL}, "query: must be a non-empty string"),
        ("post", "/{iid}/delete", {"vector_ids": ["a", 5]}, "vector_ids[1]: must be a non-empty string"),
        ("put", "/{iid}/some-vector", {"delete_protection": "x"}, "delete_protection: must be a boolean"),
        ("put", "/indexes/{iid}", {"metadata": 3}, "metadata: must be a JSON object"),
    ],
)  # fmt: skip
def test_a_wrongly_typed_field_is_a_400_that_names_it(
    raw: httpx.Client, index: dict[str, Any], method: str, path: str, body: dict[str, Any], message: str
) -> None:
    if path == "/indexes":
        body = {"name": f"typed-{uuid.uuid4().hex[:8]}", **body}
    response = raw.request(method.upper(), path.replace("{iid}", index["id"]), json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": message, "code": "invalid_request"}
