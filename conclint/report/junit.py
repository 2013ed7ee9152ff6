"""`--output-format junit`: JUnit XML, for CI systems that show test reports (GitLab, Jenkins,
Azure Pipelines, CircleCI).

One `<testsuite>` per file with findings and one failing `<testcase>` per finding; a file that
could not be analysed (CCL001, CCL002) is an `<error>` rather than a `<failure>`. A clean run
is one passing test case, so that consumers see a report rather than an empty one. The
counts on `<testsuites>` and `<testsuite>` are the ones JUnit consumers read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePath

from conclint.diagnostics import Diagnostic, FileResult
from conclint.report import ReportOptions
from conclint.report.escape import printable

# What XML 1.0 cannot hold at all, beyond the controls `printable` escapes already.
_NOT_XML = re.compile("[\ufffe\uffff]")


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    root = ET.Element("testsuites", name="conclint")
    for result in results:
        if result.diagnostics:
            root.append(_suite(result))
    if len(root) == 0:
        suite = ET.SubElement(root, "testsuite", name="conclint")
        ET.SubElement(suite, "testcase", name="no findings", classname="conclint")
    for element in (root, *root):
        cases = list(element.iter("testcase"))
        element.set("tests", str(len(cases)))
        element.set("failures", str(sum(case.find("failure") is not None for case in cases)))
        element.set("errors", str(sum(case.find("error") is not None for case in cases)))
        element.set("skipped", "0")
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(result: FileResult) -> ET.Element:
    path = _xml(result.path)
    suite = ET.Element("testsuite", name=path)
    # JUnit's class of a test: the file without its suffix, as ruff writes it.
    file = PurePath(result.path)
    classname = _xml(str(file.with_suffix("") if file.name else file)) if result.path else path
    for d in result.diagnostics:
        suite.append(_case(d, classname, path, error=result.failed))
    return suite


def _case(d: Diagnostic, classname: str, path: str, *, error: bool) -> ET.Element:
    code, message = _xml(d.code), _xml(d.message)
    case = ET.Element(
        "testcase",
        name=f"{code} {_xml(d.name)} at {d.line}:{d.col + 1}",
        classname=classname,
        file=path,
        line=str(d.line),
        column=str(d.col + 1),
    )
    outcome = ET.SubElement(case, "error" if error else "failure", message=message, type=code)
    outcome.text = f"{path}:{d.line}:{d.col + 1}: {code} {message}"
    return case


def _xml(text: str) -> str:
    """Text that XML 1.0 can carry and a report viewer shows as it is (no controls)."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", printable(text))
