"""Persistent results per file, keyed by content, path, settings and version.

Entries are JSON (never pickle: a cache directory is not trusted to run code),
written to a temporary file and renamed into place, so concurrent runs and
interrupted writes leave either a whole entry or none. A corrupt, foreign or
unreadable entry is a miss; an unwritable cache directory turns the cache off
for the run with one warning. Nothing read from an entry is trusted: its shape
and every value's type are checked before use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from conclint import __version__
from conclint.analysis.project import ModuleFacts, SyntaxProblem
from conclint.config import Settings
from conclint.diagnostics import Diagnostic, FileResult, Severity

DIRECTORY_NAME = ".conclint_cache"
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by conclint.\n"
)
_FORMAT = 3
_FACTS_KEY = f"facts\0{_FORMAT}\0{__version__}\0"
# Anything that reading or decoding an untrusted entry can raise: each means "lint again".
_BAD_ENTRY = (OSError, ValueError, LookupError, TypeError, AttributeError, RecursionError)


def default_dir(root: Path) -> Path:
    return Path(os.environ.get("CONCLINT_CACHE_DIR") or root / DIRECTORY_NAME)


class Cache:
    def __init__(self, directory: Path, settings: Settings, extra_key: str = "") -> None:
        self.directory = directory / __version__
        self._settings_key = hashlib.sha256(
            repr((_FORMAT, __version__, settings.options_key(), extra_key)).encode()
        ).hexdigest()
        self.enabled = True

    def key(self, path: str, content: bytes) -> str:
        """The key of a file's results; `content` is `content_digest` of its bytes."""
        return _key(self._settings_key, path, content)

    def load_facts(self, path: str, content: bytes) -> ModuleFacts | None:
        """The project-index facts of a file, which depend on nothing but its path and bytes."""
        if not self.enabled:
            return None
        try:
            raw = _read(self._entry(_key(_FACTS_KEY, path, content)))
            return ModuleFacts(
                _strings(raw["async"]),
                _strings(raw["endless"]),
                _pairs(raw["reexports"]),
                _pairs(raw["blocking"]),
                _pairs(raw["calls"]),
                _syntax_problem(raw["syntax"]),
            )
        except _BAD_ENTRY:
            return None

    def store_facts(self, path: str, content: bytes, facts: ModuleFacts) -> None:
        raw = {
            "async": facts.async_functions,
            "endless": facts.endless,
            "reexports": facts.reexports,
            "blocking": facts.blocking,
            "calls": facts.calls,
            "syntax": facts.syntax_error,
        }
        self._write(_key(_FACTS_KEY, path, content), raw)

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def load(self, key: str, path: str) -> FileResult | None:
        if not self.enabled:
            return None
        try:
            return _result_from_json(_read(self._entry(key)), path)
        except _BAD_ENTRY:
            return None  # missing, truncated, garbage or foreign: lint again

    def store(self, key: str, result: FileResult) -> None:
        self._write(key, _result_to_json(result))

    def _write(self, key: str, raw: object) -> None:
        if not self.enabled:
            return
        entry = self._entry(key)
        try:
            _prepare(self.directory.parent)
            entry.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(raw, out)
            os.replace(temporary, entry)
        except OSError as error:
            self.enabled = False
            _warn(entry.parent, error)


def usable_dir(directory: str | None) -> str | None:
    """`directory` when a cache can be written there, else None after one warning.

    Checked once per run, before any worker starts, so that a read-only cache
    gives one warning rather than one per worker and chunk.
    """
    if directory is None:
        return None
    base = Path(directory)
    try:
        _prepare(base)
        (base / __version__).mkdir(exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=base / __version__, suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        _warn(base, error)
        return None
    return directory


_warned = False


def _warn(directory: Path, error: OSError) -> None:
    global _warned
    if not _warned:
        _warned = True
        reason = error.strerror or str(error)
        print(
            f"conclint: warning: cache disabled, cannot write {directory}: {reason}",
            file=sys.stderr,
        )


def _read(entry: Path) -> dict[str, Any]:
    raw = json.loads(entry.read_bytes().decode("utf-8"))
    if not isinstance(raw, dict):
        raise TypeError("a cache entry is a JSON object")
    return raw


def _list(value: object, item_type: type) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(item, item_type) for item in value):
        raise TypeError(f"expected a list of {item_type.__name__}")
    return value


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    return tuple((first, second) for first, second in map(_strings, _list(value, list)))


def _syntax_problem(value: object) -> SyntaxProblem | None:
    if value is None:
        return None
    line, column, message = _list(value, object)
    if type(line) is not int or type(column) is not int or not isinstance(message, str):
        raise TypeError("a syntax error is [line, column, message]")
    return line, column, message


def _strings(value: object) -> tuple[str, ...]:
    return tuple(_list(value, str))


def content_digest(data: bytes) -> bytes:
    """A file's bytes, hashed once per run for both of its keys."""
    return hashlib.sha256(data).digest()


def _key(prefix: str, path: str, content: bytes) -> str:
    digest = hashlib.sha256(prefix.encode())
    digest.update(os.path.normpath(path).encode("utf-8", "surrogateescape"))
    digest.update(b"\0")
    digest.update(content)
    return digest.hexdigest()


def _prepare(base: Path) -> None:
    """Mark the directory as a cache (backup tools skip it; git ignores it)."""
    base.mkdir(parents=True, exist_ok=True)
    tag = base / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(_TAG, encoding="utf-8")
        (base / ".gitignore").write_text("*\n", encoding="utf-8")


def clean(directory: Path) -> str | None:
    """Remove a cache directory, but only one that carries our tag."""
    if not (directory / "CACHEDIR.TAG").is_file():
        return None
    shutil.rmtree(directory, ignore_errors=True)
    return str(directory)


def _result_to_json(result: FileResult) -> dict[str, object]:
    def rows(diagnostics: tuple[Diagnostic, ...]) -> list[list[object]]:
        return [
            [d.line, d.col, d.end_line, d.end_col, d.code, d.name, d.message, d.severity.value]
            for d in diagnostics
        ]

    return {
        "version": __version__,
        "diagnostics": rows(result.diagnostics),
        "suppressed": rows(result.suppressed),
        "failed": result.failed,
        "snippets": {str(line): text for line, text in result.snippets.items()},
    }


def _result_from_json(raw: dict[str, Any], path: str) -> FileResult:
    if raw.get("version") != __version__:
        raise ValueError("entry of another version")

    def diagnostics(rows: object) -> tuple[Diagnostic, ...]:
        return tuple(_diagnostic(path, row) for row in _list(rows, list))

    snippets = raw["snippets"]
    failed = raw["failed"]
    if not isinstance(snippets, dict) or not isinstance(failed, bool):
        raise TypeError("malformed entry")
    if not all(isinstance(text, str) for text in snippets.values()):
        raise TypeError("malformed snippets")
    return FileResult(
        path,
        diagnostics(raw["diagnostics"]),
        diagnostics(raw["suppressed"]),
        failed=failed,
        snippets={int(line): text for line, text in snippets.items()},
    )


def _diagnostic(path: str, row: list[Any]) -> Diagnostic:
    line, col, end_line, end_col, code, name, message, severity = row
    if not all(type(n) is int and n >= 0 for n in (line, col, end_line, end_col)):
        raise TypeError("positions are non-negative integers")
    if not all(isinstance(text, str) for text in (code, name, message)):
        raise TypeError("code, name and message are strings")
    return Diagnostic(path, line, col, end_line, end_col, code, name, message, Severity(severity))
