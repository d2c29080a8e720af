"""The package as a user gets it from PyPI: build the sdist and wheel, check them, install the wheel.

The build runs on a copy of the files git knows about (tracked and new, not ignored), as a fresh clone
would have them; `python -m build` makes the sdist and then the wheel from that sdist, in its own isolated
environment. The wheel is installed with `[local]` (not editable) into a brand-new venv without the
system's site-packages; pip fetches the dependencies from the package index, through pip's usual cache.
`gravixlayer-local` is then started from that venv and the SDK reference's chat and embeddings snippets
run against it with the venv's Python, from a directory outside the source tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The first run downloads the [local] dependencies; later runs reuse pip's cache (~1 minute in all).
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.search(r'__version__ = "([^"]+)"', (ROOT / "gravixlayer/_version.py").read_text())


def clean_env() -> dict[str, str]:
    """The environment without anything that would let the source tree be imported instead of the wheel."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "GRAVIXLAYER"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(dist dir, build log) for the sdist and wheel built from a clean copy of the source tree."""
    base = tmp_path_factory.mktemp("packaging")
    src, out = base / "src", base / "dist"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], env=clean_env(),
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    return out, log


def wheel_of(dist_dir: Path) -> Path:
    (wheel,) = dist_dir.glob("gravixlayer-*-py3-none-any.whl")
    return wheel


def test_build_makes_an_sdist_and_a_wheel_without_deprecation_warnings(dist: tuple[Path, str]) -> None:
    dist_dir, log = dist
    assert VERSION
    version = VERSION.group(1)
    assert sorted(p.name for p in dist_dir.iterdir()) == [
        f"gravixlayer-{version}-py3-none-any.whl", f"gravixlayer-{version}.tar.gz"]
    warnings = [line for line in log.splitlines() if re.search(r"deprecat", line, re.I)]
    assert warnings == [], "\n".join(warnings)


def test_twine_check_passes(dist: tuple[Path, str]) -> None:
    dist_dir, _ = dist
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist_dir.iterdir())],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_wheel_carries_type_markers_data_files_and_the_spdx_license(dist: tuple[Path, str]) -> None:
    with zipfile.ZipFile(wheel_of(dist[0])) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    for required in ("gravixlayer/py.typed", "gravixlayer_notebook/py.typed",
                     "gravixlayer/local/data/accelerators.json", "gravixlayer/local/sandbox/kernel_main.js"):
        assert required in names
    assert not any(n.startswith("tests/") for n in names)
    assert "License-Expression: Apache-2.0" in metadata
    assert "gravixlayer-local = gravixlayer.local.__main__:main" in entry_points


@pytest.fixture(scope="module")
def installed(dist: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv (no system site-packages) with the wheel installed with [local]; returns its bin dir."""
    env_dir = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / "bin"
    wheel = wheel_of(dist[0])
    proc = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[local]"],
                          env=clean_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bin_dir


def test_the_installed_package_is_the_wheel_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(installed / "python"), "-c",
         "import sys, gravixlayer; print(gravixlayer.__file__); print(gravixlayer.__version__); "
         "print(any('site-packages' in p and p.startswith(sys.base_prefix) for p in sys.path))"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60, check=True,
    )
    location, version, sees_system = proc.stdout.split()
    assert Path(location).is_relative_to(installed.parent)
    assert "site-packages" in location
    assert VERSION and version == VERSION.group(1)
    assert sees_system == "False"


@pytest.fixture
def local(installed: Path, tmp_path: Path) -> Iterator[str]:
    """`gravixlayer-local` from the venv on a free port; yields its base URL."""
    proc = subprocess.Popen(
        [str(installed / "gravixlayer-local"), "--port", "0",
         "--data-dir", str(tmp_path / "data"), "--log-level", "warning"],
        cwd=tmp_path, env={**clean_env(), "GRAVIXLAYER_LOCAL_API_KEYS": "wheel-test-key"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        seen = ""
        for _ in range(20):  # a log line (e.g. "the local chat model is not installed") may come first
            line = proc.stdout.readline()
            seen += line
            match = re.search(r"listening on (http://\S+)", line)
            if match or not line:
                break
        assert match, seen + proc.stdout.read() if proc.poll() is not None else seen
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "gravixlayer-local did not exit cleanly on SIGTERM"


# The SDK reference's chat (both forms) and embeddings snippets, as written.
REFERENCE_SNIPPETS = textwrap.dedent('''
    from gravixlayer import GravixLayer

    client = GravixLayer()

    response = client.chat.completions.create(
        model="qwen/qwen-2.5-vl-7b-instruct",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"}
        ],
        temperature=0.7,
        max_tokens=100,
        stream=False
    )

    print(response.choices[0].message.content)
    print("=== stream")

    stream = client.chat.completions.create(
        model="qwen/qwen-2.5-vl-7b-instruct",
        messages=[{"role": "user", "content": "Tell me a story."}],
        stream=True
    )

    for chunk in stream:
        if chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()
    print("=== embeddings")

    response = client.embeddings.create(
        model="microsoft/multilingual-e5-large",
        input="The quick brown fox jumps over the lazy dog",
        encoding_format="float"
    )

    print(response.data[0].embedding)
''')


def test_gravixlayer_local_from_the_wheel_answers_the_reference_snippets(
    installed: Path, local: str, tmp_path: Path
) -> None:
    env = {**clean_env(), "GRAVIXLAYER_API_KEY": "wheel-test-key", "GRAVIXLAYER_BASE_URL": local}
    proc = subprocess.run([str(installed / "python"), "-c", REFERENCE_SNIPPETS], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    chat, rest = proc.stdout.split("=== stream\n")
    story, embedding = rest.split("=== embeddings\n")
    assert chat.strip() and story.strip()
    values = [float(v) for v in embedding.strip().strip("[]").split(",")]
    assert len(values) == 1024  # multilingual-e5-large's dimension
    assert 0.99 < sum(v * v for v in values) ** 0.5 < 1.01  # a real, normalised embedding
