"""flake8 and pylint front ends: the real tools find exactly what the CLI and the engine find."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conclint import registry
from conclint.config import Settings, load_settings
from conclint.diagnostics import FileResult
from conclint.flake8_plugin import Plugin
from conclint.pylint_plugin import MESSAGE_IDS, ConclintChecker, message_ids
from conclint.runner import lint_paths
from tests.conftest import FIXTURES

# Preview on, and a rule option set, so the tools must read [tool.conclint] themselves.
CONFIG = '[tool.conclint]\npreview = true\nextra-spawners = ["app.tasks.spawn"]\n'
BUGGY = '''"""A handler that drops its tasks."""
import asyncio


async def handle(reader):
    asyncio.create_task(reader.read())
    asyncio.create_task(reader.read())  # pylint: disable=dangling-task
    # pylint: disable-next=W5911
    asyncio.create_task(reader.read())
    asyncio.create_task(reader.read())  # noqa: CCL101
    asyncio.create_task(reader.read())  # conclint: ignore[CCL101]
'''

Found = set[tuple[str, int, str]]


def _run(
    command: list[str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYLINTHOME": str(cwd / ".pylint.d")}
    return subprocess.run(
        command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding a conclint config and a copy of the fixtures: every front end
    takes a file's settings from the nearest config above it."""
    path = tmp_path_factory.mktemp("project")
    (path / ".git").mkdir()  # the config search stops here, whatever lies above
    (path / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    shutil.copytree(FIXTURES, path / "fixtures")
    return path


def _fixtures(workdir: Path) -> list[Path]:
    return sorted((workdir / "fixtures").rglob("*.py"))


def _findings(results: Iterable[FileResult]) -> dict[str, Found]:
    # A file the engine cannot parse is flake8's E999 and pylint's E0001 instead.
    return {
        r.path: {(r.path, d.line, d.code) for d in r.diagnostics} for r in results if not r.failed
    }


@pytest.fixture(scope="module")
def settings(workdir: Path) -> Settings:
    return load_settings(workdir / "pyproject.toml", registry.known_codes())


@pytest.fixture(scope="module")
def project_findings(workdir: Path, settings: Settings) -> dict[str, Found]:
    """All files at once, with their project's index: what every front end finds in each."""
    return _findings(lint_paths([str(path) for path in _fixtures(workdir)], settings, jobs=1))


def _by_file(found: Found, files: dict[str, Found]) -> dict[str, Found]:
    return {path: {item for item in found if item[0] == path} for path in files}


def test_flake8_finds_what_the_engine_finds(
    workdir: Path, project_findings: dict[str, Found]
) -> None:
    run = _run(
        [
            sys.executable,
            "-m",
            "flake8",
            "--isolated",
            "--select=CCL",
            "--format=%(path)s\t%(row)d\t%(code)s",
            *project_findings,
        ],
        workdir,
    )
    assert run.returncode in (0, 1) and not run.stderr, run.stderr
    found = set()
    for line in run.stdout.splitlines():
        path, row, code = line.split("\t")
        found.add((str(Path(workdir, path).resolve()), int(row), code))
    assert _by_file(found, project_findings) == project_findings


def test_pylint_finds_what_the_engine_finds(
    workdir: Path, project_findings: dict[str, Found]
) -> None:
    symbols = ",".join(symbol for _, symbol in message_ids().values())
    run = _run(
        [
            sys.executable,
            "-m",
            "pylint",
            "--load-plugins=conclint.pylint_plugin",
            "--disable=all",
            f"--enable={symbols}",
            "--output-format=json2",
            "--persistent=n",
            "--score=n",
            "-j",
            "1",
            *project_findings,
        ],
        workdir,
    )
    assert run.returncode & ~(4 | 2) == 0, run.stderr  # only warning/error bits
    codes = {msgid: code for code, (msgid, _) in message_ids().items()}
    found = {
        (message["absolutePath"], message["line"], codes[message["messageId"]])
        for message in json.loads(run.stdout)["messages"]
    }
    assert _by_file(found, project_findings) == project_findings


def test_cli_finds_what_the_engine_finds(workdir: Path, project_findings: dict[str, Found]) -> None:
    run = _run(
        [
            sys.executable,
            "-m",
            "conclint",
            "check",
            "--config",
            str(workdir / "pyproject.toml"),
            "--output-format",
            "json",
            "--no-cache",
            *project_findings,
        ],
        workdir,
    )
    assert run.returncode in (0, 1), run.stderr
    found = {(item["path"], item["line"], item["code"]) for item in json.loads(run.stdout)}
    assert _by_file(found, project_findings) == project_findings


# flake8 -----------------------------------------------------------------------------


@pytest.fixture
def restore_plugin() -> Iterator[None]:
    selected = Plugin.selected
    yield
    Plugin.selected = selected


@pytest.mark.parametrize(
    ("flags", "some", "none"),
    [
        ([], ["CCL001", "CCL101", "CCL601"], []),
        (["--select=CCL"], ["CCL001", "CCL101", "CCL601"], []),
        (["--select=E,W,F"], [], ["CCL001", "CCL101", "CCL601"]),
        (["--select=F", "--extend-select=CCL6"], ["CCL601"], ["CCL001", "CCL101"]),
        (["--extend-ignore=CCL"], [], ["CCL001", "CCL101", "CCL601"]),
        (["--ignore=CCL1"], ["CCL001", "CCL601"], ["CCL101", "CCL102"]),
        (["--select=CCL1", "--ignore=CCL101,CCL102"], ["CCL103"], ["CCL101", "CCL203"]),
        (["--select=CCL1", "--ignore=CCL1"], [], ["CCL101", "CCL102"]),
    ],
)
def test_flake8_selection_decides_which_rules_run(
    flags: list[str], some: list[str], none: list[str], restore_plugin: None
) -> None:
    from flake8.options.parse_args import parse_args

    parse_args(["--isolated", *flags, "x.py"])
    assert set(some) <= Plugin.selected
    assert not set(none) & Plugin.selected
    assert bool(Plugin.selected) is bool(some)


def test_flake8_without_ccl_codes_does_not_import_libcst(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BUGGY, encoding="utf-8")
    script = (
        "import sys\nfrom flake8.main.cli import main\n"
        "rc = main(['--isolated', '--select=F', 'app.py'])\n"
        "print(rc, 'libcst' in sys.modules)\n"
    )
    run = _run([sys.executable, "-c", script], tmp_path)
    assert run.stdout.split() == ["0", "False"], run.stderr


def _plugin(source: str, filename: str = "app.py") -> list[tuple[int, int, str]]:
    plugin = Plugin(None, source.splitlines(keepends=True), filename)
    return [(line, col, text) for line, col, text, kind in plugin.run() if kind is Plugin]


def test_flake8_plugin_leaves_noqa_to_flake8_but_applies_conclint_ignore() -> None:
    found = _plugin(BUGGY)
    assert [(line, col) for line, col, _ in found] == [(6, 4), (7, 4), (9, 4), (10, 4)]
    assert all(text.startswith("CCL101 task from `asyncio.create_task(...)`") for *_, text in found)


def test_flake8_plugin_runs_only_the_selected_rules(restore_plugin: None) -> None:
    Plugin.selected = frozenset({"CCL203"})
    assert _plugin(BUGGY) == []
    Plugin.selected = frozenset({"CCL101"})
    assert len(_plugin(BUGGY)) == 4


def test_flake8_run_honours_noqa_and_disable_noqa(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BUGGY, encoding="utf-8")
    base = [sys.executable, "-m", "flake8", "--isolated", "--select=CCL", "--format=%(row)d"]
    assert _run([*base, "app.py"], tmp_path).stdout.split() == ["6", "7", "9"]
    assert _run([*base, "--disable-noqa", "app.py"], tmp_path).stdout.split() == [
        "6",
        "7",
        "9",
        "10",
    ]


def test_flake8_reads_stdin_under_its_display_name(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "flake8", "--isolated", "--select=CCL"]
    run = _run([*command, "--stdin-display-name=pkg/app.py", "-"], tmp_path, stdin=BUGGY)
    assert run.stdout.splitlines()[0].startswith("pkg/app.py:6:5: CCL101 ")


def test_flake8_plugin_turns_an_internal_error_into_a_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("conclint.engine.lint_source", explode)
    assert _plugin(BUGGY) == [(1, 0, "CCL002 internal error, please report: RuntimeError: boom")]


def test_flake8_plugin_reports_source_libcst_cannot_parse() -> None:
    ((line, _, text),) = _plugin("async def f(:\n    pass\n")
    assert line == 1 and text.startswith("CCL001 ")


SPAWNS = '''"""Jobs started through the application's own spawner."""
from app.tasks import spawn


async def refresh(cache):
    spawn(cache.reload())
'''


def test_flake8_reads_rule_options_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text(SPAWNS, encoding="utf-8")
    command = [sys.executable, "-m", "flake8", "--select=CCL", "--format=%(row)d %(code)s"]
    assert _run([*command, "app.py"], tmp_path).stdout == ""
    config = '[tool.conclint]\nextra-spawners = ["app.tasks.spawn"]\n'
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    assert _run([*command, "app.py"], tmp_path).stdout.split() == ["6", "CCL101"]


# Files flake8 itself cannot take: each is that file's E999/E902, never the others' loss.
FLAKE8_CANNOT_PARSE = {
    "syntax.py": b"def f(:\n",
    "unterminated.py": b'x = """\n',
    "indentation.py": b"\tif x:\n        \tpass\n",
    "newer_syntax.py": b"type Alias = int\n",
    "nul.py": b"x = 1\x00\n",
}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8_keeps_the_findings_of_other_files(tmp_path: Path, jobs: str) -> None:
    for name, data in FLAKE8_CANNOT_PARSE.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.py").write_text(BUGGY, encoding="utf-8")
    command = [sys.executable, "-m", "flake8", "--isolated", "-j", jobs]
    done = _run([*command, "--select=CCL,E999,E902", "--format=%(path)s %(code)s", "."], tmp_path)
    assert "Traceback" not in done.stderr
    reported = sorted(line.split() for line in done.stdout.splitlines())
    assert ["./good.py", "CCL101"] in reported
    # Every file flake8 could not take is named, so none passes unseen.
    assert {path for path, code in reported if code in ("E999", "E902")} == {
        f"./{name}" for name in FLAKE8_CANNOT_PARSE
    }


def test_flake8_stops_cleanly_on_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.conclint]\nselet = ["CCL1"]\n')
    (tmp_path / "app.py").write_text(BUGGY, encoding="utf-8")
    run = _run([sys.executable, "-m", "flake8", "--isolated", "app.py"], tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "unknown key 'selet' (did you mean 'select'?)" in run.stdout


# pylint -----------------------------------------------------------------------------

# Published message ids: changing or reusing one breaks users' `disable=` comments.
PINNED = {
    "CCL001": "E5901",
    "CCL002": "E5902",
    "CCL101": "W5911",
    "CCL102": "W5912",
    "CCL103": "W5913",
    "CCL104": "W5914",
    "CCL105": "W5915",
    "CCL106": "W5916",
    "CCL107": "W5917",
    "CCL108": "W5918",
    "CCL109": "W5919",
    "CCL201": "W5921",
    "CCL202": "W5922",
    "CCL203": "W5923",
    "CCL204": "W5924",
    "CCL205": "W5925",
    "CCL206": "W5926",
    "CCL207": "W5927",
    "CCL208": "W5928",
    "CCL209": "W5929",
    "CCL301": "W5931",
    "CCL302": "W5932",
    "CCL401": "W5941",
    "CCL402": "W5942",
    "CCL403": "W5943",
    "CCL404": "W5944",
    "CCL405": "W5945",
    "CCL406": "W5946",
    "CCL501": "W5951",
    "CCL502": "W5952",
    "CCL601": "W5961",
    "CCL602": "W5962",
    "CCL603": "W5963",
    "CCL604": "W5964",
    "CCL605": "W5965",
}


def test_pylint_message_ids_are_pinned_and_cannot_collide() -> None:
    assert MESSAGE_IDS == PINNED
    numbers = [msgid[1:] for msgid in MESSAGE_IDS.values()]
    assert len(set(numbers)) == len(numbers), "two codes share a number"
    assert {msgid[1:3] for msgid in MESSAGE_IDS.values()} == {"59"}
    assert all(msgid[0] in "EWC" and msgid[1:].isdigit() for msgid in MESSAGE_IDS.values())


def test_every_code_has_a_pinned_message_id_and_its_rule_name() -> None:
    table = message_ids()
    assert set(table) == set(registry.known_codes())
    assert all(table[code][0] == MESSAGE_IDS[code] for code in table), "a code is not pinned"
    for rule in registry.RULES:
        assert table[rule.code][1] == rule.name
    assert table["CCL001"][1] == "conclint-syntax-error"
    assert len({symbol for _, symbol in table.values()}) == len(table)


def test_pylint_accepts_the_checker_next_to_its_own() -> None:
    from pylint.lint import PyLinter

    linter = PyLinter()
    linter.load_default_plugins()
    # Raises on a duplicate id or symbol (pylint's own `syntax-error`, for one).
    linter.register_checker(ConclintChecker(linter))
    assert linter.msgs_store.get_message_definitions("W5911")[0].symbol == "dangling-task"


def test_pylint_runs_only_rules_whose_messages_are_enabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import astroid
    from pylint.lint import PyLinter

    from conclint import pylint_plugin

    linter = PyLinter()
    checker = ConclintChecker(linter)
    linter.register_checker(checker)
    linter.disable("all")
    linter.enable("swallowed-cancellation")
    ran: list[list[str]] = []

    def spy(
        source: str, path: str, settings: Settings, *, rules: list[Any], **_: Any
    ) -> FileResult:
        ran.append([rule.code for rule in rules])
        return FileResult(path)

    monkeypatch.setattr(pylint_plugin, "lint_source", spy)
    checker.process_module(astroid.parse(BUGGY, path="app.py"))
    assert ran == [["CCL203"]]


def test_pylint_disable_comments_and_stdin(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pylint",
        "--load-plugins=conclint.pylint_plugin",
        "--disable=all",
        "--enable=dangling-task",
        "--persistent=n",
        "--score=n",
        "--msg-template={path}:{line}:{column}: {msg_id} {symbol}",
        "--from-stdin",
        "pkg/app.py",
    ]
    run = _run(command, tmp_path, stdin=BUGGY)
    assert run.returncode == 4, run.stderr
    lines = [line for line in run.stdout.splitlines() if not line.startswith("*")]
    # pylint prints 0-based columns; noqa and conclint-ignore are applied as by the CLI.
    assert lines == ["pkg/app.py:6:4: W5911 dangling-task"]


def test_pylint_stops_with_a_usage_error_on_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.conclint]\nselet = ["CCL1"]\n')
    (tmp_path / "app.py").write_text(BUGGY, encoding="utf-8")
    command = [sys.executable, "-m", "pylint", "--load-plugins=conclint.pylint_plugin", "app.py"]
    run = _run(command, tmp_path)
    assert run.returncode == 32
    assert "conclint:" in run.stderr and "unknown key 'selet'" in run.stderr


def test_settings_come_from_the_cwd(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    from conclint import flake8_plugin

    monkeypatch.chdir(workdir)
    flake8_plugin.settings.cache_clear()
    try:
        assert flake8_plugin.settings().extra_spawners == ("app.tasks.spawn",)
        assert flake8_plugin.settings().preview is True
    finally:
        flake8_plugin.settings.cache_clear()
    assert Settings().preview is False
