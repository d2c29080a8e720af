"""Small, dependency-free HTML and text renderers: cards, tables and error lines.

Every value is escaped; long float lists (embeddings) are shortened; anything that looks like the
API key in use is masked by the caller before it gets here (see `redact`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["esc", "short_value", "html_table", "text_table", "html_card", "redact", "plural", "cut"]

_MAX_CELL = 200


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


_IRREGULAR = {"index": "indexes", "memory": "memories", "sandbox": "sandboxes", "data": "data", "entry": "entries"}


def plural(count: int, noun: str) -> str:
    """`1 deployment`, `2 deployments`, `0 memories`: the count with the noun in the right number."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {_IRREGULAR.get(noun, noun + 's')}"


def cut(text: str, limit: int) -> str:
    """`text` shortened to at most `limit` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; else cut inside one very long word
        head = head[:space]
    return head.rstrip(" ,;:") + "\u2026"


def short_value(value: Any, limit: int = _MAX_CELL) -> str:
    """A one-line rendering of a cell value: floats lists shortened, long text cut with an ellipsis."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if hasattr(value, "tolist") and hasattr(value, "shape"):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and len(value) > 6 and all(isinstance(v, (int, float)) for v in value[:6]):
        head = ", ".join(f"{v:.4g}" for v in value[:3])
        return f"[{head}, ... {len(value) - 3} more]"
    if isinstance(value, Mapping):
        text = ", ".join(f"{k}={short_value(v, 40)}" for k, v in value.items())
    else:
        text = str(value)
    return cut(" ".join(text.split()), limit)


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` masked (a last line of defence for the API key)."""
    if secret and len(secret) >= 4 and secret in text:
        return text.replace(secret, "****")
    return text


_TABLE_STYLE = "border-collapse:collapse;font-size:0.9em"
_CELL_STYLE = "border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    limit: int | None = None,
    total: int | None = None,
    css_class: str = "gravix-table",
    footer: str | None = None,
) -> str:
    rows = list(rows)
    shown = rows if limit is None else rows[:limit]
    head = "".join(f'<th style="{_CELL_STYLE}">{esc(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL_STYLE}">{esc(short_value(v))}</td>' for v in row) + "</tr>"
        for row in shown
    )
    count = total if total is not None else len(rows)
    notes = []
    if len(shown) < count:
        notes.append(f"showing {len(shown)} of {count} rows")
    if footer:
        notes.append(footer)
    foot = f'<div style="color:#666;font-size:0.85em">{esc("; ".join(notes))}</div>' if notes else ""
    return (
        f'<table class="{esc(css_class)}" style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{foot}"
    )


def text_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, limit: int | None = None, width: int = 48
) -> str:
    """A fixed-width plain-text table (terminals, text/plain outputs); cells cut at `width` characters."""
    rows = list(rows)
    shown = rows if limit is None else rows[:limit]
    cells = [[short_value(v, width) for v in row] for row in shown]
    widths = [len(c) for c in columns]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(c.ljust(widths[i]) for i, c in enumerate(columns)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep] + ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    if not rows:
        out.append("(no rows)")
    elif len(shown) < len(rows):
        out.append(f"... showing {len(shown)} of {len(rows)} rows")
    return "\n".join(out)


def html_card(title: str, fields: Mapping[str, Any], *, body_html: str = "", css_class: str = "gravix-card") -> str:
    items = "".join(
        f'<tr><th style="{_CELL_STYLE};color:#555">{esc(k)}</th><td style="{_CELL_STYLE}">{esc(short_value(v))}</td></tr>'
        for k, v in fields.items()
        if v is not None and v != "" and v != {} and v != []
    )
    table = f'<table style="{_TABLE_STYLE}">{items}</table>' if items else ""
    return (
        f'<div class="{esc(css_class)}" style="border:1px solid #ddd;border-radius:4px;padding:6px 10px;'
        f'margin:2px 0"><div style="font-weight:bold;margin-bottom:4px">{esc(title)}</div>{body_html}{table}</div>'
    )
