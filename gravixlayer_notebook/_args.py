"""Argument parsing for `%gravix` / `%%gravix`: argparse underneath, one-line `UsageError`s on top.

Every mistake names the option and why ("option --temperature: expected a number from 0 to 2, got
'hot'"), and ends with where to read more; nothing here ever prints a traceback or exits.
"""

from __future__ import annotations

import argparse
import shlex
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from IPython.core.error import UsageError

from ._results import FORMATS

__all__ = ["SUBCOMMANDS", "CELL_SUBCOMMANDS", "parse", "split_line", "usage", "HELP"]

CELL_SUBCOMMANDS = ("chat", "complete", "embed")
SUBCOMMANDS = (
    "chat", "complete", "embed", "explain", "models", "deployments", "hardware", "files", "config", "history",
    "reset", "help",
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def __init__(self, sub: str, **kwargs: Any) -> None:
        super().__init__(prog=f"%gravix {sub}", add_help=False, allow_abbrev=False, **kwargs)
        self.sub = sub

    def error(self, message: str) -> NoReturn:
        raise UsageError(_explain(self.sub, message))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:  # pragma: no cover - never exits
        raise UsageError(_explain(self.sub, message or "invalid arguments"))


def _explain(sub: str, message: str) -> str:
    message = message.strip()
    if message.startswith("argument "):
        head, _, why = message[len("argument ") :].partition(": ")
        names = head.split("/")
        name = next((n for n in names if n.startswith("--")), names[0])
        message = f"option {name}: {why}" if name.startswith("-") else f"{name}: {why}"
    message = message.replace("unrecognized arguments:", "unknown option or extra argument:")
    return f"%gravix {sub}: {message} (see %gravix help {sub})"


def _number(low: float, high: float) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number from {low:g} to {high:g}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a number from {low:g} to {high:g}, got {text}")
        return value

    return convert


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def _identifier(text: str) -> str:
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"expected a Python variable name, got {text!r}")
    return text


def _format(text: str) -> str:
    value = text.lower()
    if value == "md":
        value = "markdown"
    if value not in FORMATS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(FORMATS)}, got {text!r}")
    return value


def _add_output(p: _Parser) -> None:
    p.add_argument("-o", "--output", type=_identifier, metavar="NAME", help="also store the result in variable NAME")


def _build(sub: str) -> _Parser:
    p = _Parser(sub)
    if sub in ("chat", "complete"):
        p.add_argument("model", nargs="?", help="model id (default: GravixMagics.default_model)")
        if sub == "chat":
            p.add_argument("-s", "--system", metavar="S", help="system message for this cell")
            p.add_argument("--new", action="store_true", help="start a new conversation (forget the history)")
            p.add_argument("--no-history", action="store_true", help="send only this cell; do not record it")
        p.add_argument("-t", "--temperature", type=_number(0, 2), metavar="T", help="sampling temperature, 0 to 2")
        p.add_argument("-n", "--max-tokens", type=_positive_int, metavar="N", help="upper bound on answer tokens")
        p.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
        p.add_argument("--stream", action="store_true", help="stream even where output cannot update in place")
        p.add_argument("--no-interpolate", action="store_true", help="send {name} tokens literally")
        p.add_argument(
            "-f", "--format", type=_format, metavar="FMT",
            help="markdown (default), text, code (also offered as a new cell below) or json",
        )  # fmt: skip
        _add_output(p)
    elif sub == "explain":
        p.add_argument("model", nargs="?", help="model id (default: GravixMagics.default_model)")
        p.add_argument("--cell", type=_positive_int, metavar="N", help="explain the error of cell [N] (default: the last)")
        p.add_argument("-t", "--temperature", type=_number(0, 2), metavar="T", help="sampling temperature, 0 to 2")
        p.add_argument("-n", "--max-tokens", type=_positive_int, metavar="N", help="upper bound on answer tokens")
        p.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
        p.add_argument("--stream", action="store_true", help="stream even where output cannot update in place")
        _add_output(p)
    elif sub == "embed":
        p.add_argument("model", nargs="?", help="embedding model id (default: GravixMagics.embedding_model)")
        p.add_argument("--lines", action="store_true", help="embed each non-empty line separately")
        p.add_argument("--dimensions", type=_positive_int, metavar="N", help="ask for N dimensions")
        p.add_argument("--no-interpolate", action="store_true", help="send {name} tokens literally")
        _add_output(p)
    elif sub in ("models", "files", "history"):
        _add_output(p)
    elif sub in ("deployments", "hardware"):
        p.add_argument("--widget", action="store_true", help="show the interactive browser instead of a table")
        _add_output(p)
    elif sub == "config":
        p.add_argument("--api-key-env", metavar="NAME", help="read the API key from environment variable NAME")
        p.add_argument("--base-url", metavar="URL", help="API origin (default: GRAVIXLAYER_BASE_URL or the cloud)")
        p.add_argument("--local", action="store_true", help="use the embedded GravixLayer Local")
        p.add_argument("--model", metavar="MODEL", help="set the default chat model")
        p.add_argument("--reset", action="store_true", help="forget the explicit settings above")
    elif sub == "help":
        p.add_argument("topic", nargs="?", help="a subcommand")
    return p


_PARSERS: dict[str, _Parser] = {}


def parser_for(sub: str) -> _Parser:
    if sub not in _PARSERS:
        _PARSERS[sub] = _build(sub)
    return _PARSERS[sub]


def split_line(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"%gravix: cannot read the options ({exc}); check the quotes") from None


def parse(sub: str, tokens: Sequence[str]) -> argparse.Namespace:
    return parser_for(sub).parse_args(list(tokens))


WIDTH = 88  # help lines never exceed this, and wrap only between words


def _entry(left: str, text: str, indent: int) -> list[str]:
    """`left` then `text` wrapped at word boundaries, continuation lines aligned under the text."""
    pad = " " * indent
    first = left.ljust(indent) if len(left) < indent else left + "\n" + pad
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=pad, break_long_words=False,
                         break_on_hyphens=False) or [left]  # fmt: skip


def usage(sub: str) -> str:
    p = parser_for(sub)
    usage_line = " ".join(p.format_usage().replace("usage: ", "").split())
    lines = textwrap.wrap(usage_line, WIDTH, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
    for action in p._actions:
        names = ", ".join(action.option_strings) or action.dest
        if action.metavar and action.option_strings:
            names += f" {action.metavar}"
        lines += "\n".join(_entry(f"    {names}", action.help or "", 32)).split("\n")
    return "\n".join(lines)


_SUMMARY = (
    ("%%gravix chat [MODEL] [options]", "the cell is the prompt; the answer streams in and renders as Markdown; "
     "the conversation continues across cells (--new starts over)"),
    ("%%gravix complete [MODEL]", "legacy text completion of the cell"),
    ("%%gravix embed [MODEL]", "embed the cell (--lines: each line) -> vectors, .to_pandas()"),
    ("%gravix explain [MODEL]", "the last error (or --cell N's) and its cell, explained by the model, streamed"),
    ("%gravix models", "models the server offers (chat and embedding)"),
    ("%gravix deployments [--widget]", "your deployments (table, or the interactive browser)"),
    ("%gravix hardware [--widget]", "GPU catalogue with prices (table, or the pricing explorer)"),
    ("%gravix files", "your uploaded files"),
    ("%gravix config [...]", "where the client comes from (--api-key-env NAME, --base-url URL, --local) "
     "and the settings in force"),
    ("%gravix history", "the conversation as a DataFrame; %gravix reset forgets it"),
    ("%gravix help [SUBCOMMAND]", "this text, or one subcommand's options"),
)  # fmt: skip

_NOTES = (
    "Interpolation: {name} in a cell is replaced by the variable's value (str(value)) when `name` is "
    "defined; {In[n]}, {Out[n]} and {Err[n]} by cell [n]'s source, value and error; {{name}} gives the "
    "literal text {name}; every other brace stays as written; --no-interpolate turns it off. On the "
    "magic's own line, $name and {name} expand as in any IPython magic.",
    "-f code shows the answer's code block and offers it as a new cell below the current one.",
    "-o NAME stores the result in a variable; the result is also the cell's value (Out[n]).",
    "Settings: %config GravixMagics (default_model, embedding_model, stream, max_history, format, "
    "short_errors).",
    "The client: %gravix config --api-key-env NAME, else $GRAVIXLAYER_API_KEY, else the embedded "
    "GravixLayer Local.",
)


def _help() -> str:
    lines = ["%gravix / %%gravix: GravixLayer from a notebook cell.", ""]
    for left, text in _SUMMARY:
        lines += _entry(f"  {left}", text, 36)
    for note in _NOTES:
        lines += [""] + textwrap.wrap(note, WIDTH, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines)


HELP = _help()
