"""Parsing a long file in pieces gives the tree a whole-file parse gives."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

from conclint.parse import Parsed, parse_module, rewritten
from tests.conftest import fixture_files

AWKWARD = [
    "# header\n\nimport a\n\n\n# about f\n@deco\ndef f():\n    x = 1\n    # trailing, indented\n"
    "\n# about g\nclass G:\n    pass\na = 1; b = 2\nif a:\n    pass\nelse:\n    pass\n# the end\n",
    "x = 1\r\ny = 2\r\nz = (\r\n    3)\r\ndef f():\r\n\treturn 1\r\nw = 4",
    "a = 1\nb = 2\nc = 3\nd = 4\ndef f():\n\treturn 1\ne = 5\n",
    's = """\nnot = a statement\n"""\nt = 1\nu = \\\n    2\nv = 3\n\x0cw = 4\nx = 5\n',
]


def _same(source: str) -> None:
    whole = cst.parse_module(source)
    pieces = parse_module(source, piece_lines=2)
    assert pieces.code == whole.code  # LibCST drops a form feed that starts a line
    assert pieces.deep_equals(whole)
    assert pieces.default_indent == whole.default_indent


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: path.name)
def test_pieces_join_into_the_whole_tree_on_fixtures(path: Path) -> None:
    _same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("source", AWKWARD)
def test_pieces_join_into_the_whole_tree_on_awkward_layouts(source: str) -> None:
    _same(source)


def test_short_and_broken_sources_are_parsed_whole() -> None:
    assert parse_module("x = 1\n").code == "x = 1\n"
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def (:\n" * 10, piece_lines=2)


def test_node_checks_are_off_only_while_the_parser_runs() -> None:
    source = "async def f(q):\n    await q.put((yield))\n"
    assert parse_module(source).deep_equals(cst.parse_module(source))
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("x = = 1\n")
    # Nodes built by hand are checked again, after a parse and after a failed one.
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("x")


# Layout LibCST cannot represent, rewritten (issue 12, defect 12) ----------------------

TABS = "def f(c):\n\tif c:\n        \treturn c\n\telse:\n\t\treturn 0\n"
FORM_FEEDS = "def f(c):\n    if c:\n\x0c        return c\n   \x0c    return 0\n"


@pytest.mark.parametrize("source", [TABS, FORM_FEEDS], ids=["tabs", "form-feeds"])
def test_indentation_is_rewritten_as_python_reads_it(source: str) -> None:
    with pytest.raises(cst.ParserSyntaxError):
        cst.parse_module(source)
    layout = rewritten(source)
    assert layout is not None
    assert ast.dump(ast.parse(layout.source)) == ast.dump(ast.parse(source))
    assert layout.source.count("\n") == source.count("\n")  # the same lines
    assert "\t" not in layout.source and "\x0c" not in layout.source
    # The same pieces as the whole-file parse, which LibCST now takes.
    assert parse_module(layout.source, piece_lines=2).deep_equals(cst.parse_module(layout.source))


def test_form_feeds_move_columns_and_say_by_how_much() -> None:
    layout = rewritten(FORM_FEEDS)
    assert layout is not None
    assert layout.shifts == {3: 1, 4: 4}
    parsed = Parsed(cst.parse_module(layout.source), layout.source, layout.shifts)
    assert parsed.column(3, 8) == FORM_FEEDS.split("\n")[2].index("return")
    assert parsed.column(2, 4) == 4


def test_long_concatenations_are_cut_by_a_plus_in_place_of_a_space() -> None:
    pieces = [f"'{n}'" for n in range(7000)]
    source = "x = (" + " ".join(pieces[:3000]) + "\n  " + " ".join(pieces[3000:]) + ")\n"
    with pytest.raises(cst.ParserSyntaxError):
        cst.parse_module(source)
    layout = rewritten(source)
    assert layout is not None and not layout.shifts
    assert len(layout.source) == len(source)
    assert layout.source.count("+") == 3  # a part of at most 3,000 strings each
    values: dict[str, str] = {}
    exec(layout.source, values)
    assert values["x"] == "".join(str(n) for n in range(7000))
    cst.parse_module(layout.source)


def test_nothing_to_rewrite() -> None:
    assert rewritten("x = 1\nif x:\n    y = ('a' 'b')\n") is None
    assert rewritten("x = (\n") is None  # Python's tokenizer cannot read it either
