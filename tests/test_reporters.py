"""The github and json-lines reporters: exact shapes and escaping."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conclint import __version__, registry
from conclint.config import Settings
from conclint.diagnostics import Diagnostic, FileResult, Severity
from conclint.report import (
    ReportOptions,
    RuleInfo,
    escape,
    formats,
    github,
    json_lines,
    json_report,
    statistics,
    text,
)
from tests.test_cli import run

# Any text that is valid Unicode, with controls, format characters and line separators drawn often.
HOSTILE_TEXT = st.text(
    st.characters(codec="utf-8") | st.characters(categories=["Cc", "Cf", "Zl", "Zp"])
)
# Any str at all: lone surrogates too, as file names that are not UTF-8 hold them.
ANY_STR = st.text(st.characters(codec=None) | st.characters(categories=["Cs", "Cc"]))


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


# text: nothing from the user reaches the terminal raw -------------------------------

# Each character a terminal acts on, or a reader takes for a line break or a reordering, and
# the visible escape it gets (as Python's repr() writes it).
HOSTILE = {
    "\x00": "\\x00",
    "\x07": "\\x07",
    "\x08": "\\x08",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\x0b",
    "\x0c": "\\x0c",
    "\r": "\\r",
    "\x1b": "\\x1b",
    "\x1c": "\\x1c",
    "\x7f": "\\x7f",
    "\x85": "\\x85",
    "\x9b": "\\x9b",
    "\u061c": "\\u061c",
    "\u200f": "\\u200f",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    "\u202e": "\\u202e",
    "\u2067": "\\u2067",
}
FORGED = "a.py:1:1: CCL101 fake\n::error file=x.py::forged\r\x1b[2Jz.py"


def text_options(*, show_source: bool = False, color: bool = False) -> ReportOptions:
    return replace(report_options(), show_source=show_source, color=color)


def test_text_file_name_cannot_forge_a_finding() -> None:
    out = text.render([FileResult(FORGED, (finding(FORGED),))], text_options())
    assert out == (
        "a.py:1:1: CCL101 fake\\n::error file=x.py::forged\\r\\x1b[2Jz.py:3:5: CCL101 "
        "task from `asyncio.create_task(...)` is discarded\n"
    )


@pytest.mark.parametrize(("char", "escaped"), HOSTILE.items())
def test_text_escapes_every_field_from_the_user(char: str, escaped: str) -> None:
    path, message = f"src/a{char}b.py", f"`q{char}.get()` blocks"
    diagnostic = finding(path, col=4, message=message)
    snippet = f"    x{char}y = q.get()"
    result = FileResult(path, (diagnostic,), snippets={3: snippet})
    out = text.render([result], text_options(show_source=True))
    # Tabs in source lines are expanded (to the next stop of 4 after "    x"), not escaped.
    shown = "   " if char == "\t" else escaped
    assert out.splitlines() == [
        f"src/a{escaped}b.py:3:5: CCL101 `q{escaped}.get()` blocks",
        f"        x{shown}y = q.get()",
        "        " + "^" * (len(shown) + 9),
    ]


@pytest.mark.parametrize("char", HOSTILE)
def test_text_statistics_escape_names(char: str) -> None:
    odd = replace(finding(), code=f"CCL{char}1", name=f"dangling{char}task")
    escaped = HOSTILE[char]
    assert statistics.render([FileResult(odd.path, (odd,))], text_options()) == (
        f"1\tCCL{escaped}1\tdangling{escaped}task\n"
    )


@given(HOSTILE_TEXT, HOSTILE_TEXT)
def test_text_is_one_line_per_finding_whatever_the_input(path: str, message: str) -> None:
    result = FileResult(path, (finding(path, message=message),), snippets={3: message})
    for show_source in (False, True):
        out = text.render([result], text_options(show_source=show_source))
        # str.splitlines breaks at every line boundary Unicode knows, not only "\n".
        assert len(out.splitlines()) == (3 if show_source else 1)
        assert not TERMINAL_UNSAFE.search(out.replace("\n", "").replace("\t", ""))


TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def test_text_color_codes_are_only_ours() -> None:
    out = text.render(
        [FileResult(FORGED, (finding(FORGED, message="\x1b[8m"),))], text_options(color=True)
    )
    ours = re.sub(r"\x1b\[(?:0|1|31)m", "", out)
    assert "\x1b" not in ours and ours.count("\n") == 1


@pytest.mark.parametrize(
    "snippet",
    [
        "\t\tasyncio.create_task(c)",
        "\tx = '\x1b[31m'; asyncio.create_task(c)",
        "    s = '\u202e'  ;  asyncio.create_task(c)\t# note",
        " \t \t\x07asyncio.create_task(c)",
    ],
)
def test_show_source_carets_stay_under_the_code(snippet: str) -> None:
    col = snippet.index("asyncio")
    call = Diagnostic("a.py", 3, col, 3, col + 22, "CCL101", "dangling-task", "m")
    result = FileResult("a.py", (call,), snippets={3: snippet})
    _, source, carets = text.render([result], text_options(show_source=True)).splitlines()
    # As the terminal shows them: tabs expanded to the same stops on both lines.
    source, carets = source.expandtabs(), carets.expandtabs()
    assert carets == " " * source.index("asyncio") + "^" * len("asyncio.create_task(c)")


# File names that are not UTF-8 --------------------------------------------------------

# os.fsdecode(b"src/bad\xff\xfe.py"): the undecodable bytes are kept as lone surrogates.
UNDECODABLE = "src/bad\udcff\udcfe.py"


def test_undecodable_name_is_shown_by_its_bytes_in_text() -> None:
    out = text.render([FileResult(UNDECODABLE, (finding(UNDECODABLE),))], text_options())
    assert out.encode("utf-8").startswith(b"src/bad\\xff\\xfe.py:3:5: CCL101 ")


@pytest.mark.parametrize("name", ["json", "json-lines"])
def test_undecodable_name_makes_valid_utf8_json(name: str) -> None:
    message = "cannot read src/bad\udcff\udcfe.py"
    results = [FileResult(UNDECODABLE, (finding(UNDECODABLE, message=message),))]
    data = formats()[name](results, report_options()).encode("utf-8")  # fails on a surrogate
    items = json.loads(data) if name == "json" else [json.loads(line) for line in data.splitlines()]
    assert [(item["path"], item["message"]) for item in items] == [
        ("src/bad\\xff\\xfe.py", "cannot read src/bad\\xff\\xfe.py")
    ]


def test_undecodable_name_in_github_annotations() -> None:
    out = github.render(
        [FileResult(UNDECODABLE, (finding(UNDECODABLE, message="in \udcff"),))], report_options()
    )
    assert out.encode("utf-8").startswith(b"::warning file=src/bad\\xff\\xfe.py,line=3,")
    assert out.endswith("::in \\xff\n")


def test_utf8_safe_and_printable_agree_on_undecodable_bytes() -> None:
    assert escape.utf8_safe("a\udc80\udcff\n") == "a\\x80\\xff\n"
    assert escape.printable("a\udc80\udcff\n") == "a\\x80\\xff\\n"
    # A surrogate that stands for no byte (ill-formed UTF-16, from Windows) still escapes.
    assert escape.utf8_safe("\ud800") == "\\ud800"


@given(ANY_STR)
def test_every_string_becomes_valid_utf8(text_value: str) -> None:
    escape.utf8_safe(text_value).encode("utf-8")
    escape.printable(text_value).encode("utf-8")
    json.loads(escape.to_json({text_value: [text_value]}).encode("utf-8"))


# json-lines: one record per line for every line-splitting reader ----------------------


@given(HOSTILE_TEXT, HOSTILE_TEXT)
def test_json_lines_records_survive_any_line_splitter(path: str, message: str) -> None:
    results = [FileResult(path, (finding(path, message=message), finding(path, 9)))]
    out = json_lines.render(results, report_options())
    records = out.splitlines()  # breaks at NEL, U+2028 and the rest, not only "\n"
    assert len(records) == 2
    assert json.loads(records[0])["message"] == message


# github: no path or message can start a command of its own ----------------------------


# A file name of any characters (no separator: the path is shown from the report root).
HOSTILE_NAME = HOSTILE_TEXT.map(lambda name: "src/x" + name.replace("/", "_").replace("\\", "_"))


@given(HOSTILE_NAME, HOSTILE_TEXT)
def test_github_output_is_one_command_per_finding(path: str, message: str) -> None:
    out = github.render([FileResult(path, (finding(path, message=message),))], report_options())
    # The runner reads a line at a time, and a line ends at CR or LF.
    (line,) = re.split("\r\n|\r|\n", out.removesuffix("\n"))
    assert line.startswith("::warning file=")
    head, data = line[2:].split("::", 1)
    properties = dict(item.split("=", 1) for item in head.removeprefix("warning ").split(","))
    assert _unescape(properties["file"]) == path
    assert _unescape(data) == message


def test_messages_on_stderr_cannot_forge_lines(tmp_path: Path) -> None:
    name = "gone.py\nfake.py:1:1: CCL101 forged\x1b[2J"
    done = run(name, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "\\nfake.py:1:1: CCL101 forged\\x1b[2J" in done.stderr
