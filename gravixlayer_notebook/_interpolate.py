"""`{name}` interpolation of a cell, and nothing else.

The rules (also in `%gravix help`):
- `{name}`, where `name` is a Python identifier bound in the notebook's namespace, is replaced by
  `str(value)`; an unbound `{name}` stays as written;
- `{{name}}` is the escape: it becomes the literal text `{name}` and is never replaced;
- every other brace stays literal, byte for byte: `{ x }`, `{1}`, `{a.b}`, `{In[3]}`, dict literals,
  JSON, f-strings, `{{` / `}}` not wrapped around an identifier;
- `--no-interpolate` (or `%config GravixMagics.interpolate = False`) turns all of it off.

A regex finds the tokens; no `str.format` runs over the cell, so braces in code can never raise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["interpolate", "TOKEN_RE"]

TOKEN_RE = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")

_MISSING = object()


def interpolate(text: str, namespace: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The text with tokens replaced, and the names that were replaced (in order, unique)."""
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped is not None:
            return "{" + escaped + "}"
        value = namespace.get(name, _MISSING)
        if value is _MISSING:
            return match.group(0)
        if name not in used:
            used.append(name)
        return str(value)

    return TOKEN_RE.sub(replace, text), used
