"""Fingerprints of findings: the same finding keeps its fingerprint when code moves.

SARIF's `partialFingerprints` and the baseline both use them. No line number goes in: a
finding is its code, its file (relative to the report root) and the text of its line,
whitespace and the kind of quotes aside, so lines added above, re-indentation,
reformatting and edits elsewhere leave it alone. Identical lines with the same code
are told apart by their occurrence: the first is 0, the next 1, in the order of the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from conclint.diagnostics import Diagnostic, FileResult


@dataclass(frozen=True, slots=True)
class Occurrence:
    diagnostic: Diagnostic
    text: str  # the reported line, normalised by `line_text`
    occurrence: int  # how many findings of this code on identical lines come before it
    suppressed: bool


def occurrences(result: FileResult) -> Iterator[Occurrence]:
    """Every finding of the file in order, suppressed ones included, so that a finding's
    occurrence does not depend on which others are shown."""
    tagged = [(d, False) for d in result.diagnostics] + [(d, True) for d in result.suppressed]
    tagged.sort(key=lambda item: item[0].sort_key)
    seen: dict[tuple[str, str], int] = {}
    for diagnostic, suppressed in tagged:
        text = line_text(result, diagnostic)
        occurrence = seen.get((diagnostic.code, text), 0)
        seen[(diagnostic.code, text)] = occurrence + 1
        yield Occurrence(diagnostic, text, occurrence, suppressed)


def fingerprinted(result: FileResult, path: str) -> Iterator[tuple[Diagnostic, str, bool]]:
    """Every finding of the file with its fingerprint and whether it is suppressed; `path`
    is the file's path from the report root (`conclint.report.paths.shown_path`)."""
    for found in occurrences(result):
        key = fingerprint(found.diagnostic.code, path, found.text, found.occurrence)
        yield found.diagnostic, key, found.suppressed


def line_text(result: FileResult, diagnostic: Diagnostic) -> str:
    """The reported line as formatters leave it alone: without whitespace, and with one
    kind of quote (black and ruff format change both; they change no code)."""
    return "".join(result.snippets.get(diagnostic.line, "").split()).replace("'", '"')


def fingerprint(code: str, relative_path: str, text: str, occurrence: int = 0) -> str:
    """16 hex digits. `relative_path` is the file's path from the report root (`/` between
    names), or its absolute path for a file outside it."""
    key = "\0".join((code, relative_path, text, str(occurrence)))
    # surrogatepass: a file name that is not UTF-8 holds lone surrogates, and hashes too.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
