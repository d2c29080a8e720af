"""Users' own code, type-checked: the programs in `programs/` must pass mypy --strict and basedpyright
(strict) with no error, and every line marked `# E` in `negative/` must be reported, by both checkers,
with no error anywhere else in those files (so each negative case fails for the reason it shows).

The checkers see this working copy's `gravixlayer` (mypy through MYPYPATH, basedpyright through
`extraPaths`), not an installed one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROGRAMS = sorted((HERE / "programs").glob("*.py"))
NEGATIVE = sorted((HERE / "negative").glob("*.py"))
Errors = dict[tuple[str, int], list[str]]


def _basedpyright() -> str | None:
    found = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    return found or shutil.which("basedpyright")


def run_mypy(folder: Path, tmp: Path) -> Errors:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(HERE / "mypy.ini"), "--cache-dir", str(tmp / "mypy"),
         "--no-error-summary", "--show-column-numbers", "."],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr + result.stdout
    errors: Errors = {}
    for line in result.stdout.splitlines():
        match = re.match(r"(.+?\.py):(\d+):(?:\d+:)? error: (.*)", line)
        if match:
            errors.setdefault((Path(match[1]).name, int(match[2])), []).append(match[3])
    return errors


def run_pyright(folder: Path) -> Errors:
    exe = _basedpyright()
    assert exe is not None, "basedpyright is a dev dependency: pip install basedpyright"
    result = subprocess.run(
        [exe, "--outputjson", "--pythonpath", sys.executable, "-p", str(HERE / "pyrightconfig.json"), str(folder)],
        cwd=HERE, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    report = json.loads(result.stdout)
    errors: Errors = {}
    for diag in report["generalDiagnostics"]:
        if diag["severity"] == "error":
            key = (Path(diag["file"]).name, diag["range"]["start"]["line"] + 1)
            errors.setdefault(key, []).append(diag["message"].splitlines()[0])
    return errors


def marked_lines(path: Path) -> Iterator[int]:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.rstrip().endswith("# E"):
            yield number


CHECKERS = ["mypy", "basedpyright"]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Errors]:
    tmp = tmp_path_factory.mktemp("typing")
    out: dict[tuple[str, str], Errors] = {}
    for kind in ("programs", "negative"):
        out[("mypy", kind)] = run_mypy(HERE / kind, tmp / kind)
        out[("basedpyright", kind)] = run_pyright(HERE / kind)
    return out


@pytest.mark.parametrize("checker", CHECKERS)
def test_user_programs_type_check_clean(checker: str, results: dict[tuple[str, str], Errors]) -> None:
    errors = results[(checker, "programs")]
    shown = "\n".join(f"{f}:{n}: {m}" for (f, n), ms in sorted(errors.items()) for m in ms)
    assert not errors, f"{checker} rejects correct user code:\n{shown}"


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("path", NEGATIVE, ids=[p.stem for p in NEGATIVE])
def test_negative_cases_are_reported(checker: str, path: Path, results: dict[tuple[str, str], Errors]) -> None:
    errors = {line: ms for (name, line), ms in results[(checker, "negative")].items() if name == path.name}
    marked = set(marked_lines(path))
    assert marked, f"{path.name} marks no line with '# E'"
    missed = sorted(marked - set(errors))
    stray = {line: ms for line, ms in errors.items() if line not in marked}
    assert not missed, f"{checker} accepts wrong code at {path.name} lines {missed}"
    assert not stray, f"{checker} reports errors on unmarked lines of {path.name}: {stray}"


def test_every_program_is_checked() -> None:
    assert len(PROGRAMS) >= 10 and len(NEGATIVE) >= 4
