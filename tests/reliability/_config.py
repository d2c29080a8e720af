"""Constants shared by the reliability suite's fixtures and helpers."""

from __future__ import annotations

KEYS = (
    "gl-rel-tenant-a-6f1d0c9e2b7a4c31",
    "gl-rel-tenant-b-93aa57e1d0c64b88",
    "gl-rel-tenant-c-1c2d3e4f5a6b7c8d",
)
"""API keys of the suite's server: each one is a tenant. They are long and unique so a leak is findable."""

BACKOFF_SCALE = 0.05
"""Retry waits (backoff and Retry-After alike) are scaled by this in fault scenarios, to keep CI short."""
