"""A user's batch embedding program: embed many texts, get float vectors (and a numpy matrix)."""

from __future__ import annotations

from typing_extensions import assert_type

from gravixlayer import GravixLayer
from gravixlayer.types.embeddings import CreateEmbeddingResponse


def main(client: GravixLayer, texts: list[str]) -> list[list[float]]:
    response = client.embeddings.create(model="microsoft/multilingual-e5-large", input=texts)
    assert_type(response, CreateEmbeddingResponse)
    vectors = [item.embedding for item in response.data]
    assert_type(vectors, list[list[float]])
    one = client.embeddings.create(model="m", input="one text", encoding_format="float", dimensions=256)
    print(len(one.data[0].embedding), one.usage)
    return vectors
