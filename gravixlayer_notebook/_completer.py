"""Tab completion for `%gravix` / `%%gravix`: subcommands, options, formats and model names."""

from __future__ import annotations

from typing import Any

from ._args import SUBCOMMANDS, parser_for
from ._results import FORMATS

__all__ = ["complete", "candidates"]

_MODEL_SUBCOMMANDS = ("chat", "complete", "embed")


def _magics(shell: Any) -> Any:
    return shell.magics_manager.registry.get("GravixMagics")


def _models(magics: Any, sub: str) -> list[str]:
    if magics is None:
        return []
    names: list[str] = []
    # Ask the server only once a client exists: completing must never start a server or show a notice.
    if magics._models is not None or magics.provider.source is not None:
        try:
            names = magics.model_names("embedding" if sub == "embed" else "chat")
        except Exception:
            names = []
    default = magics.embedding_model if sub == "embed" else magics.default_model
    return [default] + [n for n in names if n != default]


def candidates(magics: Any, text_until_cursor: str) -> list[str]:
    """What may come next after `text_until_cursor` (which starts with %gravix or %%gravix)."""
    first_line = text_until_cursor.splitlines()[0] if text_until_cursor else ""
    tokens = first_line.split()[1:]
    ends_with_space = first_line.endswith((" ", "\t"))
    current = "" if ends_with_space or not tokens else tokens[-1]
    before = tokens if ends_with_space else tokens[:-1]
    if not before:
        return [s for s in SUBCOMMANDS if s.startswith(current)]
    sub = before[0]
    if sub not in SUBCOMMANDS:
        return []
    if before[-1] in ("-f", "--format"):
        return [f for f in FORMATS if f.startswith(current)]
    if current.startswith("-"):
        options = [o for a in parser_for(sub)._actions for o in a.option_strings if o.startswith("--")]
        return sorted(o for o in options if o.startswith(current))
    if sub == "help":
        return [s for s in SUBCOMMANDS if s.startswith(current)]
    positional = [t for t in before[1:] if not t.startswith("-")]
    if sub in _MODEL_SUBCOMMANDS and not positional:
        return [m for m in _models(magics, sub) if m.startswith(current)]
    return []


def complete(shell: Any, event: Any) -> list[str]:
    """The `complete_command` hook."""
    return candidates(_magics(shell), getattr(event, "text_until_cursor", None) or event.line)
