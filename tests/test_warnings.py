"""Selections and paths that do nothing are warned about on stderr, once, and never
change the exit status (as ruff warns)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conclint import registry
from tests.test_cli import run

BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(asyncio.to_thread(print))
"""

PREVIEW = next((rule.code for rule in registry.RULES if rule.preview), "")
STABLE = next(rule.code for rule in registry.RULES if not rule.preview)
TOOL = "CCL001"


def warnings(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr
    prefix = "conclint: warning: "
    return [line[len(prefix) :] for line in done.stderr.splitlines() if line.startswith(prefix)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bug.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


needs_preview_rule = pytest.mark.skipif(not PREVIEW, reason="no rule is in preview")


def _no_effect(selector: str) -> str:
    return f"Selection `{selector}` has no effect because preview is not enabled."


# Preview rules selected without preview ---------------------------------------------


@needs_preview_rule
@pytest.mark.parametrize("flag", ["--select", "--extend-select"])
def test_a_preview_rule_selected_without_preview_is_a_warning(project: Path, flag: str) -> None:
    clean = run("--no-cache", flag, PREVIEW, "pkg/clean.py", cwd=project)
    assert (clean.returncode, warnings(clean)) == (0, [_no_effect(PREVIEW)])
    # The exit status is the findings', whatever the warnings.
    found = run("--no-cache", flag, f"{PREVIEW},CCL101", "pkg", cwd=project)
    assert (found.returncode, warnings(found)) == (1, [_no_effect(PREVIEW)])


@needs_preview_rule
def test_no_warning_once_preview_is_on_or_a_stable_rule_is_selected(project: Path) -> None:
    assert warnings(run("--no-cache", "--preview", "--select", PREVIEW, "pkg", cwd=project)) == []
    # A prefix with stable rules in it selects them: it has an effect.
    assert warnings(run("--no-cache", "--select", PREVIEW[:4], "pkg", cwd=project)) == []
    assert warnings(run("--no-cache", "--select", STABLE, "pkg", cwd=project)) == []


@needs_preview_rule
def test_a_preview_rule_selected_in_two_configs_is_one_warning(project: Path) -> None:
    for project_dir in ("one", "two"):
        (project / project_dir).mkdir()
        (project / project_dir / "m.py").write_text("x = 1\n", encoding="utf-8")
        (project / project_dir / "pyproject.toml").write_text(
            f'[tool.conclint]\nextend-select = ["{PREVIEW}"]\n', encoding="utf-8"
        )
    done = run("--no-cache", "one", "two", cwd=project)
    assert (done.returncode, warnings(done)) == (0, [_no_effect(PREVIEW)])


# The tool's own codes ignored -------------------------------------------------------


def test_ignoring_a_tool_code_is_a_warning_and_it_is_still_reported(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    done = run("--no-cache", "--ignore", TOOL, "pkg/broken.py", cwd=project)
    assert done.returncode == 1
    assert done.stdout.startswith("pkg/broken.py:1:")
    assert f" {TOOL} " in done.stdout
    [message] = warnings(done)
    assert message.startswith(f"Ignoring `{TOOL}` has no effect: `{TOOL}` (syntax-error) is")


@pytest.mark.parametrize(
    ("config", "selector"),
    [
        ('ignore = ["CCL002"]', "CCL002"),
        ('ignore = ["CCL0"]', "CCL0"),
        ('per-file-ignores = { "pkg/*" = ["CCL00"] }', "CCL00"),
    ],
)
def test_ignoring_tool_codes_in_a_config_is_a_warning(
    project: Path, config: str, selector: str
) -> None:
    (project / "pyproject.toml").write_text(f"[tool.conclint]\n{config}\n", encoding="utf-8")
    done = run("--no-cache", "pkg/clean.py", cwd=project)
    [message] = warnings(done)
    assert done.returncode == 0
    assert message.startswith(f"Ignoring `{selector}` has no effect:")
    assert "always reported" in message


def test_ignoring_a_prefix_that_holds_rules_is_no_warning(project: Path) -> None:
    assert warnings(run("--no-cache", "--ignore", "CCL", "pkg", cwd=project)) == []
    assert warnings(run("--no-cache", "--ignore", "CCL1", "pkg", cwd=project)) == []


# No Python files under a path given ------------------------------------------------


def test_a_directory_without_python_files_is_a_warning(project: Path) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# docs\n", encoding="utf-8")
    alone = run("--no-cache", "docs", cwd=project)
    assert (alone.returncode, warnings(alone)) == (0, ["No Python files found under `docs`"])
    # Named beside a directory that has some: the warning names the empty one only.
    both = run("--no-cache", "pkg", "docs", cwd=project)
    assert (both.returncode, warnings(both)) == (1, ["No Python files found under `docs`"])


def test_a_directory_whose_python_files_are_all_excluded_is_a_warning(project: Path) -> None:
    (project / "build").mkdir()  # excluded by default
    (project / "build" / "gen.py").write_text(BUG, encoding="utf-8")
    done = run("--no-cache", "--extend-exclude", "pkg", ".", cwd=project)
    assert (done.returncode, warnings(done)) == (0, ["No Python files found under `.`"])


def test_files_all_force_excluded_are_a_warning(project: Path) -> None:
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(BUG, encoding="utf-8")
    done = run("--no-cache", "--force-exclude", "build/gen.py", cwd=project)
    assert done.returncode == 0
    assert warnings(done) == ["No Python files found under the given path(s)"]
    assert run("--no-cache", "build/gen.py", cwd=project).returncode == 1  # named: linted


@needs_preview_rule
def test_warnings_leave_stdout_to_the_report_and_quiet_silences_them(project: Path) -> None:
    (project / "docs").mkdir()
    done = run(
        "--no-cache",
        "--output-format",
        "json",
        "--select",
        f"{PREVIEW},CCL1",
        "pkg",
        "docs",
        cwd=project,
    )
    assert done.returncode == 1
    assert {item["code"] for item in json.loads(done.stdout)} == {"CCL101"}
    assert len(warnings(done)) == 2
    quiet = run("--no-cache", "-q", "--select", PREVIEW, "docs", cwd=project)
    assert (quiet.returncode, quiet.stderr) == (0, "")
