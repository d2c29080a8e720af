"""Tallying how calls made through the fault proxy ended, and the time each was allowed."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from gravixlayer import GravixLayerError

from ._config import BACKOFF_SCALE

T = TypeVar("T")

MAX_BACKOFF = 8.0  # gravixlayer._constants.MAX_RETRY_DELAY
MAX_TOLD_WAIT = 2.0  # Retry-After as the proxy sends it (1 s, or an HTTP-date up to ~2 s away)


def must(value: str | None) -> str:
    """An id the server must have given."""
    assert value, "the answer carries no id"
    return value


def budget(*, timeout: float, max_retries: int, requests: int = 1, slack: float = 3.0) -> float:
    """Longest a call may take: every attempt timing out plus every (scaled) wait, for each request it makes."""
    per_request = (max_retries + 1) * timeout + max_retries * max(MAX_BACKOFF, MAX_TOLD_WAIT) * BACKOFF_SCALE
    return requests * per_request + slack


@dataclass
class Outcomes:
    """How each call ended: ``ok``, a typed error by class name, or a failure of the promise."""

    budget: float
    ended: Counter[str] = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)  # promises broken: untyped errors, overruns, partials
    slowest: float = 0.0

    @property
    def calls(self) -> int:
        return sum(self.ended.values())

    def typed_errors(self) -> int:
        return self.calls - self.ended["ok"]

    def _timed(self, started: float, label: str) -> None:
        elapsed = time.monotonic() - started
        self.slowest = max(self.slowest, elapsed)
        if elapsed > self.budget:
            self.broken.append(f"{label}: took {elapsed:.1f}s, budget {self.budget:.1f}s")

    def run(self, label: str, call: Callable[[], T]) -> T | None:
        started = time.monotonic()
        try:
            result = call()
        except GravixLayerError as exc:
            self.ended[type(exc).__name__] += 1
            return None
        except Exception as exc:  # an untyped error breaks the promise
            self.broken.append(f"{label}: untyped {type(exc).__name__}: {exc}")
            return None
        finally:
            self._timed(started, label)
        self.ended["ok"] += 1
        return result

    async def arun(self, label: str, call: Callable[[], Awaitable[T]]) -> T | None:
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(call(), self.budget * 2)
        except asyncio.TimeoutError:
            self.broken.append(f"{label}: hung (no end after {self.budget * 2:.0f}s)")
            return None
        except GravixLayerError as exc:
            self.ended[type(exc).__name__] += 1
            return None
        except Exception as exc:
            self.broken.append(f"{label}: untyped {type(exc).__name__}: {exc}")
            return None
        finally:
            self._timed(started, label)
        self.ended["ok"] += 1
        return result

    def summary(self) -> str:
        errors = ", ".join(f"{k}={v}" for k, v in sorted(self.ended.items()) if k != "ok") or "none"
        return (
            f"{self.ended['ok']} ok, {self.typed_errors()} typed errors ({errors}), "
            f"slowest call {self.slowest:.2f}s of a {self.budget:.1f}s budget"
        )


async def gather_limited(n: int, jobs: list[Callable[[], Awaitable[None]]]) -> None:
    """Run jobs with at most ``n`` at a time."""
    gate = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))
