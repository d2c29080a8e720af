"""Using a stream as a completion, or a completion as a stream."""

from __future__ import annotations

from gravixlayer import AsyncGravixLayer, GravixLayer


def main(client: GravixLayer) -> None:
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
    print(stream.choices)  # E
    response = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    print(response.choices[0].delta)  # E
    legacy = client.completions.create(model="m", prompt="p", stream=True)
    print(legacy.choices)  # E


async def forgot_await(client: AsyncGravixLayer) -> None:
    response = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    print(response.choices)  # E
