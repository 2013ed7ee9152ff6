"""`--output-format json-lines`: one JSON object per finding and line, for streaming tools."""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import FileResult
from conclint.report import ReportOptions
from conclint.report.escape import to_json
from conclint.report.json_report import as_dict


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    urls = {rule.code: rule.docs_url for rule in options.rules}
    return "".join(
        _line_safe(to_json(as_dict(d, urls))) + "\n"
        for result in results
        for d in result.diagnostics
    )


def _line_safe(text: str) -> str:
    """JSON allows raw NEL, U+2028 and U+2029, but line-splitting readers (Python's
    `str.splitlines`; JavaScript for the last two) break records there. JSON escapes the
    other line breaks itself."""
    for char in ("\x85", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text
