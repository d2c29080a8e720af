"""Reading an answer, streamed or whole, into one shape: text, model, usage, finish_reason, request id.

A streamed answer must carry the same fields as a non-streamed one, so the magics ask the server for
usage in the stream (`stream_options.include_usage`) and, where a server does not send it, count it
here: completion tokens are the content chunks received (servers send about one token per chunk) and
prompt tokens are estimated from the words and punctuation of the messages. Counted usage says so
(`"counted": "client"`), so it is never mistaken for the server's billing figures.

Whether the answer is shown while it arrives is not decided here: the caller passes `show` (a display
handle's `update`, or None) according to `GravixMagics.stream` and what the front end supports.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["Live", "BLANK", "read_stream", "whole_answer", "count_tokens", "UPDATE_INTERVAL"]

UPDATE_INTERVAL = 0.05  # seconds between in-place refreshes after the first token
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A rough token count (words and punctuation marks); used only where the server sends no usage."""
    return len(_TOKEN_RE.findall(text))


class Live:
    """The streaming placeholder: the text so far (as Markdown with a cursor where it renders)."""

    def __init__(self, text: str, fmt: str) -> None:
        self.text, self.fmt = text, fmt

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"text/plain": self.text}
        if self.fmt == "markdown":
            data["text/markdown"] = self.text + " \u258c"
        return data


BLANK = {"text/plain": ""}


def _usage_dict(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    return usage.to_dict(exclude_none=True) if hasattr(usage, "to_dict") else {k: v for k, v in dict(usage).items() if v is not None}


def read_stream(
    stream: Any,
    *,
    prompt_texts: Sequence[str],
    show: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Consume `stream` (closing it however we leave); Ctrl-C keeps the partial text.

    `show(text_so_far)` is called on the first piece and then at most every UPDATE_INTERVAL seconds.
    A finished stream is summed up by the SDK (`Stream.get_final_completion()`), so it yields exactly
    what a non-streamed call would: the same reader (`whole_answer`) takes it from there.
    """
    parts: list[str] = []
    last = 0.0
    try:
        for piece in stream.text_deltas():
            parts.append(piece)
            if show is not None:
                now = time.perf_counter()
                if len(parts) == 1 or now - last >= UPDATE_INTERVAL:
                    show("".join(parts))
                    last = now
                    if timings is not None:
                        timings.setdefault("first_token_shown", time.perf_counter())
        final = stream.get_final_completion()
    except KeyboardInterrupt:
        return {
            "text": "".join(parts), "model": None, "usage": _counted(prompt_texts, len(parts)),
            "finish_reason": "interrupted", "interrupted": True, "request_id": stream.request_id,
        }  # fmt: skip
    finally:
        stream.close()
    info = whole_answer(final, prompt_texts=prompt_texts, pieces=len(parts))
    info["request_id"] = info["request_id"] or stream.request_id
    return info


def _counted(prompt_texts: Iterable[str], completion_chunks: int) -> dict[str, Any]:
    prompt = sum(count_tokens(t) for t in prompt_texts)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_chunks,
        "total_tokens": prompt + completion_chunks,
        "counted": "client",
    }


def whole_answer(response: Any, *, prompt_texts: Sequence[str], pieces: int | None = None) -> dict[str, Any]:
    """A chat or completion answer (non-streamed, or a stream summed up) as the magics keep it.

    Without usage from the server, it is counted: `pieces` streamed chunks, else the answer's words.
    """
    choice = response.choices[0] if response.choices else None
    text = response.text
    usage = _usage_dict(response.usage)
    if not usage or usage.get("total_tokens") is None:
        usage = _counted(prompt_texts, pieces if pieces is not None else count_tokens(text))
    return {
        "text": text,
        "model": response.model,
        "usage": usage,
        "finish_reason": choice.finish_reason if choice else None,
        "interrupted": False,
        "request_id": response.request_id,
    }
