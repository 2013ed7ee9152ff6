"""`--output-format pylint`: `path:line: [CODE] message`, as ruff writes pylint's parseable
format, for tools that read pylint's output (editors' problem matchers, CI log parsers)."""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import FileResult
from conclint.report import ReportOptions
from conclint.report.escape import printable


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    return "".join(
        f"{printable(d.path)}:{d.line}: [{printable(d.code)}] {printable(d.message)}\n"
        for result in results
        for d in result.diagnostics
    )
