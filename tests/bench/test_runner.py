"""The all-benchmarks runner: ratios read one way whatever each module reports, and every module is runnable."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.bench import __main__ as runner
from tests.bench._table import row


def test_cost_ratio_is_the_same_direction_for_times_and_rates() -> None:
    slower = runner.normalize("x", row("per request", 2.0, 1.0, "ms", "raw httpx.Client"))
    assert slower.cost_ratio == pytest.approx(2.0)
    # A rate as _table.row writes it (no flag kept), and as other modules write it (with the flag).
    half_rate = runner.normalize(
        "x", row("chunks consumed", 50.0, 100.0, "chunks/s", "raw httpx", higher_is_better=True)
    )
    flagged = runner.normalize(
        "x",
        {
            "name": "upload",
            "sdk": 50.0,
            "baseline": 100.0,
            "unit": "MB/s",
            "baseline_name": "raw",
            "higher_is_better": True,
        },
    )
    assert half_rate.cost_ratio == pytest.approx(2.0) == flagged.cost_ratio


def test_targets_of_the_issue_are_attached() -> None:
    got = runner.normalize(
        "inference", row("embeddings.create (per request)", 1.1, 1.0, "ms", "raw httpx.Client")
    )
    assert got.target is not None and got.target.limit == 1.15 and got.meets is True
    vs_openai = runner.normalize(
        "inference", row("chat stream: time to first chunk", 2.0, 1.0, "ms", "openai-python")
    )
    assert vs_openai.target is not None and vs_openai.meets is False
    imp = runner.normalize("inference", row("import gravixlayer (fresh)", 10.0, 100.0, "ms", "import openai"))
    assert imp.target is not None and imp.target.limit == 0.5 and imp.meets is True
    search = runner.normalize(
        "vectors", row("search top-10, 100,000 x 1024-d", 3.0, 2.0, "ms", "numpy matrix @ query")
    )
    assert search.target is not None and search.meets is True
    assert runner.normalize("files", row("upload", 1.0, 1.0, "MB/s", "raw httpx multipart")).target is None


def test_report_names_the_machine_and_every_row() -> None:
    rows = [runner.normalize("a", row(f"bench {i}", 1.0 + i, 1.0, "ms", "base")) for i in range(3)]
    info = runner.machine()
    assert "cores" in info["cpu"] and "Python" in info["python"]
    text = runner.report(rows, info, {"sandbox": "ImportError: x"}, 1.0)
    assert all(f"bench {i}" in text for i in range(3))
    assert "3.00x" in text and info["cpu"] in text and "sandbox: ImportError" in text


def test_every_benchmark_module_exposes_run() -> None:
    areas = runner.discover()
    assert {"inference", "vectors", "files"} <= set(areas)
    for area in areas:
        run = importlib.import_module(f"tests.bench.bench_{area}").run
        required = [p.name for p in inspect.signature(run).parameters.values() if p.default is p.empty]
        assert not required, f"bench_{area}.run() must run without arguments, needs {required}"


def test_unknown_area_is_refused() -> None:
    with pytest.raises(SystemExit):
        runner.main(["--only", "no-such-area"])
