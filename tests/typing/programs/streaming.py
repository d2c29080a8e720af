"""A user's streaming program: print tokens as they arrive, then read the accumulated answer."""

from __future__ import annotations

from typing_extensions import assert_type

from gravixlayer import GravixLayer, Stream
from gravixlayer.types.chat import ChatCompletionChunk
from gravixlayer.types.completions import Completion


def main(client: GravixLayer) -> None:
    stream = client.chat.completions.create(
        model="qwen/qwen-2.5-vl-7b-instruct",
        messages=[{"role": "user", "content": "Tell me a story."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    assert_type(stream, Stream[ChatCompletionChunk])
    for chunk in stream:
        assert_type(chunk, ChatCompletionChunk)
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)

    with client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "again"}], stream=True
    ) as second:
        final = second.get_final_completion()
        print(final.choices[0].message.content, final.usage)

    legacy = client.completions.create(model="m", prompt="Once upon a time", stream=True)
    assert_type(legacy, Stream[Completion])
    for piece in legacy:
        print(piece.choices[0].text or "", end="")
    whole = client.completions.create(model="m", prompt="Once upon a time")
    assert_type(whole, Completion)
    print(whole.choices[0].text)
