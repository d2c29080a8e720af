"""A user's async fan-out: many completions and a stream at once on one client."""

from __future__ import annotations

import asyncio

from typing_extensions import assert_type

from gravixlayer import AsyncGravixLayer, AsyncStream, GravixLayerError, GravixLayerRateLimitError
from gravixlayer.types.chat import ChatCompletion, ChatCompletionChunk
from gravixlayer.types.embeddings import CreateEmbeddingResponse


async def ask(client: AsyncGravixLayer, question: str) -> str:
    response = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": question}]
    )
    assert_type(response, ChatCompletion)
    return response.choices[0].message.content or ""


async def main() -> None:
    async with AsyncGravixLayer(api_key="k") as client:
        answers = await asyncio.gather(*(ask(client, q) for q in ("a", "b", "c")))
        assert_type(answers, list[str])
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "story"}], stream=True
        )
        assert_type(stream, AsyncStream[ChatCompletionChunk])
        async for chunk in stream:
            assert_type(chunk, ChatCompletionChunk)
            print(chunk.choices[0].delta.content or "" if chunk.choices else "", end="")
        embedded = await client.embeddings.create(model="m", input=["x", "y"])
        assert_type(embedded, CreateEmbeddingResponse)
        legacy = await client.completions.create(model="m", prompt="p", stream=True)
        async for piece in legacy:
            print(piece.choices[0].text if piece.choices else "")
        try:
            await client.files.list()
        except GravixLayerRateLimitError as exc:
            print(exc.retry_after, exc.status_code)
        except GravixLayerError as exc:
            print(exc.message)


asyncio.run(main())
