"""Reporters: pure functions from results to the text of one output format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conclint.diagnostics import FileResult, Severity

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
    root: str  # absolute project root: SARIF's %SRCROOT%
    version: str
    cwd: str = ""  # absolute directory the diagnostics' relative paths start from (default: root)
    color: bool = False
    show_source: bool = False
    include_suppressed: bool = False


Reporter = Callable[[Sequence[FileResult], ReportOptions], str]


def formats() -> dict[str, Reporter]:
    from conclint.report import github, json_lines, json_report, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "json-lines": json_lines.render,
        "sarif": sarif.render,
        "github": github.render,
    }
