"""Every inference call of the seed reference, sync and async, stream and not, against a real Local."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerNotFoundError,
    GravixLayerValidationError,
)
from gravixlayer.local import LocalServer
from gravixlayer.types.chat import ChatCompletion, ChatCompletionChunk
from gravixlayer.types.completions import Completion

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBED = "microsoft/multilingual-e5-large"


def test_seed_chat_non_streaming(client: GravixLayer) -> None:
    response = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
        temperature=0.7,
        max_tokens=100,
        stream=False,
    )
    assert isinstance(response, ChatCompletion)
    assert response.choices[0].message.content
    assert response.choices[0].message.role == "assistant"
    assert response.model == MODEL and response.id and response.request_id
    usage = response.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens  # type: ignore[operator]


def test_seed_chat_streaming_matches_non_streaming(client: GravixLayer) -> None:
    messages = [{"role": "user", "content": "Tell me a story."}]
    whole = client.chat.completions.create(model=MODEL, messages=messages)
    stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
    parts = []
    finish = None
    for chunk in stream:
        assert isinstance(chunk, ChatCompletionChunk)
        if chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        finish = chunk.choices[0].finish_reason or finish
    assert len(parts) > 1
    assert "".join(parts) == whole.choices[0].message.content  # type: ignore[union-attr]
    assert finish == whole.choices[0].finish_reason  # type: ignore[union-attr]


def test_chat_is_deterministic_and_honours_max_tokens(client: GravixLayer) -> None:
    messages = [{"role": "user", "content": "Describe the sea in detail."}]
    a = client.chat.completions.create(model=MODEL, messages=messages)
    b = client.chat.completions.create(model=MODEL, messages=messages)
    assert a.choices[0].message.content == b.choices[0].message.content  # type: ignore[union-attr]
    short = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=3)
    assert short.choices[0].finish_reason == "length"  # type: ignore[union-attr]
    assert short.usage.completion_tokens == 3  # type: ignore[union-attr]


def test_seed_completions(client: GravixLayer) -> None:
    response = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=50, temperature=0.7, stream=False)
    assert isinstance(response, Completion)
    assert response.choices[0].text
    stream = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=50, stream=True)
    text = "".join(chunk.choices[0].text or "" for chunk in stream)
    assert text == response.choices[0].text


def test_seed_embeddings(client: GravixLayer) -> None:
    response = client.embeddings.create(model=EMBED, input="The quick brown fox jumps over the lazy dog", encoding_format="float")
    vector = response.data[0].embedding
    assert isinstance(vector, list) and len(vector) == 1024
    assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-4)
    assert "more" in repr(response) and len(repr(response)) < 400  # long vectors shortened


def test_embeddings_batch_and_base64_agree(client: GravixLayer) -> None:
    texts = ["I love cats", "Dogs are loyal", "Quarterly revenue grew"]
    floats = client.embeddings.create(model=EMBED, input=texts)
    packed = client.embeddings.create(model=EMBED, input=texts, encoding_format="base64")
    assert [d.index for d in floats.data] == [0, 1, 2]
    for f, p in zip(floats.data, packed.data, strict=True):
        assert all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(f.as_floats(), p.as_floats(), strict=True))


def test_related_texts_score_above_unrelated(client: GravixLayer) -> None:
    data = client.embeddings.create(
        model=EMBED, input=["What is my preferred language?", "I prefer coding in Python", "The weather is cold today"]
    ).data
    q, related, unrelated = (d.as_floats() for d in data)
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert dot(q, related) > dot(q, unrelated) + 0.1


def test_unknown_model_is_a_typed_not_found(client: GravixLayer) -> None:
    with pytest.raises(GravixLayerNotFoundError) as info:
        client.chat.completions.create(model="no/such-model", messages=[{"role": "user", "content": "x"}])
    assert info.value.request_id and "no/such-model" in str(info.value)


def test_client_side_validation(client: GravixLayer) -> None:
    with pytest.raises(GravixLayerValidationError):
        client.embeddings.create(model=EMBED, input=[])


async def test_async_seed_calls(aclient: AsyncGravixLayer) -> None:
    response = await aclient.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello!"}])
    assert response.choices[0].message.content  # type: ignore[union-attr]
    stream = await aclient.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello!"}], stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])  # type: ignore[union-attr]
    assert text == response.choices[0].message.content  # type: ignore[union-attr]
    completion = await aclient.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=20)
    ctext = "".join([c.choices[0].text or "" async for c in await aclient.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=20, stream=True)])  # type: ignore[union-attr]
    assert ctext == completion.choices[0].text  # type: ignore[union-attr]
    emb = await aclient.embeddings.create(model=EMBED, input="hello")
    assert len(emb.data[0].embedding) == 1024


async def test_async_concurrent_calls_share_one_pool(aclient: AsyncGravixLayer) -> None:
    results = await asyncio.gather(*[aclient.embeddings.create(model=EMBED, input=f"text {i}") for i in range(20)])
    assert all(len(r.data[0].embedding) == 1024 for r in results)


def test_streaming_is_incremental() -> None:
    """The first chunk reaches the caller well before the server has finished the answer."""
    with LocalServer(token_delay=0.05, chat_engine="standin") as paced:
        messages = [{"role": "user", "content": "Write a long answer about rivers and mountains."}]
        start = time.perf_counter()
        stream = paced.client.chat.completions.create(model=MODEL, messages=messages, stream=True, max_tokens=30)
        first = None
        for _chunk in stream:
            if first is None:
                first = time.perf_counter() - start
        total = time.perf_counter() - start
    assert first is not None and first < total / 3


async def test_async_streaming_is_incremental() -> None:
    with LocalServer(token_delay=0.05, chat_engine="standin") as paced:
        async with paced.async_client() as aclient:
            start = time.perf_counter()
            stream = await aclient.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Write a long answer."}], stream=True, max_tokens=30
            )
            first = None
            async for _ in stream:
                if first is None:
                    first = time.perf_counter() - start
            total = time.perf_counter() - start
    assert first is not None and first < total / 3
