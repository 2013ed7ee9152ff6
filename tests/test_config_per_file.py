"""Config per file in a monorepo: each file gets the nearest `[tool.conclint]` above it,
`extend` builds on another file, and paths stay relative to the file that holds them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conclint import registry
from conclint.config import ConfigError, Settings, is_enabled, load_settings
from tests.test_cli import run

BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(asyncio.to_thread(print))
"""

# cfg/ ignores CCL101 in all its files (and lints its tests with every rule); the root
# config, which edge/ extends, names edge's files from the root, and edge's own globs
# name them from edge/.
ROOT_CONFIG = """\
[tool.conclint]
extend-exclude = ["edge/pkg/gen_*.py"]

[tool.conclint.per-file-ignores]
"edge/pkg/legacy.py" = ["CCL1"]
"""
CFG_CONFIG = """\
[tool.conclint]
ignore = ["CCL101"]
extend-exclude = ["src/skip.py"]
per-file-ignores = {}
"""
EDGE_CONFIG = """\
[tool.conclint]
extend = "../pyproject.toml"

[tool.conclint.extend-per-file-ignores]
"pkg/old_*.py" = ["CCL1"]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the config search stops here
    write(tmp_path / "pyproject.toml", ROOT_CONFIG)
    write(tmp_path / "cfg" / "pyproject.toml", CFG_CONFIG)
    write(tmp_path / "edge" / "pyproject.toml", EDGE_CONFIG)
    for name in (
        "cfg/src/a.py",
        "cfg/src/skip.py",
        "cfg/tests/test_a.py",
        "edge/src/skip.py",
        "edge/pkg/mod.py",
        "edge/pkg/legacy.py",
        "edge/pkg/old_x.py",
        "edge/pkg/gen_y.py",
        "tests/test_top.py",
    ):
        write(tmp_path / name, BUG)
    return tmp_path


def reported(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return [line.split(":")[0] for line in done.stdout.splitlines()]


def test_each_file_is_linted_with_its_nearest_config(mono: Path) -> None:
    # cfg's `ignore` applies to cfg/ only; edge's file keeps its finding.
    done = run("--no-cache", "cfg/src", "edge/pkg/mod.py", cwd=mono)
    assert (done.returncode, reported(done)) == (1, ["edge/pkg/mod.py"])


@pytest.mark.parametrize("output", ["text", "json", "sarif"])
def test_the_order_of_the_paths_changes_nothing(mono: Path, output: str) -> None:
    paths = ["cfg/src", "edge/pkg", "tests", "cfg/tests/test_a.py"]
    first = run("--no-cache", "--output-format", output, *paths, cwd=mono)
    second = run("--no-cache", "--output-format", output, *reversed(paths), cwd=mono)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    # The same as linting each project from its own directory.
    if output == "text":
        alone = run("--no-cache", "pkg", cwd=mono / "edge")
        assert [f"edge/{line}" for line in alone.stdout.splitlines()] == [
            line for line in first.stdout.splitlines() if line.startswith("edge/")
        ]


def test_paths_in_a_config_are_relative_to_the_file_that_holds_them(mono: Path) -> None:
    found = reported(run("--no-cache", ".", cwd=mono))
    assert found == [
        "edge/pkg/mod.py",  # legacy.py: the root's per-file-ignores; old_x.py: edge's own
        "edge/src/skip.py",  # cfg's exclude `src/skip.py` is cfg's src/, not edge's
        "tests/test_top.py",  # the root's own config, which ignores nothing
    ]  # gen_y.py: the root's exclude, inherited by edge, from the root


def test_show_files_lists_what_a_run_lints_sorted(mono: Path) -> None:
    done = run("--show-files", "tests", "edge", "cfg", cwd=mono)
    assert done.returncode == 0, done.stderr
    expected = [
        "cfg/src/a.py",
        "cfg/tests/test_a.py",
        "edge/pkg/legacy.py",
        "edge/pkg/mod.py",
        "edge/pkg/old_x.py",
        "edge/src/skip.py",
        "tests/test_top.py",
    ]
    assert done.stdout.splitlines() == [str(mono.resolve() / name) for name in expected]
    again = run("--show-files", "cfg", "tests", "edge", cwd=mono)
    assert again.stdout == done.stdout


def _settings_shown(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = dict(line.split(": ", 1) for line in lines[: lines.index("")])
    body = {}
    for line in lines[lines.index("") + 1 :]:
        key, sep, value = line.partition(" = ")
        if sep:
            body[key] = value
    return {**header, **body}


def test_show_settings_names_the_config_and_what_applies_to_the_file(mono: Path) -> None:
    shown = _settings_shown(run("--show-settings", "edge/pkg/legacy.py", cwd=mono))
    root = mono.resolve()
    assert shown["Resolved settings for"] == json.dumps(str(root / "edge/pkg/legacy.py"))
    assert shown["Settings path"] == json.dumps(str(root / "edge/pyproject.toml"))
    assert shown["Extends"] == json.dumps(str(root / "pyproject.toml"))
    assert json.loads(shown["per-file-ignored"]) == ["CCL1"]
    assert json.loads(shown["extend-exclude"]) == [f"{root}/edge/pkg/gen_*.py"]

    shown = run("--show-settings", "cfg/src/a.py", cwd=mono).stdout
    assert f"Settings path: {json.dumps(str(root / 'cfg/pyproject.toml'))}" in shown
    enabled = [line.split('"')[1] for line in shown.splitlines() if line.startswith('    "')]
    assert "CCL101" not in enabled and "CCL102" in enabled

    # A directory: the first file under it, as ruff. No config at all: the defaults.
    first = run("--show-settings", "cfg", cwd=mono).stdout.splitlines()[0]
    assert first == f"Resolved settings for: {json.dumps(str(root / 'cfg/src/a.py'))}"
    isolated = run("--isolated", "--show-settings", "cfg/src/a.py", cwd=mono).stdout
    assert "Settings path: none (the defaults)" in isolated


def test_config_flag_gives_one_config_to_every_file(mono: Path) -> None:
    done = run("--no-cache", "--config", "cfg/pyproject.toml", "cfg/src", "edge/pkg", cwd=mono)
    assert reported(done) == []  # cfg's ignore everywhere
    done = run("--no-cache", "--isolated", "cfg/src/a.py", "edge/pkg/legacy.py", cwd=mono)
    assert reported(done) == ["cfg/src/a.py", "edge/pkg/legacy.py"]


def test_flags_apply_on_top_of_every_config(mono: Path) -> None:
    # --select starts a fresh selection, so cfg's `ignore` is gone with it (as ruff).
    done = run("--no-cache", "--select", "CCL101", "cfg/src", "edge/pkg/mod.py", cwd=mono)
    assert reported(done) == ["cfg/src/a.py", "edge/pkg/mod.py"]
    done = run("--no-cache", "--ignore", "CCL1", "cfg/src", "edge/pkg/mod.py", cwd=mono)
    assert reported(done) == []


def test_stdin_is_linted_with_the_config_of_its_filename(mono: Path) -> None:
    inside_cfg = run("--no-cache", "--stdin-filename", "cfg/src/new.py", "-", cwd=mono, stdin=BUG)
    inside_edge = run("--no-cache", "--stdin-filename", "edge/pkg/new.py", "-", cwd=mono, stdin=BUG)
    assert (inside_cfg.returncode, inside_edge.returncode) == (0, 1)
    assert reported(inside_edge) == ["edge/pkg/new.py"]


def test_force_exclude_applies_to_the_stdin_filename(mono: Path) -> None:
    # Excluded by the root's glob, which edge inherits: an editor gets nothing, as from ruff.
    name = "edge/pkg/gen_z.py"
    forced = run(
        "--no-cache", "--force-exclude", "--stdin-filename", name, "-", cwd=mono, stdin=BUG
    )
    assert (forced.returncode, forced.stdout) == (0, "")
    plain = run("--no-cache", "--stdin-filename", name, "-", cwd=mono, stdin=BUG)
    assert (plain.returncode, reported(plain)) == (1, [name])
    # Not excluded: linted as usual, --force-exclude or not.
    kept = "edge/pkg/kept.py"
    done = run("--no-cache", "--force-exclude", "--stdin-filename", kept, "-", cwd=mono, stdin=BUG)
    assert reported(done) == [kept]


def test_force_exclude_uses_the_excludes_of_each_files_config(mono: Path) -> None:
    done = run("--no-cache", "--force-exclude", "cfg/src/skip.py", "edge/src/skip.py", cwd=mono)
    assert reported(done) == ["edge/src/skip.py"]


# extend ------------------------------------------------------------------------------


def _enabled(settings: Settings) -> set[str]:
    return {
        rule.code
        for rule in registry.RULES
        if not rule.preview and is_enabled(rule.code, settings, preview_rule=False)
    }


@pytest.mark.parametrize(
    ("child", "on", "off"),
    [
        ('ignore = ["CCL102"]', {"CCL103"}, {"CCL101", "CCL102"}),  # ignores add up
        ('extend-select = ["CCL101"]', {"CCL101", "CCL103"}, {"CCL601"}),  # the child decides
        ('extend-select = ["CCL1"]', {"CCL101", "CCL102"}, {"CCL601"}),
        ('select = ["CCL1", "CCL6"]', {"CCL101", "CCL601"}, {"CCL201"}),  # afresh
        ('ignore = ["CCL10"]', {"CCL201"}, {"CCL101", "CCL102", "CCL601"}),
    ],
)
def test_extend_layers_the_selection_as_ruff(
    tmp_path: Path, child: str, on: set[str], off: set[str]
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.conclint]\nselect = ["CCL1", "CCL2"]\n')
    write(
        tmp_path / "base.toml", '[tool.conclint]\nextend = "pyproject.toml"\nignore = ["CCL101"]\n'
    )
    config = write(
        tmp_path / "sub" / "pyproject.toml", f'[tool.conclint]\nextend = "../base.toml"\n{child}\n'
    )
    enabled = _enabled(load_settings(config, registry.known_codes()))
    assert on <= enabled and not off & enabled


def test_extend_keeps_other_keys_unless_replaced(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.conclint]\npreview = true\ncache-dir = "c"\n')
    config = write(tmp_path / "sub" / "pyproject.toml", '[tool.conclint]\nextend = ".."\n')
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(config, registry.known_codes())  # a directory is no config file
    config.write_text('[tool.conclint]\nextend = "../pyproject.toml"\n', encoding="utf-8")
    settings = load_settings(config, registry.known_codes())
    assert settings.preview is True
    assert settings.cache_dir == str(tmp_path.resolve() / "c")  # from the base's directory
    assert settings.root == str((tmp_path / "sub").resolve())
    assert settings.extends == (str(tmp_path / "pyproject.toml"),)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"pyproject.toml": 'extend = "a.toml"', "a.toml": 'extend = "pyproject.toml"'},
            "circular configuration: `{0}/pyproject.toml` extends `{0}/a.toml` extends "
            "`{0}/pyproject.toml`",
        ),
        ({"pyproject.toml": 'extend = "pyproject.toml"'}, "circular configuration"),
        ({"pyproject.toml": 'extend = "missing.toml"'}, "'extend': missing.toml not found"),
        ({"pyproject.toml": "extend = 3"}, "'extend' must be the path of a pyproject.toml"),
        ({"pyproject.toml": 'extend = "b.toml"', "b.toml": None}, "has no [tool.conclint] table"),
        ({"pyproject.toml": 'extend = "b.toml"', "b.toml": "selet = 1"}, "unknown key 'selet'"),
    ],
)
def test_a_bad_extend_is_a_clear_exit_2(
    tmp_path: Path, files: dict[str, str | None], message: str
) -> None:
    (tmp_path / ".git").mkdir()
    for name, body in files.items():
        write(tmp_path / name, "[tool.other]\n" if body is None else f"[tool.conclint]\n{body}\n")
    write(tmp_path / "m.py", BUG)
    done = run("--no-cache", "m.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert message.format(tmp_path) in done.stderr, done.stderr


# Project mode and the cache, per configuration -----------------------------------------

ASYNC_DB = "async def fetch() -> int:\n    return 1\n"
SYNC_DB = "def fetch() -> int:\n    return 1\n"
USE_DB = "from app import db\n\n\nasync def main() -> None:\n    db.fetch()\n"


def test_the_project_index_spans_the_files_of_one_config(tmp_path: Path) -> None:
    """Two projects of a monorepo each have a package `app` with a module `db`: in one
    `fetch` is a coroutine function, in the other a plain function. Each project's
    files are linted knowing their own modules only."""
    (tmp_path / ".git").mkdir()
    for project, db in (("async_svc", ASYNC_DB), ("sync_svc", SYNC_DB)):
        write(tmp_path / project / "pyproject.toml", "[tool.conclint]\n")
        write(tmp_path / project / "app" / "__init__.py", "")
        write(tmp_path / project / "app" / "db.py", db)
        write(tmp_path / project / "app" / "use.py", USE_DB)
    for paths in (["async_svc", "sync_svc"], ["sync_svc", "async_svc"]):
        done = run("--no-cache", *paths, cwd=tmp_path)
        lines = done.stdout.splitlines()
        assert [line.split(":")[0] for line in lines] == ["async_svc/app/use.py"], done.stdout
        assert " CCL102 " in lines[0]


def test_each_config_keeps_its_own_cache(mono: Path) -> None:
    expected = run("--no-cache", ".", cwd=mono)
    for _ in range(2):  # written, then read
        done = run(".", cwd=mono)
        assert (done.returncode, done.stdout) == (expected.returncode, expected.stdout)
    for project in ("", "cfg", "edge"):
        assert (mono / project / ".conclint_cache" / "CACHEDIR.TAG").is_file(), project
    # A change to one config reaches its files through the cache.
    write(mono / "cfg" / "pyproject.toml", CFG_CONFIG.replace('ignore = ["CCL101"]\n', ""))
    now = ["cfg/src/a.py", "cfg/tests/test_a.py", *reported(expected)]
    assert reported(run(".", cwd=mono)) == sorted(now)
    # One shared directory holds a store per configuration.
    run("--cache-dir", str(mono / "shared"), ".", cwd=mono)
    assert len(list((mono / "shared").glob("*/*.json"))) == 3


# The plugins resolve settings per file too -------------------------------------------


def test_flake8_and_pylint_take_each_files_nearest_config(mono: Path) -> None:
    files = ["cfg/src/a.py", "edge/pkg/mod.py"]
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select=CCL", "--format=%(path)s", *files],
        cwd=mono,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert flake8.stdout.split() == ["edge/pkg/mod.py"], flake8.stderr
    pylint = subprocess.run(
        [
            sys.executable,
            "-m",
            "pylint",
            "--load-plugins=conclint.pylint_plugin",
            "--disable=all",
            "--enable=dangling-task",
            "--persistent=n",
            "--score=n",
            "--msg-template={path}",
            *files,
        ],
        cwd=mono,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYLINTHOME": str(mono / ".pylint.d")},
    )
    shown = [line for line in pylint.stdout.splitlines() if not line.startswith("*")]
    assert shown == ["edge/pkg/mod.py"], pylint.stderr
