"""Timing helpers and the ratio table every benchmark prints."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], *, repeat: int = 5, number: int = 1) -> float:
    """Median seconds per call over `repeat` rounds of `number` calls (median resists a noisy 2-core box)."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def row(name: str, sdk: float, baseline: float, unit: str, baseline_name: str, *, higher_is_better: bool = False) -> dict[str, Any]:
    ratio = (baseline / sdk) if higher_is_better else (sdk / baseline)
    return {"name": name, "sdk": sdk, "baseline": baseline, "unit": unit, "baseline_name": baseline_name, "ratio": ratio}


def print_table(rows: list[dict[str, Any]]) -> None:
    from sys import stdout

    header = f"| {'benchmark':<58} | {'gravixlayer':>12} | {'baseline':>12} | {'unit':<10} | {'vs':<22} | {'ratio':>6} |"
    stdout.write(header + "\n" + "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|\n")
    for r in rows:
        stdout.write(
            f"| {r['name']:<58} | {r['sdk']:>12.4g} | {r['baseline']:>12.4g} | {r['unit']:<10} | {r['baseline_name']:<22} | {r['ratio']:>6.2f} |\n"
        )
    stdout.flush()
