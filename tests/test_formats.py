"""The output formats as their readers take them: the CLI run for real, its output parsed by the
parser each consumer uses (JSON, an XML parser) and checked for the fields that consumer reads."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions, formats, gitlab, grouped, junit, pylint, text
from tests.test_cli import run

# Any str at all: lone surrogates (file names that are not UTF-8) and controls drawn often.
ANY_STR = st.text(st.characters(codec=None) | st.characters(categories=["Cs", "Cc", "Cf", "Zl"]))

# Tab-indented, a tab inside the reported span, and wide characters before a finding.
APP = """\
import asyncio
import time


async def serve() -> None:
\tasyncio.create_task(serve())
\tif True:\tasyncio.create_task(\tserve()) ; time.sleep(1)
\tawait asyncio.sleep(1)


async def wide() -> None:
    s = "日本語"; asyncio.create_task(wide())
    await asyncio.sleep(1)
"""
BROKEN = "def f(:\n    pass\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "src" / "broken.py").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "src" / "clean.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


def check(tree: Path, *args: str) -> str:
    done = run("--isolated", "--no-cache", *args, "src", cwd=tree)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


FOUND = [  # (path, line, column 1-based, code) of what the tree above holds
    ("src/app.py", 6, 2, "CCL101"),
    ("src/app.py", 7, 11, "CCL101"),
    ("src/app.py", 7, 43, "CCL601"),
    ("src/app.py", 12, 16, "CCL101"),
    ("src/broken.py", 1, 7, "CCL001"),
]


def test_every_format_is_offered() -> None:
    expected = {"concise", "full", "grouped", "junit", "gitlab", "pylint", "text", "json"}
    assert expected <= set(formats())


def test_concise_is_the_text_format(tree: Path) -> None:
    concise = check(tree, "--output-format", "concise")
    assert concise == check(tree)
    found = [line.split(" ", 2)[:2] for line in concise.splitlines()]
    assert found == [[f"{p}:{line}:{col}:", code] for p, line, col, code in FOUND]


# full: carets under the code whatever the tabs and wide characters ---------------------------


def _columns(shown: str) -> list[int]:
    """The terminal column each character of `shown` (no tabs left in it) starts at."""
    columns = [0]
    for char in shown:
        columns.append(columns[-1] + (2 if unicodedata.east_asian_width(char) in "WF" else 1))
    return columns


def test_full_shows_the_source_with_carets_under_the_code(tree: Path) -> None:
    out = check(tree, "--output-format", "full").splitlines()
    assert out == check(tree, "--show-source").splitlines()
    spans = json.loads(check(tree, "--output-format", "json"))
    lines = APP.splitlines()
    checked = 0
    for number, line in enumerate(out):
        if not line.startswith("src/app.py:"):
            continue
        item = spans[checked]
        source, carets = out[number + 1], out[number + 2]
        assert "\t" not in source + carets  # expanded, so that every viewer shows the same
        assert source == "    " + lines[item["line"] - 1].expandtabs(4)
        # The characters shown above the carets are the reported code, tabs expanded.
        columns = _columns(source)
        start, end = carets.index("^"), len(carets)
        assert carets == " " * start + "^" * (end - start)
        under = "".join(c for c, col in zip(source, columns, strict=False) if start <= col < end)
        reported = lines[item["line"] - 1][item["column"] - 1 : item["end_column"] - 1]
        assert under.split() == reported.split() and under[0] == reported[0]
        checked += 1
    assert checked == 4


def test_full_carets_span_a_tab_inside_the_code() -> None:
    line = "\tif True:\tasyncio.create_task(\tserve())"
    col = line.index("asyncio")
    finding = Diagnostic("a.py", 1, col, 1, len(line), "CCL101", "dangling-task", "m")
    options = ReportOptions(rules=(), root="/p", version="0", show_source=True)
    _, source, carets = text.render([FileResult("a.py", (finding,), snippets={1: line})], options)[
        :-1
    ].split("\n")
    assert source == "        if True:    asyncio.create_task(    serve())"
    assert carets == " " * source.index("asyncio") + "^" * len(source[source.index("asyncio") :])


def test_full_carets_count_wide_characters_twice() -> None:
    line = 's = "日本語"; asyncio.create_task(x())'
    col = line.index("asyncio")
    finding = Diagnostic("a.py", 1, col, 1, len(line), "CCL101", "dangling-task", "m")
    options = ReportOptions(rules=(), root="/p", version="0", show_source=True)
    rendered = text.render([FileResult("a.py", (finding,), snippets={1: line})], options)
    _, source, carets = rendered.splitlines()
    assert carets.index("^") == 4 + len('s = "') + 2 * 3 + len('"; ')
    assert carets.count("^") == len("asyncio.create_task(x())")
    assert source == "    " + line


# grouped ---------------------------------------------------------------------------------


def test_grouped_lists_findings_under_their_file(tree: Path) -> None:
    out = check(tree, "--output-format", "grouped")
    message = {code: "" for *_, code in FOUND}
    for line in check(tree).splitlines():
        message[line.split(" ", 2)[1]] = line.split(" ", 2)[2]
    assert out == (
        "src/app.py:\n"
        f"   6:2  CCL101 {message['CCL101']}\n"
        f"   7:11 CCL101 {message['CCL101']}\n"
        f"   7:43 CCL601 {message['CCL601']}\n"
        f"  12:16 CCL101 {message['CCL101']}\n"
        "\n"
        "src/broken.py:\n"
        f"  1:7 CCL001 {message['CCL001']}\n"
        "\n"
    )


# pylint ----------------------------------------------------------------------------------

PYLINT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): \[(?P<code>CCL\d{3})\] (?P<msg>.+)$")


def test_pylint_format_is_path_line_code_message(tree: Path) -> None:
    out = check(tree, "--output-format", "pylint").splitlines()
    parsed = [PYLINT_LINE.match(line) for line in out]
    assert all(parsed), out
    found = [(m["path"], int(m["line"]), m["code"]) for m in parsed if m]
    assert found == [(p, line, code) for p, line, _, code in FOUND]


# junit: what JUnit consumers read ----------------------------------------------------------


def test_junit_is_xml_with_the_counts_consumers_read(tree: Path) -> None:
    out = check(tree, "--output-format", "junit")
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["src/app.py", "src/broken.py"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "4", "1")
    app, broken = suites
    assert (app.get("tests"), app.get("failures"), app.get("errors")) == ("4", "4", "0")
    assert (broken.get("tests"), broken.get("failures"), broken.get("errors")) == ("1", "0", "1")
    for suite in suites:
        for case in suite.findall("testcase"):
            assert case.get("name") and case.get("classname") and case.get("file")
    cases = [(c.get("file"), c.get("line"), c.get("column")) for c in root.iter("testcase")]
    assert cases == [(p, str(line), str(col)) for p, line, col, _ in FOUND]
    failures = [case.find("failure") for case in app.findall("testcase")]
    assert [f.get("type") for f in failures if f is not None] == [c for *_, c in FOUND[:4]]
    assert all(f is not None and f.get("message") and f.text for f in failures)
    (error,) = [case.find("error") for case in broken.findall("testcase")]
    assert error is not None and error.get("type") == "CCL001"


def test_junit_clean_run_is_one_passing_case(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    done = run("--isolated", "--no-cache", "--output-format", "junit", ".", cwd=tmp_path)
    assert done.returncode == 0
    root = ET.fromstring(done.stdout)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    (case,) = root.iter("testcase")
    assert case.find("failure") is None and case.find("error") is None


@given(ANY_STR, ANY_STR)
def test_junit_parses_whatever_the_path_and_message(path: str, message: str) -> None:
    finding = Diagnostic(path, 1, 0, 1, 1, "CCL101", "dangling-task", message)
    options = ReportOptions(rules=(), root="/p", version="0")
    out = junit.render([FileResult(path, (finding,))], options).encode("utf-8")
    assert len(list(ET.fromstring(out).iter("failure"))) == 1


@given(ANY_STR, ANY_STR)
def test_line_formats_write_one_line_per_finding_whatever_the_input(
    path: str, message: str
) -> None:
    findings = tuple(
        Diagnostic(path, n, 0, n, 1, "CCL101", "dangling-task", message) for n in (1, 2)
    )
    options = ReportOptions(rules=(), root="/p", version="0")
    results = [FileResult(path, findings)]
    # str.splitlines breaks at every line boundary Unicode knows, not only "\n".
    assert len(pylint.render(results, options).encode("utf-8").splitlines()) == 2
    assert len(grouped.render(results, options).encode("utf-8").splitlines()) == 4
    assert len(pylint.render(results, options).splitlines()) == 2
    assert len(grouped.render(results, options).splitlines()) == 4
    gitlab_issues = json.loads(gitlab.render(results, options).encode("utf-8"))
    assert [issue["check_name"] for issue in gitlab_issues] == ["CCL101", "CCL101"]


@pytest.mark.parametrize("hostile", ["\x00", "\x1b[2J", "\ufffe", "\udcff", "]]>", "&<\"'"])
def test_junit_stays_well_formed_whatever_the_text(hostile: str) -> None:
    path = f"src/a{hostile}.py"
    finding = Diagnostic(path, 1, 0, 1, 1, "CCL101", "dangling-task", f"q{hostile}.get()")
    options = ReportOptions(rules=(), root="/p", version="0")
    root = ET.fromstring(junit.render([FileResult(path, (finding,))], options).encode("utf-8"))
    (failure,) = root.iter("failure")
    if hostile in ("]]>", "&<\"'"):  # XML can carry these: they arrive as they were
        assert failure.get("message") == f"q{hostile}.get()"


# gitlab: the Code Quality fields GitLab requires ----------------------------------------------

GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _gitlab(tree: Path) -> list[dict[str, object]]:
    issues = json.loads(check(tree, "--output-format", "gitlab"))
    assert isinstance(issues, list)
    return issues


def test_gitlab_issues_have_the_required_fields(tree: Path) -> None:
    issues = _gitlab(tree)
    assert len(issues) == len(FOUND)
    for issue, (path, line, _, code) in zip(issues, FOUND, strict=True):
        assert isinstance(issue["description"], str) and issue["description"]
        assert issue["check_name"] == code
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in GITLAB_SEVERITIES
        location = issue["location"]
        assert isinstance(location, dict)
        assert location["path"] == path  # relative, with `/`
        assert location["lines"]["begin"] == line
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_gitlab_fingerprints_survive_code_moving_and_match_sarif(tree: Path) -> None:
    before = {issue["fingerprint"] for issue in _gitlab(tree)}
    app = tree / "src" / "app.py"
    app.write_text('"""Moved down."""\n\n\n' + APP, encoding="utf-8")
    after = _gitlab(tree)
    assert {issue["fingerprint"] for issue in after} == before
    assert after[0]["location"]["lines"]["begin"] == 9
    sarif = json.loads(check(tree, "--output-format", "sarif"))
    sarif_prints = {r["partialFingerprints"]["conclint/v1"] for r in sarif["runs"][0]["results"]}
    # SARIF reports the broken file as a notification, not a result.
    assert sarif_prints == {i["fingerprint"] for i in after if i["check_name"] != "CCL001"}


def test_gitlab_paths_are_relative_to_the_project_from_any_directory(tree: Path) -> None:
    (tree / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    done = run("--no-cache", "--output-format", "gitlab", "app.py", cwd=tree / "src")
    assert {issue["location"]["path"] for issue in json.loads(done.stdout)} == {"src/app.py"}


def test_gitlab_paths_start_at_the_repository_root_in_a_monorepo(tmp_path: Path) -> None:
    """GitLab reads `location.path` from the repository's top level, wherever the job ran."""
    service = tmp_path / "services" / "api"
    (service / "src").mkdir(parents=True)
    (service / "src" / "app.py").write_text(APP, encoding="utf-8")
    (service / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = run("--no-cache", "--output-format", "gitlab", "src", cwd=service)
    paths = {issue["location"]["path"] for issue in json.loads(done.stdout)}
    assert paths == {"services/api/src/app.py"}


# statistics ------------------------------------------------------------------------------


def test_statistics_prints_counts_only(tree: Path) -> None:
    out = check(tree, "--statistics")
    # `[*]`: `--fix` fixes that code's findings (here `time.sleep` in `async def`).
    assert out.splitlines() == [
        "3\tCCL101\t[ ] dangling-task",
        "1\tCCL001\t[ ] syntax-error",
        "1\tCCL601\t[*] blocking-call-in-async",
    ]
    for fmt in ("concise", "full", "grouped"):
        assert check(tree, "--statistics", "--output-format", fmt) == out


def test_statistics_as_json(tree: Path) -> None:
    counts = json.loads(check(tree, "--statistics", "--output-format", "json"))
    assert counts == [
        {
            "code": "CCL101",
            "name": "dangling-task",
            "count": 3,
            "fixable": False,
            "fixable_count": 0,
        },
        {
            "code": "CCL001",
            "name": "syntax-error",
            "count": 1,
            "fixable": False,
            "fixable_count": 0,
        },
        {
            "code": "CCL601",
            "name": "blocking-call-in-async",
            "count": 1,
            "fixable": True,
            "fixable_count": 1,
        },
    ]


def test_statistics_of_a_clean_run(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    plain = run("--isolated", "--no-cache", "--statistics", ".", cwd=tmp_path)
    assert (plain.returncode, plain.stdout) == (0, "")
    as_json = run(
        "--isolated", "--no-cache", "--statistics", "--output-format", "json", ".", cwd=tmp_path
    )
    assert (as_json.returncode, json.loads(as_json.stdout)) == (0, [])


def test_statistics_counts_align_when_counts_have_more_digits() -> None:
    from conclint.report import statistics

    many = tuple(
        Diagnostic("a.py", n, 0, n, 1, "CCL101", "dangling-task", "m") for n in range(1, 13)
    )
    one = Diagnostic("a.py", 20, 0, 20, 1, "CCL001", "syntax-error", "m")
    options = ReportOptions(rules=(), root="/p", version="0")
    out = statistics.render([FileResult("a.py", (*many, one))], options)
    assert out == "12\tCCL101\tdangling-task\n 1\tCCL001\tsyntax-error\n"


@pytest.mark.parametrize("fmt", ["sarif", "github", "junit", "gitlab", "pylint", "json-lines"])
def test_statistics_in_a_format_that_cannot_hold_it_is_a_usage_error(tree: Path, fmt: str) -> None:
    done = run("--isolated", "--no-cache", "--statistics", "--output-format", fmt, "src", cwd=tree)
    assert done.returncode == 2
    assert done.stdout == "" and "--statistics" in done.stderr and "Traceback" not in done.stderr


def test_unknown_format_from_the_environment_is_a_usage_error(tree: Path) -> None:
    done = run("--isolated", "src", cwd=tree, env={"CONCLINT_OUTPUT_FORMAT": "xml"})
    assert done.returncode == 2
    assert "CONCLINT_OUTPUT_FORMAT" in done.stderr and "Traceback" not in done.stderr
