"""`--output-format grouped`: the findings under the name of their file, as ruff groups them.

    src/app.py:
      5:5  CCL101 task from `asyncio.create_task(...)` is discarded: ...
     12:9  CCL601 `time.sleep(...)` blocks the event loop: ...

Lines and columns are 1-based and padded per file so that the codes line up; a blank line
ends each file. With `--show-source`, each finding is followed by its source line.
"""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions
from conclint.report.escape import printable
from conclint.report.text import source_lines

_UNDERLINE, _RED, _CYAN, _RESET = "\033[4m", "\033[31m", "\033[36m", "\033[0m"


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    out: list[str] = []
    for result in results:
        if not result.diagnostics:
            continue
        path = printable(result.path)
        out.append(f"{_UNDERLINE}{path}{_RESET}:" if options.color else f"{path}:")
        line_width = max(len(str(d.line)) for d in result.diagnostics)
        col_width = max(len(str(d.col + 1)) for d in result.diagnostics)
        for d in result.diagnostics:
            where = f"{d.line:>{line_width}}:{d.col + 1:<{col_width}}"
            shown = _code_and_message(d, options.color, options.shows_fix(d))
            out.append(f"  {where} {shown}")
            if options.show_source:
                snippet = source_lines(d, result.snippets.get(d.line))
                out.extend(f"  {line}" for line in snippet)
        out.append("")
    return "".join(line + "\n" for line in out)


def _code_and_message(d: Diagnostic, color: bool, fixable: bool = False) -> str:
    code, message = printable(d.code), printable(d.message)
    if fixable:  # `--fix` fixes it, marked as ruff does
        message = f"[*] {message}"
    return f"{_RED}{code}{_RESET} {message}" if color else f"{code} {message}"
