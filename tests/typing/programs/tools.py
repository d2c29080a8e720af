"""A user's tool-calling loop: declare a tool, run the call the model asks for, send the result back."""

from __future__ import annotations

import json
from typing import Any

from typing_extensions import assert_type

from gravixlayer import GravixLayer
from gravixlayer.types.chat import ChatCompletionMessageToolCall


def get_weather(city: str) -> str:
    return f"sunny in {city}"


def main(client: GravixLayer) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    response = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
        tool_choice="auto",
        parallel_tool_calls=False,
    )
    message = response.choices[0].message
    for call in message.tool_calls or []:
        assert_type(call, ChatCompletionMessageToolCall)
        arguments = json.loads(call.function.arguments)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": get_weather(arguments["city"])})
    forced = client.chat.completions.create(
        model="m",
        messages=[
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    print(forced.choices[0].finish_reason)
