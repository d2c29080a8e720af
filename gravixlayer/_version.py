"""The package version: pyproject.toml reads it from here, so the User-Agent can never go stale (D13)."""

__version__ = "0.1.0"
