"""The deterministic stand-in language model of GravixLayer Local.

GravixLayer Local has no real language model. Chat and text completions are
answered by this stand-in: the same request always gets the same answer,
which says plainly that it comes from an offline stand-in and summarises the
prompt (word count, key words, an echo of the last user turn). It honours
``max_tokens`` (finish_reason ``"length"``), ``stop`` sequences and ``n``
(distinct, equally deterministic alternatives), and its token list is the
same whether streamed or not, so streamed text equals non-streamed text.

Tokens come from a simple regex tokenizer (a word or a punctuation mark,
with its leading whitespace); joining the tokens gives back the text exactly.

Memory extraction: when the system message asks for memories as JSON
(it contains "memor" and "json", case-insensitive), the answer is instead a
JSON array of ``{"content", "memory_type": "factual", "importance": 0.8,
"category"}`` objects, one per first-person statement the *user* made (see
``extract_memories``). If the instructions mention a ``"memories"`` key, the
array is wrapped as ``{"memories": [...]}`` in the vendor's async format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "STANDIN_MODEL",
    "CHAT_MODELS",
    "Turn",
    "Generation",
    "tokenize",
    "count_tokens",
    "resolve_chat_model",
    "chat_prompt_tokens",
    "chat_generations",
    "completion_generations",
    "extract_memories",
    "is_memory_request",
]

STANDIN_MODEL = "gravixlayer-local/standin"

CHAT_MODELS: tuple[str, ...] = (
    "mistralai/mistral-nemo-instruct-2407",
    "qwen/qwen-2.5-vl-7b-instruct",
    "meta-llama/llama-3.1-8b-instruct",
    "meta-llama/llama-3.1-70b-instruct",
    "anthropic/claude-3-haiku-20240307",
    "openai/gpt-4o-mini",
    "test-model",
    STANDIN_MODEL,
    "gravixlayer-local/smollm2-135m-instruct",
)
"""Every chat/completion model name of spec §11, plus the local models' own names
(the stand-in's, and the real small model's, ``llm.MODEL_NAME``)."""

_MODELS_BY_LOWER = {name.lower(): name for name in CHAT_MODELS}

_TOKEN_RE = re.compile(r"\s*[\w']+|\s*[^\w\s]|\s+")
_WORD_RE = re.compile(r"[\w']+")
_STOPWORDS = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i i'm "
    "if in into is it its me my of on or our please she so than that the their them then "
    "there these they this to tell us was we were what when where which who why will with "
    "would you your".split()
)
_MAX_ECHO_WORDS = 24
_MAX_KEYWORDS = 5


@dataclass(frozen=True)
class Turn:
    """One chat message reduced to what the stand-in reads."""

    role: str
    text: str


@dataclass(frozen=True)
class Generation:
    """One choice: the emitted tokens and why generation ended."""

    tokens: tuple[str, ...]
    finish_reason: str

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def tokenize(text: str) -> list[str]:
    """Split into tokens whose concatenation is exactly ``text``."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


def resolve_chat_model(name: str) -> str | None:
    """The served model called ``name`` (case-insensitive), or None."""
    return _MODELS_BY_LOWER.get(name.lower())


def chat_prompt_tokens(turns: Sequence[Turn]) -> int:
    """Prompt size: the conversation rendered as ``role: text`` lines."""
    return sum(count_tokens(f"{turn.role}: {turn.text}\n") for turn in turns)


def _finish(text: str, max_tokens: int | None, stop: Sequence[str]) -> Generation:
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    tokens = tokenize(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        return Generation(tuple(tokens[:max_tokens]), "length")
    return Generation(tuple(tokens), "stop")


def _keywords(text: str, rotate: int = 0) -> str:
    seen: list[str] = []
    for word in _WORD_RE.findall(text.lower()):
        if len(word) > 2 and word not in _STOPWORDS and word not in seen:
            seen.append(word)
        if len(seen) == _MAX_KEYWORDS:
            break
    if not seen:
        return "none"
    shift = rotate % len(seen)
    return ", ".join(seen[shift:] + seen[:shift])


def _echo(text: str) -> str:
    words = text.split()
    if len(words) <= _MAX_ECHO_WORDS:
        return " ".join(words)
    return " ".join(words[:_MAX_ECHO_WORDS]) + " ..."


def _chat_text(model: str, turns: Sequence[Turn], index: int, n: int) -> str:
    user_turns = [turn.text for turn in turns if turn.role == "user" and turn.text.strip()]
    last = user_turns[-1] if user_turns else ""
    opener = f"Alternative {index + 1} of {n}. " if n > 1 else ""
    if last:
        about = f'You wrote {len(last.split())} words: "{_echo(last)}". Key words: {_keywords(last, index)}.'
    else:
        about = "The conversation has no user message to answer."
    return (
        f"{opener}This is GravixLayer Local's offline stand-in for {model}, not a real "
        f"language model, so this reply is a deterministic placeholder. {about} "
        "Set GRAVIXLAYER_LOCAL_UPSTREAM to an OpenAI-compatible server for real answers."
    )


def chat_generations(
    model: str,
    turns: Sequence[Turn],
    *,
    n: int = 1,
    max_tokens: int | None = None,
    stop: Sequence[str] = (),
) -> list[Generation]:
    """The ``n`` choices for a chat request."""
    memories = extract_memories(turns) if is_memory_request(turns) else None
    texts = [memories if memories is not None else _chat_text(model, turns, i, n) for i in range(n)]
    return [_finish(text, max_tokens, stop) for text in texts]


def _completion_text(model: str, prompt: str, index: int, n: int) -> str:
    opener = f" (alternative {index + 1} of {n})" if n > 1 else ""
    return (
        f" ... [GravixLayer Local offline stand-in{opener}: a deterministic placeholder, not "
        f"generated text. Your prompt has {len(prompt.split())} words; key words: "
        f"{_keywords(prompt, index)}. Model: {model}.]"
    )


def completion_generations(
    model: str,
    prompt: str,
    *,
    n: int = 1,
    max_tokens: int | None = 16,
    stop: Sequence[str] = (),
    echo: bool = False,
) -> list[Generation]:
    """The ``n`` choices for one legacy completion prompt (OpenAI's default of 16 tokens)."""
    out = []
    for i in range(n):
        generation = _finish(_completion_text(model, prompt, i, n), max_tokens, stop)
        if echo:
            generation = Generation((prompt, *generation.tokens), generation.finish_reason)
        out.append(generation)
    return out


# -- memory extraction -----------------------------------------------------------

_TRANSCRIPT_USER_LINE = re.compile(r"^\s*(?:user|human)\s*:\s*(.+?)\s*$", re.I | re.M)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_FIRST_PERSON = frozenset("i i'm i've i'd i'll im my me mine myself".split())
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "preferences",
        ("prefer", "like", "love", "enjoy", "favorite", "favourite", "hate", "dislike", "fan of"),
    ),
    ("decisions", ("will ", "i'll", "plan", "going to", "decided", "want to", "intend")),
    ("behavior", ("usually", "always", "often", "every ", "tend to", "never")),
)
_MAX_MEMORIES = 10


def is_memory_request(turns: Sequence[Turn]) -> bool:
    """True when a system message asks for memories in JSON."""
    for turn in turns:
        if turn.role == "system":
            lowered = turn.text.lower()
            if "memor" in lowered and "json" in lowered:
                return True
    return False


def _user_statements(turns: Sequence[Turn]) -> list[str]:
    """What the user said: ``USER: ...`` transcript lines if any, else user turns."""
    transcript = [
        match.group(1)
        for turn in turns
        if turn.role != "system"
        for match in _TRANSCRIPT_USER_LINE.finditer(turn.text)
    ]
    return transcript or [turn.text for turn in turns if turn.role == "user"]


def _category(sentence: str) -> str:
    lowered = sentence.lower() + " "
    for category, words in _CATEGORY_WORDS:
        if any(word in lowered for word in words):
            return category
    return "personal"


def extract_memories(turns: Sequence[Turn]) -> str:
    """The JSON answer to a memory-extraction prompt.

    Rule: take the user's statements (``USER:`` lines of a transcript embedded
    in the prompt, otherwise the user messages), split them into sentences,
    keep each first-person statement that is not a question (it contains
    I/my/me/...), strip its closing punctuation, drop duplicates, keep the
    first ten. Each becomes ``{"content": sentence, "memory_type":
    "factual", "importance": 0.8, "category": ...}`` where the category is
    found by keywords (prefer/like/love... -> preferences, will/plan... ->
    decisions, usually/always... -> behavior, else personal).
    """
    memories: list[dict[str, object]] = []
    seen: set[str] = set()
    for statement in _user_statements(turns):
        for sentence in _SENTENCE_SPLIT.split(statement):
            sentence = sentence.strip()
            if not sentence or sentence.endswith("?"):
                continue
            words = {word.lower() for word in _WORD_RE.findall(sentence)}
            if not words & _FIRST_PERSON:
                continue
            content = sentence.rstrip(".! ")
            if content.lower() in seen:
                continue
            seen.add(content.lower())
            memories.append(
                {
                    "content": content,
                    "memory_type": "factual",
                    "importance": 0.8,
                    "category": _category(content),
                }
            )
    memories = memories[:_MAX_MEMORIES]
    instructions = " ".join(turn.text for turn in turns if turn.role == "system")
    if '"memories"' in instructions:
        wrapped = [
            {
                "content": m["content"],
                "type": "FACTUAL",
                "importance": m["importance"],
                "metadata": {"category": m["category"], "confidence": 0.9},
            }
            for m in memories
        ]
        return json.dumps({"memories": wrapped}, ensure_ascii=False)
    return json.dumps(memories, ensure_ascii=False)
