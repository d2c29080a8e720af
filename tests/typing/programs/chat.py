"""A user's chat program: a plain completion, its text, usage and finish reason."""

from __future__ import annotations

from typing import Literal

from typing_extensions import assert_type

from gravixlayer import GravixLayer
from gravixlayer.types.chat import ChatCompletion, ChatCompletionMessage


def main(client: GravixLayer) -> str:
    response = client.chat.completions.create(
        model="qwen/qwen-2.5-vl-7b-instruct",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
        temperature=0.7,
        max_tokens=100,
    )
    assert_type(response, ChatCompletion)
    message = response.choices[0].message
    assert_type(message, ChatCompletionMessage)
    assert_type(message.content, "str | None")
    reason = response.choices[0].finish_reason
    if reason == "length":
        print("truncated")
    if response.usage is not None:
        print(response.usage.total_tokens)
    explicit = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=False
    )
    assert_type(explicit, ChatCompletion)
    role: Literal["assistant"] = explicit.choices[0].message.role
    print(role)
    return message.content or ""
