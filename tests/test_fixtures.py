"""Every fixture yields exactly the findings its `# expect:` comments name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from conclint.config import Settings
from conclint.diagnostics import FileResult
from conclint.runner import lint_paths
from tests.conftest import FIXTURES, Expectation, fixture_files, parse_expectations

# Every rule, preview ones included, runs on every fixture: an unmarked line is a negative.
ALL_RULES = Settings(select=("CCL",), preview=True)


@cache
def results() -> dict[str, FileResult]:
    """All fixtures linted together, as the CLI does (project mode sees the packages)."""
    paths = [str(path) for path in fixture_files()]
    return {result.path: result for result in lint_paths(paths, ALL_RULES, jobs=1)}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture(path: Path) -> None:
    expected = parse_expectations(path.read_text(encoding="utf-8"))
    result = results()[str(path)]
    found = {(d.line, d.code, d.col) for d in result.diagnostics}
    want = {(e.line, e.code) for e in expected}
    got = {(line, code) for line, code, _ in found}
    missing = sorted(want - got)
    extra = sorted(got - want)
    assert not missing and not extra, f"missing: {missing}\nunexpected: {extra}"
    for expectation in expected:
        if expectation.column is not None:
            assert (expectation.line, expectation.code, expectation.column) in found


def test_expectation_parser_rejects_malformed() -> None:
    with pytest.raises(ValueError, match="malformed"):
        parse_expectations("x = 1  # expect: CCL10\n")
    assert parse_expectations("x  # expect: CCL101@4, CCL203\n") == {
        Expectation(1, "CCL101", 4),
        Expectation(1, "CCL203", None),
    }
