"""Warnings that point at the user's line, however many SDK frames lie between it and the warning."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn_user"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = DeprecationWarning) -> None:
    """`warnings.warn` attributed to the first caller outside the `gravixlayer` package.

    A fixed `stacklevel` breaks as soon as a wrapper (such as the keyword check every resource method
    has) adds a frame; walking the stack does not.
    """
    level = 2
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level - 1 if frame is None else level)
