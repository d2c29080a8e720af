"""Live smoke test: the SDK reference's snippets against the real GravixLayer service.

This is the reference's "manual verification" step (its `python test.py`), as a test:

    GRAVIXLAYER_API_KEY=... pytest -m live

It is not part of the default run (`pytest`'s configuration deselects `-m live`), and without
`GRAVIXLAYER_API_KEY` it is skipped with that reason. `GRAVIXLAYER_BASE_URL`, when set, points it elsewhere
(for example at `gravixlayer-local`, to check the test itself). Everything it creates -- a file, a vector
index, a memory index, a sandbox -- carries a unique name and is deleted again, also when a step fails.
It creates no deployment: one would start paid GPU hardware; deployments and hardware are only listed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gravixlayer import GravixLayer
from gravixlayer.types.vectors import VectorIndex

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("GRAVIXLAYER_API_KEY"),
        reason="GRAVIXLAYER_API_KEY is not set: the live smoke test needs a key for the real GravixLayer service",
    ),
]

CHAT_MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBEDDING_MODEL = "microsoft/multilingual-e5-large"
RUN = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def client() -> Iterator[GravixLayer]:
    with GravixLayer() as client:
        yield client


def test_chat_completion_and_stream(client: GravixLayer) -> None:
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "system", "content": "You are a helpful assistant."},
                  {"role": "user", "content": "Hello!"}],
        temperature=0.7, max_tokens=100, stream=False,
    )
    assert response.choices[0].message.content
    stream = client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "Tell me a story."}], stream=True, max_tokens=50
    )
    pieces = [chunk.choices[0].delta.content for chunk in stream if chunk.choices and chunk.choices[0].delta.content]
    assert "".join(pieces).strip()


def test_legacy_completion(client: GravixLayer) -> None:
    response = client.completions.create(
        model=CHAT_MODEL, prompt="Once upon a time", max_tokens=50, temperature=0.7, stream=False
    )
    assert response.choices[0].text


def test_embeddings(client: GravixLayer) -> None:
    response = client.embeddings.create(
        model=EMBEDDING_MODEL, input="The quick brown fox jumps over the lazy dog", encoding_format="float"
    )
    assert len(response.data[0].embedding) == 1024


def test_file_upload_list_download_delete(client: GravixLayer, tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"prompt": "hi", "completion": "hello"}\n')
    with path.open("rb") as f:
        file = client.files.create(file=f, purpose="fine-tune", filename=f"smoke-{RUN}.jsonl")
    try:
        assert file.id in {f.id for f in client.files.list().data}
        assert client.files.content(file.id) == path.read_bytes()
    finally:
        result = client.files.delete(file.id)
    assert result.message
    assert file.id not in {f.id for f in client.files.list().data}


def test_deployments_hardware_and_accelerators_are_listed(client: GravixLayer) -> None:
    client.deployments.list()
    assert list(client.deployments.list_hardware())
    assert [acc.name for acc in client.accelerators.list()]


@pytest.fixture
def index(client: GravixLayer) -> Iterator[VectorIndex]:
    index = client.vectors.indexes.create(
        name=f"smoke-{RUN}", dimension=1024, metric="cosine", cloud_provider="aws", region="us-east-1",
        vector_type="dense",
    )
    try:
        yield index
    finally:
        client.vectors.indexes.delete(index.id)


def test_vector_index_upsert_and_search_text(client: GravixLayer, index: VectorIndex) -> None:
    assert index.id in {i.id for i in client.vectors.indexes.list()}
    vectors = client.vectors.index(index.id)
    vectors.upsert_text(text="Hello world", model=EMBEDDING_MODEL, id="doc-1", metadata={"category": "greeting"})
    hits = list(vectors.search_text(query="Hello", model=EMBEDDING_MODEL, limit=10))
    assert hits and hits[0].id == "doc-1"
    assert vectors.get("doc-1").metadata == {"category": "greeting"}


def test_memory_add_search_delete_all(client: GravixLayer) -> None:
    memory = client.memory(
        embedding_model=EMBEDDING_MODEL, inference_model=CHAT_MODEL, index_name=f"smoke-memories-{RUN}",
        cloud_provider="aws", region="us-east-1", delete_protection=False,
    )
    user = f"smoke-user-{RUN}"
    try:
        memory.add("I prefer coding in Python", user)
        results = memory.search(query="What is my preferred language?", user_id=user, limit=10, threshold=0.5)
        assert results.results[0].memory == "I prefer coding in Python"
        memory.delete_all(user)
        assert memory.get_all(user).results == []
    finally:
        if memory.index_id is not None:
            client.vectors.indexes.delete(memory.index_id)


def test_sandbox_runs_code_and_commands_and_is_killed(client: GravixLayer) -> None:
    sandbox = client.sandbox.sandboxes.create(
        provider="aws", region="us-east-1", template="python-base-v1", name=f"smoke-{RUN}", timeout=300
    )
    with sandbox:
        assert "Hello World" in sandbox.run_code("print('Hello World')").stdout
        sandbox.filesystem.write("test.txt", "Hello content")
        assert sandbox.filesystem.read("test.txt") == "Hello content"
        assert "test.txt" in sandbox.run_command("ls -la").stdout
    status = client.sandbox.sandboxes.get(sandbox.sandbox_id).status
    assert status not in ("running", "paused"), status
