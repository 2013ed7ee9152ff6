"""The baseline: `--write-baseline` records today's findings, `--baseline` reports only new
ones, and a finding stays known when its code moves, is reformatted or has new neighbours.
Real git repositories, the CLI as a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import run

SOURCE = '''\
"""Handlers."""
import asyncio


def helper(value):
    return value * 2


async def handle(reader):
    asyncio.create_task(reader.read())
    asyncio.create_task(reader.read())
    asyncio.create_task(reader.readline())


async def serve(reader):
    asyncio.create_task(reader.read())
'''
REPORTED = [10, 11, 12, 16]  # CCL101 each
# The same code moved into a class, with other quotes, spacing and blank lines.
REFORMATTED = """\
'''Handlers.'''
import asyncio


class Handlers:

    def helper(self, value):
        return value*2

    async def handle(self, reader):

        asyncio.create_task( reader.read() )
        asyncio.create_task(reader.read())

        asyncio.create_task(reader.readline())


async def serve(reader):
        asyncio.create_task(reader.read())
"""


def conclint(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run("check", "--no-cache", *args, cwd=cwd, env=env)


def git_init(directory: Path) -> None:
    subprocess.run(["git", "init", "-q", str(directory)], check=True, timeout=60)


def lines_of(run: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    return [(item["path"], item["line"], item["code"]) for item in json.loads(run.stdout)]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose project (with its pyproject.toml) is a subdirectory."""
    root = tmp_path / "repo"
    (root / "backend" / "app").mkdir(parents=True)
    git_init(root)
    (root / "backend" / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    (root / "backend" / "app" / "handlers.py").write_text(SOURCE, encoding="utf-8")
    return root


def baselined(repo: Path, edited: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Write the baseline for SOURCE, put `edited` in its place, and lint with the baseline."""
    backend = repo / "backend"
    written = conclint("--write-baseline", "baseline.json", ".", cwd=backend)
    assert written.returncode == 0, written.stderr
    (backend / "app" / "handlers.py").write_text(edited, encoding="utf-8")
    return conclint(
        "--baseline", "baseline.json", "--output-format", "json", *extra, ".", cwd=backend
    )


def test_the_baseline_records_findings_with_counts_and_repository_paths(repo: Path) -> None:
    backend = repo / "backend"
    before = conclint("--output-format", "json", ".", cwd=backend)
    assert [line for _, line, _ in lines_of(before)] == REPORTED
    run = conclint("--write-baseline", "baseline.json", ".", cwd=backend)
    assert (run.returncode, run.stdout) == (0, ""), run.stderr
    assert "Wrote 4 findings to the baseline baseline.json" in run.stderr
    document = json.loads((backend / "baseline.json").read_text(encoding="utf-8"))
    assert document["tool"] == "conclint" and document["version"] == 1
    entries = document["findings"]
    # Paths from the git top level, not from the project or the working directory.
    assert {entry["path"] for entry in entries} == {"backend/app/handlers.py"}
    assert sorted(entry["count"] for entry in entries) == [1, 3]  # three identical lines
    assert entries == sorted(entries, key=lambda e: (e["path"], e["code"], e["fingerprint"]))
    assert all(entry["message"].startswith("task from") for entry in entries)


def test_writing_twice_gives_the_same_bytes(repo: Path) -> None:
    backend = repo / "backend"
    conclint("--write-baseline", "first.json", ".", cwd=backend)
    conclint("--write-baseline", "second.json", "-j", "2", ".", cwd=backend)
    first = (backend / "first.json").read_bytes()
    assert first == (backend / "second.json").read_bytes()
    assert first.endswith(b"\n") and first.isascii()


def test_nothing_new_means_exit_0(repo: Path) -> None:
    run = baselined(repo, SOURCE)
    assert (run.returncode, lines_of(run)) == (0, []), run.stderr
    assert "fixed" not in run.stderr


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param(
            SOURCE.replace('"""Handlers."""\n', '"""Handlers."""\nimport logging\n\nLOG = 1\n\n'),
            id="lines-added-above",
        ),
        pytest.param(SOURCE.replace("helper", "double_it"), id="unrelated-function-renamed"),
        pytest.param(
            SOURCE.replace("def serve(reader):", "def serve(reader, timeout=None):\n    # hm\n"),
            id="neighbouring-code-edited",
        ),
        pytest.param(SOURCE.replace("    ", "  "), id="re-indented"),
        pytest.param(SOURCE.replace("\n    asyncio", "\n\n    asyncio"), id="blank-lines-added"),
        pytest.param(REFORMATTED, id="moved-into-a-class-and-reformatted"),
        pytest.param(
            SOURCE.split("\n\n\n", 2)[0]
            + "\n\n\n"
            + "\n\n\n".join(reversed(SOURCE.split("\n\n\n", 2)[1:])),
            id="functions-reordered",
        ),
    ],
)
def test_known_findings_stay_known_when_the_code_changes_around_them(
    repo: Path, edited: str
) -> None:
    run = baselined(repo, edited)
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines_of(run) == []
    # The edit kept every finding: it did not just remove them.
    again = conclint("--no-baseline", "--output-format", "json", "app", cwd=repo / "backend")
    assert len(lines_of(again)) == 4


def test_a_new_finding_of_the_same_code_in_the_same_function_is_reported(repo: Path) -> None:
    line = "    asyncio.create_task(reader.readline())\n"
    edited = SOURCE.replace(line, line + "    asyncio.create_task(reader.readexactly(2))\n")
    run = baselined(repo, edited)
    assert run.returncode == 1
    assert lines_of(run) == [("app/handlers.py", 13, "CCL101")]


def test_one_more_identical_finding_than_the_baseline_counts_is_reported(repo: Path) -> None:
    edited = SOURCE.replace(
        "    asyncio.create_task(reader.readline())\n",
        "    asyncio.create_task(reader.readline())\n    asyncio.create_task(reader.readline())\n",
    )
    run = baselined(repo, edited)
    assert run.returncode == 1
    assert lines_of(run) == [("app/handlers.py", 13, "CCL101")]  # the later of the two


def test_fixed_findings_are_counted_on_stderr(repo: Path) -> None:
    edited = SOURCE.replace("    asyncio.create_task(reader.read())\n", "    pass\n", 2)
    run = baselined(repo, edited)
    assert (run.returncode, lines_of(run)) == (0, [])
    assert "2 findings are fixed since the baseline" in run.stderr
    assert "--write-baseline baseline.json" in run.stderr
    # --exit-zero and -q: the count is not said, the exit status stays.
    quiet = conclint("--baseline", "baseline.json", "-q", ".", cwd=repo / "backend")
    assert (quiet.returncode, quiet.stderr) == (0, "")


def test_findings_of_a_deleted_file_are_fixed(repo: Path) -> None:
    backend = repo / "backend"
    (backend / "app" / "other.py").write_text(SOURCE, encoding="utf-8")
    conclint("--write-baseline", "baseline.json", ".", cwd=backend)
    (backend / "app" / "other.py").unlink()
    run = conclint("--baseline", "baseline.json", "app/handlers.py", cwd=backend)
    assert run.returncode == 0
    assert "4 findings are fixed since the baseline" in run.stderr


def test_the_baseline_setting_is_relative_to_its_config_file(repo: Path) -> None:
    backend = repo / "backend"
    (backend / "pyproject.toml").write_text(
        '[tool.conclint]\nbaseline = "ci/conclint-baseline.json"\n', encoding="utf-8"
    )
    (backend / "ci").mkdir()
    # Written from the repository root, read from the project and from a subdirectory.
    written = conclint("--write-baseline", "backend/ci/conclint-baseline.json", "backend", cwd=repo)
    assert written.returncode == 0, written.stderr
    for cwd, path in ((backend, "."), (backend / "app", "."), (repo, "backend")):
        run = conclint(path, cwd=cwd)
        assert (run.returncode, run.stdout) == (0, ""), (cwd, run.stdout, run.stderr)
    # --no-baseline shows everything again.
    assert conclint("--no-baseline", ".", cwd=backend).returncode == 1


def test_a_new_file_is_reported_whole(repo: Path) -> None:
    backend = repo / "backend"
    conclint("--write-baseline", "baseline.json", ".", cwd=backend)
    (backend / "app" / "copy.py").write_text(SOURCE, encoding="utf-8")
    run = conclint("--baseline", "baseline.json", "--output-format", "json", ".", cwd=backend)
    assert run.returncode == 1
    assert lines_of(run) == [("app/copy.py", line, "CCL101") for line in REPORTED]


def test_baselined_findings_can_be_shown_as_suppressed_in_sarif(repo: Path) -> None:
    from tests.test_sarif import assert_valid

    backend = repo / "backend"
    conclint("--write-baseline", "baseline.json", ".", cwd=backend)
    args = ("--baseline", "baseline.json", "--output-format", "sarif", ".")
    document = json.loads(conclint(*args, cwd=backend).stdout)
    assert_valid(document)
    assert document["runs"][0]["results"] == []
    shown = json.loads(conclint(*args[:-1], "--sarif-include-suppressed", ".", cwd=backend).stdout)
    assert_valid(shown)
    results = shown["runs"][0]["results"]
    assert [r["suppressions"] for r in results] == [[{"kind": "external"}]] * 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read baseline missing.json"),
        ("{", "is not valid JSON"),
        ('{"findings": []}', "is not a conclint baseline"),
        ('{"tool": "conclint", "version": 99, "findings": []}', "has version 99"),
        ('{"tool": "conclint", "version": 1, "findings": {}}', "'findings' must be a list"),
        (
            '{"tool": "conclint", "version": 1, "findings": [{"path": "a.py", "code": "CCL101",'
            ' "fingerprint": "zz", "count": 1}]}',
            "'fingerprint' must be 16 hex digits",
        ),
        (
            '{"tool": "conclint", "version": 1, "findings": [{"path": "a.py", "code": "CCL101",'
            ' "fingerprint": "0123456789abcdef", "count": 0}]}',
            "'count' must be a positive integer",
        ),
    ],
)
def test_a_bad_baseline_is_a_usage_error(repo: Path, content: str | None, message: str) -> None:
    backend = repo / "backend"
    if content is not None:
        (backend / "missing.json").write_text(content, encoding="utf-8")
    run = conclint("--baseline", "missing.json", ".", cwd=backend)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith("conclint: error: ") and message in run.stderr
    assert "Traceback" not in run.stderr


def test_a_configured_baseline_that_is_missing_is_a_usage_error(repo: Path) -> None:
    backend = repo / "backend"
    (backend / "pyproject.toml").write_text('[tool.conclint]\nbaseline = "b.json"\n', "utf-8")
    run = conclint(".", cwd=backend)
    assert run.returncode == 2
    assert f"cannot read baseline {backend / 'b.json'}" in run.stderr
    # Writing it is how it comes to exist.
    assert conclint("--write-baseline", "b.json", ".", cwd=backend).returncode == 0
    assert conclint(".", cwd=backend).returncode == 0


def test_write_baseline_never_overwrites_a_file_that_is_not_one(repo: Path) -> None:
    backend = repo / "backend"
    before = (backend / "pyproject.toml").read_bytes()
    run = conclint("--write-baseline", "pyproject.toml", ".", cwd=backend)
    assert run.returncode == 2 and "not overwriting it" in run.stderr
    assert (backend / "pyproject.toml").read_bytes() == before
    unwritable = conclint("--write-baseline", "no/such/dir/b.json", ".", cwd=backend)
    assert unwritable.returncode == 2 and "cannot write baseline" in unwritable.stderr


def test_without_git_paths_start_at_the_project_root(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    (project / "app" / "handlers.py").write_text(SOURCE, encoding="utf-8")
    outside = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}  # whatever holds the temporary files
    conclint("--write-baseline", "baseline.json", "app", cwd=project, env=outside)
    entries = json.loads((project / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert {entry["path"] for entry in entries} == {"app/handlers.py"}
    run = conclint("--baseline", "../baseline.json", ".", cwd=project / "app", env=outside)
    assert run.returncode == 0, run.stdout
