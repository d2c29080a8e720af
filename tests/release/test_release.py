"""release.py, run as a user runs it, in scratch clones of this repository.

Each test clones the repository (with the working tree's release.py and version file committed on top,
so uncommitted edits to them are what is tested), detaches the clone from every real remote, and runs
`python release.py ...` in it. Pushing goes to a bare repository in the test's temporary directory; the
GitHub CLI is a recording script on PATH (the real one would need GitHub), or absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GIT = shutil.which("git") or "git"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Release Test",
    "GIT_AUTHOR_EMAIL": "release@test.invalid",
    "GIT_COMMITTER_NAME": "Release Test",
    "GIT_COMMITTER_EMAIL": "release@test.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, own_config: bool = False) -> str:
    """git in a scratch repository, with a fixed identity and without the user's or system's git config;
    `own_config` keeps them (reading this checkout may need e.g. its `safe.directory` setting)."""
    env = {**os.environ} if own_config else {**os.environ, **IDENTITY}
    return subprocess.run([GIT, *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def version_of(repo: Path) -> str:
    match = re.search(r'__version__ = "([^"]+)"', (repo / "gravixlayer/_version.py").read_text())
    assert match
    return match.group(1)


def bumped(version: str, kind: str) -> str:
    major, minor, patch = map(int, version.split("."))
    return {"patch": f"{major}.{minor}.{patch + 1}", "minor": f"{major}.{minor + 1}.0", "major": f"{major + 1}.0.0"}[kind]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository on `main`, with no remote, and the working tree's release.py in it."""
    repo = tmp_path_factory.mktemp("template") / "repo"
    head = git(ROOT, "rev-parse", "HEAD", own_config=True)
    git(ROOT.parent, "clone", "-q", "--no-checkout", str(ROOT), str(repo), own_config=True)
    git(repo, "remote", "remove", "origin")
    git(repo, "checkout", "-q", "-B", "main", head)
    for tag in git(repo, "tag", "--list").split():
        git(repo, "tag", "-d", tag)
    for name in ("release.py", "gravixlayer/_version.py"):
        shutil.copy2(ROOT / name, repo / name)
    if git(repo, "status", "--porcelain"):
        git(repo, "add", "release.py", "gravixlayer/_version.py")
        git(repo, "commit", "-q", "-m", "Working tree's release.py")
    return repo


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    """A fresh clone of the template on main, with v<current> tagged and two commits after the tag."""
    path = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(template), str(path))
    git(path, "remote", "remove", "origin")
    git(path, "tag", "-a", f"v{version_of(path)}", "-m", "previous release")
    for subject in ("Add the frobnicator", "Fix the frobnicator's off-by-one"):
        (path / "notebooks" / "release-test.txt").write_text(subject)
        git(path, "add", "notebooks/release-test.txt")
        git(path, "commit", "-q", "-m", subject)
    return path


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    """A PATH with git and nothing else (so no GitHub CLI unless a test adds one)."""
    path = tmp_path / "bin"
    path.mkdir()
    (path / "git").symlink_to(GIT)
    return path


def fake_gh(bindir: Path, log: Path) -> None:
    gh = bindir / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    gh.chmod(0o755)


def release(repo: Path, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **IDENTITY, "PATH": str(bindir)}
    return subprocess.run([sys.executable, "release.py", *args], cwd=repo, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)


def test_patch_no_push_bumps_writes_changelog_commits_and_tags(repo: Path, bindir: Path) -> None:
    old = version_of(repo)
    new = bumped(old, "patch")
    out = release(repo, bindir, "patch", "--no-push")
    assert out.returncode == 0, out.stderr
    assert version_of(repo) == new
    assert git(repo, "log", "-1", "--format=%s") == f"Release v{new}"
    assert git(repo, "rev-parse", f"v{new}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "status", "--porcelain") == ""
    changelog = (repo / "CHANGELOG.md").read_text()
    section = changelog.split(f"## v{new} ", 1)[1]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert [b.rsplit(" (", 1)[0] for b in bullets] == ["- Fix the frobnicator's off-by-one", "- Add the frobnicator"]
    assert (f"Next: git remote add origin <url> && git push --atomic origin main v{new} && "
            f"gh workflow run publish.yml --ref v{new} -f bump=none") in out.stdout
    # The committed files are exactly the version source and the changelog.
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == [
        "CHANGELOG.md", "gravixlayer/_version.py"]


def test_minor_then_major_stack_changelog_sections_newest_first(repo: Path, bindir: Path) -> None:
    start = version_of(repo)
    minor, major = bumped(start, "minor"), bumped(bumped(start, "minor"), "major")
    assert release(repo, bindir, "minor", "--no-push").returncode == 0
    (repo / "notebooks" / "release-test.txt").write_text("more")
    git(repo, "commit", "-q", "-am", "Speed up the frobnicator")
    out = release(repo, bindir, "major", "--no-push")
    assert out.returncode == 0, out.stderr
    assert version_of(repo) == major
    assert git(repo, "tag", "--list", "v*").split() == sorted([f"v{start}", f"v{minor}", f"v{major}"])
    changelog = (repo / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog\n")
    assert changelog.index(f"## v{major} ") < changelog.index(f"## v{minor} ")
    newest = changelog.split(f"## v{major} ", 1)[1].split("\n## ", 1)[0]
    assert "Speed up the frobnicator" in newest and "Add the frobnicator" not in newest


def test_dry_run_prints_the_plan_and_changes_nothing(repo: Path, bindir: Path) -> None:
    head, old = git(repo, "rev-parse", "HEAD"), version_of(repo)
    out = release(repo, bindir, "patch", "--dry-run")
    assert out.returncode == 0, out.stderr
    new = bumped(old, "patch")
    assert f"Release gravixlayer {old} -> {new} (tag v{new})" in out.stdout
    assert "Add the frobnicator" in out.stdout
    assert f'git tag -a v{new} -m "gravixlayer {new}"'.replace('"', "'") in out.stdout
    assert "Dry run: nothing was changed." in out.stdout
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "tag", "--list", f"v{new}") == ""


def test_refuses_a_dirty_tree_unless_told_to_commit_it(repo: Path, bindir: Path) -> None:
    head, old = git(repo, "rev-parse", "HEAD"), version_of(repo)
    with (repo / "README.md").open("a") as fh:
        fh.write("\nA pending change.\n")
    out = release(repo, bindir, "patch", "--no-push")
    assert out.returncode == 1
    assert "uncommitted changes" in out.stderr and "--commit-pending" in out.stderr
    assert " M README.md" in out.stdout  # shown before refusing
    assert git(repo, "rev-parse", "HEAD") == head and version_of(repo) == old
    assert git(repo, "status", "--porcelain") == "M README.md"

    out = release(repo, bindir, "patch", "--no-push", "--commit-pending")
    assert out.returncode == 0, out.stderr
    assert "A pending change." in git(repo, "show", "HEAD:README.md")
    assert git(repo, "status", "--porcelain") == ""
    assert "Committed with the release: README.md" in (repo / "CHANGELOG.md").read_text()


def test_refuses_a_branch_other_than_main(repo: Path, bindir: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    out = release(repo, bindir, "patch", "--no-push")
    assert out.returncode == 1
    assert "releases are made from main; this checkout is on feature" in out.stderr
    assert git(repo, "log", "-1", "--format=%s") == "Fix the frobnicator's off-by-one"


def test_refuses_an_existing_tag(repo: Path, bindir: Path) -> None:
    new = bumped(version_of(repo), "patch")
    git(repo, "tag", f"v{new}", "HEAD~1")
    out = release(repo, bindir, "patch", "--no-push")
    assert out.returncode == 1
    assert f"tag v{new} already exists" in out.stderr
    assert git(repo, "log", "-1", "--format=%s") == "Fix the frobnicator's off-by-one"


def test_refuses_when_there_is_nothing_to_release(repo: Path, bindir: Path) -> None:
    assert release(repo, bindir, "patch", "--no-push").returncode == 0
    out = release(repo, bindir, "patch", "--no-push")
    assert out.returncode == 1
    assert "nothing to release" in out.stderr


def test_pushes_atomically_and_starts_the_publish_workflow(repo: Path, bindir: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main", "--tags")
    calls = tmp_path / "gh-calls"
    fake_gh(bindir, calls)
    new = bumped(version_of(repo), "patch")
    out = release(repo, bindir, "patch")
    assert out.returncode == 0, out.stderr
    assert git(origin, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")
    assert git(origin, "rev-parse", f"v{new}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    assert calls.read_text().splitlines() == [f"workflow run publish.yml --ref v{new} -f bump=none"]


def test_without_the_github_cli_it_pushes_and_prints_the_trigger_command(
    repo: Path, bindir: Path, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    new = bumped(version_of(repo), "patch")
    out = release(repo, bindir, "patch")
    assert out.returncode == 0, out.stderr
    assert git(origin, "rev-parse", f"v{new}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    assert f"Next: gh workflow run publish.yml --ref v{new} -f bump=none" in out.stdout


def test_refuses_a_tag_that_exists_only_on_the_remote(repo: Path, bindir: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    new = bumped(version_of(repo), "patch")
    git(repo, "tag", f"v{new}")
    git(repo, "push", "-q", "origin", f"v{new}")
    git(repo, "tag", "-d", f"v{new}")
    out = release(repo, bindir, "patch")
    assert out.returncode == 1
    assert f"tag v{new} already exists on origin" in out.stderr
    assert git(repo, "tag", "--list", f"v{new}") == ""


@pytest.mark.parametrize("answer", ["y", "n"])
def test_at_a_terminal_it_asks_before_committing_pending_changes(repo: Path, bindir: Path, answer: str) -> None:
    head = git(repo, "rev-parse", "HEAD")
    with (repo / "README.md").open("a") as fh:
        fh.write("\nA pending change.\n")
    controller, terminal = os.openpty()
    try:
        os.write(controller, f"{answer}\n".encode())
        env = {**os.environ, **IDENTITY, "PATH": str(bindir)}
        out = subprocess.run([sys.executable, "release.py", "patch", "--no-push"], cwd=repo, env=env,
                             stdin=terminal, capture_output=True, text=True, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert " M README.md" in out.stdout
    assert "Include this change in the release commit? [y/N]" in out.stdout
    if answer == "y":
        assert out.returncode == 0, out.stderr
        assert "A pending change." in git(repo, "show", "HEAD:README.md")
        assert git(repo, "status", "--porcelain") == ""
    else:
        assert out.returncode == 1 and "uncommitted changes" in out.stderr
        assert git(repo, "rev-parse", "HEAD") == head
