"""`--output-format text`: `path:line:col: CODE message`, columns 1-based like flake8 and ruff."""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions

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
    where = f"{d.path}:{d.line}:{d.col + 1}:"
    if color:
        return f"{_BOLD}{where}{_RESET} {_RED}{d.code}{_RESET} {d.message}"
    return f"{where} {d.code} {d.message}"


def _source(d: Diagnostic, text: str | None) -> list[str]:
    if text is None:
        return []
    width = max(1, (d.end_col - d.col) if d.end_line == d.line else len(text) - d.col)
    return [f"    {text}", f"    {' ' * d.col}{'^' * width}"]


def statistics(results: Sequence[FileResult]) -> str:
    """Counts per code, most frequent first (`--statistics`)."""
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        for d in result.diagnostics:
            counts[(d.code, d.name)] = counts.get((d.code, d.name), 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>5}  {code}  {name}\n" for (code, name), count in ordered)
