"""Fixtures for the reliability suite: a multi-tenant Local, the fault proxy, fast backoff, figures."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import gravixlayer._base_client as base_client
from gravixlayer._retry import retry_delay
from gravixlayer.local import LocalServer

from ._config import BACKOFF_SCALE, KEYS
from .fault_proxy import FaultPlan, FaultProxy

FIGURES: list[str] = []

Report = Callable[[str], None]
ProxyFactory = Callable[[FaultPlan], FaultProxy]


@pytest.fixture(scope="session")
def rel_server() -> Iterator[LocalServer]:
    """One Local for the suite, separate from the shared one, with three tenants."""
    with LocalServer(api_keys=list(KEYS), deployment_ready_delay=0, chat_engine="standin") as server:
        yield server


@pytest.fixture
def report(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Report:
    """Print a scenario's figure in the test output (also under capture) and keep it for the summary."""

    def emit(line: str) -> None:
        FIGURES.append(f"{request.node.name}: {line}")
        request.node.user_properties.append(("figure", line))
        with capsys.disabled():
            print(f"\n[reliability] {line}")

    return emit


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> float:
    """Scale every retry wait the SDK computes (its own decision, its Retry-After parsing) down."""

    def scaled(attempt: int, headers: httpx.Headers | None = None) -> float:
        return retry_delay(attempt, headers) * BACKOFF_SCALE

    monkeypatch.setattr(base_client, "retry_delay", scaled)
    return BACKOFF_SCALE


@pytest.fixture
def proxy_factory(rel_server: LocalServer) -> Iterator[ProxyFactory]:
    """Start fault proxies in front of the suite's server; all are stopped at teardown."""
    started: list[FaultProxy] = []

    def make(plan: FaultPlan) -> FaultProxy:
        proxy = FaultProxy.for_url(rel_server.base_url, plan).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


class RetryLog(logging.Handler):
    """Counts the SDK's retry log records by reason (the SDK's own view of the faults)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying") and len(record.args or ()) >= 3:
            args: Any = record.args
            self.reasons[str(args[2])] += 1

    def summary(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.reasons.items())) or "none"


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("gravixlayer")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
