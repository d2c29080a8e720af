"""A raw-HTTP RAG example: index created with only name, dimension and metric, then embed, upsert, search."""

from __future__ import annotations

import uuid

import httpx

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

DOCS = {
    "d1": "GravixLayer Local runs the API offline on your machine.",
    "d2": "Bananas are a good source of potassium.",
    "d3": "Sandboxes run code as separate processes with resource limits.",
}


def test_raw_http_rag(program_env: LocalServer) -> None:
    base, key = program_env.base_url, program_env.api_key
    # --- the program, unchanged ---
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        created = http.post(
            "/v1/vectors/indexes",
            json={"name": f"rag-docs-{uuid.uuid4().hex[:8]}", "dimension": 1024, "metric": "cosine"},
        )
        created.raise_for_status()
        index = created.json()
        emb = http.post(
            "/v1/inference/embeddings",
            json={"model": "microsoft/multilingual-e5-large", "input": list(DOCS.values())},
        ).json()
        vectors = [
            {"id": doc_id, "embedding": item["embedding"], "metadata": {"text": text}}
            for (doc_id, text), item in zip(DOCS.items(), emb["data"], strict=True)
        ]
        upserted = http.post(f"/v1/vectors/{index['id']}/batch", json={"vectors": vectors}).json()
        query = http.post(
            "/v1/inference/embeddings",
            json={"model": "microsoft/multilingual-e5-large", "input": "How do I run the API without internet?"},
        ).json()["data"][0]["embedding"]
        hits = http.post(
            f"/v1/vectors/{index['id']}/search", json={"vector": query, "top_k": 2, "include_metadata": True}
        ).json()["hits"]
    # --- what it must have seen ---
    assert created.status_code == 201
    assert (index["cloud_provider"], index["region"], index["index_type"]) == ("AWS", "us-east-1", "serverless")
    assert upserted["upserted_count"] == 3
    assert hits[0]["id"] == "d1" and hits[0]["metadata"]["text"] == DOCS["d1"]


def test_sdk_index_with_only_name_dimension_metric(program_env: LocalServer) -> None:
    with GravixLayer() as client:
        index = client.vectors.indexes.create(name=f"plain-{uuid.uuid4().hex[:8]}", dimension=3, metric="cosine")
        try:
            assert (index.cloud_provider, index.region) == ("AWS", "us-east-1")
        finally:
            client.vectors.indexes.delete(index.id)
