"""Reading responses wrongly: a possibly-missing content, a misspelt finish reason or error field."""

from __future__ import annotations

from gravixlayer import GravixLayer, GravixLayerError


def main(client: GravixLayer) -> None:
    response = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    print(response.choices[0].message.content.upper())  # E
    if response.choices[0].finish_reason == "lenght":  # E
        print("cut")
    try:
        pass
    except GravixLayerError as exc:
        print(exc.mesage)  # E
