"""The pre-commit hook as users get it: pre-commit clones this checkout and pip-installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pre_commit.clientlib import load_manifest

from tests.conftest import ROOT

BUGGY = '''"""A handler that drops its task."""
import asyncio


async def handle(reader):
    asyncio.create_task(reader.read())
'''
FIXED = BUGGY.replace("    asyncio.create_task(", "    await asyncio.create_task(")
GIT = ("git", "-c", "user.name=conclint tests", "-c", "user.email=tests@conclint.invalid")


def test_manifest_declares_the_hook() -> None:
    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "conclint"
    assert hook["entry"] == "conclint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "pyi"]
    assert hook["require_serial"] is True
    assert hook["minimum_pre_commit_version"]


def _snapshot(destination: Path) -> str:
    """This checkout as it is on disk (uncommitted and new files too) in a one-commit repo.

    `pre-commit try-repo` would shadow-commit only tracked files, and reinstall per call.
    """
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listing.returncode != 0:
        pytest.skip("not a git checkout")
    for name in listing.stdout.decode("utf-8").split("\0"):
        source = ROOT / name
        if name and source.is_file():  # tracked files deleted on disk are left out
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    subprocess.run([*GIT, "init", "-q"], cwd=destination, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=destination, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "snapshot"], cwd=destination, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=destination, capture_output=True, text=True, check=True
    )
    return head.stdout.strip()


def test_hook_fails_on_a_finding_and_passes_once_fixed(tmp_path: Path) -> None:
    hook_repo, consumer = tmp_path / "hook-repo", tmp_path / "consumer"
    hook_repo.mkdir()
    consumer.mkdir()
    rev = _snapshot(hook_repo)
    subprocess.run([*GIT, "init", "-q"], cwd=consumer, check=True)
    config = consumer / ".pre-commit-config.yaml"
    config.write_text(
        f"repos:\n- repo: {hook_repo.as_uri()}\n  rev: {rev}\n  hooks:\n  - id: conclint\n",
        encoding="utf-8",
    )
    app = consumer / "app.py"
    app.write_text(BUGGY, encoding="utf-8")
    generated = consumer / "build" / "generated.py"
    generated.parent.mkdir()
    generated.write_text(BUGGY, encoding="utf-8")
    # One store for all three runs: the hook's virtualenv is built once.
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PRE_COMMIT", None)

    def hook(*files: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "run", "--color=never", "--files", *files]
        return subprocess.run(
            command, cwd=consumer, env=env, capture_output=True, text=True, timeout=900
        )

    failing = hook("app.py")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "conclint" in failing.stdout and "Failed" in failing.stdout
    assert "app.py:6:5: CCL101 " in failing.stdout

    # `build/` is excluded by default, and the hook applies excludes to explicit files.
    excluded = hook("build/generated.py")
    assert excluded.returncode == 0, excluded.stdout + excluded.stderr

    app.write_text(FIXED, encoding="utf-8")
    passing = hook("app.py", "build/generated.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
