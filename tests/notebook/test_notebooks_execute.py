"""Every notebook runs top to bottom in a plain Jupyter kernel with a user's settings: zero error outputs.

nbval (run on `notebooks/` by `.ci/test`) checks the outputs of marked cells; this checks what a user
sees on Run All: no error anywhere, every code cell executed, and `%%gravix chat` answers streamed
(a live output precedes the answer) rather than waited for.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .run_notebooks import NOTEBOOKS, ROOT, errors, execute, unrun, user_environment


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("nbclient")
    work = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    with user_environment(tmp):
        yield work


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_without_errors(path: Path, workdir: Path) -> None:
    nb, _ = execute(path, workdir)
    assert errors(nb) == []
    assert unrun(nb) == []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("%%gravix chat"):
            kinds = [o.output_type for o in cell.outputs]
            # streamed: the live output (emptied when the answer is complete), then the answer as the value
            assert kinds[-2:] == ["display_data", "execute_result"], (cell.source, kinds)
            assert cell.outputs[-2].data == {"text/plain": ""}
            assert cell.outputs[-1].data["text/plain"].strip()
