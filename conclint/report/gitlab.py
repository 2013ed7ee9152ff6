"""`--output-format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`).

A JSON list with one issue per finding holding the fields GitLab requires: `description`,
`check_name`, `fingerprint`, `severity` (one of GitLab's `info`, `minor`, `major`, `critical`,
`blocker`) and `location.path` with `location.lines.begin`. The path is relative to the
report root (the repository's top level, as for SARIF), with `/` separators, as GitLab resolves
it against the repository. The fingerprint is the SARIF one: unique within the report, and
unchanged when the code moves up or down its file, so that GitLab tells new findings from old
ones in a merge request.
"""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import FileResult, Severity
from conclint.fingerprints import fingerprint, occurrences
from conclint.report import ReportOptions
from conclint.report.escape import to_json
from conclint.report.paths import shown_path

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTE: "minor"}


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    issues = []
    for result in results:
        path = shown_path(result.path, options.root, options.cwd or options.root)
        for found in occurrences(result):
            if found.suppressed:
                continue
            d = found.diagnostic
            issues.append(
                {
                    "description": f"{d.code} {d.name}: {d.message}",
                    "check_name": d.code,
                    "fingerprint": fingerprint(d.code, path, found.text, found.occurrence),
                    "severity": SEVERITY[d.severity],
                    "location": {"path": path, "lines": {"begin": d.line, "end": d.end_line}},
                }
            )
    return to_json(issues, indent=2) + "\n"
