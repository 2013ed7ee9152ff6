"""The lines that end text output, worded as ruff words them.

    Found 3 errors.
    [*] 2 fixable with `--fix`.

`--fix` says how many were fixed and remain, `--fix-only` and `--diff` only what was (or
would be) fixed; each says how many fixes `--unsafe-fixes` would add.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conclint.diagnostics import FileResult
from conclint.report.escape import printable


@dataclass(frozen=True)
class Fixing:
    """How the run treated fixes: `unsafe` is True (`--unsafe-fixes`), False
    (`--no-unsafe-fixes`) or None (neither: the hidden ones are hinted at); `mode` is
    "check" (no fixing, or `--fix`: the findings are shown), "fix-only" or "diff"."""

    mode: str = "check"
    unsafe: bool | None = None


def summary(results: Sequence[FileResult], fixed: int, fixing: Fixing) -> list[str]:
    """The closing lines for a run whose findings left are `results`, after `fixed`."""
    unsafe = bool(fixing.unsafe)
    applicable = hidden = 0
    for result in results:
        for d in result.diagnostics:
            if d.fix is None:
                continue
            if d.fix.applies(unsafe):
                applicable += 1
            else:
                hidden += 1
    if fixing.mode == "check":
        return _found(sum(len(r.diagnostics) for r in results), fixed) + _fixable(
            applicable, hidden, hint=fixing.unsafe is None
        )
    return _fixed(fixed, hidden, would=fixing.mode == "diff")


def _found(remaining: int, fixed: int) -> list[str]:
    total = remaining + fixed
    if fixed:
        return [f"Found {total} error{_s(total)} ({fixed} fixed, {remaining} remaining)."]
    if remaining:
        return [f"Found {remaining} error{_s(remaining)}."]
    return ["All checks passed!"]


def _fixable(applicable: int, hidden: int, hint: bool) -> list[str]:
    unsafe = f"{hidden} unsafe fix{_es(hidden)} available with `--fix --unsafe-fixes`"
    if applicable and hidden and hint:
        return [f"[*] {applicable} fixable with `--fix` ({unsafe})."]
    if applicable:
        return [f"[*] {applicable} fixable with `--fix`."]
    if hidden and hint:
        return [f"{unsafe}."]
    return []


def _fixed(fixed: int, hidden: int, would: bool) -> list[str]:
    more = f"{hidden} additional fix{_es(hidden)} available with `--unsafe-fixes`"
    if fixed:
        verb = "Would fix" if would else "Fixed"
        head = f"{verb} {fixed} error{_s(fixed)}"
        return [f"{head} ({more})." if hidden else f"{head}."]
    if hidden:
        none = "No errors would be fixed" if would else "No errors fixed"
        return [f"{none} ({hidden} fix{_es(hidden)} available with `--unsafe-fixes`)."]
    return []


def fix_list(changed: Sequence[tuple[str, Counter[str]]], names: Mapping[str, str]) -> list[str]:
    """`--show-fixes`: what was fixed, per file (its path and counts per code) and code,
    most first, as ruff lists it; `names` gives each code's rule name."""
    total = sum(sum(counts.values()) for _, counts in changed)
    if not total:
        return []
    width = len(str(max(max(counts.values()) for _, counts in changed if counts)))
    lines = ["", f"Fixed {total} error{_s(total)}:"]
    for path, counts in sorted(changed, key=lambda item: item[0]):
        lines.append(f"- {printable(path)}:")
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"    {count:>{width}} × {code} ({names.get(code, '')})")  # noqa: RUF001
    return [*lines, ""]


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _es(count: int) -> str:
    return "" if count == 1 else "es"
