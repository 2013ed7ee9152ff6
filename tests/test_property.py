"""Generated programs: the engine returns well-formed diagnostics for any of them, never raises."""

from __future__ import annotations

import re

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conclint.config import Settings
from conclint.diagnostics import FileResult
from conclint.engine import lint_source

# hypothesmith compiles what it generates; the warnings of that code are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

# Every rule, preview ones included, and no pre-filter: every example is parsed and traversed.
ALL_RULES = Settings(select=("CCL",), preview=True)
_CODE = re.compile(r"^CCL\d{3}$")
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


def check(source: str) -> FileResult:
    result = lint_source(source, "generated.py", ALL_RULES, prefilter=False)
    lines = source.count("\n") + 1
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
