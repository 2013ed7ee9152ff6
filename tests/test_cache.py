"""The result cache under abuse: corrupt, foreign, shared, unwritable; never a stale result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conclint import __version__
from conclint.cache import Cache
from conclint.config import Settings
from conclint.engine import lint_file
from tests.test_cli import run

SETTINGS = Settings()

BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(main())
"""
FIXED = BUG.replace("    asyncio.create_task(main())", "    await asyncio.sleep(0)")


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.rglob("*.json"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Ten files with a bug, one clean and one that does not parse."""
    for n in range(10):
        (tmp_path / "pkg").mkdir(exist_ok=True)
        (tmp_path / "pkg" / f"m{n}.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text(FIXED, encoding="utf-8")
    (tmp_path / "pkg" / "broken.py").write_text("async def f(:\n", encoding="utf-8")
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its inode and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


# Corrupt and foreign entries ------------------------------------------------

CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: bytes(range(256)),
    "not-utf8": lambda data: data.replace(b'"', b'"\xff', 1),
    "a-list": lambda data: b"[]",
    "null": lambda data: b"null",
    "deeply-nested": lambda data: b"[" * 100_000 + b"]" * 100_000,
    "fields-of-wrong-type": lambda data: json.dumps(
        {"version": __version__, "diagnostics": "x", "suppressed": 1, "failed": "no"}
    ).encode(),
    "rows-of-wrong-shape": lambda data: _edit(data, lambda raw: raw.update(diagnostics=[[1, 2]])),
    "negative-position": lambda data: _edit(
        data, lambda raw: raw["diagnostics"][0].__setitem__(0, -1)
    ),
    "position-not-int": lambda data: _edit(
        data, lambda raw: raw["diagnostics"][0].__setitem__(0, "5")
    ),
    "unknown-severity": lambda data: _edit(
        data, lambda raw: raw["diagnostics"][0].__setitem__(7, "fatal")
    ),
    "snippets-not-text": lambda data: _edit(data, lambda raw: raw.update(snippets={"5": 5})),
    "snippet-line-not-a-number": lambda data: _edit(
        data, lambda raw: raw.update(snippets={"five": "x"})
    ),
}


STRUCTURELESS = (
    "truncated",
    "empty",
    "garbage",
    "not-utf8",
    "a-list",
    "null",
    "deeply-nested",
    "fields-of-wrong-type",
)


def _edit(data: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    raw = json.loads(data)
    change(raw)
    return json.dumps(raw).encode()


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(
    tmp_path: Path, corrupt: Callable[[bytes], bytes]
) -> None:
    source = tmp_path / "m.py"
    source.write_text(BUG, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    fresh = lint_file(str(source), SETTINGS, Cache(cache_dir, SETTINGS))
    [entry] = entries(cache_dir)
    entry.write_bytes(corrupt(entry.read_bytes()))
    assert lint_file(str(source), SETTINGS, Cache(cache_dir, SETTINGS)) == fresh
    # Rewritten: a third run reads a whole, valid entry again.
    assert json.loads(entry.read_bytes())["version"] == __version__


def test_corrupt_entries_under_the_cli(project: Path) -> None:
    first = run("pkg", cwd=project)
    cache_dir = project / ".conclint_cache"
    # Result and project-index entries alike get the corruptions that need no structure.
    kinds = [CORRUPTIONS[name] for name in STRUCTURELESS]
    for number, entry in enumerate(entries(cache_dir)):
        entry.write_bytes(kinds[number % len(kinds)](entry.read_bytes()))
    (cache_dir / __version__ / "00").mkdir(exist_ok=True)
    (cache_dir / __version__ / "00" / "left-by-a-killed-run.tmp").write_text("{", encoding="utf-8")
    second = run("-j", "2", "pkg", cwd=project)
    assert "Traceback" not in second.stderr
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert first.stdout.count("CCL101") == 10


def test_corrupt_project_index_facts_are_misses(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "net.py").write_text(
        "async def fetch() -> bytes:\n    return b''\n", encoding="utf-8"
    )
    (tmp_path / "app" / "main.py").write_text(
        "from app.net import fetch\n\n\nasync def main() -> None:\n    fetch()\n", encoding="utf-8"
    )
    first = run("app", cwd=tmp_path)
    assert "CCL102" in first.stdout
    for entry in entries(tmp_path / ".conclint_cache"):
        raw = json.loads(entry.read_bytes())
        if "async" in raw:  # a facts entry: lists of names that must be strings
            entry.write_text(json.dumps({**raw, "async": [1, None]}), encoding="utf-8")
    second = run("app", cwd=tmp_path)
    assert "Traceback" not in second.stderr
    assert second.stdout == first.stdout


BROKEN = "x = 1\ndef f(:\n    pass\n"  # no rule can fire: only the index pass parses it
BROKEN_REPORT = "app/broken.py:2:7: CCL001 syntax error: invalid syntax\n"


def _broken_package(root: Path) -> None:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "broken.py").write_text(BROKEN, encoding="utf-8")


def _forge_syntax_verdicts(cache_dir: Path, verdict: object) -> None:
    """Give the cached facts another syntax verdict; drop the results, so that the
    lint pass asks the facts again."""
    for entry in entries(cache_dir):
        raw = json.loads(entry.read_bytes())
        if raw.get("syntax"):
            entry.write_text(json.dumps({**raw, "syntax": verdict}), encoding="utf-8")
        elif "diagnostics" in raw:
            entry.unlink()


@pytest.mark.parametrize("forged", [[1, 2], ["1", 0, "x"], [1, 0, 2], "syntax error", {}])
def test_a_malformed_syntax_verdict_is_a_miss(tmp_path: Path, forged: object) -> None:
    _broken_package(tmp_path)
    assert run("app", cwd=tmp_path).stdout == BROKEN_REPORT
    assert run("app", cwd=tmp_path).stdout == BROKEN_REPORT
    _forge_syntax_verdicts(tmp_path / ".conclint_cache", forged)
    third = run("app", cwd=tmp_path)
    assert "Traceback" not in third.stderr
    assert third.stdout == BROKEN_REPORT


def test_the_lint_pass_takes_the_syntax_verdict_from_the_index(tmp_path: Path) -> None:
    _broken_package(tmp_path)
    run("app", cwd=tmp_path)
    _forge_syntax_verdicts(tmp_path / ".conclint_cache", [1, 0, "told"])
    # Python's parser is not asked twice about a file: the index pass's verdict is used.
    assert run("app", cwd=tmp_path).stdout == "app/broken.py:1:1: CCL001 told\n"


def _forge(entry: Path, version: str) -> None:
    """Rewrite an entry to claim a finding the file does not have."""
    raw = json.loads(entry.read_bytes())
    raw["version"] = version
    raw["diagnostics"] = [[99, 0, 99, 1, "CCL101", "dangling-task", "forged", "warning"]]
    entry.write_text(json.dumps(raw), encoding="utf-8")


def _one_cached_file(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A linted file, its cache directory and its one entry."""
    source = tmp_path / "m.py"
    source.write_text(BUG, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    lint_file(str(source), SETTINGS, Cache(cache_dir, SETTINGS))
    [entry] = entries(cache_dir)
    return source, cache_dir, entry


def test_an_entry_of_another_version_is_ignored(tmp_path: Path) -> None:
    source, cache_dir, entry = _one_cached_file(tmp_path)
    # Control: a forged entry of this version is what the next run reads...
    _forge(entry, __version__)
    forged = lint_file(str(source), SETTINGS, Cache(cache_dir, SETTINGS))
    assert [d.message for d in forged.diagnostics] == ["forged"]
    # ...and the same entry claiming another version is not.
    _forge(entry, "0.0.0-other")
    result = lint_file(str(source), SETTINGS, Cache(cache_dir, SETTINGS))
    assert [(d.line, d.code) for d in result.diagnostics] == [(5, "CCL101")]


def test_another_versions_directory_is_never_read(tmp_path: Path) -> None:
    source, cache_dir, entry = _one_cached_file(tmp_path)
    _forge(entry, __version__)
    (cache_dir / __version__).rename(cache_dir / "0.0.0-other")
    result = lint_file(str(source), SETTINGS, Cache(cache_dir, SETTINGS))
    assert [(d.line, d.code) for d in result.diagnostics] == [(5, "CCL101")]


# Sharing, permissions, odd places -------------------------------------------


def test_two_processes_lint_the_same_tree_with_one_cache_at_once(project: Path) -> None:
    for n in range(30):
        (project / "pkg" / f"extra{n}.py").write_text(BUG * (n % 3 + 1), encoding="utf-8")
    expected = run("--no-cache", "pkg", cwd=project)
    environment = {k: v for k, v in os.environ.items() if k != "CONCLINT_CACHE_DIR"}
    command = [sys.executable, "-m", "conclint", "--cache-dir", "shared", "pkg"]
    processes = [
        subprocess.Popen(
            [*command, "-j", str(jobs)],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for jobs in (1, 2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for stdout, stderr in outputs:
        assert stderr == ""
        assert stdout == expected.stdout
    assert [process.returncode for process in processes] == [1, 1]
    assert not list((project / "shared").rglob("*.tmp"))
    assert run("--cache-dir", "shared", "pkg", cwd=project).stdout == expected.stdout


def test_an_unwritable_cache_runs_and_warns_once(project: Path) -> None:
    # A file where the directory should be stops even root from writing there.
    (project / "blocked").write_text("", encoding="utf-8")
    expected = run("--no-cache", "pkg", cwd=project)
    done = run("--cache-dir", "blocked/cache", "-j", "2", "pkg", cwd=project)
    assert (done.returncode, done.stdout) == (expected.returncode, expected.stdout)
    warnings = done.stderr.splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith("conclint: warning: cache disabled, cannot write ")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into read-only directories (the blocked path above runs everywhere)",
)
def test_a_read_only_cache_directory_runs_and_warns_once(project: Path) -> None:
    run("pkg", cwd=project)
    cache_dir = project / ".conclint_cache"
    for directory in [cache_dir, *[p for p in cache_dir.rglob("*") if p.is_dir()]]:
        directory.chmod(0o555)
    try:
        (project / "pkg" / "new.py").write_text(BUG, encoding="utf-8")
        done = run("-j", "2", "pkg", cwd=project)
    finally:
        for directory in [cache_dir, *[p for p in cache_dir.rglob("*") if p.is_dir()]]:
            directory.chmod(0o755)
    assert done.returncode == 1
    assert done.stdout.count("CCL101") == 11
    assert len(done.stderr.splitlines()) == 1


def test_a_cache_directory_with_spaces(project: Path) -> None:
    first = run("--cache-dir", "my cache/dir", "pkg", cwd=project)
    cache_dir = project / "my cache" / "dir"
    assert (cache_dir / "CACHEDIR.TAG").is_file()
    assert entries(cache_dir)
    before = snapshot(cache_dir)
    second = run("--cache-dir", "my cache/dir", "pkg", cwd=project)
    assert second.stdout == first.stdout
    assert snapshot(cache_dir) == before  # every result was read, none written again


# Never stale ------------------------------------------------------------------


def test_a_changed_file_is_linted_again(project: Path) -> None:
    target = project / "pkg" / "m0.py"
    assert "pkg/m0.py:5:5: CCL101" in run("pkg", cwd=project).stdout
    target.write_text(FIXED, encoding="utf-8")
    assert "pkg/m0.py" not in run("pkg", cwd=project).stdout
    target.write_text("\n\n" + BUG, encoding="utf-8")
    assert "pkg/m0.py:7:5: CCL101" in run("pkg", cwd=project).stdout


def test_changed_settings_give_changed_results(project: Path) -> None:
    assert run("pkg", cwd=project).stdout.count("CCL101") == 10
    assert "CCL101" not in run("--select", "CCL2", "pkg", cwd=project).stdout
    assert run("--select", "CCL1", "pkg", cwd=project).stdout.count("CCL101") == 10
    (project / "pkg" / "spawn.py").write_text(
        "import app\n\n\nasync def main() -> None:\n    app.spawn(main())\n", encoding="utf-8"
    )
    assert "pkg/spawn.py" not in run("pkg", cwd=project).stdout
    (project / "pyproject.toml").write_text(
        '[tool.conclint]\nextra-spawners = ["app.spawn"]\n', encoding="utf-8"
    )
    assert "pkg/spawn.py:5:5: CCL101" in run("pkg", cwd=project).stdout


def test_a_change_in_another_file_reaches_its_importers(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    net = tmp_path / "app" / "net.py"
    net.write_text("async def fetch() -> bytes:\n    return b''\n", encoding="utf-8")
    (tmp_path / "app" / "main.py").write_text(
        "from app.net import fetch\n\n\nasync def main() -> None:\n    fetch()\n", encoding="utf-8"
    )
    assert "app/main.py:5:5: CCL102" in run("app", cwd=tmp_path).stdout
    net.write_text("def fetch() -> bytes:\n    return b''\n", encoding="utf-8")
    assert run("app", cwd=tmp_path).stdout == ""


def test_identical_files_keep_their_own_paths(project: Path) -> None:
    run("pkg", cwd=project)
    lines = run("pkg", cwd=project).stdout.splitlines()
    assert [line.split(":")[0] for line in lines if "CCL101" in line] == [
        f"pkg/m{n}.py" for n in range(10)
    ]


# Cleaning and opting out --------------------------------------------------------


def test_clean_removes_the_cache(project: Path) -> None:
    run("pkg", cwd=project)
    run("--cache-dir", "elsewhere", "pkg", cwd=project)
    assert (project / ".conclint_cache").is_dir() and (project / "elsewhere").is_dir()
    done = run("clean", cwd=project)
    assert done.returncode == 0 and "removed" in done.stderr
    assert not (project / ".conclint_cache").exists()
    assert run("clean", "--cache-dir", "elsewhere", cwd=project).returncode == 0
    assert not (project / "elsewhere").exists()
    assert "no cache to remove" in run("clean", cwd=project).stderr


def test_clean_removes_only_a_tagged_cache(project: Path) -> None:
    done = run("clean", "--cache-dir", "pkg", cwd=project)
    assert "no cache to remove" in done.stderr
    assert len(list((project / "pkg").iterdir())) == 12


def test_clean_finds_the_configured_cache(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.conclint]\ncache-dir = "c"\n', encoding="utf-8")
    run("pkg", cwd=project)
    assert (project / "c" / "CACHEDIR.TAG").is_file()
    run("clean", cwd=project)
    assert not (project / "c").exists()


def test_no_cache_writes_nothing(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.conclint]\ncache-dir = "c"\n', encoding="utf-8")
    before = snapshot(project)
    environment = {"CONCLINT_CACHE_DIR": str(project / "from-env")}
    for flags in ([], ["-j", "2"], ["--cache-dir", "flagged"]):
        done = run("--no-cache", *flags, "pkg", cwd=project, env=environment)
        assert done.returncode == 1
    assert snapshot(project) == before
    assert not (project / "from-env").exists()
