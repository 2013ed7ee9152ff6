"""The github and json-lines reporters: exact shapes and escaping."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from conclint import __version__, registry
from conclint.config import Settings
from conclint.diagnostics import Diagnostic, FileResult, Severity
from conclint.report import ReportOptions, RuleInfo, formats, github, json_lines, json_report


def report_options(root: str = "/project", *, include_suppressed: bool = False) -> ReportOptions:
    """Options as the CLI builds them: every enabled rule, pages included."""
    rules = tuple(RuleInfo.of(rule) for rule in registry.enabled_rules(Settings(preview=True)))
    return ReportOptions(rules, root, __version__, include_suppressed=include_suppressed)


def finding(
    path: str = "src/app.py",
    line: int = 3,
    col: int = 4,
    code: str = "CCL101",
    message: str = "task from `asyncio.create_task(...)` is discarded",
    severity: Severity = Severity.WARNING,
) -> Diagnostic:
    name = "syntax-error" if code == "CCL001" else "dangling-task"
    return Diagnostic(path, line, col, line, col + 10, code, name, message, severity)


def test_formats_offer_every_front_end_format() -> None:
    assert {"text", "json", "json-lines", "sarif", "github"} <= set(formats())


# github ------------------------------------------------------------------------


def test_github_annotation_shape() -> None:
    out = github.render([FileResult("src/app.py", (finding(),))], report_options())
    assert out == (
        "::warning file=src/app.py,line=3,col=5,endLine=3,endColumn=15,"
        "title=CCL101 dangling-task::task from `asyncio.create_task(...)` is discarded\n"
    )


def test_github_files_that_failed_are_errors() -> None:
    failed = FileResult(
        "bad.py", (finding("bad.py", 1, 6, "CCL001", "syntax error", Severity.ERROR),), failed=True
    )
    (line,) = github.render([failed], report_options()).splitlines()
    assert line.startswith("::error file=bad.py,line=1,col=7,")
    assert "title=CCL001 syntax-error::syntax error" in line


def test_github_escapes_data_and_properties() -> None:
    message = "100% of `q.get()`\r\nline two: a, b"
    path = "dir,with:odd%chars/ünïcødé 😀.py"
    out = github.render([FileResult(path, (finding(path, message=message),))], report_options())
    assert out.count("\n") == 1  # CR/LF inside the message cannot start a new command
    assert "file=dir%2Cwith%3Aodd%25chars/ünïcødé 😀.py," in out
    assert out.endswith("::100%25 of `q.get()`%0D%0Aline two: a, b\n")


def _unescape(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


@given(st.text())
def test_github_property_escaping_round_trips(text: str) -> None:
    escaped = github.escape_property(text)
    assert not set(escaped) & {":", ",", "\r", "\n"}
    assert _unescape(escaped) == text


@given(st.text())
def test_github_data_escaping_round_trips(text: str) -> None:
    escaped = github.escape_data(text)
    assert "\r" not in escaped and "\n" not in escaped
    assert _unescape(escaped) == text


def test_github_windows_paths_use_slashes() -> None:
    out = github.render([FileResult("src\\app.py", (finding("src\\app.py"),))], report_options())
    assert "file=src/app.py," in out


# json-lines --------------------------------------------------------------------


def test_json_lines_is_one_object_per_line_like_json() -> None:
    results = [
        FileResult("a.py", (finding("a.py", message="line one\nline two é"), finding("a.py", 9))),
        FileResult("b.py"),
        FileResult("c.py", (finding("c.py", 1, 0, "CCL001", "bad", Severity.ERROR),), failed=True),
    ]
    options = report_options()
    out = json_lines.render(results, options)
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == 3
    assert [json.loads(line) for line in lines] == json.loads(json_report.render(results, options))
    assert "é" in lines[0]


def test_json_lines_empty_run_prints_nothing() -> None:
    assert json_lines.render([FileResult("a.py")], report_options()) == ""
