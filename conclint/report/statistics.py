"""`--statistics`: how many findings each code has, instead of the findings (as ruff).

As text, a line per code, most frequent first: the count (right-aligned), the code and the
rule name, separated by tabs, and when some finding can be fixed, `[*]` (or `[ ]`) before the
name of each code as `--fix` would (or would not) fix its findings. As JSON, a list of
`{code, name, count, fixable, fixable_count}` objects in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conclint.diagnostics import FileResult
from conclint.report import ReportOptions
from conclint.report.escape import printable, to_json

_BOLD, _RED, _RESET = "\033[1m", "\033[31m", "\033[0m"


@dataclass(frozen=True)
class CodeCount:
    code: str
    name: str
    count: int
    fixable: int  # how many of them `--fix` fixes (with `--unsafe-fixes`, its fixes too)


def counts(results: Sequence[FileResult], options: ReportOptions) -> list[CodeCount]:
    """The findings per code, most frequent first, then by code."""
    found: dict[str, CodeCount] = {}
    for result in results:
        for d in result.diagnostics:
            seen = found.get(d.code, CodeCount(d.code, d.name, 0, 0))
            fixable = seen.fixable + options.shows_fix(d)
            found[d.code] = CodeCount(d.code, seen.name, seen.count + 1, fixable)
    return sorted(found.values(), key=lambda item: (-item.count, item.code))


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    """The counts as text: one tab-separated line per code, nothing when nothing was found."""
    items = counts(results, options)
    if not items:
        return ""
    any_fixable = any(item.fixable for item in items)
    count_width = len(str(items[0].count))
    code_width = max(len(printable(item.code)) for item in items)
    lines = []
    for item in items:
        count = f"{item.count:>{count_width}}"
        code = f"{printable(item.code):<{code_width}}"
        if options.color:
            count, code = f"{_BOLD}{count}{_RESET}", f"{_RED}{_BOLD}{code}{_RESET}"
        mark = ("[*] " if item.fixable else "[ ] ") if any_fixable else ""
        lines.append(f"{count}\t{code}\t{mark}{printable(item.name)}\n")
    return "".join(lines)


def render_json(results: Sequence[FileResult], options: ReportOptions) -> str:
    """The counts as a JSON list (`[]` when nothing was found, so that it always parses)."""
    items = [
        {
            "code": item.code,
            "name": item.name,
            "count": item.count,
            "fixable": item.fixable > 0,
            "fixable_count": item.fixable,
        }
        for item in counts(results, options)
    ]
    return to_json(items, indent=2) + "\n"
