"""`--output-format text`: `path:line:col: CODE message`, columns 1-based like flake8 and ruff.

Every field that comes from the user (the path, messages quoting code, source lines) goes
through `printable`: a file name holding a newline or an escape sequence must not forge a
finding or drive the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions
from conclint.report.escape import printable

_BOLD, _RED, _CYAN, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[0m"


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    out: list[str] = []
    for result in results:
        for diagnostic in result.diagnostics:
            out.append(_line(diagnostic, options.color))
            if options.show_source:
                out.extend(_source(diagnostic, result.snippets.get(diagnostic.line)))
    return "".join(line + "\n" for line in out)


def _line(d: Diagnostic, color: bool) -> str:
    where = f"{printable(d.path)}:{d.line}:{d.col + 1}:"
    code, message = printable(d.code), printable(d.message)
    if color:
        return f"{_BOLD}{where}{_RESET} {_RED}{code}{_RESET} {message}"
    return f"{where} {code} {message}"


def _source(d: Diagnostic, text: str | None) -> list[str]:
    if text is None:
        return []
    end = d.end_col if d.end_line == d.line else len(text)
    # Escaped piecewise, so that the carets stay under the (now longer) marked text.
    before = printable(text[: d.col], tabs=True)
    marked = printable(text[d.col : end], tabs=True)
    after = printable(text[end:], tabs=True)
    # The padding repeats the line's tabs, so that the terminal expands both lines alike.
    padding = "".join("\t" if char == "\t" else " " for char in before)
    padding += " " * max(0, d.col - len(text))
    return [f"    {before}{marked}{after}", f"    {padding}{'^' * max(1, len(marked))}"]


def statistics(results: Sequence[FileResult]) -> str:
    """Counts per code, most frequent first (`--statistics`)."""
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        for d in result.diagnostics:
            counts[(d.code, d.name)] = counts.get((d.code, d.name), 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(
        f"{count:>5}  {printable(code)}  {printable(name)}\n" for (code, name), count in ordered
    )
