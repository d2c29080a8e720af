"""Defaults in one place, so the docs and the code cannot disagree."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "https://api.gravixlayer.com"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

# Service prefixes of spec §1.2 era B; every request names one of these.
SERVICE_PREFIXES: dict[str, str] = {
    "inference": "/v1/inference",
    "files": "/v1/files",
    "deployments": "/v1/deployments",
    "accelerators": "/v1/accelerators",
    "vectors": "/v1/vectors",
    "agents": "/v1/agents",
}

# A configured base URL whose path starts with one of these is reduced to its origin (decision 1).
STRIPPABLE_PREFIXES = ("/v1/inference", "/v1/agents", "/v1/vectors", "/v1/files", "/v1/deployments")
