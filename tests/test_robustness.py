"""Hard files: every kind is a diagnostic or a normal result, never a crash or a hang."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from urllib.parse import unquote

import libcst as cst
import pytest

from conclint import runner
from conclint.analysis import nesting
from conclint.config import ConfigError, Settings, load_settings
from conclint.diagnostics import Diagnostic, FileResult
from conclint.engine import lint_file, lint_source
from conclint.report import ReportOptions, formats
from conclint.rules.base import Rule
from conclint.runner import lint_paths
from tests.test_cli import run

SETTINGS = Settings(preview=True)

# A real bug: CCL101 on line 5, column 4.
BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(main())
    await asyncio.sleep(1)
"""


def found(result: FileResult) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.code) for d in result.diagnostics]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# Bytes and encodings ------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n", b"\xef\xbb\xbf", b"   \n\t\n", b"# only a comment\n"])
def test_empty_and_blank_files_are_clean(tmp_path: Path, data: bytes) -> None:
    result = lint_file(str(write(tmp_path / "empty.py", data)), SETTINGS)
    assert result == FileResult(str(tmp_path / "empty.py"))


@pytest.mark.parametrize(
    ("data", "line", "text"),
    [
        (b"\xef\xbb\xbf" + BUG.encode(), 5, "    asyncio.create_task(main())"),
        (
            b"\xef\xbb\xbf# -*- coding: utf-8 -*-\n# \xc3\xa9t\xc3\xa9\n" + BUG.encode(),
            7,
            "    asyncio.create_task(main())",
        ),
        (
            b"# -*- coding: latin-1 -*-\n" + BUG.replace("main()", "caf\xe9()").encode("latin-1"),
            6,
            "    asyncio.create_task(caf\xe9())",
        ),
        (
            b"# vim: set fileencoding=cp1252 :\n"
            + BUG.replace("main())", "main())  # \u20ac 5").encode("cp1252"),
            6,
            "    asyncio.create_task(main())  # \u20ac 5",
        ),
    ],
    ids=["bom", "bom-and-cookie", "latin-1", "cp1252"],
)
def test_declared_encodings_keep_findings_and_source(
    tmp_path: Path, data: bytes, line: int, text: str
) -> None:
    result = lint_file(str(write(tmp_path / "encoded.py", data)), SETTINGS)
    assert found(result) == [(line, 4, "CCL101")]
    assert result.snippets[line] == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"import asyncio\nname = '\xff\xfe'\n", "cannot decode"),
        (b"\xef\xbb\xbf# coding: latin-1\nimport asyncio\n", "cannot decode"),
        (b"# coding: no-such-codec\nimport asyncio\n", "cannot decode"),
        (b"# coding: rot13\nimport asyncio\n", "cannot decode"),
        (b"import asyncio\x00\nasync def f(): pass\n", "NUL bytes"),
        ("import asyncio\n".encode("utf-16"), "NUL bytes"),
        (bytes(range(256)) * 4, "NUL bytes"),
    ],
    ids=[
        "bad-utf8",
        "bom-vs-cookie",
        "unknown-codec",
        "not-a-text-codec",
        "nul",
        "utf16",
        "binary",
    ],
)
def test_undecodable_files_are_ccl002(tmp_path: Path, data: bytes, reason: str) -> None:
    result = lint_file(str(write(tmp_path / "bad.py", data)), SETTINGS)
    assert result.failed
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.col) == ("CCL002", 1, 0)
    assert reason in diagnostic.message


def test_text_the_native_parser_cannot_take_is_ccl002() -> None:
    # A lone surrogate cannot come from a file, but lint_source takes any str.
    result = lint_source("import asyncio\nname = '\udcff'\n", "x.py", SETTINGS)
    assert [d.code for d in result.diagnostics] == ["CCL002"]
    assert result.diagnostics[0].message.startswith("cannot parse: UnicodeEncodeError")


def test_a_panic_in_the_native_parser_is_ccl002(monkeypatch: pytest.MonkeyPatch) -> None:
    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panic(source: str) -> cst.Module:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(cst, "parse_module", panic)
    result = lint_source(BUG, "x.py", SETTINGS)
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("CCL002", "cannot parse: PanicException: index out of bounds")
    ]


# Line endings and whitespace ----------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n\r\n"], ids=["crlf", "cr", "mixed"])
def test_line_endings_do_not_move_findings(newline: str) -> None:
    lines = BUG.splitlines()
    if newline == "\n\r\n":  # alternate LF and CRLF
        source = "".join(line + ("\n" if i % 2 else "\r\n") for i, line in enumerate(lines))
    else:
        source = "".join(line + newline for line in lines)
    result = lint_source(source, "x.py", SETTINGS)
    assert found(result) == [(5, 4, "CCL101")]
    assert result.snippets[5] == "    asyncio.create_task(main())"
    noqa = source.replace("(main())", "(main())  # noqa: CCL101")
    assert lint_source(noqa, "x.py", SETTINGS).diagnostics == ()


def test_tabs_and_form_feeds() -> None:
    source = (
        "import asyncio\n\x0c\n"
        "class Worker:\n"
        "\tasync def run(self) -> None:\n"
        "\t\tif True:\n"
        "\t\t\tasyncio.create_task(self.run())\n"
        "\t\tawait asyncio.sleep(1)\n"
        "\x0c\n"
        "\x0casync def main() -> None:\n"
        "\x0c    asyncio.create_task(main())\n"
        "    await asyncio.sleep(1)\n"
    )
    assert found(lint_source(source, "x.py", SETTINGS)) == [(6, 3, "CCL101"), (10, 5, "CCL101")]


# Size ---------------------------------------------------------------------


def test_a_200000_line_file() -> None:
    # The rows are data in one string, so the test stays fast; the point is the line count.
    source = 'ROWS = """\n' + "row\n" * 200_000 + '"""\n' + BUG
    result = lint_source(source, "big.py", SETTINGS)
    assert found(result) == [(200_007, 4, "CCL101")]


def test_lines_of_10000_characters() -> None:
    numbers = ", ".join(str(n % 10) for n in range(3_400))
    long_string = "x" * 10_000
    source = (
        f"import asyncio\nTABLE = [{numbers}]\nTEXT = '{long_string}'\n# {long_string}\n\n"
        f"async def main() -> None:\n    xs = [{numbers}]; asyncio.create_task(main())\n"
        "    await asyncio.sleep(1)\n"
    )
    assert max(len(line) for line in source.splitlines()) > 10_000
    result = lint_source(source, "wide.py", SETTINGS)
    column = source.splitlines()[6].index("asyncio.create_task")
    assert column > 10_000
    assert found(result) == [(7, column, "CCL101")]


# Deep nesting -------------------------------------------------------------

# Each would crash LibCST's native parser (C stack overflow) or keep it busy for
# minutes to hours; (source, code) with the prelude making the pre-filter let it through.
_PRELUDE = "import asyncio\n\n\nasync def main() -> None:\n    await asyncio.sleep(0)\n\n\n"
DEEP: dict[str, tuple[str, str]] = {
    "parens_5000": ("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n", "CCL001"),
    "calls_2000": ("x = " + "f(" * 2000 + ")" * 2000 + "\n", "CCL001"),
    "lists_3000": ("x = " + "[" * 3000 + "]" * 3000 + "\n", "CCL001"),
    "ifs_1000": ("".join(" " * i + "if x:\n" for i in range(1000)) + " " * 1000 + "x\n", "CCL001"),
    "sum_100000": ("y = " + "+".join(["a"] * 100_000) + "\n", "CCL002"),
    "and_10000": ("y = " + " and ".join(["a"] * 10_000) + "\n", "CCL002"),
    "not_20000": ("y = " + "not " * 20_000 + "a\n", "CCL002"),
    "lambda_5000": ("f = " + "lambda: " * 5000 + "0\n", "CCL002"),
    "attributes_50000": ("y = a" + ".b" * 50_000 + "\n", "CCL002"),
    "subscripts_3000": ("y = a" + "[0]" * 3000 + "\n", "CCL002"),
    "ternaries_5000": ("y = " + "a if b else " * 5000 + "c\n", "CCL002"),
    "elifs_10000": ("if a:\n    pass\n" + "elif a:\n    pass\n" * 10_000, "CCL002"),
}


def test_deep_nesting_is_a_diagnostic_and_the_run_goes_on(tmp_path: Path) -> None:
    for name, (source, _) in DEEP.items():
        write(tmp_path / "deep" / f"{name}.py", _PRELUDE + source)
    write(tmp_path / "deep" / "zz_real_bug.py", BUG)
    # Two workers: a worker that died would break the whole pool.
    done = run("--no-cache", "-j", "2", "--output-format", "json", "deep", cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    codes = {Path(item["path"]).stem: item["code"] for item in json.loads(done.stdout)}
    assert codes == {name: code for name, (_, code) in DEEP.items()} | {"zz_real_bug": "CCL101"}


# Deep indentation needs no guard: LibCST's tokenizer stops at 100 levels, as Python's does.
@pytest.mark.parametrize("name", sorted(set(DEEP) - {"ifs_1000"}))
def test_nesting_guard_stops_every_deep_source_before_libcst(name: str) -> None:
    source, code = DEEP[name]
    danger = nesting.hazard(_PRELUDE + source)
    assert danger is not None
    assert danger.syntax_error is (code == "CCL001")


def test_nesting_guard_names_the_depth() -> None:
    danger = nesting.hazard("f = " + "lambda: " * 1500 + "0\n")
    assert danger is not None and not danger.syntax_error
    assert re.fullmatch(
        r"code nests 150\d levels deep; beyond 1000 it cannot be parsed safely, "
        r"so the file was skipped",
        danger.message,
    )


@pytest.mark.parametrize(
    "source",
    [
        # Flat in `ast`, nested pairwise (or per clause) in LibCST.
        "ok = " + " or ".join(["a"] * 1500) + "\n",
        "xs = [a " + "for a in b " * 1500 + "]\n",
    ],
    ids=["bool-chain", "comprehension-clauses"],
)
def test_nesting_guard_counts_depth_as_libcst_nests(source: str) -> None:
    assert nesting.hazard(source) is not None


def test_nesting_guard_passes_real_code_and_big_flat_data() -> None:
    package = Path(nesting.__file__).parent.parent
    sources = [path.read_text(encoding="utf-8") for path in package.rglob("*.py")]
    sources += [
        "TABLE = [\n" + "".join(f"    ({n}, 'x{n}', -{n}.5),\n" for n in range(20_000)) + "]\n",
        "TEXT = '" + "(" * 100_000 + "'\n# " + "[" * 100_000 + "\n",
        'DOC = """\n' + "a + b . c (\n" * 20_000 + '"""\n',
        "x = " + " + ".join(["a"] * 400) + "\n",
        "if a:\n    pass\n" + "elif a:\n    pass\n" * 400,
        "y = a" + "[0]" * 900 + "\n",
    ]
    assert [nesting.hazard(source) for source in sources] == [None] * len(sources)


def test_nesting_guard_lets_newer_syntax_through_unless_it_is_deep() -> None:
    # Python 2 print statements stand in for syntax the running Python cannot parse.
    shallow = "print 'x'\ny = " + " + ".join(["a"] * 400) + "\n"
    assert nesting.hazard(shallow) is None  # LibCST parses it or reports it, cheaply
    deep = "print 'x'\ny = " + " + ".join(["a"] * 2000) + "\n"
    danger = nesting.hazard(deep)
    assert danger is not None and danger.syntax_error and danger.line == 1


def test_unterminated_strings_do_not_slow_the_guard() -> None:
    # A scanner that restarts at every quote would be quadratic here.
    for source in ["'" + "\\'" * 200_000, "'''" + "a'" * 200_000, '"' * 200_001, "\\'''" * 50_000]:
        nesting.hazard(source + "\nx = 1\n")  # finishes: linear, not quadratic


def test_recursion_error_in_a_rule_is_ccl002() -> None:
    class Bottomless(Rule):
        code = "CCL999"
        name = "bottomless"
        summary = "Recurses without end"
        message = "never reported"
        needles = ("async",)

        def visit_Module(self, node: cst.Module) -> None:
            def down(depth: int) -> int:
                return down(depth + 1)

            down(0)

    result = lint_source(BUG, "x.py", SETTINGS, rules=[Bottomless])
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("CCL002", "too deeply nested to analyse; file skipped")
    ]


def test_recursion_error_in_the_parser_is_ccl001(monkeypatch: pytest.MonkeyPatch) -> None:
    def overflow(source: str) -> cst.Module:
        raise RecursionError

    monkeypatch.setattr(cst, "parse_module", overflow)
    result = lint_source(BUG, "x.py", SETTINGS)
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("CCL001", "too deeply nested to parse; file skipped")
    ]


def test_a_crashing_rule_is_ccl002_for_that_file_only(tmp_path: Path) -> None:
    class Broken(Rule):
        code = "CCL998"
        name = "broken"
        summary = "Raises"
        message = "never reported"
        needles = ("broken",)

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == "broken":
                raise KeyError(node.value)

    assert found(lint_source("broken = 1\n", "x.py", SETTINGS, rules=[Broken])) == [
        (1, 0, "CCL002")
    ]
    assert lint_source("working = 1\n", "x.py", SETTINGS, rules=[Broken]).diagnostics == ()


# Syntax -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "source"),
    [
        (2, "import asyncio\nprint 'hello'\n"),
        (2, "import asyncio\nexec 'x = 1'\n"),
        (2, "import asyncio\nx = `1`\n"),
        (2, "import asyncio\nmode = 0777\n"),
        (2, "import asyncio\nx = 1 <> 2\n"),
        (4, "import asyncio\ntry:\n    pass\nexcept Exception, e:\n    raise e, None\n"),
    ],
)
def test_python_2_is_a_syntax_error_with_its_line(line: int, source: str) -> None:
    result = lint_source(source + BUG, "old.py", SETTINGS)
    assert [(d.code, d.line) for d in result.diagnostics] in (
        [("CCL001", line)],
        [("CCL001", line + 1)],
    )


@pytest.mark.parametrize(
    "source",
    [
        "def first[T](xs: list[T]) -> T:\n    return xs[0]\n",  # 3.12, PEP 695
        "class Box[T: (int, str)]:\n    pass\n",
        "type Pair[T] = tuple[T, T]\n",
        'd = {}\ns = f"{d["k"]}"\n',  # 3.12, PEP 701
        's = f"{f"{f"{1}"}"}"\n',
        'x = 1\ns = f"{x  # a comment\n}"\n',
        "try:\n    pass\nexcept* ValueError:\n    pass\n",  # 3.11
        "type Default[T = int] = list[T]\n",  # 3.13, PEP 696
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",  # 3.14, PEP 758
        "name = 'x'\ns = t\"hi {name}\"\n",  # 3.14, PEP 750
    ],
    ids=[
        "generic-def",
        "generic-class",
        "type-alias",
        "fstring-quotes",
        "fstring-nesting",
        "fstring-comment",
        "except-star",
        "type-default",
        "except-no-parens",
        "t-string",
    ],
)
def test_newer_syntax_is_linted(source: str) -> None:
    result = lint_source(source + BUG, "new.py", SETTINGS)
    assert [d.code for d in result.diagnostics] == ["CCL101"]


# Files on disk and the run -------------------------------------------------


def test_missing_and_unreadable_files_do_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write(tmp_path / "good.py", BUG)
    gone = tmp_path / "gone.py"  # discovered, then deleted before reading
    locked = write(tmp_path / "locked.py", BUG)
    read = runner.read_regular_file

    def refuse(path: str, limit: int) -> bytes:
        if Path(path).name == locked.name:
            raise PermissionError(13, "Permission denied", str(path))
        return read(path, limit)

    monkeypatch.setattr(runner, "read_regular_file", refuse)
    for cache_dir in (None, tmp_path / "cache"):
        results = lint_paths([str(good), str(gone), str(locked)], SETTINGS, 1, cache_dir)
        assert [(Path(r.path).name, found(r)) for r in results] == [
            ("gone.py", [(1, 0, "CCL002")]),
            ("good.py", [(5, 4, "CCL101")]),
            ("locked.py", [(1, 0, "CCL002")]),
        ]
        messages = [r.diagnostics[0].message for r in results if r.failed]
        assert messages == [
            "cannot read file: No such file or directory",
            "cannot read file: Permission denied",
        ]


def test_missing_files_in_pool_workers(tmp_path: Path) -> None:
    files = [str(write(tmp_path / f"m{n}.py", BUG)) for n in range(7)]
    results = lint_paths([*files, str(tmp_path / "gone.py")], SETTINGS, 2)
    assert [found(r) for r in results] == [[(1, 0, "CCL002")]] + [[(5, 4, "CCL101")]] * 7


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads files whatever their mode (the simulated case above runs everywhere)",
)
def test_chmod_000_file_is_ccl002(tmp_path: Path) -> None:
    locked = write(tmp_path / "pkg" / "locked.py", BUG)
    write(tmp_path / "pkg" / "open.py", BUG)
    locked.chmod(0)
    try:
        done = run("--no-cache", "pkg", cwd=tmp_path)
    finally:
        locked.chmod(0o644)
    assert done.returncode == 1
    assert [line.split()[:2] for line in done.stdout.splitlines()] == [
        ["pkg/locked.py:1:1:", "CCL002"],
        ["pkg/open.py:5:5:", "CCL101"],
    ]


def _tree_of_trouble(root: Path) -> None:
    """Good files among every kind of bad path a walk can meet."""
    write(root / "pkg" / "a_good.py", BUG)
    write(root / "pkg" / "x.py" / "inside_dir_named_x_py.py", BUG)  # a directory named x.py
    write(root / "pkg" / "empty.py", "")
    write(root / "pkg" / "binary.py", b"\x00\x01async")
    write(root / "pkg" / "broken.py", "import asyncio\nasync def f(:\n")
    write(root / "pkg" / "deep.py", _PRELUDE + DEEP["sum_100000"][0])
    (root / "pkg" / "dangling.py").symlink_to(root / "pkg" / "nowhere.py")
    (root / "pkg" / "loop_a.py").symlink_to(root / "pkg" / "loop_b.py")
    (root / "pkg" / "loop_b.py").symlink_to(root / "pkg" / "loop_a.py")
    (root / "pkg" / "self.py").symlink_to(root / "pkg" / "self.py")
    (root / "pkg" / "sub").mkdir()
    (root / "pkg" / "sub" / "up").symlink_to(root / "pkg", target_is_directory=True)
    write(root / "pkg" / "sub" / "z_good.py", BUG)


def test_a_tree_of_trouble_is_reported_in_full_and_deterministically(tmp_path: Path) -> None:
    _tree_of_trouble(tmp_path)
    one = run("--no-cache", "-j", "1", "pkg", cwd=tmp_path)
    two = run("--no-cache", "-j", "2", "pkg", cwd=tmp_path)
    assert "Traceback" not in one.stderr + two.stderr
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout
    assert [line.split()[:2] for line in one.stdout.splitlines()] == [
        ["pkg/a_good.py:5:5:", "CCL101"],
        ["pkg/binary.py:1:1:", "CCL002"],
        ["pkg/broken.py:2:13:", "CCL001"],
        ["pkg/deep.py:1:1:", "CCL002"],
        ["pkg/sub/z_good.py:5:5:", "CCL101"],
        ["pkg/x.py/inside_dir_named_x_py.py:5:5:", "CCL101"],
    ]


def test_bad_paths_named_explicitly(tmp_path: Path) -> None:
    _tree_of_trouble(tmp_path)
    done = run(
        "--no-cache",
        "pkg/dangling.py",
        "pkg/loop_a.py",
        "pkg/self.py",
        "pkg/x.py",
        "pkg/a_good.py",
        cwd=tmp_path,
    )
    assert "Traceback" not in done.stderr
    assert [line.split()[:2] for line in done.stdout.splitlines()] == [
        ["pkg/a_good.py:5:5:", "CCL101"],
        ["pkg/dangling.py:1:1:", "CCL002"],
        ["pkg/loop_a.py:1:1:", "CCL002"],
        ["pkg/self.py:1:1:", "CCL002"],
        ["pkg/x.py/inside_dir_named_x_py.py:5:5:", "CCL101"],
    ]


# The per-file time guard ----------------------------------------------------


def slow_source(functions: int) -> str:
    """About 5 ms of the engine's time per function, each holding a real bug."""
    return "import asyncio\n\n\n" + "".join(
        f"async def handler_{n}(queue: asyncio.Queue[int]) -> None:\n"
        f"    item = await queue.get()\n"
        f"    asyncio.create_task(handler_{n}(queue))\n"
        f"    queue.task_done()\n\n\n"
        for n in range(functions)
    )


def test_time_guard_skips_the_slow_file_and_lints_the_rest(tmp_path: Path) -> None:
    # 15,000 lines take seconds on any machine; the small files take milliseconds.
    write(tmp_path / "pyproject.toml", "[tool.conclint]\nfile-timeout = 0.5\n")
    write(tmp_path / "pkg" / "a_slow.py", slow_source(3000))
    for n in range(7):  # enough files for two pool workers
        write(tmp_path / "pkg" / f"m{n}.py", BUG)
    done = run("--no-cache", "-j", "2", "pkg", cwd=tmp_path)
    lines = done.stdout.splitlines()
    # Stopped by the timer, or refused before a parse no timer can stop (an estimate).
    assert re.fullmatch(
        r"pkg/a_slow.py:1:1: CCL002 (took|would take) longer than the file-timeout of 0.5 s"
        r"(: parsing its [\d,]+ tokens takes about [\d.]+ s here)?; file skipped",
        lines[0],
    ), lines[0]
    assert [line.split()[:2] for line in lines[1:]] == [
        [f"pkg/m{n}.py:5:5:", "CCL101"] for n in range(7)
    ]


def test_time_guard_in_the_engine_restores_signal_state() -> None:
    before = signal.getsignal(signal.SIGALRM)
    # A limit far below what 1,000 lines take on any machine: the guard must fire.
    result = lint_source(slow_source(200), "slow.py", Settings(file_timeout=0.002))
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("CCL002", "took longer than the file-timeout of 0.002 s; file skipped")
    ]
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert found(lint_source(BUG, "x.py", Settings(file_timeout=30))) == [(5, 4, "CCL101")]


def test_time_guard_leaves_a_host_timer_alone() -> None:
    fired: list[int] = []

    def host_handler(signum: int, frame: FrameType | None) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, host_handler)
    signal.setitimer(signal.ITIMER_REAL, 600)
    try:
        result = lint_source(BUG, "x.py", Settings(file_timeout=0.000001))
        assert signal.getsignal(signal.SIGALRM) is host_handler
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 500
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert found(result) == [(5, 4, "CCL101")]
    assert fired == []


def test_time_guard_is_off_outside_the_main_thread_and_at_zero() -> None:
    results: list[FileResult] = []
    worker = threading.Thread(
        target=lambda: results.append(lint_source(BUG, "x.py", Settings(file_timeout=1e-6)))
    )
    worker.start()
    worker.join()
    results.append(lint_source(BUG, "x.py", Settings(file_timeout=0)))
    assert [found(r) for r in results] == [[(5, 4, "CCL101")]] * 2


def test_a_timed_out_file_is_not_cached(tmp_path: Path) -> None:
    path = str(write(tmp_path / "slow.py", slow_source(200)))
    hurried = Settings(root=str(tmp_path), file_timeout=0.002)
    [timed_out] = lint_paths([path], hurried, 1, tmp_path / "cache")
    assert timed_out.failed
    patient = Settings(root=str(tmp_path), file_timeout=0)
    assert patient.options_key() == hurried.options_key()  # the same cache entries
    [result] = lint_paths([path], patient, 1, tmp_path / "cache")
    assert not result.failed and len(result.diagnostics) >= 200


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", 0.0), ("2", 2.0), ("0.5", 0.5), ("120", 120.0)]
)
def test_file_timeout_key(tmp_path: Path, value: str, seconds: float) -> None:
    config = write(tmp_path / "pyproject.toml", f"[tool.conclint]\nfile-timeout = {value}\n")
    assert load_settings(config, ["CCL101"]).file_timeout == seconds


@pytest.mark.parametrize("value", ['"60"', "true", "-1", "inf", "nan", "[1]"])
def test_file_timeout_key_rejects_non_numbers(tmp_path: Path, value: str) -> None:
    config = write(tmp_path / "pyproject.toml", f"[tool.conclint]\nfile-timeout = {value}\n")
    with pytest.raises(ConfigError, match="'file-timeout' must be a number of seconds"):
        load_settings(config, ["CCL101"])


# Output ---------------------------------------------------------------------

ODD_NAMES = [
    "with space/a b.py",
    "ünïcødé/日本語 ✓.py",
    "$(touch pwned)/`id`;&|.py",
    'quotes/it\'s "quoted" #1 [x]*?.py',
    "percent/100% a,b:c.py",
]


def _odd_tree(root: Path) -> list[str]:
    for name in ODD_NAMES:
        write(root / "src" / name, BUG)
    return sorted(f"src/{name}" for name in ODD_NAMES)


def test_odd_paths_in_text_and_json(tmp_path: Path) -> None:
    expected = _odd_tree(tmp_path)
    text = run("--no-cache", "src", cwd=tmp_path)
    assert text.stdout.splitlines() == [
        f"{name}:5:5: {line.split(': ', 1)[1]}"
        for name, line in zip(expected, text.stdout.splitlines(), strict=True)
    ]
    data = json.loads(run("--no-cache", "--output-format", "json", "src", cwd=tmp_path).stdout)
    assert [(item["path"], item["line"], item["column"]) for item in data] == [
        (name, 5, 5) for name in expected
    ]
    assert not (tmp_path / "pwned").exists()


def test_odd_paths_in_sarif_and_github(tmp_path: Path) -> None:
    expected = _odd_tree(tmp_path)
    sarif = json.loads(run("--no-cache", "--output-format", "sarif", "src", cwd=tmp_path).stdout)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    ]
    assert sorted(unquote(uri) for uri in uris) == expected
    assert all(" " not in uri and "#" not in uri and "?" not in uri for uri in uris)
    github = run("--no-cache", "--output-format", "github", "src", cwd=tmp_path).stdout
    files = re.findall(r"^::warning file=([^,]*),", github, re.MULTILINE)
    decoded = [f.replace("%2C", ",").replace("%3A", ":").replace("%25", "%") for f in files]
    assert decoded == expected


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    name = os.path.join(os.fsencode(tmp_path / "src"), b"caf\xe9.py")
    with open(name, "w", encoding="utf-8") as handle:
        handle.write(BUG)
    text = run("--no-cache", "src", cwd=tmp_path)
    assert text.returncode == 1 and "CCL101" in text.stdout
    for output_format in ("json", "sarif"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "conclint",
                "--no-cache",
                "--output-format",
                output_format,
                "src",
            ],
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
        )
        assert b"Traceback" not in done.stderr
        json.loads(done.stdout.decode("utf-8"))


MESSAGES = [
    'quote " backslash \\ slash /',
    "newline \n carriage return \r tab \t",
    "controls \x00 \x07 \x1b[31m \x7f",
    "separators \u2028 \u2029 </script>",
    "unicode é 日本 🧵 and a lone surrogate-free emoji",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_json_formats_escape_messages(message: str) -> None:
    diagnostic = Diagnostic(f"p {message[:5]}.py", 1, 0, 1, 1, "CCL101", "dangling-task", message)
    results = [FileResult(diagnostic.path, (diagnostic,))]
    options = ReportOptions(rules=(), root="/project", version="0")
    render: dict[str, Callable[..., str]] = dict(formats())
    [item] = json.loads(render["json"](results, options))
    assert (item["message"], item["path"]) == (message, diagnostic.path)
    if "json-lines" in render:
        # JSON Lines separates records by "\n" alone (str.splitlines would split at U+2028).
        [line] = render["json-lines"](results, options).rstrip("\n").split("\n")
        assert json.loads(line)["message"] == message
    if "sarif" in render:
        sarif = json.loads(render["sarif"](results, options))
        assert sarif["runs"][0]["results"][0]["message"]["text"] == message


def test_names_from_the_code_reach_json_intact(tmp_path: Path) -> None:
    source = BUG.replace("import asyncio", "import asyncio as ásync_ïo").replace(
        "asyncio.create_task", "ásync_ïo.create_task"
    )
    write(tmp_path / "m.py", source)
    done = run("--no-cache", "--output-format", "json", "m.py", cwd=tmp_path)
    [item] = json.loads(done.stdout)
    assert "`ásync_ïo.create_task(...)`" in item["message"]


def test_results_are_the_same_whatever_the_order_of_paths(tmp_path: Path) -> None:
    _odd_tree(tmp_path)
    names = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "src").rglob("*.py"))
    forward = run("--no-cache", *names, cwd=tmp_path)
    backward = run("--no-cache", *reversed(names), cwd=tmp_path)
    assert forward.stdout == backward.stdout != ""


# Valid code that LibCST cannot take as written (issue 12, defect 12) ----------------
#
# One verdict per file, the one of the parser conclint lints with, whether or not a
# rule passes the pre-filter, whatever Python runs conclint. Each source is valid
# Python; LibCST's parser rejects the layout of the first ones (more than 3,000
# strings in one implicit concatenation; an indentation that is not the text of the
# enclosing block's plus more), Python 3.11 the syntax of the last ones.

_CONCATENATED = "".join(f'"{n}" ' for n in range(4000))
VALID: dict[str, tuple[str, tuple[int, int]]] = {
    "concatenation_4000": (
        f"import asyncio\n\n\nasync def main() -> None:\n    x = ({_CONCATENATED})\n"
        "    asyncio.create_task(main())\n    await asyncio.sleep(1)\n",
        (6, 4),
    ),
    "concatenation_4000_lines": (
        "import asyncio\n\n\nasync def main() -> None:\n    x = (\n"
        + "".join(f"        {'' if n % 100 else 'f'}'{{x}}{n}'  # {n}\n" for n in range(4000))
        + "    ); asyncio.create_task(main())\n    await asyncio.sleep(1)\n",
        (4006, 7),
    ),
    "concatenation_4000_continued": (
        "import asyncio\n\n\nasync def main() -> None:\n    x = \\\n"
        + "".join(f"        '{n}' \\\n" for n in range(4000))
        + "        ''; asyncio.create_task(main())\n    await asyncio.sleep(1)\n",
        (4006, 12),
    ),
    "tab_then_spaces_and_tab": (
        "import asyncio\n\n\nasync def main(c: int) -> None:\n"
        "\tif c:\n        \tasyncio.create_task(main(c))\n\tawait asyncio.sleep(1)\n",
        (6, 9),
    ),
    "form_feed_in_a_block": (
        "import asyncio\n\n\nasync def main(c: int) -> None:\n"
        "    if c:\n\x0c        asyncio.create_task(main(c))\n    await asyncio.sleep(1)\n",
        (6, 9),
    ),
    "form_feed_inside_indentation": (
        "import asyncio\n\n\nasync def main(c: int) -> None:\n"
        "    if c:\n   \x0c     asyncio.create_task(main(c))\n    await asyncio.sleep(1)\n",
        (6, 9),
    ),
    "type_alias": ("type Pair[T] = tuple[T, T]\n" + BUG, (6, 4)),
    "generic_def": ("def first[T](xs: list[T]) -> T:\n    return xs[0]\n" + BUG, (7, 4)),
    # Long enough a statement that the nesting guard cannot rely on the text alone.
    "type_alias_and_a_table": (
        "type Row = tuple[int, str]\nTABLE = [\n"
        + "".join(f"    ({n}, 'x{n}', -{n}.5, f({n})),\n" for n in range(200))
        + "]\n"
        + BUG,
        (208, 4),
    ),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_code_is_linted_whether_or_not_the_prefilter_runs(name: str) -> None:
    source, (line, column) = VALID[name]
    for prefilter in (True, False):
        result = lint_source(source, "valid.py", SETTINGS, prefilter=prefilter)
        assert found(result) == [(line, column, "CCL101")], prefilter
        assert result.snippets[line].lstrip(" \t\x0c").startswith(("asyncio", ")", "''"))


@pytest.mark.parametrize("name", VALID)
def test_valid_code_no_rule_looks_at_is_clean(name: str) -> None:
    # Without its coroutine the file passes no rule's pre-filter: only the verdict is asked.
    source = VALID[name][0].replace("import asyncio", "import os").replace("async def", "def")
    for prefilter in (True, False):
        assert lint_source(source, "valid.py", SETTINGS, prefilter=prefilter).diagnostics == ()


# Without Python's parse (newer syntax than the running Python's) the text alone decides.
@pytest.mark.parametrize("name", sorted(set(DEEP) - {"ifs_1000"}))
def test_nesting_guard_stops_every_deep_source_python_rejects(name: str) -> None:
    source, _ = DEEP[name]
    danger = nesting.hazard("type Newer = int\n" + _PRELUDE + source)
    assert danger is not None and danger.syntax_error
