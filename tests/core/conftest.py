from __future__ import annotations

import pytest

import gravixlayer._retry as retry_module


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits instead of sleeping them, so retry tests run instantly."""
    waits: list[float] = []

    def fake_delay(attempt: int, headers: object = None) -> float:
        real = original(attempt, headers)  # type: ignore[arg-type]
        waits.append(real)
        return 0.0

    original = retry_module.retry_delay
    import gravixlayer._base_client as base

    monkeypatch.setattr(base, "retry_delay", fake_delay)
    return waits
