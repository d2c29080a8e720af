"""A user's memory program: remember, search, forget."""

from __future__ import annotations

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> None:
    memory = client.memory(
        embedding_model="microsoft/multilingual-e5-large",
        inference_model="qwen/qwen-2.5-vl-7b-instruct",
        index_name="user-memories",
        cloud_provider="aws",
        region="us-east-1",
    )
    memory.add("I prefer coding in Python", "user-123")
    found = memory.search("What is my preferred language?", "user-123", threshold=0.5)
    for result in found.results:
        print(result.memory, result.score)
    memory.delete_all("user-123")
