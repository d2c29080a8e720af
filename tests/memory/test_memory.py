"""Memory (spec §7) through the SDK, sync and async, against a real Local: the seed example and D39-D45."""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

import gravixlayer.resources.vectors.indexes as indexes_module
from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer._exceptions import (
    GravixLayerNotFoundError,
    GravixLayerServerError,
    GravixLayerValidationError,
)
from gravixlayer.local import LocalServer
from gravixlayer.resources.memory import AsyncMemory, Memory
from gravixlayer.types.memory import MemoryAddResult, MemoryDeleteResult, MemoryItem, MemoryResults

from .conftest import INFERENCE, KEY, SEED_EMBEDDING, SMALL_EMBEDDING, Proxy, call, memory_for, unique_index


async def test_seed_example(api: Any) -> None:
    """The seed's snippets as written; the search (threshold 0.5) answers the Python preference first."""
    memory = await call(
        api.memory(
            embedding_model="microsoft/multilingual-e5-large",
            inference_model="qwen/qwen-2.5-vl-7b-instruct",
            index_name=unique_index(),
            cloud_provider="aws",
            region="us-east-1",
            delete_protection=False,
        )
    )
    added = await call(memory.add("I prefer coding in Python", "user-123"))
    assert isinstance(added, MemoryAddResult) and [e.memory for e in added] == ["I prefer coding in Python"]
    inferred = await call(memory.add([
        {"role": "user", "content": "I like Python"},
        {"role": "assistant", "content": "Noted."}
    ], "user-123"))  # fmt: skip
    assert [e.memory for e in inferred] == ["I like Python"]  # extracted by the inference model, not raw text

    results = await call(memory.search(query="What is my preferred language?", user_id="user-123", limit=10,
                                       threshold=0.5))  # fmt: skip
    assert isinstance(results, MemoryResults)
    # both memories state the preference: which ranks first is the embedding model's call
    # (MiniLM: "I like Python" 0.61, "I prefer coding in Python" 0.53)
    assert {r.memory for r in results.results} == {"I prefer coding in Python", "I like Python"}
    assert all(r.score is not None and r.score >= 0.5 for r in results.results)
    everything = await call(memory.search("What is my preferred language?", "user-123"))
    assert {r.memory for r in everything} == {"I prefer coding in Python", "I like Python"}
    assert everything[0].score >= everything[1].score

    history = await call(memory.get_all("user-123", limit=100))
    assert sorted(m.memory for m in history) == ["I like Python", "I prefer coding in Python"]
    memory_id = results.results[0].id
    item = await call(memory.get(memory_id, "user-123"))
    assert isinstance(item, MemoryItem) and item.memory == results.results[0].memory and item.score is None
    updated = await call(memory.update(memory_id, "user-123", "Updated content"))
    assert updated.memory == "Updated content" and updated.updated_at > updated.created_at
    assert (await call(memory.get(memory_id, "user-123"))).memory == "Updated content"
    deleted = await call(memory.delete(memory_id, "user-123"))
    assert isinstance(deleted, MemoryDeleteResult) and deleted.deleted_count == 1
    assert await call(memory.get(memory_id, "user-123")) is None
    cleared = await call(memory.delete_all("user-123"))
    assert cleared.deleted_count == 1 and len(await call(memory.get_all("user-123"))) == 0
    await call(api.vectors.indexes.delete(memory.index_id))


async def test_two_users_never_mix(api: Any) -> None:
    memory = await memory_for(api)
    alice = await call(memory.add("I prefer coding in Python", "alice"))
    bob = await call(memory.add("I prefer coding in Rust", "bob"))
    await call(memory.add("I live in Lisbon", "alice"))
    alice_id, bob_id = alice[0].id, bob[0].id

    found = await call(memory.search("Which language do I prefer?", "alice", limit=50))
    assert {r.user_id for r in found} == {"alice"} and "I prefer coding in Rust" not in [r.memory for r in found]
    assert {m.memory for m in await call(memory.get_all("bob"))} == {"I prefer coding in Rust"}

    assert await call(memory.get(bob_id, "alice")) is None  # indistinguishable from "does not exist"
    with pytest.raises(GravixLayerNotFoundError):
        await call(memory.update(bob_id, "alice", "I prefer coding in Java"))
    with pytest.raises(GravixLayerNotFoundError):
        await call(memory.delete(bob_id, "alice"))
    assert (await call(memory.get(bob_id, "bob"))).memory == "I prefer coding in Rust"  # untouched

    with pytest.raises(GravixLayerValidationError, match="user_id"):
        await call(memory.add("I am bob now", "alice", metadata={"user_id": "bob"}))
    with pytest.raises(GravixLayerValidationError):
        await call(memory.update(alice_id, "alice", "x", metadata={"content": "y"}))

    assert (await call(memory.delete_all("alice"))).deleted_count == 2
    assert len(await call(memory.get_all("alice"))) == 0
    assert [m.id for m in await call(memory.get_all("bob"))] == [bob_id]
    await call(api.vectors.indexes.delete(memory.index_id))


async def test_delete_all_removes_every_memory_however_many(api: Any) -> None:
    """2,500 memories (written in the shared record format, as another SDK would) all go; others stay."""
    count = 2500 if isinstance(api, GravixLayer) else 1200
    memory = await memory_for(api)
    keep = await call(memory.add("I prefer tea", "other-user"))
    await call(memory.add("I prefer coffee", "many"))  # creates the index through the memory API
    records = [
        {"id": f"m{i}", "text": f"fact number {i}", "model": SMALL_EMBEDDING,
         "metadata": {"user_id": "many", "content": f"fact number {i}", "memory_type": "factual",
                      "created_at": f"2024-01-01T00:00:{i % 60:02d}+00:00", "updated_at": "2024-01-01T00:00:00+00:00",
                      "importance_score": 0.5}}
        for i in range(count - 1)
    ]  # fmt: skip
    await call(api.vectors.index(memory.index_id).upsert_text_many(records, SMALL_EMBEDDING))
    listed = await call(memory.get_all("many", limit=None))
    assert len(listed) == count and {m.user_id for m in listed} == {"many"}
    assert len(await call(memory.get_all("many"))) == 100  # the default limit
    result = await call(memory.delete_all("many"))
    assert result.deleted_count == count and result.message == f"Deleted {count} memories for user many"
    assert len(await call(memory.get_all("many", limit=None))) == 0
    assert [m.id for m in await call(memory.get_all("other-user"))] == [keep[0].id]
    await call(api.vectors.indexes.delete(memory.index_id))


async def test_infer_extracts_atomic_first_person_memories(api: Any) -> None:
    memory = await memory_for(api)
    conversation = [
        {"role": "user", "content": "Hi! My name is Ana. I live in Lisbon and I love hiking. What's the weather?"},
        {"role": "assistant", "content": "I am an assistant and I like helping."},
        {"role": "user", "content": "I will learn Rust next year."},
    ]
    added = await call(memory.add(conversation, "ana", metadata={"session": "s1"}))
    assert [e.memory for e in added] == ["My name is Ana", "I live in Lisbon and I love hiking",
                                         "I will learn Rust next year"]  # fmt: skip
    stored = {m.memory: m for m in await call(memory.get_all("ana"))}
    assert set(stored) == {e.memory for e in added}  # nothing the assistant said
    rust = stored["I will learn Rust next year"]
    assert rust.memory_type == "factual" and rust.hash and len(rust.hash) == 64
    assert rust.metadata["inferred"] is True and rust.metadata["source"] == "inference"
    assert rust.metadata["category"] == "decisions" and rust.metadata["importance_score"] == 0.8
    assert rust.metadata["inference_model"] == INFERENCE and rust.metadata["session"] == "s1"
    assert rust.created_at.utcoffset() == timedelta(0)  # timezone-aware UTC (D45)

    raw = await call(memory.add(conversation[:2], "ana", infer=False))
    assert len(raw) == 1 and raw[0].memory_type == "episodic"
    assert raw[0].memory.startswith("Conversation:\nUSER: Hi! My name is Ana.")
    assert "ASSISTANT: I am an assistant" in raw[0].memory
    await call(api.vectors.indexes.delete(memory.index_id))


@pytest.mark.parametrize(
    "answer",
    ["Sure! I could not find anything.", '[{"content": 5}]', '[{"content": "x", "importance": 7}]',
     '{"memories": "none"}', '[{"content": "x", "memory_type": "gossip"}]'],
)
async def test_an_unusable_extraction_falls_back_to_one_episodic_memory(
    proxied: tuple[Any, Proxy], answer: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    client, proxy = proxied

    def chat(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/chat/completions"):
            return httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant",
                                                                                   "content": answer}}]})  # fmt: skip
        return None

    proxy.override = chat
    memory = await memory_for(client)
    with caplog.at_level(logging.WARNING, logger="gravixlayer.memory"):
        added = await call(memory.add([{"role": "user", "content": "I like jazz"}], "u1"))
    assert len(added) == 1 and added[0].memory_type == "episodic" and added[0].memory == "Conversation:\nUSER: I like jazz"
    assert any("unusable" in record.getMessage() for record in caplog.records)
    stored = (await call(memory.get_all("u1")))[0]
    assert stored.metadata["source"] == "extraction_fallback"
    assert capsys.readouterr().out == ""  # never printed (D39)
    await call(client.vectors.indexes.delete(memory.index_id))


async def test_a_failed_inference_call_raises_and_stores_nothing(proxied: tuple[Any, Proxy]) -> None:
    client, proxy = proxied
    proxy.override = lambda r: httpx.Response(500, json={"error": "down"}) if "chat" in r.url.path else None
    memory = await memory_for(client)
    with pytest.raises(GravixLayerServerError):
        await call(memory.add([{"role": "user", "content": "I like jazz"}], "u1"))
    assert not [p for m, p in proxy.requests if "batch" in p or "upsert" in p]
    assert await call(memory.search("jazz", "u1")) is not None


async def test_reads_never_write_and_never_create_the_index(proxied: tuple[Any, Proxy]) -> None:
    client, proxy = proxied
    memory = await memory_for(client)
    assert len(await call(memory.search("anything", "u1"))) == 0  # no index yet: empty, not created
    assert await call(memory.get("nope", "u1")) is None
    assert len(await call(memory.get_all("u1"))) == 0
    assert proxy.writes() == []
    added = await call(memory.add("I prefer green tea", "u1"))
    before = await call(memory.get(added[0].id, "u1"))
    proxy.requests.clear()
    for _ in range(3):
        await call(memory.search("tea", "u1", limit=5))
        await call(memory.get(added[0].id, "u1"))
        await call(memory.get_all("u1"))
    assert proxy.writes() == []  # no access-count PUTs (D40)
    assert (await call(memory.get(added[0].id, "u1"))).to_dict() == before.to_dict()
    await call(client.vectors.indexes.delete(memory.index_id))


async def test_the_index_is_found_across_pages_and_created_once(
    proxied: tuple[Any, Proxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, proxy = proxied
    monkeypatch.setattr(indexes_module, "LIST_PAGE_SIZE", 2)
    name = unique_index()
    first = await memory_for(client, name)
    await call(first.add("I prefer chess", "u1"))
    created = [r for r in proxy.requests if r == ("POST", "/v1/vectors/indexes")]
    assert len(created) == 1
    index = await call(client.vectors.indexes.get(first.index_id))
    assert (index.dimension, index.metric, index.name) == (384, "cosine", name)  # sized by asking the model
    assert index.metadata["type"] == "unified_memory_store" and index.metadata["embedding_model"] == SMALL_EMBEDDING
    others = [await call(client.vectors.indexes.create(unique_index(), 3, "cosine", "aws", "r")) for _ in range(5)]
    proxy.requests.clear()
    second = await memory_for(client, name)  # a fresh object: nothing cached
    await call(second.add("I prefer checkers", "u1"))
    assert second.index_id == first.index_id
    assert ("POST", "/v1/vectors/indexes") not in proxy.requests
    assert sum(1 for r in proxy.requests if r[1] == "/v1/vectors/indexes") >= 3  # read several pages
    assert len(await call(second.get_all("u1"))) == 2
    for other in others:
        await call(client.vectors.indexes.delete(other.id))
    await call(client.vectors.indexes.delete(first.index_id))


def test_concurrent_first_writes_make_one_index(mserver: LocalServer) -> None:
    name = unique_index()

    async def main() -> set[str | None]:
        async with AsyncGravixLayer(api_key=KEY, base_url=mserver.base_url) as client:
            memories = [await memory_for(client, name) for _ in range(4)]
            await asyncio.gather(*(m.add(f"I prefer option {i}", "u") for i, m in enumerate(memories)))
            listed = await client.vectors.indexes.list()
            assert [i.name for i in listed].count(name) == 1
            assert len(await memories[0].get_all("u")) == 4
            await client.vectors.indexes.delete(memories[0].index_id)
            return {m.index_id for m in memories}

    assert len(asyncio.run(main())) == 1


async def test_errors_are_raised_typed_and_nothing_is_printed(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    memory = await memory_for(api, embedding_model="no-such-embedding-model")
    with pytest.raises(GravixLayerNotFoundError, match="no-such-embedding-model"):
        await call(memory.add("I prefer tea", "u"))
    good = await memory_for(api)
    for bad in (lambda: good.add("", "u"), lambda: good.add("x", ""), lambda: good.search("", "u"),
                lambda: good.search("q", "u", limit=0), lambda: good.search("q", "u", threshold="high"),
                lambda: good.add([], "u"), lambda: good.add("x", "u", metadata={"created_at": "then"}),
                lambda: good.add("x", "u", metadata={"memory_type": "gossip"})):  # fmt: skip
        with pytest.raises(GravixLayerValidationError):
            await call(bad())
    with pytest.raises(GravixLayerNotFoundError):
        await call(good.delete("missing", "u"))
    assert capsys.readouterr().out == ""


async def test_get_all_is_a_listing_newest_first(api: Any) -> None:
    memory = await memory_for(api)
    texts = [f"I own {n} bicycles" if n % 2 else f"The number {n} is lucky for me" for n in range(30)]
    for text in texts:
        await call(memory.add(text, "lister", metadata={"memory_type": "semantic", "importance_score": 0.25}))
    everything = await call(memory.get_all("lister", limit=None))
    assert [m.memory for m in everything] == list(reversed(texts))
    assert all(m.memory_type == "semantic" and m.metadata["importance_score"] == 0.25 for m in everything)
    assert [m.memory for m in await call(memory.get_all("lister", limit=5))] == list(reversed(texts))[:5]
    frame = everything.to_pandas()
    assert list(frame["memory"])[:2] == [texts[-1], texts[-2]]
    await call(api.vectors.indexes.delete(memory.index_id))


async def test_get_all_downloads_only_the_users_memories_and_no_embeddings(proxied: tuple[Any, Proxy]) -> None:
    """get_all asks for this user's metadata only: its download grows neither with the embedding's size nor with
    other users' memories (it used to fetch every vector of the index with its values: 6.7 MB for 75 of 300)."""
    client, proxy = proxied
    memory = await memory_for(client, embedding_model=SEED_EMBEDDING)  # 1024 dimensions
    for n in range(20):
        await call(memory.add(f"I keep {n} plants on the balcony", "gardener"))
        await call(memory.add(f"I read {n} books a year", "reader"))
    proxy.downloaded = 0
    await call(client.vectors.index(memory.index_id).list())  # every vector with its values
    whole_index = proxy.downloaded
    proxy.requests.clear()
    proxy.downloaded = 0
    mine = await call(memory.get_all("gardener", limit=None))
    assert sorted(m.memory for m in mine) == sorted(f"I keep {n} plants on the balcony" for n in range(20))
    assert proxy.requests == [("POST", f"/v1/vectors/{memory.index_id}/search")]  # one request, no fetches
    assert proxy.downloaded < 2048 * len(mine)  # one 1024-d embedding alone is over 5 KB of JSON
    assert proxy.downloaded * 20 < whole_index
    await call(client.vectors.indexes.delete(memory.index_id))


def test_vendor_written_memories_are_readable(mserver: LocalServer) -> None:
    """A record as the vendor's sync SDK wrote it (naive local timestamps, access_count) reads back."""
    with GravixLayer(api_key=KEY, base_url=mserver.base_url) as client:
        memory = client.memory(SMALL_EMBEDDING, INFERENCE, unique_index(), "AWS", "us-east-1")
        memory.add("I prefer maps", "v")
        assert memory.index_id is not None
        client.vectors.index(memory.index_id).upsert_text(
            "User prefers dark mode", SMALL_EMBEDDING, id="vendor-1",
            metadata={"memory_type": "factual", "user_id": "v", "created_at": "2024-05-01T10:00:00",
                      "updated_at": "2024-05-01T10:00:00", "importance_score": 1.0, "access_count": 0,
                      "content": "User prefers dark mode"},
        )  # fmt: skip
        item = memory.get("vendor-1", "v")
        assert item is not None and item.memory == "User prefers dark mode" and item.created_at.year == 2024
        assert [m.id for m in memory.get_all("v")][-1] == "vendor-1"  # oldest last
        found = memory.search("dark mode", "v", limit=1)
        assert found[0].id == "vendor-1"
        client.vectors.indexes.delete(memory.index_id)


def test_sync_and_async_memory_are_twins() -> None:
    names = [n for n, m in inspect.getmembers(Memory) if not n.startswith("_") and inspect.isfunction(m)]
    assert sorted(names) == ["add", "delete", "delete_all", "get", "get_all", "search", "update"]
    for name in names:
        sync, asynchronous = getattr(Memory, name), getattr(AsyncMemory, name)
        assert inspect.iscoroutinefunction(asynchronous) and not inspect.iscoroutinefunction(sync)
        assert inspect.signature(sync) == inspect.signature(asynchronous), name
        assert sync.__doc__ == asynchronous.__doc__, name
    factory = inspect.signature(GravixLayer.memory).parameters
    assert factory == inspect.signature(AsyncGravixLayer.memory).parameters


async def test_await_client_memory_gives_the_memory(mserver: LocalServer) -> None:
    async with AsyncGravixLayer(api_key=KEY, base_url=mserver.base_url) as client:
        direct = client.memory(SEED_EMBEDDING, INFERENCE, "x", "aws", "us-east-1")
        awaited = await client.memory(SEED_EMBEDDING, INFERENCE, "x", "aws", "us-east-1")
        assert isinstance(direct, AsyncMemory) and isinstance(awaited, AsyncMemory)
        assert await direct is direct
        assert "index_name='x'" in repr(awaited)


async def test_a_deleted_memory_index_is_made_again_on_the_next_add(api: Any) -> None:
    memory = await memory_for(api)
    await call(memory.add("I prefer tea", "u"))
    first = memory.index_id
    await call(api.vectors.indexes.delete(first))
    assert len(await call(memory.search("tea", "u"))) == 0  # gone with its index, not an error
    assert len(await call(memory.get_all("u"))) == 0
    await call(memory.add("I prefer coffee", "u"))
    assert memory.index_id is not None and memory.index_id != first
    assert [m.memory for m in await call(memory.get_all("u"))] == ["I prefer coffee"]
    await call(api.vectors.indexes.delete(memory.index_id))
