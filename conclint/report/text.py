"""`--output-format text` (or `concise`): `path:line:col: CODE message`, columns 1-based like
flake8 and ruff; `full` (or `--show-source`) adds the source line with carets under the code.

Every field that comes from the user (the path, messages quoting code, source lines) goes
through `printable`: a file name holding a newline or an escape sequence must not forge a
finding or drive the terminal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions
from conclint.report.escape import printable

_BOLD, _RED, _CYAN, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[0m"
# Tab stops of source lines, as editors set them for Python.
TAB_SIZE = 4


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    out: list[str] = []
    for result in results:
        for diagnostic in result.diagnostics:
            out.append(_line(diagnostic, options.color, options.shows_fix(diagnostic)))
            if options.show_source:
                out.extend(source_lines(diagnostic, result.snippets.get(diagnostic.line)))
    return "".join(line + "\n" for line in out)


def _line(d: Diagnostic, color: bool, fixable: bool = False) -> str:
    """`path:line:col: CODE message`, with `[*]` after the code when `--fix` fixes it."""
    where = f"{printable(d.path)}:{d.line}:{d.col + 1}:"
    code, message = printable(d.code), printable(d.message)
    if fixable:
        message = f"[{_CYAN}*{_RESET}] {message}" if color else f"[*] {message}"
    if color:
        return f"{_BOLD}{where}{_RESET} {_RED}{code}{_RESET} {message}"
    return f"{where} {code} {message}"


def render_full(results: Sequence[FileResult], options: ReportOptions) -> str:
    """`--output-format full`: each finding with its source line and carets under the code."""
    return render(results, replace(options, show_source=True))


def source_lines(d: Diagnostic, text: str | None) -> list[str]:
    """The source line and a line of carets under the reported code.

    Both lines are laid out here, tabs expanded and every character counted at the width a
    terminal gives it, so that the carets stay under the code in any viewer.
    """
    if text is None:
        return []
    shown, columns = _layout(text)
    start = min(d.col, len(text))
    end = min(d.end_col if d.end_line == d.line else len(text), len(text))
    first = columns[start] + (d.col - start)  # a column past the end (a missing colon, say)
    width = max(1, columns[max(end, start)] - columns[start])
    return [f"    {shown}", f"    {' ' * first}{'^' * width}"]


def _layout(text: str) -> tuple[str, list[int]]:
    """`text` as shown (escaped, tabs expanded) and the display column each character starts
    at, with one more entry for the end of the line."""
    pieces: list[str] = []
    columns = [0]
    for char in text:
        column = columns[-1]
        piece = " " * (TAB_SIZE - column % TAB_SIZE) if char == "\t" else printable(char)
        pieces.append(piece)
        columns.append(column + sum(_width(c) for c in piece))
    return "".join(pieces), columns


def _width(char: str) -> int:
    """Terminal columns of one (printable) character: 2 for wide East Asian ones, 0 for
    combining marks and other zero-width ones."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
