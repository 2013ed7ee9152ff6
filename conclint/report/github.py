"""`--output-format github`: workflow commands that GitHub Actions shows as annotations."""

from __future__ import annotations

from collections.abc import Sequence

from conclint.diagnostics import Diagnostic, FileResult, Severity
from conclint.report import ReportOptions
from conclint.report.escape import utf8_safe
from conclint.report.paths import shown_path

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    """The message part: `%`, CR and LF would end or corrupt the command.

    The runner reads commands a line at a time and a line ends only at CR or LF, so nothing
    else can start a command; other characters stay raw so that `file=` names the real file.
    Lone surrogates (bytes of a file name that are not UTF-8) become `\\xff`: output is UTF-8.
    """
    return utf8_safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A `key=value` property: `:` and `,` separate properties, so they are escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    base = options.cwd or options.root
    return "".join(
        _command(d, shown_path(d.path.replace("\\", "/"), options.root, base)) + "\n"
        for result in results
        for d in result.diagnostics
    )


def _command(d: Diagnostic, path: str) -> str:
    """`path` is from the report root: the runner reads a relative `file` as relative to
    the repository root, not to the step's `working-directory`."""
    # Annotation columns are 1-based; LibCST's are 0-based with an exclusive end.
    properties = {
        "file": path,
        "line": str(d.line),
        "col": str(d.col + 1),
        "endLine": str(d.end_line),
        "endColumn": str(d.end_col + 1),
        "title": f"{d.code} {d.name}",
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{_COMMAND[d.severity]} {joined}::{escape_data(d.message)}"
