"""The command line, run for real as a subprocess."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conclint import registry

BUGGY = """\
import asyncio


async def main() -> None:
    asyncio.create_task(asyncio.to_thread(print))
"""


# An endless read would take the machine's memory; this caps the run's instead.
_MEMORY = 4 * 1024**3


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))


def run(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own; a hang or an endless read fails the test."""
    environment = {**os.environ}
    for name in ("NO_COLOR", "FORCE_COLOR", "CONCLINT_OUTPUT_FORMAT", "CONCLINT_CACHE_DIR"):
        environment.pop(name, None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "conclint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        preexec_fn=_cap_memory,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "buggy.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


def test_findings_exit_1_and_text_format(project: Path) -> None:
    done = run("--no-cache", "pkg", cwd=project)
    assert done.returncode == 1
    [line] = done.stdout.splitlines()
    assert line.startswith("pkg/buggy.py:5:5: CCL101 task from `asyncio.create_task(...)`")


def test_clean_exit_0(project: Path) -> None:
    done = run("--no-cache", "pkg/clean.py", cwd=project)
    assert done.returncode == 0
    assert done.stdout == ""


def test_check_subcommand_and_default_path(project: Path) -> None:
    explicit = run("check", "--no-cache", ".", cwd=project)
    implicit = run("--no-cache", cwd=project)
    assert explicit.returncode == implicit.returncode == 1
    assert explicit.stdout == implicit.stdout
    assert "pkg/buggy.py:5:5: CCL101" in implicit.stdout


def test_exit_zero_and_quiet(project: Path) -> None:
    done = run("--no-cache", "--exit-zero", "-q", "pkg", cwd=project)
    assert done.returncode == 0
    assert "CCL101" in done.stdout
    assert done.stderr == ""


def test_json_output_carries_positions(project: Path) -> None:
    done = run("--no-cache", "--output-format", "json", "pkg", cwd=project)
    assert done.returncode == 1
    [item] = json.loads(done.stdout)
    assert item["path"] == "pkg/buggy.py"
    assert (item["line"], item["column"], item["end_line"], item["end_column"]) == (5, 5, 5, 50)
    assert (item["code"], item["name"]) == ("CCL101", "dangling-task")
    assert "asyncio.create_task" in item["message"]


def test_output_file(project: Path) -> None:
    done = run("--no-cache", "-o", "report.txt", "pkg", cwd=project)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "CCL101" in (project / "report.txt").read_text(encoding="utf-8")


def test_select_and_ignore_flags(project: Path) -> None:
    assert run("--no-cache", "--ignore", "CCL1", "pkg", cwd=project).returncode == 0
    assert run("--no-cache", "--select", "CCL6", "pkg", cwd=project).returncode == 0
    assert run("--no-cache", "--select", "CCL10", "pkg", cwd=project).returncode == 1
    kept = run("--no-cache", "--ignore", "CCL1", "--extend-select", "CCL101", "pkg", cwd=project)
    assert kept.returncode == 1


def test_statistics_and_show_source(project: Path) -> None:
    shown = run("--no-cache", "--show-source", "pkg", cwd=project).stdout.splitlines()
    assert "    " + "    asyncio.create_task(asyncio.to_thread(print))" in shown
    assert "    " + "    " + "^" * 45 in shown
    # The counts instead of the findings, as ruff prints them.
    counted = run("--no-cache", "--statistics", "--show-source", "pkg", cwd=project)
    assert counted.stdout == "1\tCCL101\tdangling-task\n"


def test_stdin_with_filename(project: Path) -> None:
    done = run("--no-cache", "-", "--stdin-filename", "src/app.py", cwd=project, stdin=BUGGY)
    assert done.returncode == 1
    assert done.stdout.startswith("src/app.py:5:5: CCL101 ")


def test_broken_tree_reports_each_file_and_goes_on(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    (project / "pkg" / "binary.py").write_bytes(b"\x00\x01\x02async")
    done = run("--no-cache", "pkg", cwd=project)
    assert done.returncode == 1
    codes = [line.split()[1] for line in done.stdout.splitlines()]
    assert codes == ["CCL002", "CCL001", "CCL101"]  # binary.py, broken.py, buggy.py
    assert "Traceback" not in done.stderr


def test_jobs_give_identical_output(root: Path) -> None:
    one = run("--no-cache", "-j", "1", "fixtures", cwd=root)
    two = run("--no-cache", "-j", "2", "fixtures", cwd=root)
    assert one.stdout == two.stdout
    assert one.returncode == two.returncode == 1


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ('selectt = ["CCL1"]', "selectt"),
        ('select = ["CCL9"]', "CCL9"),
        ('select = "CCL1"', "'select' must be a list"),
        ("preview = 1", "'preview' must be true or false"),
        ("jobs = 0", "'jobs' must be a positive integer"),
        ('extra-spawners = ["not a name"]', "not a dotted name"),
        ("[tool.conclint.per-file-ignores]\n'x.py' = 'CCL1'", "must be a list"),
    ],
)
def test_bad_config_exit_2_names_the_key(project: Path, config: str, needle: str) -> None:
    (project / "pyproject.toml").write_text(f"[tool.conclint]\n{config}\n", encoding="utf-8")
    done = run("pkg", cwd=project)
    assert done.returncode == 2
    assert needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_invalid_toml_and_bad_flags_exit_2(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.conclint\n", encoding="utf-8")
    assert run("pkg", cwd=project).returncode == 2
    (project / "pyproject.toml").unlink()
    for flags in (["--select", "XYZ1"], ["-j", "0"], ["--bogus"], ["missing-dir"]):
        done = run(*flags, cwd=project)
        assert done.returncode == 2, flags
        assert done.stderr.startswith("conclint: error:"), flags


def test_config_is_found_upward_and_applies(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.conclint]\nignore = ["CCL101"]\n', "utf-8")
    assert run("--no-cache", "buggy.py", cwd=project / "pkg").returncode == 0
    assert run("--no-cache", "--isolated", "pkg", cwd=project).returncode == 1


def test_per_file_ignores(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.conclint.per-file-ignores]\n"pkg/buggy.py" = ["CCL1"]\n', encoding="utf-8"
    )
    assert run("--no-cache", "pkg", cwd=project).returncode == 0


def test_excludes_and_force_exclude(project: Path) -> None:
    config = '[tool.conclint]\nextend-exclude = ["pkg/buggy.py"]\n'
    (project / "pyproject.toml").write_text(config, encoding="utf-8")
    assert run("--no-cache", "pkg", cwd=project).returncode == 0
    # Named explicitly, a file is linted unless --force-exclude (as pre-commit passes files).
    assert run("--no-cache", "pkg/buggy.py", cwd=project).returncode == 1
    assert run("--no-cache", "--force-exclude", "pkg/buggy.py", cwd=project).returncode == 0


def test_default_excludes_and_gitignore(project: Path) -> None:
    for ignored in ("build", ".venv", "node_modules", "generated"):
        (project / ignored).mkdir()
        (project / ignored / "bug.py").write_text(BUGGY, encoding="utf-8")
    (project / ".gitignore").write_text("generated/\n", encoding="utf-8")
    done = run("--no-cache", ".", cwd=project)
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == ["pkg/buggy.py"]
    assert run("--no-cache", "--no-respect-gitignore", ".", cwd=project).stdout.count("CCL101") == 2


def test_symlink_out_of_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "bug.py").write_text(BUGGY, encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "linked_file.py").symlink_to(outside / "bug.py")
    assert run("--no-cache", ".", cwd=root).returncode == 0


def test_rules_and_rule_commands(root: Path) -> None:
    listed = run("rules", cwd=root)
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        rule.code for rule in registry.RULES
    ]
    page = run("rule", "CCL101", cwd=root)
    assert page.returncode == 0
    assert page.stdout.startswith("# CCL101: dangling-task")
    assert run("rule", "CCL999", cwd=root).returncode == 2


def test_version(root: Path) -> None:
    from conclint import __version__

    done = run("--version", cwd=root)
    assert done.returncode == 0
    assert done.stdout.strip() == f"conclint {__version__}"


def test_colour_only_on_request_never_with_no_color(project: Path) -> None:
    plain = run("--no-cache", "pkg", cwd=project)
    assert "\033[" not in plain.stdout  # a pipe is not a terminal
    forced = run("--no-cache", "--color", "always", "pkg", cwd=project)
    assert "\033[" in forced.stdout
    env_forced = run("--no-cache", "pkg", cwd=project, env={"FORCE_COLOR": "1"})
    assert "\033[" in env_forced.stdout
    no_color = run("--no-cache", "pkg", cwd=project, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\033[" not in no_color.stdout


def test_a_directory_named_explicitly_is_linted_even_if_an_outer_gitignore_lists_it(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("/versions\n*.gen.py\n", encoding="utf-8")
    package = tmp_path / "versions" / "lib"
    package.mkdir(parents=True)
    (package / "bug.py").write_text(BUGGY, encoding="utf-8")
    (package / ".gitignore").write_text("skipped.py\n", encoding="utf-8")
    (package / "skipped.py").write_text(BUGGY, encoding="utf-8")
    done = run("--no-cache", str(package), cwd=tmp_path)
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [str(package / "bug.py")]
    # Walked from the repository root, the ignored tree stays ignored.
    assert run("--no-cache", ".", cwd=tmp_path).returncode == 0


def test_a_path_longer_than_the_system_allows_is_a_usage_error(tmp_path: Path) -> None:
    done = run("x" * 5000 + ".py", cwd=tmp_path)
    assert done.returncode == 2
    assert "no such file or directory" in done.stderr and "internal error" not in done.stderr


def test_stdin_past_the_source_limit_is_ccl002(tmp_path: Path) -> None:
    from conclint.files import MAX_SOURCE_BYTES

    done = run("-", "--stdin-filename", "big.py", cwd=tmp_path, stdin="#" * (MAX_SOURCE_BYTES + 1))
    assert done.returncode == 1
    assert done.stdout.startswith("big.py:1:1: CCL002 standard input is larger")
