"""`--output-format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from urllib.parse import quote

from conclint.diagnostics import Diagnostic, FileResult, Severity
from conclint.pages import section
from conclint.report import ReportOptions, RuleInfo
from conclint.report.escape import to_json

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/conclint/conclint"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "conclint/v1"

_PROBLEM_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTE: "recommendation",
}
# Only to show which comment silenced a finding; the engine decides what is suppressed.
_SUPPRESSION_COMMENT = re.compile(r"#\s*(?:noqa|conclint:\s*ignore)\b.*$", re.IGNORECASE)

Json = dict[str, object]
Uri = tuple[str, "str | None"]  # (uri, uriBaseId)
Sortable = tuple[str, int, int, str]


def render(results: Sequence[FileResult], options: ReportOptions) -> str:
    rules = list(options.rules)
    index = {rule.code: position for position, rule in enumerate(rules)}
    found: list[tuple[Sortable, Json]] = []
    notifications: list[tuple[Sortable, Json]] = []
    for result in results:
        uri = artifact_uri(result.path, options.root, options.cwd or options.root)
        if result.failed:
            notifications += [(_order(uri, d), _notification(d, uri)) for d in result.diagnostics]
            continue
        for diagnostic, fingerprint, suppressed in _fingerprinted(result, uri):
            if suppressed and not options.include_suppressed:
                continue
            item = _result(diagnostic, uri, fingerprint, index, result, suppressed)
            found.append((_order(uri, diagnostic), item))
    invocation = {
        "executionSuccessful": True,
        "toolExecutionNotifications": _by_position(notifications),
    }
    run: Json = {
        "tool": {"driver": _driver(rules, options.version)},
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri(options.root)}},
        "invocations": [invocation],
        "results": _by_position(found),
    }
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return to_json(document, indent=2) + "\n"


# Paths ----------------------------------------------------------------------


def root_uri(root: str) -> str:
    """`file://` URI of the (absolute) project root, ending in `/` as SARIF requires of a base."""
    uri = PurePath(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def artifact_uri(path: str, root: str, base: str | None = None) -> Uri:
    """Relative to the root (with `%SRCROOT%`) when the file is inside it, else absolute.

    A relative `path` is taken as relative to `base` (the directory the paths were
    given from; the root when absent): reporters never look at the cwd themselves.
    The URI percent-encodes the file name's bytes (`os.fsencode`), so that a name that
    is not UTF-8 (held as lone surrogates) still names the file: `bad%FF.py`.
    """
    # normpath is string work only: `a/../b` -> `b`, no file system access.
    full = PurePath(os.path.normpath(PurePath(base or root) / path))
    try:
        relative = full.relative_to(root).as_posix()
    except ValueError:
        return full.as_uri(), None
    return quote(os.fsencode(relative), safe="/"), SRCROOT


def _location(uri: Uri, region: Json) -> Json:
    artifact: Json = {"uri": uri[0]}
    if uri[1] is not None:
        artifact["uriBaseId"] = uri[1]
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


# Rules ----------------------------------------------------------------------


def _driver(rules: list[RuleInfo], version: str) -> Json:
    return {
        "name": "conclint",
        "version": version,
        "semanticVersion": version,
        "informationUri": INFORMATION_URI,
        "rules": [_descriptor(rule) for rule in rules],
    }


def _descriptor(rule: RuleInfo) -> Json:
    help_markdown = _page_body(rule.page) or f"{rule.summary}\n\nSee {rule.docs_url}"
    tags = ["concurrency", *([rule.family] if rule.family else []), *rule.tags]
    if rule.preview:
        tags.append("preview")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": section(rule.page, "What it does") or rule.summary},
        "help": {"text": help_markdown, "markdown": help_markdown},
        "helpUri": rule.docs_url,
        "defaultConfiguration": {"level": rule.severity.value},
        "properties": {
            "tags": list(dict.fromkeys(tags))[:20],
            "precision": rule.precision,
            "problem.severity": _PROBLEM_SEVERITY[rule.severity],
        },
    }


def _page_body(page: str) -> str:
    """The page without its `# CCLnnn: name` title, which viewers show already."""
    lines = page.strip().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines).strip()


# Results --------------------------------------------------------------------


def _fingerprinted(result: FileResult, uri: Uri) -> Iterator[tuple[Diagnostic, str, bool]]:
    """Every finding with its fingerprint, suppressed ones included so that the
    occurrence count (and so each fingerprint) does not depend on --sarif-include-suppressed."""
    tagged = [(d, False) for d in result.diagnostics] + [(d, True) for d in result.suppressed]
    tagged.sort(key=lambda item: item[0].sort_key)
    seen: dict[tuple[str, str], int] = {}
    for diagnostic, suppressed in tagged:
        text = " ".join(result.snippets.get(diagnostic.line, "").split())
        occurrence = seen.get((diagnostic.code, text), 0)
        seen[(diagnostic.code, text)] = occurrence + 1
        yield diagnostic, fingerprint(diagnostic.code, uri[0], text, occurrence), suppressed


def fingerprint(code: str, relative_path: str, line_text: str, occurrence: int) -> str:
    """Stable across moves of the code within its file: no line number goes in."""
    key = "\0".join((code, relative_path, line_text, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _region(d: Diagnostic) -> Json:
    # SARIF columns are 1-based; LibCST's are 0-based with an exclusive end: +1 on both.
    return {
        "startLine": d.line,
        "startColumn": d.col + 1,
        "endLine": d.end_line,
        "endColumn": d.end_col + 1,
    }


def _result(
    d: Diagnostic,
    uri: Uri,
    fingerprint_value: str,
    index: dict[str, int],
    result: FileResult,
    suppressed: bool,
) -> Json:
    item: Json = {"ruleId": d.code}
    if d.code in index:
        item["ruleIndex"] = index[d.code]
    item.update(
        {
            "level": d.severity.value,
            "message": {"text": d.message},
            "locations": [_location(uri, _region(d))],
            "partialFingerprints": {FINGERPRINT: fingerprint_value},
        }
    )
    if suppressed:
        suppression: Json = {"kind": "inSource"}
        comment = _SUPPRESSION_COMMENT.search(result.snippets.get(d.line, ""))
        if comment is not None:
            suppression["justification"] = comment.group(0).strip()
        item["suppressions"] = [suppression]
    return item


def _notification(d: Diagnostic, uri: Uri) -> Json:
    region: Json = {"startLine": d.line, "startColumn": d.col + 1}
    return {
        "level": "error",
        "descriptor": {"id": d.code},
        "message": {"text": f"File not analysed: {d.message}"},
        "locations": [_location(uri, region)],
    }


def _order(uri: Uri, d: Diagnostic) -> Sortable:
    return (uri[0], d.line, d.col, d.code)


def _by_position(items: list[tuple[Sortable, Json]]) -> list[Json]:
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]
