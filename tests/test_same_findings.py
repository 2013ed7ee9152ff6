"""Every front end lints a file with its project's index: the findings of a file do not
depend on whether a run names it, its directory or its whole project, nor on whether
the CLI, flake8 or pylint runs. The real tools run as subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from conclint import discovery, project_files, registry
from conclint.analysis.project import ModuleFacts, facts_of
from conclint.config import Resolver, Settings
from conclint.diagnostics import FileResult
from conclint.pylint_plugin import message_ids
from conclint.runner import lint_paths
from tests.conftest import FIXTURES

# Found: file (relative to the project) -> its (line, code) findings.
Found = dict[str, set[tuple[int, str]]]

# As the repository configures itself: the fixtures are excluded from `conclint .`, so
# the single files named below are indexed with the excluded tree they lie in.
CONFIG = '[tool.conclint]\npreview = true\nextend-exclude = ["fixtures"]\n'
# Single files, among them files whose findings need other modules of their package.
SINGLE_FILES = [
    "fixtures/project_app/api.py",
    "fixtures/project_app/handlers.py",
    "fixtures/project_app/service.py",
    "fixtures/project_app/workers.py",
    "fixtures/CCL102.py",
    "fixtures/CCL604_lookalikes.py",
]


def _environment(env: dict[str, str]) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if key != "CONCLINT_CACHE_DIR"}
    return {**inherited, **env}


def _run(
    command: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=_environment(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _conclint(cwd: Path, env: dict[str, str], *args: str) -> Found:
    command = [sys.executable, "-m", "conclint", "check", "--output-format", "json", *args]
    run = _run(command, cwd, env)
    assert run.returncode in (0, 1), run.stderr
    return _by_file((item["path"], item["line"], item["code"]) for item in json.loads(run.stdout))


def _flake8(cwd: Path, env: dict[str, str], *args: str) -> Found:
    form = "--format=%(path)s\t%(row)d\t%(code)s"
    run = _run(
        [sys.executable, "-m", "flake8", "--isolated", "--select=CCL", form, *args], cwd, env
    )
    assert run.returncode in (0, 1) and not run.stderr, run.stderr
    rows = (line.split("\t") for line in run.stdout.splitlines())
    return _by_file((path, int(row), code) for path, row, code in rows)


def _pylint(cwd: Path, env: dict[str, str], *args: str) -> Found:
    symbols = ",".join(symbol for _, symbol in message_ids().values())
    command = [
        *(sys.executable, "-m", "pylint", "--load-plugins=conclint.pylint_plugin"),
        *("--disable=all", f"--enable={symbols}", "--output-format=json2"),
        *("--persistent=n", "--score=n", "-j", "1", *args),
    ]
    run = _run(command, cwd, env)
    assert run.returncode & ~(4 | 2) == 0, run.stderr  # only the warning and error bits
    codes = {msgid: code for code, (msgid, _) in message_ids().items()}
    messages = json.loads(run.stdout)["messages"]
    return _by_file((m["path"], m["line"], codes[m["messageId"]]) for m in messages)


def _by_file(rows: Iterable[tuple[str, int, str]]) -> Found:
    found: Found = {}
    for path, line, code in rows:
        found.setdefault(Path(os.path.normpath(path)).as_posix(), set()).add((line, code))
    return found


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (its root marked by `.git`) holding a copy of the fixtures."""
    root = tmp_path_factory.mktemp("same") / "project"
    (root / ".git").mkdir(parents=True)
    (root / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    shutil.copytree(FIXTURES, root / "fixtures")
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The cache and pylint's home outside the project: the project must stay as it is."""
    outside = tmp_path_factory.mktemp("outside")
    return {"CONCLINT_CACHE_DIR": str(outside / "cache"), "PYLINTHOME": str(outside / "pylint")}


@pytest.fixture(scope="module")
def directory_run(project: Path, env: dict[str, str]) -> Found:
    """`conclint fixtures/`: what every front end must find, file by file."""
    before = _tree(project)
    found = _conclint(project, env, "fixtures")
    assert found.get("fixtures/project_app/api.py"), "the cross-module findings are missing"
    assert _tree(project) == before, "the run wrote into the project"
    return found


def _files(project: Path) -> list[str]:
    return sorted(path.relative_to(project).as_posix() for path in project.rglob("*.py"))


def _every_file(found: Found, project: Path) -> Found:
    return {path: found.get(path, set()) for path in _files(project)}


def test_the_project_index_holds_the_cross_module_findings(
    project: Path, directory_run: Found
) -> None:
    service = directory_run["fixtures/project_app/service.py"]
    assert {(17, "CCL102"), (18, "CCL102"), (19, "CCL102")} <= service


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8_finds_what_the_cli_finds(
    project: Path, env: dict[str, str], directory_run: Found, jobs: str
) -> None:
    before = _tree(project)
    found = _flake8(project, env, "-j", jobs, "fixtures")
    assert _every_file(found, project) == _every_file(directory_run, project)
    assert _tree(project) == before


def test_pylint_finds_what_the_cli_finds(
    project: Path, env: dict[str, str], directory_run: Found
) -> None:
    found = _pylint(project, env, "fixtures")
    assert _every_file(found, project) == _every_file(directory_run, project)


@pytest.mark.parametrize("cache", ["cache", "no-cache"])
def test_single_files_get_the_findings_of_the_directory_run(
    project: Path, env: dict[str, str], directory_run: Found, cache: str
) -> None:
    flags = ["--no-cache"] if cache == "no-cache" else []
    for path in SINGLE_FILES:
        alone = _conclint(project, env, *flags, path)
        assert alone.get(path, set()) == directory_run.get(path, set()), path
    named = _conclint(project, env, *flags, "fixtures/project_app")
    for path, found in named.items():
        assert found == directory_run[path], path


def test_a_single_file_from_another_directory_and_from_stdin(
    project: Path, env: dict[str, str], directory_run: Found
) -> None:
    path = "fixtures/project_app/handlers.py"
    inside = project / "fixtures" / "project_app"
    alone = _conclint(inside, env, "handlers.py")
    assert alone["handlers.py"] == directory_run[path]
    command = [sys.executable, "-m", "conclint", "check", "--output-format", "json"]
    text = (project / path).read_text(encoding="utf-8")
    stdin = _run([*command, "--stdin-filename", path, "-"], project, env, text)
    rows = json.loads(stdin.stdout)
    assert {(item["line"], item["code"]) for item in rows} == directory_run[path]


# Editing one module changes what another module's single-file run finds ----------------

DB = "async def fetch(key):\n    return key\n"
API = '''"""Handlers."""
from app.db import fetch


async def handle(key):
    fetch(key)
'''


def _app(root: Path) -> None:
    (root / ".git").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "db.py").write_text(DB, encoding="utf-8")
    (root / "app" / "api.py").write_text(API, encoding="utf-8")


def test_an_edit_to_one_module_refreshes_the_index_of_the_next_run(tmp_path: Path) -> None:
    _app(tmp_path)
    env: dict[str, str] = {}  # the cache where the configuration puts it: .conclint_cache
    assert _conclint(tmp_path, env, "app/api.py") == {"app/api.py": {(6, "CCL102")}}
    # The index was kept beside the results: the facts of a module the run did not lint.
    (store,) = (tmp_path / ".conclint_cache").rglob("*.json")
    entries = json.loads(store.read_text(encoding="utf-8"))["files"]
    assert entries["app/db.py"]["facts"]["async"] == ["fetch"]
    assert entries["app/db.py"]["result"] is None

    (tmp_path / "app" / "db.py").write_text(DB.replace("async def", "def"), encoding="utf-8")
    assert _conclint(tmp_path, env, "app/api.py") == {}
    assert _flake8(tmp_path, env, "app/api.py") == {}
    (tmp_path / "app" / "db.py").write_text(DB, encoding="utf-8")
    assert _conclint(tmp_path, env, "app/api.py") == {"app/api.py": {(6, "CCL102")}}
    assert _flake8(tmp_path, env, "app/api.py") == {"app/api.py": {(6, "CCL102")}}
    assert _pylint(tmp_path, env, "app/api.py") == {"app/api.py": {(6, "CCL102")}}


def test_two_projects_in_one_run_keep_their_own_modules(tmp_path: Path) -> None:
    """`app.db` of one project is not `app.db` of the other, whatever the run names."""
    (tmp_path / ".git").mkdir()
    for name, db in (("one", DB), ("two", DB.replace("async def", "def"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text("[project]\nname = 'x'\n")
        for module, text in (("__init__", ""), ("db", db), ("api", API)):
            (tmp_path / name / "app").mkdir(exist_ok=True)
            (tmp_path / name / "app" / f"{module}.py").write_text(text, encoding="utf-8")
    expected = {"one/app/api.py": {(6, "CCL102")}}
    assert _conclint(tmp_path, {}, "--no-cache", ".") == expected
    assert _conclint(tmp_path, {}, "--no-cache", "one/app/api.py", "two/app/api.py") == expected
    assert _flake8(tmp_path, {}, "one", "two") == expected


def test_a_cache_directory_that_is_not_ours_stops_the_plugins(tmp_path: Path) -> None:
    _app(tmp_path)
    foreign = tmp_path / "elsewhere"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    env = {"CONCLINT_CACHE_DIR": str(foreign)}
    form = "--format=%(path)s %(code)s"
    run = _run([sys.executable, "-m", "flake8", "--select=CCL", form, "app/api.py"], tmp_path, env)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "holds files that conclint did not write" in run.stdout + run.stderr
    assert [path.name for path in foreign.iterdir()] == ["notes.txt"]


# A warm run stats instead of walking the project, and sees what changed ---------------

JOBS_API = (
    API
    + """

async def later():
    from app.jobs import run

    run()
"""
)


def _codes(results: list[FileResult]) -> set[tuple[str, int, str]]:
    return {(Path(r.path).name, d.line, d.code) for r in results for d in r.diagnostics}


def test_a_warm_run_reads_the_walk_from_the_cache_and_sees_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    (tmp_path / "app" / "api.py").write_text(JOBS_API, encoding="utf-8")
    time.sleep(2.1)  # older than the clock's resolution: a later change shows
    cache = tmp_path / "cache"  # in the tree, as a configured `cache-dir` may be

    def lint() -> set[tuple[str, int, str]]:
        resolver = Resolver(registry.known_codes(), fallback=Settings(root=str(tmp_path)))
        return _codes(lint_paths([str(tmp_path / "app" / "api.py")], resolver, 1, cache))

    assert lint() == {("api.py", 6, "CCL102")}
    time.sleep(2.1)  # the cache directory made by the first run changed the project's
    assert lint() == {("api.py", 6, "CCL102")}
    walks: list[object] = []
    real = discovery.discover

    def discover(*args: Any, **kwargs: Any) -> Any:
        walks.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(project_files, "discover", discover)
    assert lint() == {("api.py", 6, "CCL102")}
    assert walks == []  # nothing changed: no walk, and the result came from the cache
    # A file changed in place: its directory is as it was, its signature is not.
    (tmp_path / "app" / "db.py").write_text(DB.replace("async def", "def"), encoding="utf-8")
    assert lint() == set()
    assert walks == []
    # A new file: its directory changed, so the project is walked again.
    (tmp_path / "app" / "jobs.py").write_text("async def run():\n    pass\n", encoding="utf-8")
    assert lint() == {("api.py", 12, "CCL102")}
    assert len(walks) == 1
    # A config changed in place: what it excludes is no longer in the index.
    time.sleep(2.1)
    assert lint() == {("api.py", 12, "CCL102")}  # kept again, now that it is old enough
    walks.clear()
    config = '[tool.conclint]\nextend-exclude = ["jobs.py"]\n'
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    assert lint() == set()
    assert len(walks) == 1


def test_a_module_the_index_pass_fails_on_does_not_stop_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app(tmp_path)

    def failing(source: str, path: str, *rest: Any) -> ModuleFacts:
        if path.endswith("db.py"):
            raise RuntimeError("a bug of the index pass")
        return facts_of(source, path, *rest)

    monkeypatch.setattr("conclint.engine.facts_of", failing)
    (result,) = lint_paths([str(tmp_path / "app" / "api.py")], Settings(root=str(tmp_path)), 1)
    assert not result.failed and result.diagnostics == ()  # db.py unknown: nothing said
