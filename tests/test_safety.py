"""conclint reads code and never runs it, stays inside the roots it is given, and runs no config."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conclint import registry
from conclint.config import ConfigError, load_settings
from tests.test_cli import run

BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(main())
    await asyncio.sleep(1)
"""


def booby_trap(marker: Path, what: str) -> str:
    """Code that leaves `marker` behind if anything imports or runs it."""
    return (
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text({what!r})\n"
        f"__import__('os').system('touch {marker}.shell')\n"
    )


def trapped_package(root: Path, marker: Path) -> None:
    """A package whose every way of being imported or run leaves the marker."""
    package = root / "trapped"
    package.mkdir(parents=True)
    files = {
        "__init__.py": booby_trap(marker, "package import") + BUG,
        "__main__.py": booby_trap(marker, "python -m"),
        "module.py": booby_trap(marker, "module top level") + BUG,
        "conftest.py": booby_trap(marker, "conftest"),
        "setup.py": booby_trap(marker, "setup.py"),
        "sitecustomize.py": booby_trap(marker, "sitecustomize"),
        "usercustomize.py": booby_trap(marker, "usercustomize"),
        # Modules named like conclint's own imports, for a tool that put the tree on sys.path.
        "pathspec.py": booby_trap(marker, "shadowed pathspec"),
        "libcst.py": booby_trap(marker, "shadowed libcst"),
        "tomllib.py": booby_trap(marker, "shadowed tomllib"),
        "encodings_trap.py": "# -*- coding: trapped.module -*-\n" + BUG,
        "decorated.py": (
            "import asyncio\n\n\n@__import__('pathlib').Path("
            f"{str(marker)!r}).write_text\nasync def main() -> None:\n"
            "    asyncio.create_task(main())\n"
        ),
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    (package / "trap.pth").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).write_text('pth')\n", encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(
        "[tool.conclint]\n"
        f'extra-spawners = ["os.system", "builtins.exec"]\n'
        f'extend-exclude = ["$(touch {marker}.exclude)", "`touch {marker}.tick`"]\n'
        "[tool.conclint.per-file-ignores]\n"
        f'"$(touch {marker}.pfi)" = ["CCL101"]\n',
        encoding="utf-8",
    )


def assert_untouched(marker: Path) -> None:
    left = sorted(p.name for p in marker.parent.iterdir() if p.name.startswith(marker.name))
    assert left == [], f"linted code ran: {left}"


def console_script() -> str:
    """The installed `conclint` entry point (what pre-commit and users run)."""
    found = shutil.which("conclint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("the conclint console script is not installed next to this Python")
    return found


def test_linting_never_imports_or_runs_the_code(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    trapped_package(tmp_path / "project", marker)
    project = tmp_path / "project"
    done = subprocess.run(
        [console_script(), "--no-cache", "-j", "2", "trapped"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    # The code was read: the bugs in it were found, and the odd cookie was refused.
    reported = {line.split(":")[0]: line.split()[1] for line in done.stdout.splitlines()}
    assert reported == {
        "trapped/__init__.py": "CCL101",
        "trapped/decorated.py": "CCL101",
        "trapped/encodings_trap.py": "CCL002",
        "trapped/module.py": "CCL101",
    }
    assert_untouched(marker)


def test_stdin_and_every_output_format_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    trapped_package(tmp_path / "project", marker)
    project = tmp_path / "project"
    source = (project / "trapped" / "module.py").read_text(encoding="utf-8")
    for output_format in ("text", "json", "sarif", "github"):
        done = run(
            "--output-format",
            output_format,
            "-",
            "--stdin-filename",
            "x.py",
            cwd=project,
            stdin=source,
        )
        assert done.returncode == 1, done.stderr
    assert_untouched(marker)


def test_python_dash_m_does_not_import_from_the_linted_tree(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    trapped_package(tmp_path / "project", marker)
    run("--no-cache", ".", cwd=tmp_path / "project" / "trapped")
    assert_untouched(marker)


def test_configuration_values_are_data_not_code(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"  # what `touch MARKER` would create in the working directory
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(BUG, encoding="utf-8")
    config = tmp_path / "pyproject.toml"
    hostile = {
        "select": "[\"__import__('os').system('touch MARKER')\"]",
        "extra-spawners": "[\"os.system('touch MARKER')\"]",
        "jobs": '"$(touch MARKER)"',
        "preview": "\"exec('import os')\"",
        "file-timeout": "\"__import__('time').sleep(60)\"",
    }
    for key, value in hostile.items():
        config.write_text(f"[tool.conclint]\n{key} = {value}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=f"'{key}'"):
            load_settings(config, registry.known_codes())
    done = run("--no-cache", "pkg", cwd=tmp_path)  # the last one, through the command line
    assert done.returncode == 2 and "'file-timeout'" in done.stderr
    assert "Traceback" not in done.stderr
    # Valid values are taken literally: cache directories named like commands.
    config.write_text('[tool.conclint]\ncache-dir = "$(touch MARKER)"\n', encoding="utf-8")
    assert run("pkg", cwd=tmp_path).returncode == 1
    assert (tmp_path / "$(touch MARKER)" / "CACHEDIR.TAG").is_file()
    config.unlink()
    environment = {"CONCLINT_CACHE_DIR": "`touch MARKER`"}
    assert run("pkg", cwd=tmp_path, env=environment).returncode == 1
    assert (tmp_path / "`touch MARKER`" / "CACHEDIR.TAG").is_file()
    assert not marker.exists()


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(booby_trap(marker, "outside") + BUG, encoding="utf-8")
    (outside / "sub").mkdir()
    (outside / "sub" / "deep.py").write_text(BUG, encoding="utf-8")
    root = tmp_path / "root"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "own.py").write_text(BUG, encoding="utf-8")
    (root / "pkg" / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "pkg" / "linked_file.py").symlink_to(outside / "secret.py")
    (root / "pkg" / "via_parent.py").symlink_to(Path("..") / ".." / "outside" / "secret.py")
    (root / "pkg" / "absolute_loop").symlink_to(tmp_path, target_is_directory=True)
    # A link that stays inside the root is an ordinary file of the tree.
    (root / "pkg" / "alias.py").symlink_to(root / "pkg" / "own.py")
    for jobs in ("1", "2"):
        done = run("--no-cache", "-j", jobs, ".", cwd=root)
        assert done.returncode == 1
        paths = sorted(line.split(":")[0] for line in done.stdout.splitlines())
        assert paths == ["pkg/alias.py", "pkg/own.py"], done.stdout
    assert_untouched(marker)


def test_the_cache_holds_only_json(tmp_path: Path) -> None:
    # Nothing a later run would unpickle or import: a cache directory is not trusted.
    (tmp_path / "m.py").write_text(BUG, encoding="utf-8")
    run("m.py", cwd=tmp_path)
    cache_files = [p for p in (tmp_path / ".conclint_cache").rglob("*") if p.is_file()]
    entries = [p for p in cache_files if p.suffix == ".json"]
    assert len(entries) == 1  # the project's store: the file's result and index facts
    assert all(isinstance(json.loads(p.read_bytes()), dict) for p in entries)
    assert sorted(p.name for p in cache_files if p.suffix != ".json") == [
        ".gitignore",
        "CACHEDIR.TAG",
    ]
