"""A sandbox run (`Execution`) shown the way Jupyter shows a cell's run.

Output first (stdout plain, stderr on Jupyter's pink), then the value of the last expression, then a
failure as Jupyter shows an exception: the traceback with its line breaks, ANSI colours rendered, and the
last line `Name: value` with the name in red. In a terminal (text/plain) the same, with the ANSI codes
left for the terminal to colour.
"""

from __future__ import annotations

import re
from typing import Any

from ._html import esc, plural

__all__ = ["ansi_to_html", "execution_html", "execution_text", "strip_ansi"]

_SGR_RE = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER_ESCAPES_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Jupyter's ANSI palette (JupyterLab's --jp-ansi-* colours, light theme)
_COLOURS = ("#3e424d", "#e75c58", "#00a250", "#ddb62b", "#208ffb", "#d160c4", "#60c6c8", "#c5c1b4")
_BRIGHT = ("#282c36", "#b22b31", "#007427", "#b27d12", "#0065ca", "#a03196", "#258f8f", "#a1a6b2")
_PRE = "margin:0;white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;font-family:var(--jp-code-font-family,monospace)"


def strip_ansi(text: str) -> str:
    return _OTHER_ESCAPES_RE.sub("", _SGR_RE.sub("", text))


def _colour(code: int) -> tuple[str, str] | None:
    if 30 <= code <= 37:
        return "color", _COLOURS[code - 30]
    if 90 <= code <= 97:
        return "color", _BRIGHT[code - 90]
    if 40 <= code <= 47:
        return "background-color", _COLOURS[code - 40]
    if 100 <= code <= 107:
        return "background-color", _BRIGHT[code - 100]
    return None


def ansi_to_html(text: str) -> str:
    """HTML-escaped `text` with SGR colour/bold codes turned into styled spans (other escapes dropped)."""
    out: list[str] = []
    style: dict[str, str] = {}
    pos = 0
    opened = False
    for match in _SGR_RE.finditer(text):
        out.append(esc(strip_ansi(text[pos : match.start()])))
        pos = match.end()
        codes = [int(c) for c in match.group(1).split(";") if c.isdigit()] or [0]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                style = {}
            elif code == 1:
                style["font-weight"] = "bold"
            elif code == 22:
                style.pop("font-weight", None)
            elif code in (39, 49):
                style.pop("color" if code == 39 else "background-color", None)
            elif code in (38, 48) and i + 1 < len(codes):  # 256-colour / true-colour: skip the arguments
                i += 2 if codes[i + 1] == 5 else 4
            elif (pair := _colour(code)) is not None:
                style[pair[0]] = pair[1]
            i += 1
        if opened:
            out.append("</span>")
            opened = False
        if style:
            out.append('<span style="' + ";".join(f"{k}:{v}" for k, v in style.items()) + '">')
            opened = True
    out.append(esc(strip_ansi(text[pos:])))
    if opened:
        out.append("</span>")
    return "".join(out)


def _main_text(execution: Any) -> str | None:
    text = getattr(execution, "text", None)
    return text if isinstance(text, str) else None


def _traceback_html(error: Any) -> str:
    tb = (error.traceback or "").rstrip("\n")
    name, value = error.name or "Error", error.value or ""
    last = f"{name}: {value}" if value else name
    lines = tb.split("\n") if tb else []
    if lines and strip_ansi(lines[-1]).strip() == last:
        lines = lines[:-1]  # shown below, with the name in red as Jupyter does
    body = ansi_to_html("\n".join(lines)) + ("\n" if lines else "")
    tail = f'<span style="color:#e75c58;font-weight:bold">{esc(name)}</span>' + (f": {esc(value)}" if value else "")
    return f'<pre class="gravix-traceback" style="{_PRE}">{body}{tail}</pre>'


def execution_html(execution: Any) -> str:
    parts: list[str] = []
    if execution.stdout:
        parts.append(f'<pre class="gravix-stdout" style="{_PRE}">{ansi_to_html(execution.stdout)}</pre>')
    if execution.stderr:
        parts.append(
            f'<pre class="gravix-stderr" style="{_PRE};background:var(--jp-rendermime-error-background,#fdd);'
            f'padding:2px 4px">{ansi_to_html(execution.stderr)}</pre>'
        )
    main = _main_text(execution)
    if main is not None and execution.error is None:
        parts.append(f'<pre class="gravix-result" style="{_PRE}">{ansi_to_html(main)}</pre>')
    if execution.error is not None:
        parts.append(
            '<div class="gravix-error" style="background:var(--jp-rendermime-error-background,#fdd);'
            f'padding:4px 6px;margin-top:2px">{_traceback_html(execution.error)}</div>'
        )
    if not parts:
        exit_code = getattr(execution, "exit_code", None)
        parts.append(f'<div style="color:#666">no output (exit code {esc(exit_code)})</div>')
    elif execution.error is None and getattr(execution, "exit_code", 0) not in (0, None):
        parts.append(f'<div style="color:#c9302c">exit code {esc(execution.exit_code)}</div>')
    return '<div class="gravix-execution">' + "".join(parts) + "</div>"


def execution_text(execution: Any) -> str:
    parts: list[str] = []
    if execution.stdout:
        parts.append(execution.stdout.rstrip("\n"))
    if execution.stderr:
        parts.append(execution.stderr.rstrip("\n"))
    main = _main_text(execution)
    if main is not None and execution.error is None:
        parts.append(main)
    if execution.error is not None:
        error = execution.error
        tb = (error.traceback or "").rstrip("\n")
        last = f"{error.name}: {error.value}" if error.value else error.name
        parts.append(tb if strip_ansi(tb).rstrip().endswith(last) else "\n".join(p for p in (tb, last) if p))
    if not parts:
        parts.append(f"(no output, exit code {execution.exit_code})")
    results = getattr(execution, "results", None) or []
    extra = len(results) - (1 if main is not None else 0)
    if extra > 0:
        parts.append(f"[{plural(extra, 'more result')}: .results]")
    return "\n".join(parts)
