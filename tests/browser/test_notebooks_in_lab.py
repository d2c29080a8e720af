"""Each notebook in real JupyterLab, in Debian's chromium, as a user runs it: open, Run All, wait for the
kernel; then no error output, no unrun cell, every widget output rendered, no page error.

Screenshots (the page, and each widget cell) and the Run All time per notebook go to test-artifacts/
(`lab-run-all.json`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

from .conftest import ARTIFACTS
from .lab import APP_READY, CELL_REPORT, PANEL_READY, ROOT, RUN_ALL, RUN_FINISHED, JupyterLab

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RUN_TIMEOUT_MS = 240_000  # under pytest-timeout's 300 s, so a stuck run reports its cells
_times: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    for path in NOTEBOOKS:  # served without outputs: every output on screen comes from this run
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, root / path.name)
    server = JupyterLab(root, tmp)
    yield server
    server.stop()
    if _times:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "lab-run-all.json").write_text(json.dumps(_times, indent=1) + "\n")


@pytest.fixture(scope="module")
def lab_page(lab: JupyterLab, browser: Any) -> Iterator[Any]:
    """One JupyterLab page for every notebook (Lab's front end loads once; each notebook opens in it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{lab.url}/lab?reset")  # a fresh workspace: nothing reopened from an earlier run
    page.wait_for_function("() => !!window.jupyterapp")
    page.evaluate(APP_READY)
    yield page
    context.close()


def _shut_down_kernels(lab: JupyterLab) -> None:
    for session in httpx.get(f"{lab.url}/api/sessions", timeout=10).json():
        httpx.delete(f"{lab.url}/api/sessions/{session['id']}", timeout=30)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_all_in_jupyterlab(lab: JupyterLab, lab_page: Any, path: Path) -> None:
    page, name = lab_page, path.name
    page.errors.clear()
    page.evaluate(OPEN, name)
    page.wait_for_function(PANEL_READY, arg=name)
    started = time.perf_counter()
    page.evaluate(RUN_ALL)
    try:
        originals = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        page.wait_for_function(RUN_FINISHED, arg=[name, originals], timeout=RUN_TIMEOUT_MS, polling=200)
        _times[name] = round(time.perf_counter() - started, 1)
        # widget views render after their cell finished: wait for each one (or fail with the report)
        page.wait_for_function(
            f"(path) => ({CELL_REPORT})(path).every(c => c.widgetsRendered >= c.widgetOutputs)",
            arg=name, timeout=30_000, polling=200,
        )  # fmt: skip
    finally:
        report = page.evaluate(CELL_REPORT, name)
        _screenshots(page, name, report)
        page.evaluate(CLOSE)
        _shut_down_kernels(lab)
    errors = [f"cell {c['index']} {c['source']!r}: {e}" for c in report for e in c["errors"]]
    assert errors == []
    # `%%gravix chat -f code` offers its code as a new cell below (set_next_input): such cells were not
    # in the notebook, stay unrun by design, and must sit right under the cell that offered them
    originals = {c.source for c in nbformat.read(path, as_version=4).cells}
    inserted = [c for c in report if c["full"] not in originals]
    by_index = {c["index"]: c for c in report}
    for cell in inserted:
        offered_by = by_index.get(cell["index"] - 1)
        assert offered_by is not None and " -f code" in offered_by["full"].splitlines()[0], cell
    if any(c.source.startswith("%%gravix") and " -f code" in c.source.splitlines()[0] for c in nbformat.read(path, as_version=4).cells):
        assert inserted, "-f code offered no new cell"
    unrun = [c["index"] for c in report if not c["empty"] and c["count"] is None and c not in inserted]
    assert unrun == []
    widget_cells = [c for c in report if c["widgetOutputs"]]
    for cell in widget_cells:
        assert cell["widgetsRendered"] >= cell["widgetOutputs"] and cell["widgetErrors"] == 0, cell
    assert page.errors == []


OPEN = "(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }"
# close without the "save changes?" dialog: the served copies are scratch
CLOSE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  if (w && w.context) { w.context.model.dirty = false; w.dispose(); }
}"""
SCROLL_TO = """([path, index]) => {
  const w = window.jupyterapp.shell.currentWidget;
  const cell = w.content.widgets[index];
  cell.node.scrollIntoView({block: 'start'});
}"""


def _screenshots(page: Any, name: str, report: list[dict[str, Any]]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = Path(name).stem
    page.screenshot(path=str(ARTIFACTS / f"lab-{stem}.png"))
    for cell in report:
        if cell["widgetOutputs"] or cell["errors"]:
            page.evaluate(SCROLL_TO, [name, cell["index"]])
            page.wait_for_timeout(300)  # let the scrolled-to outputs paint; only the artefact depends on it
            page.screenshot(path=str(ARTIFACTS / f"lab-{stem}-cell{cell['index']}.png"))
