"""The baseline: today's findings, recorded so that a run reports only new ones.

The file is JSON, written sorted and whole so that it can be committed and reviewed:

    {"tool": "conclint", "version": 1, "findings": [
      {"path": "src/app.py", "code": "CCL101", "fingerprint": "9c1f0a2b7d3e4f55",
       "count": 2, "message": "..."}]}

A finding is known by its fingerprint (`conclint.fingerprints`): its code, its file from
the report root, and the text of its line, so it stays known when lines are added above
it, when the file is re-indented or reformatted, or when other code changes. Identical
findings of one file (the same code on identical lines) share an entry and its `count`:
with two in the baseline and three in the code, one is reported (the last in the file).
`message` is there for the reader only.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from conclint.diagnostics import Diagnostic, FileResult
from conclint.fingerprints import fingerprint, line_text
from conclint.report.paths import shown_path

VERSION = 1
_FINGERPRINT_DIGITS = frozenset("0123456789abcdef")

# (path from the report root, code, fingerprint)
Key = tuple[str, str, str]


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the CLI exits 2 with the reason."""


@dataclass(frozen=True)
class Applied:
    results: list[FileResult]
    fixed: int  # findings of the baseline that are gone


def write(file: Path, results: Sequence[FileResult], root: str, base: str) -> int:
    """Record the findings of `results` in `file`; the number of findings recorded.

    An existing file is replaced only when it is a baseline itself: a mistyped name must
    not overwrite the user's pyproject.toml.
    """
    if os.path.lexists(file) and not _is_baseline(file):
        raise BaselineError(
            f"{file} exists and is not a conclint baseline; not overwriting it "
            "(remove it, or choose another name)"
        )
    counts: Counter[Key] = Counter()
    messages: dict[Key, str] = {}
    for result in results:
        path = shown_path(result.path, root, base)
        for diagnostic in result.diagnostics:
            key = _key(path, result, diagnostic)
            counts[key] += 1
            messages.setdefault(key, diagnostic.message)
    findings = [
        {
            "path": path,
            "code": code,
            "fingerprint": key,
            "count": counts[path, code, key],
            "message": messages[path, code, key],
        }
        for path, code, key in sorted(counts)
    ]
    document = {"tool": "conclint", "version": VERSION, "findings": findings}
    # ASCII: a file name that is not UTF-8 (held as lone surrogates) survives the round trip.
    _replace(file, json.dumps(document, indent=2, ensure_ascii=True) + "\n")
    return counts.total()


def load(file: Path) -> Counter[Key]:
    """The findings a baseline file holds, with their counts."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) else "not UTF-8"
        raise BaselineError(f"cannot read baseline {file}: {why or error}") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BaselineError(f"baseline {file} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("tool") != "conclint":
        raise BaselineError(
            f"{file} is not a conclint baseline (write one with --write-baseline {file})"
        )
    if document.get("version") != VERSION:
        raise BaselineError(
            f"baseline {file} has version {document.get('version')!r}; this conclint reads "
            f"version {VERSION} (write it again with --write-baseline {file})"
        )
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"baseline {file}: 'findings' must be a list")
    counts: Counter[Key] = Counter()
    for number, entry in enumerate(findings):
        counts[_entry(entry, f"baseline {file}: finding {number}")] += entry["count"]
    return counts


def apply(baseline: Counter[Key], results: Iterable[FileResult], root: str, base: str) -> Applied:
    """Hold back the findings the baseline knows (they join the file's suppressed
    findings), and count the baseline's findings that are gone: in the files linted, and
    in files that no longer exist."""
    remaining = Counter(baseline)
    kept: list[FileResult] = []
    linted: set[str] = set()
    for result in results:
        path = shown_path(result.path, root, base)
        linted.add(path)
        new: list[Diagnostic] = []
        known: list[Diagnostic] = []
        for diagnostic in result.diagnostics:
            key = _key(path, result, diagnostic)
            if remaining[key] > 0:
                remaining[key] -= 1
                known.append(diagnostic)
            else:
                new.append(diagnostic)
        if known:
            suppressed = sorted((*result.suppressed, *known), key=lambda d: d.sort_key)
            result = replace(result, diagnostics=tuple(new), suppressed=tuple(suppressed))
        kept.append(result)
    fixed = sum(
        count
        for (path, _, _), count in remaining.items()
        if count > 0 and (path in linted or not os.path.lexists(os.path.join(root, path)))
    )
    return Applied(kept, fixed)


def _is_baseline(file: Path) -> bool:
    """Is `file` a baseline of any version (one this conclint may replace)?"""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("tool") == "conclint"


def _key(path: str, result: FileResult, diagnostic: Diagnostic) -> Key:
    code = diagnostic.code
    return path, code, fingerprint(code, path, line_text(result, diagnostic))


def _entry(entry: object, where: str) -> Key:
    if not isinstance(entry, dict):
        raise BaselineError(f"{where} must be an object")
    for name in ("path", "code", "fingerprint"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise BaselineError(f"{where}: '{name}' must be a non-empty string")
    count = entry.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise BaselineError(f"{where}: 'count' must be a positive integer, not {count!r}")
    key = entry["fingerprint"]
    if len(key) != 16 or not set(key) <= _FINGERPRINT_DIGITS:
        raise BaselineError(f"{where}: 'fingerprint' must be 16 hex digits, not {key!r}")
    return entry["path"], entry["code"], key


def _replace(file: Path, text: str) -> None:
    """Write `text` to a file beside `file`, then rename it over `file`: a reader never
    sees half a baseline."""
    partial = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, file)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise BaselineError(f"cannot write baseline {file}: {error.strerror or error}") from None
