"""What the magics return: rich result objects and the per-kernel chat history.

Each result renders as Markdown (or text, code, JSON) in a notebook and as plain text in a terminal,
carries provenance (model, usage, request id) in its output metadata, and is a plain Python object
you can keep in a variable (`-o NAME`) and use afterwards.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._html import esc, html_table, plural, short_value, text_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ChatResult", "EmbedResult", "ChatHistory", "HistoryEntry", "FORMATS", "extract_code"]

FORMATS = ("markdown", "text", "code", "json")

_FENCE_RE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:\n```|\Z)", re.S)


def extract_code(text: str) -> tuple[str, str]:
    """The first fenced block's body and language, or the whole text when there is no fence."""
    match = _FENCE_RE.search(text)
    if match is None:
        return text.strip("\n"), ""
    return match.group(2).rstrip("\n"), match.group(1)


@dataclass
class ChatResult:
    """The answer of `%%gravix chat` / `%%gravix complete`.

    `text` is the answer (partial when `interrupted`), `format` how it renders; `str(result)` is the
    text, so it can be fed into the next prompt as `{answer}`.
    """

    text: str
    model: str | None = None
    format: str = "markdown"
    usage: dict[str, Any] | None = None
    request_id: str | None = None
    finish_reason: str | None = None
    interrupted: bool = False
    prompt: str = ""
    kind: str = "chat"

    def __str__(self) -> str:
        return self.text

    @property
    def markdown(self) -> str:
        return self.text

    @property
    def code(self) -> str:
        """The answer's first fenced code block (or the whole text)."""
        return extract_code(self.text)[0]

    @property
    def data(self) -> Any:
        """The answer parsed as JSON (fences stripped); raises ValueError when it is not JSON."""
        return json.loads(extract_code(self.text)[0])

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"model": self.model, "kind": self.kind}
        if self.usage:
            meta["usage"] = self.usage
        if self.request_id:
            meta["request_id"] = self.request_id
        if self.finish_reason:
            meta["finish_reason"] = self.finish_reason
        if self.interrupted:
            meta["interrupted"] = True
        return {"gravixlayer": meta}

    def _footer(self) -> str:
        if self.interrupted:
            return "[interrupted: partial answer]"
        if self.finish_reason == "length":
            return "[stopped at the token limit: raise --max-tokens for more]"  # why it ends mid-sentence
        return ""

    def __repr__(self) -> str:
        footer = self._footer()
        return self.text + (f"\n{footer}" if footer else "")

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"text/plain": repr(self)}
        footer = self._footer()
        if self.format == "markdown":
            data["text/markdown"] = self.text + (f"\n\n*{footer}*" if footer else "")
        elif self.format == "code":
            code, lang = extract_code(self.text)
            data["text/markdown"] = f"```{lang}\n{code}\n```" + (f"\n\n*{footer}*" if footer else "")
        elif self.format == "json":
            try:
                parsed = self.data
            except ValueError:
                data["text/markdown"] = (
                    "*the answer is not valid JSON; shown as text*\n\n```\n" + self.text + "\n```"
                )
            else:
                data["application/json"] = parsed if isinstance(parsed, (dict, list)) else {"value": parsed}
                data["text/plain"] = json.dumps(parsed, indent=2, ensure_ascii=False)
        return data, {mime: self.metadata() for mime in data}


@dataclass
class EmbedResult:
    """The answer of `%%gravix embed`: one vector per input text."""

    texts: list[str]
    vectors: list[list[float]]
    model: str | None = None
    usage: dict[str, Any] | None = None

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0

    def to_numpy(self) -> Any:
        """A (texts x dimensions) float32 array."""
        import numpy as np

        return np.asarray(self.vectors, dtype=np.float32)

    def to_pandas(self, embeddings: bool = True) -> pd.DataFrame:
        """One row per text: `text`, `dimensions`, `norm` and (by default) `embedding` as float32 arrays."""
        import numpy as np

        from gravixlayer._dataframes import frame_from_columns

        matrix = self.to_numpy()
        columns: dict[str, list[Any]] = {
            "text": list(self.texts),
            "dimensions": [matrix.shape[1] if matrix.ndim == 2 else 0] * len(self.texts),
            "norm": [float(x) for x in np.linalg.norm(matrix, axis=1)] if matrix.ndim == 2 else [],
        }
        if embeddings:
            columns["embedding"] = list(matrix)
        return frame_from_columns(columns, floats=("norm",), vectors=("embedding",) if embeddings else ())

    def _rows(self) -> list[list[Any]]:
        return [[i, t, len(v), v] for i, (t, v) in enumerate(zip(self.texts, self.vectors, strict=False))]

    def __repr__(self) -> str:
        return f"EmbedResult(model={self.model!r}, {plural(len(self.vectors), 'vector')} x {self.dimensions} dims)\n" + text_table(
            ["#", "text", "dims", "embedding"], self._rows(), limit=20
        )

    def _repr_html_(self) -> str:
        head = f"<div><b>{plural(len(self.vectors), 'embedding')}</b> &middot; {esc(self.model or '')} &middot; {self.dimensions} dimensions</div>"
        return head + html_table(["#", "text", "dims", "embedding"], self._rows(), limit=20)


@dataclass
class HistoryEntry:
    role: str
    content: str
    model: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    tokens: int | None = None
    interrupted: bool = False


class ChatHistory:
    """The conversation kept across cells of one kernel (what `%gravix history` shows)."""

    def __init__(self) -> None:
        self.entries: list[HistoryEntry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        self.entries.clear()

    def add(self, role: str, content: str, **kwargs: Any) -> HistoryEntry:
        entry = HistoryEntry(role=role, content=content, **kwargs)
        self.entries.append(entry)
        return entry

    def messages(self, max_exchanges: int) -> list[dict[str, str]]:
        """The last `max_exchanges` user/assistant pairs as chat messages (0 = none)."""
        if max_exchanges <= 0:
            return []
        turns = [e for e in self.entries if e.role in ("user", "assistant")]
        return [{"role": e.role, "content": e.content} for e in turns[-2 * max_exchanges :]]

    def to_pandas(self) -> pd.DataFrame:
        """One row per message: turn, role, content, model, created_at (UTC), tokens, interrupted."""
        from gravixlayer._dataframes import frame_from_columns

        entries = self.entries
        turns, turn = [], 0
        for entry in entries:
            if entry.role == "user":
                turn += 1
            turns.append(max(turn, 1))
        frame = frame_from_columns(
            {
                "turn": turns,
                "role": [e.role for e in entries],
                "content": [e.content for e in entries],
                "model": [e.model for e in entries],
                "created_at": [e.created_at.isoformat() for e in entries],
                "tokens": [e.tokens for e in entries],
                "interrupted": [e.interrupted for e in entries],
            },
            datetimes=("created_at",),
        )
        frame["tokens"] = frame["tokens"].astype("Int64")
        return frame

    def __repr__(self) -> str:
        rows = [[i, e.role, short_value(e.content, 60), e.model or ""] for i, e in enumerate(self.entries)]
        return text_table(["#", "role", "content", "model"], rows)
