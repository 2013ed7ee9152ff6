"""Bounds on the work for one file (issue 12, defect 8): time and memory in every phase,
and the real reason when a file exceeds one. No test here times anything: each sets a
bound far below what its input needs, or stands in for the machine's pace."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from conclint import engine
from conclint.analysis import nesting
from conclint.analysis.project import ModuleFacts, facts_of
from conclint.config import Settings
from conclint.diagnostics import FileResult
from conclint.engine import bounded_facts, lint_source
from conclint.rules.base import Rule

SETTINGS = Settings(preview=True)
BUG = (
    "import asyncio\n\n\nasync def main() -> None:\n"
    "    asyncio.create_task(main())\n    await asyncio.sleep(1)\n"
)
# A flat table in one statement: long enough for the nesting screen to ask Python's parser.
TABLE = "TABLE = [" + "1, " * 2000 + "]\n"


def reasons(result: FileResult) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in result.diagnostics]


def handlers(count: int) -> str:
    """`count` coroutine functions, each with a real bug: about 40 tokens apiece."""
    return "import asyncio\n\n\n" + "".join(
        f"async def handler_{n}(queue: asyncio.Queue[int]) -> None:\n"
        f"    item = await queue.get()\n"
        f"    asyncio.create_task(handler_{n}(queue))\n"
        f"    queue.task_done()\n\n\n"
        for n in range(count)
    )


# In every source of this module (built, so that this file itself holds neither).
MARKS = ("1, " * 50, "async def handler_" + "0(")


def failing(parse: Callable[..., Any], error: BaseException) -> Callable[..., Any]:
    """`parse`, raising `error` for this module's sources (and only those: pytest parses
    with `ast` too, to show a failure)."""

    def parse_or_fail(source: object, *args: object, **kwargs: object) -> Any:
        if isinstance(source, str) and any(mark in source for mark in MARKS):
            raise error
        return parse(source, *args, **kwargs)

    return parse_or_fail


def never(parse: Callable[..., Any]) -> Callable[..., Any]:
    return failing(parse, AssertionError("a parser ran"))


def exhausted(parse: Callable[..., Any]) -> Callable[..., Any]:
    return failing(parse, MemoryError())


# Size ---------------------------------------------------------------------------------


def test_a_file_beyond_the_size_bound_is_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nesting, "MAX_TOKENS", 1000)
    monkeypatch.setattr(ast, "parse", never(ast.parse))
    monkeypatch.setattr(cst, "parse_module", never(cst.parse_module))
    source = BUG + TABLE
    result = lint_source(source, "big.py", SETTINGS)
    [(code, message)] = reasons(result)
    assert code == "CCL002"
    assert re.fullmatch(
        r"too large to analyse: about [\d,]+ tokens, more than the 1,000 conclint parses in"
        r" one file; file skipped",
        message,
    ), message
    assert result.failed and not result.transient  # the same on any machine: cached
    # A file no rule looks at is not parsed for its verdict either, nor in the index pass.
    quiet = source.replace("asyncio", "os").replace("async def", "def")
    assert lint_source(quiet, "big.py", SETTINGS).diagnostics == ()
    assert facts_of(source, "big.py") == ModuleFacts()
    assert bounded_facts(source, "big.py", SETTINGS) == ModuleFacts()


def test_the_token_estimate_errs_high() -> None:
    import io
    import tokenize

    source = handlers(50) + TABLE + "s = 'a, b, c' 'd' # (x, y)\n"
    real = sum(
        1
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER)
    )
    assert real <= nesting.screen(source).tokens <= 2 * real


# Memory ------------------------------------------------------------------------------


def test_running_out_of_memory_in_pythons_parser_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a 50 MB one-line literal did: the MemoryError was reported as deep nesting.
    monkeypatch.setattr(ast, "parse", exhausted(ast.parse))
    result = lint_source(BUG + TABLE, "table.py", SETTINGS)
    assert reasons(result) == [("CCL002", "ran out of memory; file skipped")]
    assert result.transient  # says more about the machine than about the file


def test_running_out_of_memory_in_libcst_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cst, "parse_module", exhausted(cst.parse_module))
    result = lint_source(handlers(3), "x.py", SETTINGS)
    assert reasons(result) == [("CCL002", "ran out of memory; file skipped")]
    assert result.transient


def test_running_out_of_memory_in_a_rule_is_said() -> None:
    class Greedy(Rule):
        code = "CCL997"
        name = "greedy"
        summary = "Runs out of memory"
        message = "never reported"
        needles = ("async",)

        def visit_Module(self, node: cst.Module) -> None:
            raise MemoryError

    result = lint_source(BUG, "x.py", SETTINGS, rules=[Greedy])
    assert reasons(result) == [("CCL002", "ran out of memory; file skipped")]
    assert result.transient


def test_nesting_that_exhausts_pythons_parser_is_still_called_nesting() -> None:
    # Python's parser raises MemoryError for its own stack too; that one is the file's.
    result = lint_source(BUG + "y = " + "not " * 20_000 + "a\n", "deep.py", SETTINGS)
    [(code, message)] = reasons(result)
    assert code == "CCL002" and "nests" in message and not result.transient


# Time --------------------------------------------------------------------------------


def test_a_parse_that_cannot_end_in_time_is_not_started(monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine where LibCST takes 10 ms a token: 500 handlers take minutes.
    monkeypatch.setattr(engine, "_pace", engine.Pace(python=1e-7, libcst=0.01))
    monkeypatch.setattr(cst, "parse_module", never(cst.parse_module))
    result = lint_source(handlers(500), "slow.py", Settings(file_timeout=60))
    [(code, message)] = reasons(result)
    assert code == "CCL002"
    assert re.fullmatch(
        r"would take longer than the file-timeout of 60 s: parsing its [\d,]+ tokens takes"
        r" about \d+ s here; file skipped",
        message,
    ), message
    assert result.transient


def test_pythons_parser_is_not_started_either(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_pace", engine.Pace(python=0.01, libcst=0.1))
    monkeypatch.setattr(ast, "parse", never(ast.parse))
    monkeypatch.setattr(cst, "parse_module", never(cst.parse_module))
    source = handlers(1000)  # long enough to be parsed in pieces, cut where Python says
    result = lint_source(source, "slow.py", Settings(file_timeout=60))
    assert result.transient and "would take longer" in result.diagnostics[0].message
    assert bounded_facts(source, "slow.py", Settings(file_timeout=60)).transient


def test_small_work_is_left_to_the_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Below a size no machine takes long over, nothing is estimated: the timer decides.
    monkeypatch.setattr(engine, "_pace", engine.Pace(python=1.0, libcst=1.0))
    assert [d.code for d in lint_source(BUG, "x.py", Settings(file_timeout=60)).diagnostics] == [
        "CCL101"
    ]


def test_a_timed_out_result_is_transient() -> None:
    result = lint_source(handlers(200), "slow.py", Settings(file_timeout=0.002))
    assert reasons(result) == [
        ("CCL002", "took longer than the file-timeout of 0.002 s; file skipped")
    ]
    assert result.transient
    broken = lint_source("import asyncio\nasync def f(:\n", "x.py", SETTINGS)
    assert broken.failed and not broken.transient


# The index pass ------------------------------------------------------------------------


def test_the_index_pass_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    source = handlers(200)
    assert bounded_facts(source, "m.py", SETTINGS) == facts_of(source, "m.py")
    # The timer covers it (far below what 1,200 lines take anywhere) ...
    assert bounded_facts(source, "m.py", Settings(file_timeout=0.002)).transient
    # ... and running out of memory is no verdict on the file.
    monkeypatch.setattr(ast, "parse", exhausted(ast.parse))
    facts = bounded_facts(source, "m.py", SETTINGS)
    assert facts.transient and facts.syntax_error is None


def test_the_run_goes_on_past_a_file_beyond_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conclint.runner import lint_paths  # one process: the patched bound applies

    monkeypatch.setattr(nesting, "MAX_TOKENS", 1000)
    (tmp_path / "big.py").write_text(BUG + TABLE, encoding="utf-8")
    (tmp_path / "small.py").write_text(BUG, encoding="utf-8")
    results = lint_paths([str(tmp_path / "big.py"), str(tmp_path / "small.py")], SETTINGS, 1)
    assert [(Path(r.path).name, [d.code for d in r.diagnostics]) for r in results] == [
        ("big.py", ["CCL002"]),
        ("small.py", ["CCL101"]),
    ]
