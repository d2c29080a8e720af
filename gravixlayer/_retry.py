"""Retry decisions and backoff, shared by the sync and async request loops."""

from __future__ import annotations

import email.utils
import random
import time

import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

__all__ = ["retry_reason_for_exception", "retry_reason_for_status", "retry_delay", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses that prove the server did not act on the request, so even a creating POST may be retried.
NOT_ACTED_STATUSES = frozenset({429, 503})


def retry_reason_for_status(status: int, *, idempotent: bool) -> str | None:
    """Why a response with this status should be retried, or None if it should not."""
    allowed = RETRYABLE_STATUSES if idempotent else NOT_ACTED_STATUSES
    if status in allowed:
        return f"HTTP {status}"
    return None


def retry_reason_for_exception(exc: httpx.TransportError, *, idempotent: bool) -> str | None:
    """Why a transport failure should be retried, or None.

    A failure to connect means the request never left, so it is always safe. A timeout or a reset
    after sending may mean the server acted, so only idempotent requests are retried then.
    """
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return f"could not connect ({type(exc).__name__})"
    if not idempotent:
        return None
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError)):
        return f"connection failed ({type(exc).__name__})"
    return None


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait per `retry-after-ms`, or `Retry-After` in seconds or HTTP-date form."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_delay(attempt: int, headers: httpx.Headers | None = None) -> float:
    """Wait before retry number `attempt + 1`: the server's word (capped), else backoff with jitter."""
    if headers is not None:
        told = parse_retry_after(headers)
        if told is not None:
            return min(told, MAX_RETRY_AFTER)
    base = min(INITIAL_RETRY_DELAY * (2.0**attempt), MAX_RETRY_DELAY)
    return base * (1.0 - 0.25 * random.random())
