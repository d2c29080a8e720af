"""Optional progress bars (`tqdm.auto`: a widget in notebooks, text in a terminal), only when asked for."""

from __future__ import annotations

from typing import Any

from .._warn import warn_user

__all__ = ["progress_bar"]


def progress_bar(enabled: bool, *, total: float | None, desc: str, unit: str = "B") -> Any:
    """A tqdm bar, or None when progress was not asked for (or tqdm is not installed, with a warning)."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warn_user(
            "progress=True needs tqdm (pip install tqdm, or gravixlayer[notebook]); continuing without it",
            RuntimeWarning,
        )
        return None
    if unit == "B":
        return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)
    return tqdm(total=total, desc=desc, unit=unit)
