"""A user's program reading response headers, listing models and switching keys/servers."""

from __future__ import annotations

import httpx
from typing_extensions import assert_type

from gravixlayer import AsyncGravixLayer, GravixLayer, Stream
from gravixlayer.types.chat import ChatCompletion, ChatCompletionChunk
from gravixlayer.types.models import Model


def main(client: GravixLayer) -> None:
    raw = client.chat.completions.with_raw_response.create(model="m", messages=[{"role": "user", "content": "x"}])
    remaining: str | None = raw.headers.get("x-ratelimit-remaining-requests")
    print(raw.status_code, raw.request_id, remaining)
    completion = raw.parse()
    assert_type(completion, ChatCompletion)
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    ) as response:
        print(response.headers.get("content-type"))
        stream = response.parse()
        assert_type(stream, Stream[ChatCompletionChunk])
        print(stream.get_final_text())
    for model in client.models.list():
        assert_type(model, Model)
        print(model.id, model.owned_by)
    print(client.models.retrieve("qwen/qwen-2.5-vl-7b-instruct").created)
    frame = client.models.list().to_pandas()
    print(frame.shape)
    other = client.with_options(api_key="other-key", base_url="http://127.0.0.1:8000", max_retries=0)
    custom = client.with_options(http_client=httpx.Client(timeout=5.0), default_headers={"X-Team": "a"})
    print(other.base_url, custom.max_retries)
    embedded = client.embeddings.with_raw_response.create(model="m", input=["a", "b"])
    print(embedded.parse().to_numpy().shape)


async def async_main(client: AsyncGravixLayer) -> None:
    raw = await client.chat.completions.with_raw_response.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert_type(raw.parse(), ChatCompletion)
    async with client.chat.completions.with_streaming_response.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    ) as response:
        async for chunk in response.parse():
            print(chunk.choices[0].delta.content if chunk.choices else "")
    models = await client.models.list()
    print([m.id for m in models])
