"""Generated and mutated programs: the engine returns well-formed diagnostics for any of
them, never raises, and finds the same with the pre-filter as without it."""

from __future__ import annotations

import io
import itertools
import keyword
import random
import re
import tokenize
from collections.abc import Iterable
from pathlib import Path
from string import ascii_letters

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conclint.analysis.project import ProjectIndex
from conclint.config import Settings
from conclint.diagnostics import FileResult
from conclint.engine import lint_source
from tests.conftest import FIXTURES, fixture_files
from tests.test_names import wide
from tests.test_prefilter import fixture_project

# hypothesmith compiles what it generates; the warnings of that code are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

# Every rule, preview ones included.
ALL_RULES = Settings(select=("CCL",), preview=True)
_CODE = re.compile(r"^CCL\d{3}$")
# The line ends Python reads (`str.splitlines` would split at form feeds too).
_LINE_END = re.compile(r"\r\n|\r|\n")
# Bounded so that the whole module runs in well under a minute on two cores, and
# derandomized so that CI sees the same examples every run. hypothesmith's own
# strategies discard many drafts (they must compile), which is not ours to check.
BOUNDED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    database=None,
    derandomize=True,
)

# Generated code rarely names anything the rules look for; a prelude that
# imports the concurrency modules under their usual and aliased names makes the
# rules resolve the generated calls, attributes and `with` blocks for real.
PRELUDE = (
    "import asyncio\nimport asyncio as aio\nimport threading\nfrom asyncio import create_task\n"
)


def check(
    source: str, path: str = "generated.py", project: ProjectIndex | None = None
) -> FileResult:
    # Without the pre-filter every example is parsed and traversed by every rule.
    result = lint_source(source, path, ALL_RULES, prefilter=False, project=project)
    # The pre-filter only skips what cannot fire: the same findings, the same verdict.
    assert lint_source(source, path, ALL_RULES, project=project) == result
    lines = len(_LINE_END.split(source))
    for diagnostic in (*result.diagnostics, *result.suppressed):
        assert _CODE.match(diagnostic.code), diagnostic
        assert 1 <= diagnostic.line <= diagnostic.end_line <= lines, diagnostic
        assert diagnostic.col >= 0 and diagnostic.end_col >= 0, diagnostic
        assert diagnostic.message and "\n" not in diagnostic.message, diagnostic
    if result.failed:
        # A valid program may be skipped (too deep, too slow, beyond LibCST's grammar)
        # but never called a syntax error.
        [diagnostic] = result.diagnostics
        assert diagnostic.code == "CCL002" or diagnostic.message.startswith(
            "syntax not supported by the parser"
        ), diagnostic
    return result


@BOUNDED
@given(hypothesmith.from_grammar())
def test_programs_from_the_grammar(source: str) -> None:
    check(source)


@BOUNDED
@given(hypothesmith.from_node())
def test_programs_from_libcst_nodes(source: str) -> None:
    check(source)


@BOUNDED
@given(
    st.sampled_from(
        [("async def main():\n", "    "), ("class Worker:\n    async def run(self):\n", " " * 8)]
    ),
    hypothesmith.from_node(cst.SimpleStatementLine),
)
def test_generated_statements_inside_async_functions(
    header_and_indent: tuple[str, str], statement: str
) -> None:
    header, indent = header_and_indent
    # split("\n"), not splitlines(): a form feed inside a generated line is whitespace.
    body = "".join(f"{indent}{line}\n" for line in statement.split("\n") if line.strip())
    check(PRELUDE + header + (body or f"{indent}pass\n"))


# Mutated fixtures -------------------------------------------------------------------
# Each fixture, spelled otherwise as Python reads it the same (checked by compiling it).
# Random, but seeded by the fixture's name: CI sees the same mutants every run.

LINE_ENDS = ("\n", "\r\n", "\r")
# What may stand between two tokens of a line (`\n` becomes the file's line end).
GAPS = (" ", "\t", "\f", "\t\f ", " \\\n", "\\\n\t", "\f\\\n\\\n  ")
# How often each gap, line start and name is changed.
RATE = 0.3
_NOT_BETWEEN = {
    tokenize.NEWLINE,
    tokenize.NL,
    tokenize.COMMENT,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def mutated(source: str, newline: str, rng: random.Random) -> str:
    """`source` (with `\n` line ends) with other gaps between the tokens of a line (tabs,
    form feeds, backslash continuations), form feeds starting lines, fullwidth letters in
    names, and `newline` ending every line."""
    starts = [0]  # of each line
    for line in source.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(point: tuple[int, int]) -> int:
        return starts[point[0] - 1] + point[1]

    # Before an unindented line only: LibCST misreads a form feed before an indentation.
    edits = [
        (start, start, "\f")
        for start in starts
        if source[start : start + 1] not in (" ", "\t") and rng.random() < RATE
    ]
    tokens = _outside_fstrings(tokenize.generate_tokens(io.StringIO(source).readline))
    for before, token in itertools.pairwise(tokens):
        if (
            before is not None
            and token is not None
            and before.end[0] == token.start[0]
            and not {before.type, token.type} & _NOT_BETWEEN
            and rng.random() < RATE
        ):
            edits.append((offset(before.end), offset(token.start), rng.choice(GAPS)))
        if token is not None and _renamable(token) and rng.random() < RATE:
            at = rng.choice([i for i, c in enumerate(token.string) if c in ascii_letters])
            start = offset(token.start) + at
            edits.append((start, start + 1, wide(token.string[at])))
    text = source
    # From the end, so that the offsets still to apply stay valid; at one offset, a
    # letter's edit (the longer) goes first, then the gap in front of it.
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text.replace("\n", newline)


def _outside_fstrings(tokens: Iterable[tokenize.TokenInfo]) -> list[tokenize.TokenInfo | None]:
    """The tokens, None for those inside an f-string (Python 3.12 tokenizes its parts)."""
    found: list[tokenize.TokenInfo | None] = []
    depth = 0
    for token in tokens:
        kind = tokenize.tok_name[token.type]
        depth += kind == "FSTRING_START"
        found.append(None if depth else token)
        depth -= kind == "FSTRING_END"
    return found


def _renamable(token: tokenize.TokenInfo) -> bool:
    return (
        token.type == tokenize.NAME
        and not keyword.iskeyword(token.string)
        and not keyword.issoftkeyword(token.string)
        and any(c in ascii_letters for c in token.string)
    )


@pytest.mark.parametrize(
    ("path", "newline"),
    [(path, LINE_ENDS[index % 3]) for index, path in enumerate(fixture_files())],
    ids=lambda value: str(value.relative_to(FIXTURES)) if isinstance(value, Path) else repr(value),
)
def test_mutated_fixtures_give_the_same_findings_with_and_without_prefilter(
    path: Path, newline: str
) -> None:
    source = path.read_text(encoding="utf-8")
    mutant = mutated(source, newline, random.Random(path.name))
    assert mutant != source
    compile(mutant, str(path), "exec")  # still valid Python
    result = check(mutant, str(path), fixture_project())  # project mode compared too
    assert not result.failed
