"""Server-sent-event framing as the SDKs and OpenAI-compatible clients read it."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["sse_data", "SSE_DONE", "SSE_HEADERS", "SSE_MEDIA_TYPE"]

SSE_MEDIA_TYPE = "text/event-stream"
SSE_DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def sse_data(payload: Any) -> bytes:
    """One event: ``data: <compact json>\\n\\n``."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + body.encode("utf-8") + b"\n\n"
