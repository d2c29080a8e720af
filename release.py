#!/usr/bin/env python3
"""Cut a release of gravixlayer: ``python release.py patch|minor|major [--dry-run] [--no-push]``.

What it does, in order (``--dry-run`` prints the same plan and changes nothing):

1. refuses to run off ``main``, when the tag ``vX.Y.Z`` already exists (here or on the remote), when
   there is nothing to release, and when the tree has uncommitted changes it was not told to commit
   (``--commit-pending``, or a "y" at the prompt when run from a terminal, after they are shown);
2. bumps ``gravixlayer/_version.py`` -- the one version source: pyproject.toml reads it, and so does the
   User-Agent header;
3. writes a ``CHANGELOG.md`` section from the commit subjects since the last ``v*`` tag;
4. commits (``Release vX.Y.Z``, pending changes included) and makes the annotated tag ``vX.Y.Z``;
5. where a remote and the GitHub CLI exist, pushes ``main`` and the tag atomically and starts the
   "Build, Bump and Publish to PyPI" workflow on the tag (``bump=none``: the bump is already done);
   otherwise prints the exact command that does the rest.

The same script does the bump inside that workflow when it is started by hand with a bump kind, so a
release made from the Actions page and one made here produce the same commit, tag and changelog.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VERSION_FILE = Path("gravixlayer/_version.py")
CHANGELOG = Path("CHANGELOG.md")
BRANCH = "main"
REMOTE = "origin"
WORKFLOW = "publish.yml"
VERSION_RE = re.compile(r'^__version__ = "(\d+)\.(\d+)\.(\d+)"$', re.M)
CHANGELOG_HEADER = "# Changelog\n\nEach release's section lists the commits since the previous tag (written by release.py).\n"


class Refused(Exception):
    """A reason not to release; printed as is, exit status 1."""


def git(*args: str, check: bool = True) -> str:
    """Run git in the repository and return its stdout less trailing whitespace (raises Refused with git's message)."""
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise Refused(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.rstrip() if proc.returncode == 0 else ""


def bump(version: tuple[int, int, int], kind: str) -> tuple[int, int, int]:
    major, minor, patch = version
    if kind == "major":
        return (major + 1, 0, 0)
    if kind == "minor":
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def read_version(text: str) -> tuple[int, int, int]:
    match = VERSION_RE.search(text)
    if match is None:
        raise Refused(f'{VERSION_FILE} has no line __version__ = "X.Y.Z"')
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def changelog_section(tag: str, commits: list[str], pending: list[str], today: _dt.date) -> str:
    lines = [f"## {tag} ({today.isoformat()})", ""]
    lines += [f"- {c}" for c in commits]
    if pending:
        lines.append(f"- Committed with the release: {', '.join(pending)}")
    return "\n".join(lines) + "\n"


def insert_section(existing: str | None, section: str) -> str:
    """The new section goes above the previous releases, below the file's header."""
    if not existing:
        return f"{CHANGELOG_HEADER}\n{section}"
    at = existing.find("\n## ")
    if at < 0:
        return existing.rstrip("\n") + "\n\n" + section
    return existing[: at + 1] + section + "\n" + existing[at + 1 :]


@dataclass
class Plan:
    old: str
    new: str
    tag: str
    head: str
    pending: list[str]  # `git status --porcelain` lines
    commits: list[str]
    section: str
    remote: str | None
    gh: str | None

    @property
    def pending_paths(self) -> list[str]:
        return [line[3:] for line in self.pending]

    def push_cmd(self) -> list[str]:
        return ["git", "push", "--atomic", REMOTE, BRANCH, self.tag]

    def trigger_cmd(self) -> list[str]:
        return ["gh", "workflow", "run", WORKFLOW, "--ref", self.tag, "-f", "bump=none"]


def make_plan(kind: str, push: bool) -> Plan:
    git("rev-parse", "--show-toplevel")
    branch = git("symbolic-ref", "--short", "-q", "HEAD", check=False)
    if branch != BRANCH:
        raise Refused(f"releases are made from {BRANCH}; this checkout is on {branch or 'a detached HEAD'}")
    old_t = read_version((ROOT / VERSION_FILE).read_text())
    new_t = bump(old_t, kind)
    old, new = ".".join(map(str, old_t)), ".".join(map(str, new_t))
    tag = f"v{new}"
    if git("rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False):
        raise Refused(f"tag {tag} already exists; {VERSION_FILE} says {old}: fix it by hand before releasing")
    remote = REMOTE if git("remote", "get-url", REMOTE, check=False) else None
    if remote and push and git("ls-remote", "--tags", remote, f"refs/tags/{tag}"):
        raise Refused(f"tag {tag} already exists on {remote}")
    last = git("describe", "--tags", "--abbrev=0", "--match", "v[0-9]*", check=False)
    log_range = [f"{last}..HEAD"] if last else ["HEAD"]
    commits = [
        line for line in git("log", "--no-merges", "--format=%s (%h)", *log_range).splitlines() if line
    ]
    pending = [line for line in git("status", "--porcelain", "--untracked-files=all").splitlines() if line]
    if not commits and not pending:
        raise Refused(f"nothing to release: no commits since {last}")
    section = changelog_section(tag, commits, [line[3:] for line in pending], _dt.date.today())
    return Plan(old, new, tag, git("rev-parse", "--short", "HEAD"), pending, commits, section, remote,
                shutil.which("gh"))


def show(plan: Plan, commit_pending: bool, push: bool) -> None:
    print(f"Release gravixlayer {plan.old} -> {plan.new} (tag {plan.tag}) from {BRANCH} at {plan.head}")
    if plan.pending:
        print("Uncommitted changes (they go into the release commit):" if commit_pending
              else "Uncommitted changes:")
        for line in plan.pending:
            print(f"  {line}")
    print(f"\n{CHANGELOG} section:\n")
    print("  " + plan.section.rstrip("\n").replace("\n", "\n  ").replace("\n  \n", "\n\n"))
    print("\nSteps:")
    steps = [
        f'write {VERSION_FILE}: __version__ = "{plan.new}"',
        f"write {CHANGELOG}",
        shlex.join(["git", "add", "-A"] if commit_pending else ["git", "add", str(VERSION_FILE), str(CHANGELOG)]),
        shlex.join(["git", "commit", "-m", f"Release {plan.tag}"]),
        shlex.join(["git", "tag", "-a", plan.tag, "-m", f"gravixlayer {plan.new}"]),
    ]
    if push and plan.remote:
        steps.append(shlex.join(plan.push_cmd()))
        steps.append(shlex.join(plan.trigger_cmd()) if plan.gh
                     else "print the command that starts the publish workflow (no GitHub CLI here)")
    else:
        steps.append("print the command that pushes and publishes ("
                     + ("--no-push" if plan.remote else f"no remote named {REMOTE}") + ")")
    for i, step in enumerate(steps, 1):
        print(f"  {i}. {step}")


def confirm_pending(plan: Plan, commit_pending: bool, dry_run: bool) -> bool:
    """Whether pending changes go in; refuses when they exist and nobody said so."""
    if not plan.pending or commit_pending:
        return commit_pending
    if not dry_run and sys.stdin.isatty():
        count = len(plan.pending)
        answer = input(f"Include {'this change' if count == 1 else f'these {count} changes'} in the release commit? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            return True
    raise Refused(
        "the tree has uncommitted changes (listed above): commit or stash them, or rerun with "
        "--commit-pending to include them in the release commit"
    )


def apply(plan: Plan, commit_pending: bool) -> None:
    version_path, changelog_path = ROOT / VERSION_FILE, ROOT / CHANGELOG
    old_version = version_path.read_text()
    old_changelog = changelog_path.read_text() if changelog_path.exists() else None
    version_path.write_text(VERSION_RE.sub(f'__version__ = "{plan.new}"', old_version, count=1))
    changelog_path.write_text(insert_section(old_changelog, plan.section))
    try:
        if commit_pending:
            git("add", "-A")
        else:
            git("add", str(VERSION_FILE), str(CHANGELOG))
        git("commit", "-q", "-m", f"Release {plan.tag}", "-m", plan.section)
    except Refused:
        version_path.write_text(old_version)
        if old_changelog is None:
            changelog_path.unlink()
        else:
            changelog_path.write_text(old_changelog)
        git("reset", "-q", check=False)
        raise
    git("tag", "-a", plan.tag, "-m", f"gravixlayer {plan.new}")
    print(f"\nCommitted {git('rev-parse', '--short', 'HEAD')} and tagged {plan.tag}.")


def publish(plan: Plan, push: bool) -> None:
    push_cmd, trigger = shlex.join(plan.push_cmd()), shlex.join(plan.trigger_cmd())
    if not push or not plan.remote:
        why = "--no-push" if plan.remote else f"no remote named {REMOTE}"
        prefix = "" if plan.remote else f"git remote add {REMOTE} <url> && "
        print(f"Not pushed ({why}). Next: {prefix}{push_cmd} && {trigger}")
        return
    subprocess.run(plan.push_cmd(), cwd=ROOT, check=True)
    print(f"Pushed {BRANCH} and {plan.tag} to {plan.remote}.")
    if not plan.gh:
        print(f"No GitHub CLI (gh) here. Next: {trigger}  "
              f'(or Actions -> "Build, Bump and Publish to PyPI" -> Run workflow on {plan.tag}, bump none)')
        return
    subprocess.run(plan.trigger_cmd(), cwd=ROOT, check=True)
    print(f'Started "Build, Bump and Publish to PyPI" on {plan.tag}: gh run list --workflow {WORKFLOW}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("kind", choices=["patch", "minor", "major"], help="which part of X.Y.Z to bump")
    parser.add_argument("--dry-run", action="store_true", help="print what would happen; change nothing")
    parser.add_argument("--no-push", action="store_true", help="commit and tag locally; print the push command")
    parser.add_argument("--commit-pending", action="store_true",
                        help="include uncommitted changes (shown first) in the release commit")
    args = parser.parse_args(argv)
    push = not args.no_push
    try:
        plan = make_plan(args.kind, push)
        show(plan, args.commit_pending, push)
        commit_pending = confirm_pending(plan, args.commit_pending, args.dry_run)
        if args.dry_run:
            print("\nDry run: nothing was changed.")
            return 0
        apply(plan, commit_pending)
        publish(plan, push)
    except Refused as exc:
        print(f"release.py: refused: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"release.py: {shlex.join(map(str, exc.cmd))} failed (exit {exc.returncode})", file=sys.stderr)
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
