"""`--output-format json-lines`: one JSON object per finding and line, for streaming tools."""

from __future__ import annotations

import json
from collections.abc import Sequence

from conclint.diagnostics import FileResult
from conclint.report import ReportOptions
from conclint.report.json_report import as_dict


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    urls = {rule.code: rule.docs_url for rule in options.rules}
    return "".join(
        _line_safe(json.dumps(as_dict(d, urls), ensure_ascii=False)) + "\n"
        for result in results
        for d in result.diagnostics
    )


def _line_safe(text: str) -> str:
    """JSON allows raw U+2028/U+2029, but line-splitting readers break records on them."""
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
