"""Every benchmark side by side, in one process run, as one table of ratios.

    .venv/bin/python -m tests.bench                # everything (a few minutes)
    .venv/bin/python -m tests.bench --quick        # smaller counts, a smoke run
    .venv/bin/python -m tests.bench --with-1m      # also search 1,000,000 vectors (~12 GB RAM, ~20 min more)
    .venv/bin/python -m tests.bench --only inference,vectors

Each `tests/bench/bench_<area>.py` exposes `run() -> list[dict]`; rows carry `name`, `sdk`, `baseline`,
`unit` and `baseline_name`. Ratios here are always *cost* ratios, gravixlayer's cost over the
baseline's (time / time, or baseline rate / gravixlayer rate): below 1.00 gravixlayer is cheaper. The
table, the machine it ran on and the issue's targets are printed and written to a Markdown file
(default `build/benchmarks.md`) for the README's Performance section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import os
import pkgutil
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

QUICK: dict[str, dict[str, Any]] = {
    "inference": {"n": 40},
    "local_models": {"decode_tokens": 16, "repeat": 1, "sentences": 256},
    "fanout": {"n": 200},
    "vectors": {"sizes": (10_000,), "rounds": 1, "queries": 10},
    "files": {"size": 20_000_000, "rounds": 2},
    "sandbox": {"rounds": 5, "n": 10},
    "notebook": {"repeat": 3},
}
"""Smaller counts for `--quick`; only the keyword arguments a module's `run()` accepts are passed."""


@dataclass(frozen=True)
class Target:
    """A goal from the issue, applied to rows whose name and baseline match."""

    label: str
    applies: Callable[[str, str], bool]
    limit: float


TARGETS: list[Target] = [
    Target(
        "<= 1.15x raw httpx",
        lambda name, vs: ("per request" in name or "fan-out" in name) and "httpx" in vs,
        1.15,
    ),
    Target("<= 1.10x raw httpx", lambda name, vs: "chat stream" in name and "httpx" in vs, 1.10),
    Target("<= 1.00x openai-python", lambda name, vs: "100 x 1024-d" in name and "openai" in vs, 1.0),
    Target(
        "< 1.00x openai-python",
        lambda name, vs: (
            ("per request" in name or "chat stream" in name or "fan-out" in name) and "openai" in vs.lower()
        ),
        1.0,
    ),
    Target(
        "< 0.50x import openai",
        lambda name, vs: name.startswith("import gravixlayer") and "openai" in vs,
        0.5,
    ),
    Target("<= 1.50x numpy floor", lambda name, vs: name.startswith("search") and "numpy" in vs, 1.5),
]


@dataclass
class Row:
    area: str
    name: str
    sdk: float
    baseline: float
    unit: str
    baseline_name: str
    cost_ratio: float
    target: Target | None

    @property
    def meets(self) -> bool | None:
        return None if self.target is None else self.cost_ratio <= self.target.limit


def _higher_is_better(raw: dict[str, Any]) -> bool:
    if "higher_is_better" in raw:
        return bool(raw["higher_is_better"])
    return str(raw.get("unit", "")).endswith("/s")  # rates: chunks/s, vectors/s, MB/s


def normalize(area: str, raw: dict[str, Any]) -> Row:
    """One row with a cost ratio, whichever way the module defined its own `ratio`."""
    sdk, baseline = float(raw["sdk"]), float(raw["baseline"])
    if _higher_is_better(raw):
        cost = baseline / sdk if sdk else float("inf")
    else:
        cost = sdk / baseline if baseline else float("inf")
    name, vs = str(raw["name"]), str(raw.get("baseline_name", "baseline"))
    target = next((t for t in TARGETS if t.applies(name, vs)), None)
    return Row(area, name, sdk, baseline, str(raw.get("unit", "")), vs, cost, target)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    versions = []
    for module in ("gravixlayer", "httpx", "openai", "numpy", "pandas"):
        try:
            versions.append(f"{module} {importlib.import_module(module).__version__}")
        except (ImportError, AttributeError):
            continue
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": f"{cpu}, {os.cpu_count()} logical cores" + (f", {memory}" if memory else ""),
        "python": f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}",
        "versions": ", ".join(versions),
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        + (f", commit {commit}" if commit else ""),
    }


def discover() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


def _call_run(module: ModuleType, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    run = module.run
    accepted = inspect.signature(run).parameters
    rows: list[dict[str, Any]] = run(**{k: v for k, v in kwargs.items() if k in accepted})
    return rows


def _fmt(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 100_000:
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:.3g}"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (it reads fine in a terminal too)."""
    head = "| area | benchmark | gravixlayer | baseline | unit | vs | cost ratio | target |"
    lines = [head, "|---|---|--:|--:|---|---|--:|---|"]
    for r in rows:
        mark = "" if r.target is None else f"{r.target.label} {'✓' if r.meets else '✗'}"
        lines.append(
            f"| {r.area} | {r.name} | {_fmt(r.sdk)} | {_fmt(r.baseline)} | {r.unit} | {r.baseline_name} | "
            f"{r.cost_ratio:.2f}x | {mark} |"
        )
    return "\n".join(lines)


def report(rows: Sequence[Row], info: dict[str, str], failures: dict[str, str], seconds: float) -> str:
    parts = [
        "### Benchmarks",
        "",
        f"Machine: {info['cpu']}; {info['python']}.  ",
        f"Versions: {info['versions']}.  ",
        f"Run: {info['when']}, {seconds:.0f} s, `.venv/bin/python -m tests.bench`.",
        "",
        table(rows),
        "",
        "Cost ratio = gravixlayer's time over the baseline's (or the baseline's rate over gravixlayer's): "
        "below 1.00x gravixlayer is cheaper. GravixLayer Local runs on the same machine, so absolute times "
        "are loopback times.",
    ]
    if failures:
        parts += ["", "Not in this table:"] + [f"- {area}: {why}" for area, why in failures.items()]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts: a smoke run of every benchmark")
    parser.add_argument(
        "--with-1m",
        action="store_true",
        help="also search 1,000,000 1024-d vectors (~12 GB RAM, ~20 min more)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated areas (default: all of " + ", ".join(discover()) + ")"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "build" / "benchmarks.md", help="Markdown output file"
    )
    args = parser.parse_args(argv)

    areas = [a.strip() for a in args.only.split(",") if a.strip()] or discover()
    unknown = set(areas) - set(discover())
    if unknown:
        parser.error(f"unknown areas {sorted(unknown)}; known: {', '.join(discover())}")
    info = machine()
    print(f"Machine: {info['cpu']}\n{info['python']}\n{info['versions']}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    failures: dict[str, str] = {}
    for area in areas:
        kwargs: dict[str, Any] = dict(QUICK.get(area, {})) if args.quick else {}
        if area == "vectors" and args.with_1m:
            kwargs["with_1m"] = True
        print(f"== {area} ...", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"tests.bench.bench_{area}")
            got = [normalize(area, raw) for raw in _call_run(module, kwargs)]
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            failures[area] = (
                f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__} (traceback above)"
            )
            continue
        rows += got
        if not got:
            failures[area] = "nothing measured"
        print(f"   {len(got)} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    text = report(rows, info, failures, time.perf_counter() - started)
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"Markdown written to {args.out}")
    return 1 if any(not why.startswith("nothing measured") for why in failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
