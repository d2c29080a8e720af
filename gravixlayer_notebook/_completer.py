"""Tab completion for `%gravix` / `%%gravix`, as JupyterLab receives it from the kernel.

A Matcher API v2 matcher (IPython's `Completer.custom_matchers`) that runs before the others and, on a
`%gravix` / `%%gravix` line, suppresses all of them, Jedi included: the kernel then answers only with our
candidates (the v1 `complete_command` hook cannot do that: IPython keeps Jedi's keywords and builtins
next to its results). The matcher also says which fragment it replaces (a model id contains `/`, which
IPython's own token splitter would cut at) and that its order is deliberate:

- after the magic: subcommands (`%%gravix`: the cell ones first; `%gravix`: only those that need no cell);
- after a subcommand: its model (the default first, then the server's models of that kind) while none is
  given, then its options in the order of `%gravix help SUBCOMMAND`, those already used left out;
- after `-f`/`--format`: the formats; after `config --model`: chat models; after `help`: subcommands.

Model names come from the server once a client exists, or when an API key is configured (building that
client is cheap); completing never starts the embedded GravixLayer Local.
"""

from __future__ import annotations

from typing import Any

from ._args import CELL_SUBCOMMANDS, SUBCOMMANDS, parser_for
from ._results import FORMATS

__all__ = ["candidates", "make_matcher", "MATCHER_ID"]

MATCHER_ID = "gravixlayer_notebook.magics"
_MODEL_SUBCOMMANDS = ("chat", "complete", "embed", "explain")
_COMMANDS = ("%gravix", "%%gravix")


def _models(magics: Any, kind: str) -> list[str]:
    if magics is None:
        return []
    names: list[str] = []
    provider = magics.provider
    if magics._models is not None or provider.source is not None or provider.can_build_without_local():
        try:
            names = magics.model_names(kind)
        except Exception:
            names = []
    default = magics.embedding_model if kind == "embedding" else magics.default_model
    return [default] + [n for n in names if n != default]


def _options(sub: str, used: list[str]) -> list[str]:
    """The subcommand's long options in help order, minus those already on the line."""
    out = []
    for action in parser_for(sub)._actions:
        if not action.option_strings or any(o in used for o in action.option_strings):
            continue
        out.append(next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0]))
    return out


def _takes_value(sub: str, option: str) -> bool:
    for action in parser_for(sub)._actions:
        if option in action.option_strings:
            return action.nargs != 0
    return False


def candidates(magics: Any, text_until_cursor: str) -> list[str]:
    """What may come next after `text_until_cursor` (one line starting with %gravix or %%gravix)."""
    tokens = text_until_cursor.split()
    if not tokens or tokens[0] not in _COMMANDS:
        return []
    cell_magic = tokens[0] == "%%gravix"
    tokens = tokens[1:]
    ends_with_space = text_until_cursor.endswith((" ", "\t"))
    current = "" if ends_with_space or not tokens else tokens[-1]
    before = tokens if ends_with_space else tokens[:-1]
    if not before:
        if cell_magic:
            subs = list(CELL_SUBCOMMANDS) + [s for s in SUBCOMMANDS if s not in CELL_SUBCOMMANDS]
        else:
            subs = [s for s in SUBCOMMANDS if s not in CELL_SUBCOMMANDS]
        return [s for s in subs if s.startswith(current)]
    sub = before[0]
    if sub not in SUBCOMMANDS:
        return []
    last = before[-1]
    if last in ("-f", "--format") and sub in ("chat", "complete"):
        return [f for f in FORMATS if f.startswith(current)]
    if sub == "config" and last == "--model":
        return [m for m in _models(magics, "chat") if m.startswith(current)]
    if last.startswith("-") and _takes_value(sub, last):
        return []  # a free value (a number, a name, a system message): nothing to offer
    if sub == "help":
        return [s for s in SUBCOMMANDS if s.startswith(current)] if len(before) == 1 else []
    options = _options(sub, before[1:])
    if current.startswith("-"):
        shorts = [o for a in parser_for(sub)._actions for o in a.option_strings if not o.startswith("--")]
        return [o for o in options if o.startswith(current)] + [o for o in shorts if o == current]
    model_given = any(
        not t.startswith("-") and not (i > 0 and before[1:][i - 1].startswith("-") and _takes_value(sub, before[1:][i - 1]))
        for i, t in enumerate(before[1:])
    )
    models: list[str] = []
    if sub in _MODEL_SUBCOMMANDS and not model_given:
        models = [m for m in _models(magics, "embedding" if sub == "embed" else "chat") if m.startswith(current)]
    return models + ([o for o in options if o.startswith(current)] if not current else [])


def _line_at_cursor(full_text: str, cursor_line: int, cursor_position: int) -> str | None:
    """The text before the cursor when it is on a %gravix line or a %%gravix cell's first line."""
    lines = full_text.split("\n")
    if cursor_line >= len(lines):
        return None
    line = lines[cursor_line][:cursor_position]
    stripped = line.lstrip()
    if stripped.startswith("%%gravix") and cursor_line != 0:
        return None  # a %%gravix cell magic is only its first line
    if stripped.split(None, 1)[:1] not in (["%gravix"], ["%%gravix"]):
        return None
    return stripped


def make_matcher(shell: Any) -> Any:
    """The matcher registered on `shell.Completer.custom_matchers` by `%load_ext`."""
    from IPython.core.completer import context_matcher

    @context_matcher(priority=1000, identifier=MATCHER_ID)  # type: ignore[untyped-decorator]
    def gravix_matcher(context: Any) -> dict[str, Any]:
        text = _line_at_cursor(context.full_text, context.cursor_line, context.cursor_position)
        if text is None:
            return {"completions": [], "suppress": False}
        from IPython.core.completer import SimpleCompletion

        magics = shell.magics_manager.registry.get("GravixMagics")
        found = candidates(magics, text)
        fragment = "" if text.endswith((" ", "\t")) or len(text.split()) < 2 else text.split()[-1]
        if len(text.split()) == 1 and not text.endswith((" ", "\t")):
            return {"completions": [], "suppress": False}  # completing the magic's own name: IPython's job
        return {
            "completions": [SimpleCompletion(text=c, type="gravix") for c in found],
            "matched_fragment": fragment,
            "suppress": True,  # on our line, nothing else (no Jedi keywords or builtins)
            "ordered": True,
        }

    return gravix_matcher
