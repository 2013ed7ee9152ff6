"""`--output-format json`: one array of objects, positions 1-based lines and columns."""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import Diagnostic, FileResult
from conclint.fixes import Fix
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
        "fix": fix_as_dict(diagnostic.fix),
    }


def fix_as_dict(fix: Fix | None) -> dict[str, object] | None:
    """A fix as JSON data (as ruff writes it, positions as in the finding: columns 1-based);
    `applicability` is "safe", or "unsafe" for a fix only `--unsafe-fixes` applies."""
    if fix is None:
        return None
    edits = [
        {
            "content": edit.content,
            "line": edit.line,
            "column": edit.col + 1,
            "end_line": edit.end_line,
            "end_column": edit.end_col + 1,
        }
        for edit in fix.edits
    ]
    return {"applicability": fix.applicability, "message": fix.message, "edits": edits}


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    urls = {rule.code: rule.docs_url for rule in options.rules}
    items = [as_dict(d, urls) for result in results for d in result.diagnostics]
    return to_json(items, indent=2) + "\n"
