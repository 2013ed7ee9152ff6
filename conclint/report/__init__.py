"""Reporters: pure functions from results to the text of one output format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conclint.diagnostics import Diagnostic, FileResult, Severity

if TYPE_CHECKING:
    from conclint.rules.base import Rule


@dataclass(frozen=True)
class RuleInfo:
    """What a reporter may say about a rule (plain data, no rule classes)."""

    code: str
    name: str
    summary: str
    severity: Severity
    docs_url: str
    page: str  # the rule's markdown page ('' when missing)
    preview: bool = False
    family: str = ""
    precision: str = "high"
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: type[Rule]) -> RuleInfo:
        from conclint.pages import page

        return cls(
            rule.code,
            rule.name,
            rule.summary,
            rule.severity,
            rule.docs_url(),
            page(rule.code) or "",
            rule.preview,
            rule.family(),
            rule.precision,
            rule.tags,
        )


@dataclass(frozen=True)
class ReportOptions:
    rules: tuple[RuleInfo, ...]  # every enabled rule, in registry order
    # Absolute report root (`report.paths`: the git top level, else the project root):
    # SARIF's %SRCROOT%, where the paths of the formats other tools read start.
    root: str
    version: str
    cwd: str = ""  # absolute directory the diagnostics' relative paths start from (default: root)
    color: bool = False
    show_source: bool = False
    include_suppressed: bool = False
    # Fixes of `--unsafe-fixes` count as applicable; `fix_status` false leaves out the
    # `[*]` marks (once fixes were applied, as ruff does: what is left was not fixable).
    unsafe_fixes: bool = False
    fix_status: bool = True

    def shows_fix(self, diagnostic: Diagnostic) -> bool:
        """Whether text output marks the finding `[*]`: `--fix` would fix it."""
        fix = diagnostic.fix
        return self.fix_status and fix is not None and fix.applies(self.unsafe_fixes)


Reporter = Callable[[Sequence[FileResult], ReportOptions], str]


# The formats a person reads: coloured on a terminal, with `--statistics` as text.
TEXT_FORMATS = ("text", "concise", "full", "grouped")
# The formats `--statistics` can write its counts in (as ruff: the text ones and JSON).
STATISTICS_FORMATS = (*TEXT_FORMATS, "json")


def formats() -> dict[str, Reporter]:
    from conclint.report import (
        github,
        gitlab,
        grouped,
        json_lines,
        json_report,
        junit,
        pylint,
        sarif,
        text,
    )

    return {
        "text": text.render,  # `concise` by its older name; the default
        "concise": text.render,
        "full": text.render_full,
        "grouped": grouped.render,
        "json": json_report.render,
        "json-lines": json_lines.render,
        "sarif": sarif.render,
        "github": github.render,
        "gitlab": gitlab.render,
        "junit": junit.render,
        "pylint": pylint.render,
    }
