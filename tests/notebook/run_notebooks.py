"""Execute the notebooks as a user's Jupyter kernel does: top to bottom, a plain kernel, default settings.

Used by `test_notebooks_execute.py` (CI) and, to refresh the outputs stored in `notebooks/`, by hand:

    python -m tests.notebook.run_notebooks --write      # re-executes every notebook in place

No API key is passed to the kernel, so the notebooks use the embedded GravixLayer Local; nothing else
is changed from what a user has (streaming on, progress bars on).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds; a notebook cell waits at most this long (deployments become ready in seconds)


@contextmanager
def user_environment(tmp: Path) -> Iterator[dict[str, str]]:
    """The kernel's environment: a user's, minus any API key (Local is used), with Jupyter dirs in `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAVIXLAYER_")}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), IPYTHONDIR=str(tmp / "ipython"),
        GRAVIXLAYER_LOCAL_DATA_DIR=str(tmp / "local-data"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )  # fmt: skip
    env.pop("TQDM_DISABLE", None)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(path: Path, workdir: Path) -> tuple[nbformat.NotebookNode, float]:
    """The executed notebook (errors kept as outputs, execution goes on) and the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )  # fmt: skip
    started = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - started


def errors(nb: nbformat.NotebookNode) -> list[str]:
    """One line per error output: cell number, exception name and value."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
    return found


def unrun(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() and not c.execution_count]


def main(argv: list[str]) -> int:
    write = "--write" in argv
    status = 0
    with tempfile.TemporaryDirectory(prefix="gl-nb-") as tmp:
        work = Path(tmp) / "notebooks"
        shutil.copytree(ROOT / "notebooks", work)
        with user_environment(Path(tmp)):
            for path in NOTEBOOKS:
                nb, seconds = execute(path, work)
                problems = errors(nb)
                print(f"{path.name}: {seconds:.1f} s, {len(problems)} error outputs", *problems, sep="\n  ")
                if problems:
                    status = 1
                elif write:
                    _strip_volatile(nb)
                    nbformat.write(nb, path)
    return status


def _strip_volatile(nb: Any) -> None:
    """Drop per-run cell metadata (timings) so a re-run only changes outputs."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
