"""A user's JSON-mode program: ask for a JSON object and parse it; also request log-probabilities."""

from __future__ import annotations

import json

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> dict[str, object]:
    response = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Give me a JSON object with a name."}],
        response_format={"type": "json_object"},
        seed=7,
        logprobs=True,
        top_logprobs=2,
        logit_bias={"50256": -100},
        max_completion_tokens=50,
    )
    choice = response.choices[0]
    if choice.logprobs is not None and choice.logprobs.content is not None:
        for token in choice.logprobs.content:
            print(token.token, token.logprob, [alt.token for alt in token.top_logprobs])
    schema = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "name?"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": {"type": "object"}, "strict": True},
        },
    )
    data: dict[str, object] = json.loads(schema.choices[0].message.content or "{}")
    return data
