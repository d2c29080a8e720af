"""Rich display of SDK objects: cards for responses, tables for lists, one-line cards for errors.

Registered on IPython's HTML and Markdown formatters when the extension loads (for the SDK's
`BaseModel` and `GravixLayerError` base classes), so the SDK itself stays free of IPython. Every value
is HTML-escaped, embeddings are shortened, and the API key in use is masked wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._html import esc, html_card, html_table, plural, redact, short_value

__all__ = ["model_html", "model_markdown", "error_html", "error_markdown", "register", "unregister", "table_of"]

_LIST_FIELDS = ("data", "hits", "results", "indexes", "vectors", "sandboxes", "templates", "files", "memories")
_DISPLAY_LIMIT = 50


def _secret() -> str | None:
    from ._client import default_provider

    return default_provider().api_key()


def _fields(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "model_dump"):
        # Not dict(obj): list models iterate their items, not their fields.
        values = {name: getattr(obj, name, None) for name in type(obj).model_fields}
        extra = getattr(obj, "__pydantic_extra__", None) or {}
        values.update(extra)
        return values
    if isinstance(obj, Mapping):
        return dict(obj)
    return {}


def _columns_for(items: list[Any]) -> list[str]:
    first = items[0]
    preferred = getattr(type(first), "_repr_fields", None)
    if preferred:
        cols = list(preferred)
        # how GravixLayer Local isolates a sandbox matters to whoever runs code in it: keep it in view
        if "isolation" not in cols and any(_fields(i).get("isolation") for i in items[:20]):
            cols.insert(cols.index("status") + 1 if "status" in cols else len(cols), "isolation")
        # add the remaining fields the items actually carry, in order, without embeddings
        for item in items[:20]:
            for key, value in _fields(item).items():
                if key not in cols and value is not None and key not in ("embedding", "values"):
                    cols.append(key)
        return cols[:10]
    cols = []
    for item in items[:20]:
        for key, value in _fields(item).items():
            if key not in cols and value is not None:
                cols.append(key)
    return cols[:10]


def table_of(items: Iterable[Any]) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows for a list of models or dicts."""
    rows = list(items)
    if not rows:
        return [], []
    cols = _columns_for(rows)
    return cols, [[_fields(item).get(c) for c in cols] for item in rows]


def _list_field(obj: Any) -> tuple[str, list[Any]] | None:
    values = _fields(obj)
    for name in _LIST_FIELDS:
        value = values.get(name)
        if isinstance(value, list) and (not value or hasattr(value[0], "model_dump") or isinstance(value[0], Mapping)):
            return name, value
    return None


_SINGULAR = {"data": "", "hits": "hit", "results": "result", "indexes": "index", "vectors": "vector",
             "sandboxes": "sandbox", "templates": "template", "files": "file", "memories": "memory"}  # fmt: skip


def _noun(obj: Any, field: str) -> str:
    """What one item of a list response is called: `DeploymentList.data` -> "deployment"."""
    noun = _SINGULAR.get(field, field)
    if noun:
        return noun
    name = re.sub(r"(List|Response|Page)$", "", type(obj).__name__) or "item"
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _count(obj: Any, field: str, items: list[Any]) -> str:
    return plural(len(items), _noun(obj, field))


def _own_markdown(obj: Any) -> Callable[[], str] | None:
    method = getattr(type(obj), "_repr_markdown_", None)
    return getattr(obj, "_repr_markdown_", None) if method is not None else None


def model_html(obj: Any) -> str | None:
    if _own_markdown(obj) is not None:
        return None  # the object renders itself as Markdown (a chat answer, for example)
    title = type(obj).__name__
    listed = _list_field(obj)
    if listed is not None:
        name, items = listed
        cols, rows = table_of(items)
        rest = {k: v for k, v in _fields(obj).items() if k != name and not isinstance(v, list)}
        count = _count(obj, name, items)
        head = html_card(f"{title}: {count}", rest) if rest else f"<div><b>{esc(title)}</b>: {esc(count)}</div>"
        table = html_table(cols, rows, limit=_DISPLAY_LIMIT, footer="to_pandas() gives all rows" if hasattr(obj, "to_pandas") else None) if cols else ""
        text = head + table
    else:
        body = ""
        content = getattr(obj, "text", None)
        if isinstance(content, str) and content:
            body = f'<div style="white-space:pre-wrap;margin-bottom:4px">{esc(content)}</div>'
        fields = {k: v for k, v in _fields(obj).items() if k not in ("choices",)}
        text = html_card(title, fields, body_html=body)
    return redact(text, _secret())


def model_markdown(obj: Any) -> str:
    own = _own_markdown(obj)
    if own is not None:
        return redact(own(), _secret())
    title = type(obj).__name__
    listed = _list_field(obj)
    if listed is not None:
        name, items = listed
        cols, rows = table_of(items)
        lines = [f"**{title}**: {_count(obj, name, items)}", ""]
        if cols:
            lines.append("| " + " | ".join(cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for row in rows[:_DISPLAY_LIMIT]:
                lines.append("| " + " | ".join(short_value(v, 60).replace("|", "\\|") for v in row) + " |")
        text = "\n".join(lines)
    else:
        pairs = [f"- **{k}**: {short_value(v, 120)}" for k, v in _fields(obj).items() if v not in (None, "", [], {})]
        text = f"**{title}**\n\n" + "\n".join(pairs)
    return redact(text, _secret())


def _error_parts(exc: BaseException) -> dict[str, Any]:
    return {
        "status": getattr(exc, "status_code", None),
        "code": getattr(exc, "code", None),
        "hint": getattr(exc, "hint", None),
        "request id": getattr(exc, "request_id", None),
    }


def error_html(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    body = f'<div style="white-space:pre-wrap">{esc(message)}</div>'
    card = html_card(type(exc).__name__, _error_parts(exc), body_html=body, css_class="gravix-error")
    card = card.replace("border:1px solid #ddd;border-radius", "border:1px solid #d9534f;border-radius", 1)
    return redact(card, _secret())


def error_markdown(exc: BaseException) -> str:
    parts = [f"{k}: {v}" for k, v in _error_parts(exc).items() if v]
    text = f"**{type(exc).__name__}**: {getattr(exc, 'message', None) or exc}"
    if parts:
        text += "  \n" + "; ".join(parts)
    return redact(text, _secret())


def _no_markdown(obj: Any) -> None:
    return None  # HTML (and plain text) only: Markdown would outrank nothing and lose the layout


def _execution_html(obj: Any) -> str:
    from ._execution import execution_html

    return redact(execution_html(obj), _secret())


def _execution_plain(obj: Any, p: Any, cycle: bool) -> None:
    from ._execution import execution_text

    p.text(redact(execution_text(obj), _secret()))


_TARGETS: tuple[tuple[str, str, Callable[[Any], str | None], Callable[[Any], str | None]], ...] = (
    ("gravixlayer._models", "BaseModel", model_html, model_markdown),
    ("gravixlayer._exceptions", "GravixLayerError", error_html, error_markdown),
    ("gravixlayer.types.sandbox", "Execution", _execution_html, _no_markdown),
)
_PLAIN: tuple[tuple[str, str, Callable[[Any, Any, bool], None]], ...] = (
    ("gravixlayer.types.sandbox", "Execution", _execution_plain),
)


def register(shell: Any) -> None:
    """Register by name: nothing is imported until an SDK object is first displayed (fast %load_ext)."""
    formatters = shell.display_formatter.formatters
    for module, name, html_fn, md_fn in _TARGETS:
        formatters["text/html"].for_type_by_name(module, name, html_fn)
        formatters["text/markdown"].for_type_by_name(module, name, md_fn)
    for module, name, plain_fn in _PLAIN:
        formatters["text/plain"].for_type_by_name(module, name, plain_fn)


def unregister(shell: Any) -> None:
    formatters = shell.display_formatter.formatters
    entries: list[tuple[str, str, tuple[str, ...]]] = [(m, n, ("text/html", "text/markdown")) for m, n, _, _ in _TARGETS]
    entries += [(m, n, ("text/plain",)) for m, n, _ in _PLAIN]
    for module, name, mimes in entries:
        for mime in mimes:
            try:
                formatters[mime].pop(f"{module}.{name}")
            except KeyError:
                pass
