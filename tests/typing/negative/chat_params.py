"""Typos in request parameters a type checker must catch (each marked line is one error)."""

from __future__ import annotations

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> None:
    client.chat.completions.create(model="m", messages=[{"rol": "user", "content": "hi"}])  # E
    client.chat.completions.create(model="m", messages=[{"role": "usr", "content": "hi"}])  # E
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], tool_choice="requried")  # E
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], response_format={"type": "jsn"})  # E
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], tools=[{"type": "fuction", "function": {"name": "f"}}])  # E
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], temprature=0.5)  # E
    client.chat.completions.create(model="m", messages=[{"role": "tool", "content": "42"}])  # E
