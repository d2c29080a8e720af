"""`Err`: the errors the notebook's cells raised, by execution count (what `{Err[n]}` and `%gravix explain` use).

IPython keeps each cell's source in `In` and its value in `Out`, but no error history; the extension
adds `Err` to the namespace and fills it from a `post_run_cell` hook. Tracebacks are kept as plain text
from the user's own frames (IPython's machinery left out), the way a person would paste them.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

__all__ = ["CellError", "ErrorLog", "install", "uninstall"]


@dataclass(frozen=True)
class CellError:
    """One failed cell: its execution count and source, the exception's name and value, the traceback."""

    execution_count: int
    source: str
    name: str
    value: str
    traceback: str

    def __str__(self) -> str:
        return self.traceback


def _user_traceback(exc: BaseException) -> str:
    tb = exc.__traceback__
    # drop the leading frames of IPython's own machinery (run_code's exec, the magic dispatch...)
    while tb is not None and "/IPython/" in tb.tb_frame.f_code.co_filename.replace("\\", "/"):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip("\n")


class ErrorLog(dict[int, CellError]):
    """`Err[n]`: the error of the cell run as `[n]` (only cells that failed have an entry)."""

    def record(self, result: Any) -> None:
        exc = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        count = getattr(result, "execution_count", None)
        if exc is None or count is None:
            return
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", None) or ""
        self[int(count)] = CellError(int(count), source, type(exc).__name__, str(exc), _user_traceback(exc))

    def last(self) -> CellError | None:
        return self[max(self)] if self else None


def install(shell: Any) -> ErrorLog:
    """Put `Err` in the namespace (unless the user has their own) and record every failed cell in it."""
    log = shell.user_ns.get("Err")
    if not isinstance(log, ErrorLog):
        log = ErrorLog()
        if "Err" not in shell.user_ns:
            shell.user_ns["Err"] = log
    shell.events.register("post_run_cell", log.record)
    return log


def uninstall(shell: Any, log: ErrorLog) -> None:
    try:
        shell.events.unregister("post_run_cell", log.record)
    except ValueError:
        pass
