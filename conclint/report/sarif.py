"""`--output-format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from urllib.parse import quote, unquote_to_bytes

from conclint.diagnostics import Diagnostic, FileResult, Severity
from conclint.fingerprints import fingerprinted
from conclint.fixes import Fix
from conclint.pages import section
from conclint.report import ReportOptions, RuleInfo
from conclint.report.escape import to_json
from conclint.report.paths import relative_path, shown_path

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
    base = options.cwd or options.root
    for result in results:
        uri = artifact_uri(result.path, options.root, base)
        if result.failed:
            notifications += [(_order(uri, d), _notification(d, uri)) for d in result.diagnostics]
            continue
        path = shown_path(result.path, options.root, base)
        for diagnostic, key, suppressed in fingerprinted(result, path):
            if suppressed and not options.include_suppressed:
                continue
            item = _result(diagnostic, uri, key, index, result, suppressed)
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
    """`file://` URI of the (absolute) report root, ending in `/` as SARIF requires of a base.

    GitHub ignores `uriBaseId` and reads a relative URI as relative to the repository
    root, so the report root is the repository root unless `--report-root` says otherwise.
    """
    uri = PurePath(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def artifact_uri(path: str, root: str, base: str | None = None) -> Uri:
    """Relative to the root (with `%SRCROOT%`) when the file is inside it, else absolute.

    A relative `path` is taken as relative to `base` (the directory the paths were
    given from; the root when absent): reporters never look at the cwd themselves.
    The URI percent-encodes the file name's bytes (`os.fsencode`), so that a name that
    is not UTF-8 (held as lone surrogates) still names the file: `bad%FF.py`.
    """
    relative = relative_path(path, root, base or root)
    if relative is None:
        return PurePath(os.path.normpath(PurePath(base or root) / path)).as_uri(), None
    return quote(os.fsencode(relative), safe="/"), SRCROOT


def _fingerprinted(result: FileResult, uri: Uri) -> Iterator[tuple[Diagnostic, str, bool]]:
    """`fingerprinted` for a caller holding the file's URI rather than its path."""
    text = uri[0] if uri[1] is not None else uri[0].removeprefix("file://")
    return fingerprinted(result, os.fsdecode(unquote_to_bytes(text)))


def _location(uri: Uri, region: Json) -> Json:
    return {"physicalLocation": {"artifactLocation": _artifact(uri), "region": region}}


def _artifact(uri: Uri) -> Json:
    artifact: Json = {"uri": uri[0]}
    if uri[1] is not None:
        artifact["uriBaseId"] = uri[1]
    return artifact


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
    if d.fix is not None:
        item["fixes"] = [_fix(d.fix, uri)]
    if suppressed:
        # A comment on the line silenced it, or something outside the file (the baseline).
        comment = _SUPPRESSION_COMMENT.search(result.snippets.get(d.line, ""))
        suppression: Json = {"kind": "external" if comment is None else "inSource"}
        if comment is not None:
            suppression["justification"] = comment.group(0).strip()
        item["suppressions"] = [suppression]
    return item


def _fix(fix: Fix, uri: Uri) -> Json:
    """The fix as SARIF's replacements in the result's file; `applicability` (a property)
    says whether `--fix` applies it, or only `--unsafe-fixes`."""
    replacements: list[Json] = []
    for edit in fix.edits:
        # 1-based columns, the end exclusive; an insertion deletes an empty region.
        region = {
            "startLine": edit.line,
            "startColumn": edit.col + 1,
            "endLine": edit.end_line,
            "endColumn": edit.end_col + 1,
        }
        replacement: Json = {"deletedRegion": region}
        if edit.content:
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    return {
        "description": {"text": fix.message},
        "artifactChanges": [{"artifactLocation": _artifact(uri), "replacements": replacements}],
        "properties": {"applicability": fix.applicability},
    }


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
