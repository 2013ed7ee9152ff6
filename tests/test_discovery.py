"""Discovery: stubs are found, what cannot be listed is reported, any .gitignore is read."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conclint.analysis.project import module_name
from conclint.config import Settings
from conclint.discovery import discover, gitignore_spec
from tests.test_cli import run

BUGGY = """\
import asyncio


async def main() -> None:
    asyncio.create_task(asyncio.to_thread(print))
"""


def reported(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """(path, code) of each finding, and no internal error."""
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    return [(line.split(":")[0], line.split()[1]) for line in done.stdout.splitlines()]


# Stubs ---------------------------------------------------------------------


def test_stubs_are_found_in_directory_walks(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for name in ("__init__.py", "mod.py", "mod.pyi", "notes.txt", "old.pyc"):
        (tmp_path / "pkg" / name).write_text("x = 1\n", encoding="utf-8")
    found = discover([str(tmp_path)], Settings(root=str(tmp_path)))
    assert [Path(file).name for file in found.files] == ["__init__.py", "mod.py", "mod.pyi"]
    assert module_name(str(tmp_path / "pkg" / "mod.pyi")) == "pkg.mod"


@pytest.mark.parametrize("init", ["__init__.py", "__init__.pyi"])
def test_a_stub_tells_the_project_which_calls_make_coroutines(tmp_path: Path, init: str) -> None:
    # An extension module known only by its stub: calling its coroutine function
    # without awaiting it is found because the stub is walked and indexed.
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / init).write_text("", encoding="utf-8")
    (tmp_path / "app" / "_native.pyi").write_text("async def fetch() -> int: ...\n", "utf-8")
    use = "from app import _native\n\n\nasync def main() -> None:\n    _native.fetch()\n"
    (tmp_path / "app" / "use.py").write_text(use, encoding="utf-8")
    done = run("--isolated", ".", cwd=tmp_path)
    assert reported(done) == [("app/use.py", "CCL102")]


def test_rules_run_on_stubs_and_name_them(tmp_path: Path) -> None:
    (tmp_path / "bug.pyi").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "broken.pyi").write_text("def f(:\n", encoding="utf-8")
    assert reported(run("--isolated", ".", cwd=tmp_path)) == [
        ("broken.pyi", "CCL001"),
        ("bug.pyi", "CCL101"),
    ]


# Directories that cannot be listed ----------------------------------------


def _deep_tree(top: Path, levels: int) -> list[str]:
    """Nested directories, each holding bug.py, deeper than a path can name (PATH_MAX,
    4096 on Linux): listing the deepest fails even as root, whom chmod 000 does not stop."""
    names = [f"d{level:02d}" * 50 for level in range(levels)]
    descriptor = os.open(top, os.O_RDONLY)
    try:
        for name in names:  # made relative to an open directory, as no path reaches it
            os.mkdir(name, dir_fd=descriptor)
            inner = os.open(name, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
            made = os.open("bug.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor)
            os.write(made, BUGGY.encode())
            os.close(made)
    finally:
        os.close(descriptor)
    return names


def test_a_directory_that_cannot_be_listed_is_recorded(tmp_path: Path) -> None:
    names = _deep_tree(tmp_path, 30)
    found = discover([str(tmp_path)], Settings(root=str(tmp_path)))
    [(path, why)] = found.unreadable
    assert why == "cannot list directory: File name too long"
    # Every directory above the one that failed was walked, each for its bug.py.
    assert len(found.files) == names.index(os.path.basename(path)) > 20
    assert all(file.endswith("bug.py") for file in found.files)


def test_cli_reports_a_directory_that_cannot_be_listed_and_goes_on(tmp_path: Path) -> None:
    _deep_tree(tmp_path, 30)
    done = run(".", cwd=tmp_path)
    assert done.returncode == 1
    found = reported(done)
    assert found[-1][1] == "CCL002"
    assert "CCL002 cannot list directory: File name too long" in done.stdout
    assert {code for _, code in found[:-1]} == {"CCL101"}
    assert len(found) > 20  # the listable part is still linted


# .gitignore ------------------------------------------------------------------


ODD_LINES = [
    b"foo\\",  # the line of the issue: git accepts it (it matches nothing)
    b"\\",
    b"!",
    b"!\\",
    b"[",
    b"[z-a]",
    b"[[:alpha:]]",
    b"[[x",
    b"a/**/b/***",
    b"/",
    b"#",
    b"\x00",
    b"\xff\xfe",
    b" \\ ",
]


@pytest.mark.parametrize("line", ODD_LINES)
def test_no_gitignore_line_aborts_the_run_or_costs_the_others(tmp_path: Path, line: bytes) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bug.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "bug.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / ".gitignore").write_bytes(b"generated/\n" + line + b"\n")
    done = run(".", cwd=tmp_path)
    assert reported(done) == [("pkg/bug.py", "CCL101")]
    assert done.returncode == 1


def test_patterns_that_match_everywhere_compile_as_in_git() -> None:
    for line in (b"**/", b"**/**/***", b"**"):
        assert gitignore_spec(line).match_file("pkg/")
    assert not gitignore_spec(b"**/").match_file("bug.py")  # directories only


def test_every_pattern_is_read_as_git_reads_it() -> None:
    spec = gitignore_spec(b"\xef\xbb\xbfbom.py\r\ncrlf.py\r\nfoo\\\n\xff.py\nlast.py")
    assert spec.match_file("bom.py")  # a UTF-8 byte order mark is no part of a pattern
    assert spec.match_file("crlf.py")
    assert spec.match_file(os.fsdecode(b"\xff.py"))  # the name os.walk gives those bytes
    assert spec.match_file("last.py")  # no newline at the end
    assert not spec.match_file("foo")


@pytest.mark.parametrize("separator", ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"])
def test_only_a_newline_ends_a_pattern(separator: str) -> None:
    # str.splitlines() would also break at these; git breaks at LF alone.
    spec = gitignore_spec(f"a.py{separator}b.py\n".encode())
    assert not spec.match_file("a.py")
    assert not spec.match_file("b.py")
    assert spec.match_file(f"a.py{separator}b.py")


def test_a_pattern_in_bytes_that_are_not_utf8_ignores_that_file(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"\xff.py")).write_text(BUGGY, encoding="utf-8")
    (tmp_path / "bug.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / ".gitignore").write_bytes(b"\xff.py\n")
    assert reported(run(".", cwd=tmp_path)) == [("bug.py", "CCL101")]


@pytest.mark.parametrize("kind", ["directory", "fifo", "dev-zero"])
def test_a_gitignore_that_is_no_regular_file_is_passed_over(tmp_path: Path, kind: str) -> None:
    (tmp_path / "bug.py").write_text(BUGGY, encoding="utf-8")
    ignore = tmp_path / ".gitignore"
    if kind == "directory":
        ignore.mkdir()
    elif kind == "fifo":
        os.mkfifo(ignore)
    else:
        ignore.symlink_to("/dev/zero")
    done = run(".", cwd=tmp_path)
    assert (done.returncode, reported(done)) == (1, [("bug.py", "CCL101")])
