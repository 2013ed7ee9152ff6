"""The engine on single sources: decoding, parse failures, suppressions, pre-filter."""

from __future__ import annotations

import gc
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conclint import engine
from conclint.analysis.project import ProjectIndex, facts_of
from conclint.config import Settings
from conclint.diagnostics import parse_suppressions
from conclint.engine import DecodeError, decode_source, lint_source

SETTINGS = Settings()
BUG = (
    "import asyncio\nasync def main():\n"
    "    asyncio.create_task(main()){comment}\n    await asyncio.sleep(1)\n"
)


def codes(source: str, settings: Settings = SETTINGS) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_source(source, "x.py", settings).diagnostics]


@pytest.mark.parametrize(
    ("comment", "found"),
    [
        ("", [(3, "CCL101")]),
        ("  # noqa", []),
        ("  # noqa: CCL101", []),
        ("  # noqa:CCL1", []),
        ("  # NOQA: CCL101,CCL203", []),
        ("  # noqa: CCL203", [(3, "CCL101")]),
        ("  # conclint: ignore[CCL101]", []),
        ("  # conclint: ignore[CCL601]", [(3, "CCL101")]),
    ],
)
def test_suppression_comments(comment: str, found: list[tuple[int, str]]) -> None:
    assert codes(BUG.format(comment=comment)) == found


def test_suppressed_findings_are_kept_aside() -> None:
    result = lint_source(BUG.format(comment="  # noqa"), "x.py", SETTINGS)
    assert result.diagnostics == ()
    assert [d.code for d in result.suppressed] == ["CCL101"]


def test_suppression_can_be_left_to_the_caller() -> None:
    result = lint_source(BUG.format(comment="  # noqa"), "x.py", SETTINGS, apply_suppressions=False)
    assert [d.code for d in result.diagnostics] == ["CCL101"]


def test_suppression_map() -> None:
    lines = ["a  # noqa", "b  # noqa: CCL101, CCL2", "c", "d  # conclint: ignore[CCL601]"]
    assert parse_suppressions(lines) == {
        1: None,
        2: frozenset({"CCL101", "CCL2"}),
        4: frozenset({"CCL601"}),
    }


def test_syntax_error_has_the_parsers_position() -> None:
    result = lint_source("import asyncio\nasync def f(:\n    pass\n", "x.py", SETTINGS)
    assert result.failed
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("CCL001", 2)
    assert diagnostic.message.startswith("syntax error")


def test_syntax_error_reported_even_when_no_rule_could_match() -> None:
    result = lint_source("x = (\n", "x.py", SETTINGS)
    assert [d.code for d in result.diagnostics] == ["CCL001"]


def test_prefilter_skips_files_without_concurrency() -> None:
    # A file that mentions nothing any rule looks for is not parsed at all, and is clean.
    assert lint_source("def f():\n    return 1\n", "x.py", SETTINGS).diagnostics == ()


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfx = 1\n", "x = 1\n"),
        (b"# -*- coding: latin-1 -*-\ns = '\xe9'\n", "# -*- coding: latin-1 -*-\ns = 'é'\n"),
        (b"# coding: cp1252\ns = '\x80'\n", "# coding: cp1252\ns = '€'\n"),
    ],
)
def test_decoding_follows_pep_263(data: bytes, text: str) -> None:
    assert decode_source(data) == text


@pytest.mark.parametrize(
    "data", [b"x = '\xff\xfe'\n", b"# coding: no-such-codec\n", b"\x00\x01binary"]
)
def test_undecodable_input_is_an_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_source(data)


def test_an_internal_error_exits_2_not_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from conclint import cli

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_check", broken)
    assert cli.main(["check", "."]) == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cyclic_collector_is_left_as_it_was(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        lint_source("import asyncio\nasyncio.create_task(job())\n", "m.py", Settings())
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


@pytest.mark.parametrize("name", ["CCL203.py", "CCL301.py", "CCL401.py", "CCL601.py"])
def test_rules_leave_nothing_holding_the_tree(name: str) -> None:
    """Reference counting alone frees a linted tree (the cyclic collector would scan it
    all first): nothing the rules built keeps referring to it."""
    from conclint import registry
    from conclint.parse import parse_module
    from tests.conftest import FIXTURES

    path = FIXTURES / name
    source = path.read_text(encoding="utf-8")
    module = parse_module(source)
    settings = Settings(preview=True)
    findings, positions = engine._run_rules(
        module, source, str(path), settings, registry.enabled_rules(settings), engine.ProjectIndex()
    )
    assert findings and positions is not None
    del findings, positions
    assert sys.getrefcount(module) == 2  # this function's name and getrefcount's argument


# One verdict per file, LibCST's (issue 12, defect 12) ---------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "type Pair[T] = tuple[T, T]\n",  # Python 3.12 syntax, which Python 3.11 rejects
        "def first[T](xs: list[T]) -> T:\n    return xs[0]\n",
        "def f(c):\n\tif c:\n        \treturn c\n",  # Python takes it, LibCST not as written
        "x = (" + '"a" ' * 4000 + ")\n",
    ],
    ids=["type-alias", "generic-def", "tab-indentation", "concatenation-4000"],
)
def test_the_index_pass_verdict_is_the_parsers(tmp_path: Path, source: str) -> None:
    """The index pass parses with Python's `ast`: its opinion must not become the verdict
    of a file the pre-filter then skips."""
    path = str(tmp_path / "m.py")
    project = replace(ProjectIndex(), syntax={path: facts_of(source, path).syntax_error})
    for prefilter in (True, False):
        result = lint_source(source, path, SETTINGS, prefilter=prefilter, project=project)
        assert result.diagnostics == (), prefilter


def test_a_syntax_error_both_parsers_see_keeps_pythons_position() -> None:
    source = "type X = (\n"  # Python 3.11 and LibCST both reject it
    path = "m.py"
    project = replace(ProjectIndex(), syntax={path: facts_of(source, path).syntax_error})
    for prefilter in (True, False):
        result = lint_source(source, path, SETTINGS, prefilter=prefilter, project=project)
        assert [(d.code, d.line) for d in result.diagnostics] == [("CCL001", 1)]
        assert not result.transient


@pytest.mark.parametrize("separator", ["\x0c", "\x1c", "\x85", "\u2028"])
def test_suppressions_and_snippets_count_lines_as_python(separator: str) -> None:
    # str.splitlines also cuts at these: a `# noqa` after one would miss its line.
    source = f"import asyncio\n# page{separator}break\n" + BUG.format(comment="").replace(
        "import asyncio\n", ""
    )
    result = lint_source(source, "x.py", SETTINGS)
    assert [(d.line, d.code) for d in result.diagnostics] == [(4, "CCL101")]
    assert result.snippets == {4: "    asyncio.create_task(main())"}
    silenced = source.replace("(main())", "(main())  # noqa: CCL101")
    assert lint_source(silenced, "x.py", SETTINGS).diagnostics == ()
