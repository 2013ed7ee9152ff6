"""Diagnostics, per-file results and suppression comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One finding.

    Positions follow LibCST: `line`/`end_line` are 1-based, `col`/`end_col` are
    0-based code-point offsets with an exclusive end. Each reporter converts to
    its own convention (text and SARIF print 1-based columns).
    """

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    name: str
    message: str
    severity: Severity = Severity.WARNING

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)


@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything one file produced; plain data, so it crosses process boundaries."""

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    # Findings silenced by `# noqa` / `# conclint: ignore[...]`, kept for audits.
    suppressed: tuple[Diagnostic, ...] = ()
    # The file was not analysed: its one diagnostic is a CCL001/CCL002.
    failed: bool = False
    # Source text of the reported lines only (for --show-source and fingerprints).
    snippets: dict[int, str] = field(default_factory=dict, compare=False)
    # The result says more about this run than about the file (out of time or memory):
    # another run may do better, so it is never cached.
    transient: bool = False


# flake8's own pattern, so that `# noqa` means the same under the CLI and flake8.
_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*conclint:\s*ignore\[(?P<codes>[A-Z0-9,\s]*)\]", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)

# `None` as the value means "every code".
Suppressions = dict[int, "frozenset[str] | None"]


def parse_suppressions(
    lines: list[str] | tuple[str, ...], *, include_noqa: bool = True
) -> Suppressions:
    """Map 1-based line numbers to the codes their comments suppress.

    `include_noqa=False` reads only `# conclint: ignore[...]`, for front ends
    (flake8) that apply `# noqa` themselves.
    """
    patterns = (_NOQA, _IGNORE) if include_noqa else (_IGNORE,)
    found: Suppressions = {}
    for number, text in enumerate(lines, start=1):
        if "#" not in text:
            continue
        for pattern in patterns:
            match = pattern.search(text)
            if match is None:
                continue
            raw = match.group("codes")
            if raw is None:
                found[number] = None
                continue
            codes = frozenset(code.upper() for code in _CODE.findall(raw))
            previous = found.get(number, frozenset())
            found[number] = None if previous is None else previous | codes
    return found


def is_suppressed(diagnostic: Diagnostic, suppressions: Suppressions) -> bool:
    if diagnostic.line not in suppressions:
        return False
    codes = suppressions[diagnostic.line]
    # Prefix match, as flake8 does: a noqa comment naming CCL1 covers CCL101.
    return codes is None or any(diagnostic.code.startswith(code) for code in codes)
