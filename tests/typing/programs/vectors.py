"""A user's vector program: create an index, upsert texts, search, clean up."""

from __future__ import annotations

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> None:
    index = client.vectors.indexes.create(
        name="docs", dimension=1024, metric="cosine", cloud_provider="aws", region="us-east-1"
    )
    vectors = client.vectors.index(index.id)
    vectors.upsert_text(text="Hello world", model="microsoft/multilingual-e5-large", id="doc-1")
    for hit in vectors.search_text(query="Hello", model="microsoft/multilingual-e5-large", limit=5).hits:
        score: float = hit.score
        print(hit.id, score, hit.metadata)
    for existing in client.vectors.indexes.list():
        print(existing.name, existing.dimension)
    for lazy in client.vectors.indexes.iter(page_size=50):
        if lazy.name == "docs":
            break
    print(client.vectors.indexes.iter().to_pandas().shape)
    vectors.delete_all()
    client.vectors.indexes.delete(index.id)
