"""`{name}`, `{In[n]}`, `{Out[n]}` and `{Err[n]}` interpolation of a cell, and nothing else.

The rules (also in `%gravix help`):
- `{name}`, where `name` is a Python identifier bound in the notebook's namespace, is replaced by
  `str(value)`; an unbound `{name}` stays as written;
- `{In[n]}` is the source of the cell run as `[n]`, `{Out[n]}` its value (`str(Out[n])`) and `{Err[n]}`
  the error it raised (name, value and traceback, as `%gravix explain` sends it); `n` may be negative
  (`{In[-2]}`: the cell before this one). A missing entry stays as written;
- `{{name}}` / `{{In[n]}}` are the escapes: they become the literal text `{name}` / `{In[n]}`;
- every other brace stays literal, byte for byte: `{ x }`, `{1}`, `{a.b}`, dict literals, JSON,
  f-strings, `{{` / `}}` not wrapped around a token;
- `--no-interpolate` (or `%config GravixMagics.interpolate = False`) turns all of it off.

A regex finds the tokens; no `str.format` runs over the cell, so braces in code can never raise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["interpolate", "TOKEN_RE"]

_TOKEN = r"[A-Za-z_][A-Za-z0-9_]*(?:\[-?\d+\])?"
TOKEN_RE = re.compile(r"\{\{(" + _TOKEN + r")\}\}|\{(" + _TOKEN + r")\}")
_HISTORY_RE = re.compile(r"(In|Out|Err)\[(-?\d+)\]")

_MISSING = object()


def _history(kind: str, n: int, namespace: Mapping[str, Any]) -> Any:
    """In/Out/Err entry `n`; a negative `n` counts back from the latest entry (as Python lists do)."""
    store = namespace.get(kind, _MISSING)
    if store is _MISSING:
        return _MISSING
    try:
        if isinstance(store, Mapping):
            if n < 0:
                keys = sorted(k for k in store if isinstance(k, int))
                n = keys[n]
            return store.get(n, _MISSING)
        return store[n]
    except (IndexError, TypeError, KeyError):
        return _MISSING


def interpolate(text: str, namespace: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The text with tokens replaced, and the tokens that were replaced (in order, unique)."""
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        escaped, token = match.group(1), match.group(2)
        if escaped is not None:
            return "{" + escaped + "}"
        history = _HISTORY_RE.fullmatch(token)
        if history is not None:
            value = _history(history.group(1), int(history.group(2)), namespace)
        elif "[" in token:
            return match.group(0)  # only In/Out/Err are indexed
        else:
            value = namespace.get(token, _MISSING)
        if value is _MISSING:
            return match.group(0)
        if token not in used:
            used.append(token)
        return str(value)

    return TOKEN_RE.sub(replace, text), used
