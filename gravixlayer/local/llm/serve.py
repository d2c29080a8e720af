"""OpenAI-shaped chat and text completions answered by the local model.

The routers parse and validate the request body; this module reads the
options that concern the model (``response_format``, ``tools``,
``tool_choice``, ``logprobs``/``top_logprobs``, ``seed``, sampling), runs
``LocalLLM.generate`` in a worker thread (one thread hop per token when
streaming, so the event loop stays free) and shapes the answer: a
``chat.completion`` / ``text_completion`` object, or server-sent chunks as
openai's (role first, content or tool-call argument deltas, a final chunk
with ``finish_reason``, a usage chunk when ``stream_options.include_usage``).
Every response carries ``system_fingerprint`` naming the local model.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from ..errors import LocalAPIError
from .engine import (
    FINGERPRINT,
    Event,
    Finish,
    GenerationRequest,
    LocalLLM,
    TextDelta,
    ToolArgsDelta,
    ToolCallStart,
    ToolSpec,
)
from .sampling import SamplingParams

__all__ = [
    "ChatOptions",
    "chat_options",
    "chat_response",
    "chat_stream",
    "completion_response",
    "completion_stream",
]

_MAX_TOP_LOGPROBS = 20


def _bad(message: str) -> LocalAPIError:
    return LocalAPIError(400, "invalid_request", message)


@dataclass(frozen=True)
class ChatOptions:
    sampling: SamplingParams
    json_schema: Mapping[str, Any] | None
    tools: tuple[ToolSpec, ...]
    tool_choice: str


def _sampling(
    extra: Mapping[str, Any], temperature: float | None, top_p: float | None, top_logprobs: int | None
) -> SamplingParams:
    seed = extra.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _bad("seed: must be an integer")
    return SamplingParams(
        temperature=0.0 if temperature is None else float(temperature),
        top_p=1.0 if top_p is None else float(top_p),
        seed=seed,
        top_logprobs=top_logprobs,
    )


def _response_schema(extra: Mapping[str, Any]) -> Mapping[str, Any] | None:
    fmt = extra.get("response_format")
    if fmt is None:
        return None
    if not isinstance(fmt, Mapping) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise _bad("response_format: type must be 'text', 'json_object' or 'json_schema'")
    if fmt["type"] == "text":
        return None
    if fmt["type"] == "json_object":
        return {"type": "object"}
    spec = fmt.get("json_schema")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("schema", {}), Mapping):
        raise _bad("response_format.json_schema: must be an object with a 'schema' object")
    schema = spec.get("schema")
    return schema if isinstance(schema, Mapping) and schema else {"type": "object"}


def _tools(extra: Mapping[str, Any]) -> tuple[tuple[ToolSpec, ...], str]:
    raw = extra.get("tools")
    if raw is None:
        tools: tuple[ToolSpec, ...] = ()
    elif not isinstance(raw, list):
        raise _bad("tools: must be a list")
    else:
        specs = []
        for i, tool in enumerate(raw):
            function = tool.get("function") if isinstance(tool, Mapping) else None
            if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
                raise _bad(f"tools[{i}]: must be {{'type': 'function', 'function': {{'name': ...}}}}")
            parameters = function.get("parameters") or {"type": "object", "properties": {}}
            if not isinstance(parameters, Mapping):
                raise _bad(f"tools[{i}].function.parameters: must be an object")
            specs.append(ToolSpec(function["name"], str(function.get("description") or ""), parameters))
        tools = tuple(specs)
    choice = extra.get("tool_choice")
    if choice is None:
        return tools, "auto" if tools else "none"
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise _bad("tool_choice: must be 'none', 'auto', 'required' or a named function")
        if choice == "required" and not tools:
            raise _bad("tool_choice: 'required' needs tools")
        return tools, choice
    name = choice.get("function", {}).get("name") if isinstance(choice, Mapping) else None
    if not isinstance(name, str):
        raise _bad("tool_choice: a named choice is {'type': 'function', 'function': {'name': ...}}")
    if name not in {tool.name for tool in tools}:
        raise _bad(f"tool_choice: no tool named {name!r} in tools")
    return tools, name


def chat_options(extra: Mapping[str, Any], temperature: float | None, top_p: float | None) -> ChatOptions:
    """The model options of a chat body's extra fields; 400 for a malformed one."""
    logprobs = extra.get("logprobs")
    top = extra.get("top_logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise _bad("logprobs: must be a boolean")
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= _MAX_TOP_LOGPROBS:
            raise _bad(f"top_logprobs: must be an integer from 0 to {_MAX_TOP_LOGPROBS}")
        if not logprobs:
            raise _bad("top_logprobs: needs logprobs=true")
    tools, tool_choice = _tools(extra)
    return ChatOptions(
        sampling=_sampling(extra, temperature, top_p, (top or 0) if logprobs else None),
        json_schema=_response_schema(extra),
        tools=tools,
        tool_choice=tool_choice,
    )


def chat_request(
    llm: LocalLLM,
    messages: Sequence[Mapping[str, Any]],
    options: ChatOptions,
    *,
    n: int,
    max_tokens: int | None,
    stop: Sequence[str],
) -> GenerationRequest:
    ids = llm.chat_prompt_ids(messages, options.tools, options.tool_choice, options.json_schema)
    return GenerationRequest(
        prompt_ids=ids,
        max_tokens=max_tokens,
        stop=stop,
        n=n,
        sampling=options.sampling,
        json_schema=options.json_schema,
        tools=options.tools,
        tool_choice=options.tool_choice,
    )


def _generate(llm: LocalLLM, request: GenerationRequest) -> Generator[Event, None, None]:
    try:
        yield from llm.generate(request)
    except ValueError as exc:  # prompt longer than the context
        raise _bad(str(exc)) from exc


def _all_events(llm: LocalLLM, request: GenerationRequest) -> list[Event]:
    return list(_generate(llm, request))


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _head(prefix: str, model: str) -> dict[str, Any]:
    return {
        "id": f"{prefix}-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": FINGERPRINT,
    }


# -- chat ----------------------------------------------------------------------------


async def chat_response(llm: LocalLLM, request: GenerationRequest, model: str) -> dict[str, Any]:
    events = await anyio.to_thread.run_sync(_all_events, llm, request)
    choices: list[dict[str, Any]] = []
    for index in range(request.n):
        text, finish = "", None
        entries: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for event in events:
            if event.index != index:
                continue
            if isinstance(event, TextDelta):
                text += event.text
                entries.extend(event.logprobs)
            elif isinstance(event, ToolCallStart):
                calls.append(
                    {
                        "id": event.call_id,
                        "type": "function",
                        "function": {"name": event.name, "arguments": ""},
                    }
                )
            elif isinstance(event, ToolArgsDelta):
                calls[-1]["function"]["arguments"] += event.text
            else:
                finish = event
        message: dict[str, Any] = {"role": "assistant", "content": None if calls else text}
        if calls:
            message["tool_calls"] = calls
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": {"content": entries} if request.sampling.top_logprobs is not None else None,
                "finish_reason": finish.reason if finish else "stop",
            }
        )
    completion = sum(e.completion_tokens for e in events if isinstance(e, Finish))
    return {
        **_head("chatcmpl", model),
        "object": "chat.completion",
        "choices": choices,
        "usage": _usage(len(request.prompt_ids), completion),
    }


async def _threaded(llm: LocalLLM, request: GenerationRequest) -> AsyncIterator[Event]:
    events = _generate(llm, request)
    finished = False
    try:
        while True:
            event: Event | None = await anyio.to_thread.run_sync(next, events, None)
            if event is None:
                finished = True
                return
            yield event
    finally:
        if not finished:
            # A client that went away: end the generation now (its place and the model's attention), not
            # whenever the garbage collector finds the suspended generator.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(events.close)


async def chat_stream(
    llm: LocalLLM, request: GenerationRequest, model: str, include_usage: bool
) -> AsyncIterator[dict[str, Any]]:
    """Chunk payloads (the router frames them as server-sent events)."""
    head = {**_head("chatcmpl", model), "object": "chat.completion.chunk"}
    usage_field = {"usage": None} if include_usage else {}
    want_logprobs = request.sampling.top_logprobs is not None
    started: set[int] = set()
    completion = 0

    def chunk(
        index: int, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None
    ) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish}
        if want_logprobs:
            choice["logprobs"] = logprobs
        return {**head, "choices": [choice], **usage_field}

    async for event in _threaded(llm, request):
        index = event.index
        if isinstance(event, ToolCallStart):
            started.add(index)
            call = {
                "index": 0,
                "id": event.call_id,
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
            yield chunk(index, {"role": "assistant", "content": None, "tool_calls": [call]})
            continue
        if index not in started and isinstance(event, TextDelta | Finish):
            started.add(index)
            yield chunk(index, {"role": "assistant", "content": ""})
        if isinstance(event, TextDelta):
            if event.text or event.logprobs:
                yield chunk(index, {"content": event.text}, logprobs={"content": list(event.logprobs)})
        elif isinstance(event, ToolArgsDelta):
            yield chunk(index, {"tool_calls": [{"index": 0, "function": {"arguments": event.text}}]})
        else:
            completion += event.completion_tokens
            yield chunk(index, {}, event.reason)
    if include_usage:
        yield {**head, "choices": [], "usage": _usage(len(request.prompt_ids), completion)}


# -- legacy text completions -------------------------------------------------------------


def _legacy_logprobs(entries: Sequence[Mapping[str, Any]], offset: int) -> dict[str, Any]:
    tokens, values, tops, offsets = [], [], [], []
    for entry in entries:
        tokens.append(entry["token"])
        values.append(entry["logprob"])
        tops.append({top["token"]: top["logprob"] for top in entry["top_logprobs"]})
        offsets.append(offset)
        offset += len(entry["token"])
    return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


def completion_requests(
    llm: LocalLLM,
    prompts: Sequence[str],
    extra: Mapping[str, Any],
    *,
    temperature: float | None,
    top_p: float | None,
    logprobs: int | None,
    n: int,
    max_tokens: int,
    stop: Sequence[str],
) -> list[GenerationRequest]:
    sampling = _sampling(extra, temperature, top_p, logprobs)
    return [
        GenerationRequest(llm.text_prompt_ids(p), max_tokens=max_tokens, stop=stop, n=n, sampling=sampling)
        for p in prompts
    ]


async def completion_response(
    llm: LocalLLM, requests: Sequence[GenerationRequest], prompts: Sequence[str], model: str, echo: bool
) -> dict[str, Any]:
    choices: list[dict[str, Any]] = []
    completion = 0
    for prompt, request in zip(prompts, requests, strict=True):
        events = await anyio.to_thread.run_sync(_all_events, llm, request)
        for index in range(request.n):
            mine = [e for e in events if e.index == index]
            text = "".join(e.text for e in mine if isinstance(e, TextDelta))
            entries = [entry for e in mine if isinstance(e, TextDelta) for entry in e.logprobs]
            finish = next((e for e in mine if isinstance(e, Finish)), None)
            completion += finish.completion_tokens if finish else 0
            choices.append(
                {
                    "text": (prompt if echo else "") + text,
                    "index": len(choices),
                    "logprobs": _legacy_logprobs(entries, len(prompt) if echo else 0)
                    if request.sampling.top_logprobs is not None
                    else None,
                    "finish_reason": finish.reason if finish else "stop",
                }
            )
    prompt_tokens = sum(len(r.prompt_ids) for r in requests)
    return {
        **_head("cmpl", model),
        "object": "text_completion",
        "choices": choices,
        "usage": _usage(prompt_tokens, completion),
    }


async def completion_stream(
    llm: LocalLLM,
    requests: Sequence[GenerationRequest],
    prompts: Sequence[str],
    model: str,
    echo: bool,
    include_usage: bool,
) -> AsyncIterator[dict[str, Any]]:
    head = {**_head("cmpl", model), "object": "text_completion"}
    base, completion = 0, 0
    for prompt, request in zip(prompts, requests, strict=True):
        want = request.sampling.top_logprobs is not None
        offsets = dict.fromkeys(range(request.n), len(prompt) if echo else 0)
        if echo:
            for index in range(request.n):
                yield {
                    **head,
                    "choices": [
                        {"text": prompt, "index": base + index, "logprobs": None, "finish_reason": None}
                    ],
                }
        async for event in _threaded(llm, request):
            index = base + event.index
            if isinstance(event, TextDelta):
                if not event.text:
                    continue
                logprobs = _legacy_logprobs(event.logprobs, offsets[event.index]) if want else None
                offsets[event.index] += len(event.text)
                yield {
                    **head,
                    "choices": [
                        {"text": event.text, "index": index, "logprobs": logprobs, "finish_reason": None}
                    ],
                }
            elif isinstance(event, Finish):
                completion += event.completion_tokens
                yield {
                    **head,
                    "choices": [
                        {"text": "", "index": index, "logprobs": None, "finish_reason": event.reason}
                    ],
                }
        base += request.n
    if include_usage:
        prompt_tokens = sum(len(r.prompt_ids) for r in requests)
        yield {**head, "choices": [], "usage": _usage(prompt_tokens, completion)}
