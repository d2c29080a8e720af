"""Types shared by every resource method."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from typing_extensions import TypedDict

__all__ = ["RequestOptions", "TimedRequestOptions", "TimeoutTypes", "as_request_options"]

TimeoutTypes = float | httpx.Timeout | None


class RequestOptions(TypedDict, total=False):
    """Per-call overrides accepted by every method (`timeout=`, `max_retries=`, extra headers/body)."""

    timeout: TimeoutTypes
    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, Any]
    extra_body: Mapping[str, Any]


class TimedRequestOptions(TypedDict, total=False):
    """`RequestOptions` for methods whose own `timeout` means something else (a sandbox's life, a run,
    a whole wait): there the HTTP timeout of each request is `http_timeout`."""

    http_timeout: TimeoutTypes
    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, Any]
    extra_body: Mapping[str, Any]


def as_request_options(options: TimedRequestOptions) -> RequestOptions:
    """`TimedRequestOptions` in the transport's terms (`http_timeout` becomes the request's `timeout`)."""
    result = RequestOptions()
    for key, value in options.items():
        result["timeout" if key == "http_timeout" else key] = value  # type: ignore[literal-required]
    return result
