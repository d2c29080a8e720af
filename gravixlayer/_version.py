"""The installed version, read from package metadata so the User-Agent never goes stale (D13)."""

from __future__ import annotations


def _read_version() -> str:
    try:
        from importlib.metadata import version

        return version("gravixlayer")
    except Exception:  # not installed (running from a source tree)
        return "0.0.0+local"


__version__ = _read_version()
