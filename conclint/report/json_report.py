"""`--output-format json`: one array of objects, positions 1-based lines and columns."""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions
from conclint.report.escape import to_json


def as_dict(diagnostic: Diagnostic, rules_url: dict[str, str]) -> dict[str, object]:
    """One finding as JSON data. Columns are 1-based, as in the text output."""
    return {
        "path": diagnostic.path,
        "line": diagnostic.line,
        "column": diagnostic.col + 1,
        "end_line": diagnostic.end_line,
        "end_column": diagnostic.end_col + 1,
        "code": diagnostic.code,
        "name": diagnostic.name,
        "message": diagnostic.message,
        "severity": diagnostic.severity.value,
        "url": rules_url.get(diagnostic.code),
    }


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    urls = {rule.code: rule.docs_url for rule in options.rules}
    items = [as_dict(d, urls) for result in results for d in result.diagnostics]
    return to_json(items, indent=2) + "\n"
