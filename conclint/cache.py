"""The persistent cache: what the last runs found, per project, settings and file.

One store file per project root and settings (`<dir>/<version>/<root>-<settings>.json`)
maps each file's root-relative path to its content digest, module name and results,
so no result can be served for another project, path or configuration. A run
reads its store once and writes it once, atomically, keeping only files that still
exist: the cache is bounded by the tree, not by its history. Entries are JSON
(never pickle: a cache directory is not trusted to run code), and nothing read
from one is trusted: its shape and every value's type are checked before use.

The cache directory is ours only when we made it: an existing directory is used
only when it carries our signature or is empty, and never when it is the project
itself or holds it. `clean` removes only a directory that is signed and holds
nothing but files of ours.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from conclint import __version__
from conclint.analysis.project import ModuleFacts, SyntaxProblem
from conclint.config import ConfigError, Settings
from conclint.diagnostics import Diagnostic, FileResult, Severity
from conclint.files import read_regular_file
from conclint.fixes import fix_from_json, fix_to_json
from conclint.report.escape import printable

DIRECTORY_NAME = ".conclint_cache"
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by conclint.\n"
)
_GITIGNORE = "*\n"
_FORMAT = 27
# Store files of other settings kept per project (a pre-commit hook and a full run, say).
_SETTINGS_KEPT = 4
# Snapshots kept in a store (see `Store.snapshot`): the projects of a few runs.
_SNAPSHOTS_KEPT = 8
# A store is a JSON file of one project; past this it is not ours, or not sane.
_MAX_STORE_BYTES = 512 * 1024 * 1024
# Anything that reading or decoding an untrusted entry can raise: each means "lint again".
_BAD_ENTRY = (OSError, ValueError, LookupError, TypeError, AttributeError, RecursionError)
# Names conclint writes inside a cache directory: version folders, and in them stores
# (`*.json`), temporary files (`*.tmp`) and the entry folders of older formats.
_VERSION_FOLDER = re.compile(r"\d+\.\d+[0-9A-Za-z.+-]*")
_OUR_FILE = re.compile(r"[0-9a-z_-]+\.(json|tmp)")
_ENTRY_FOLDER = re.compile(r"[0-9a-f]{2}")


class UnsafeCacheDir(ConfigError):
    """A cache directory that would overlap the project or files that are not ours."""


def resolve_dir(flag: str | None, settings: Settings) -> Path:
    """The cache directory of a run: the flag or CONCLINT_CACHE_DIR (from the working
    directory), `cache-dir` from the configuration (from its project root), or
    `.conclint_cache` in the project root."""
    chosen = flag or os.environ.get("CONCLINT_CACHE_DIR")
    if chosen:
        return Path(chosen)
    return Path(settings.root, settings.cache_dir or DIRECTORY_NAME)


def check_dir(directory: Path, root: Path) -> None:
    """Refuse, with the reason, a cache directory that is the project, holds it, or
    holds files that conclint did not write; an empty or missing one is fine."""
    real, real_root = directory.resolve(), root.resolve()
    if real == real_root or real in real_root.parents:
        raise UnsafeCacheDir(
            f"cache directory {directory} is the project or contains it; "
            "choose a directory of its own, such as .conclint_cache"
        )
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise UnsafeCacheDir(f"cache directory {directory} is not a directory")
    if directory.is_dir() and not _is_signed(directory) and any(directory.iterdir()):
        raise UnsafeCacheDir(
            f"cache directory {directory} holds files that conclint did not write; "
            "choose an empty or new directory"
        )


def clean(directory: Path, root: Path) -> bool:
    """Remove a cache directory that conclint made; False when there is none.
    Refuses (UnsafeCacheDir) one that is not signed or holds anything not ours."""
    if not directory.exists() and not directory.is_symlink():
        return False
    check_dir(directory, root)
    if not _is_signed(directory):
        raise UnsafeCacheDir(f"{directory} is not a conclint cache (no signed CACHEDIR.TAG)")
    foreign = _foreign_entries(directory)
    if foreign:
        raise UnsafeCacheDir(
            f"{directory} holds files that conclint did not write ({foreign[0]}); not removed"
        )
    shutil.rmtree(directory)
    return True


def _is_signed(directory: Path) -> bool:
    try:
        return read_regular_file(directory / "CACHEDIR.TAG", len(_TAG)) == _TAG.encode()
    except OSError:
        return False


def _foreign_entries(directory: Path) -> list[Path]:
    """Everything in a signed cache directory that conclint does not write."""
    foreign = []
    for entry in directory.iterdir():
        if entry.name in ("CACHEDIR.TAG", ".gitignore") and _is_plain_file(entry):
            continue
        if _VERSION_FOLDER.fullmatch(entry.name) and _is_plain_dir(entry):
            foreign += _foreign_in_version(entry)
        else:
            foreign.append(entry)
    return foreign


def _foreign_in_version(folder: Path) -> list[Path]:
    foreign = []
    for entry in folder.iterdir():
        if _OUR_FILE.fullmatch(entry.name) and _is_plain_file(entry):
            continue
        if _ENTRY_FOLDER.fullmatch(entry.name) and _is_plain_dir(entry):
            foreign += [
                inner
                for inner in entry.iterdir()
                if not (_OUR_FILE.fullmatch(inner.name) and _is_plain_file(inner))
            ]
        else:
            foreign.append(entry)
    return foreign


def _is_plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _is_plain_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


@dataclass(frozen=True)
class Entry:
    """What the cache knows of one file."""

    digest: str  # of its bytes
    module: str | None  # its module name, which depends on the `__init__.py` around it
    facts: ModuleFacts | None = None
    project: str = ""  # the project index digest its result was linted with
    result: FileResult | None = None

    @property
    def key(self) -> tuple[str, str | None, str]:
        return self.digest, self.module, self.project


class Store:
    """One run's cache: read once when the run starts, written once when it ends."""

    def __init__(self, directory: Path, root: Path, settings: Settings) -> None:
        self.root = root.resolve()
        self._root_prefix = os.path.join(str(self.root), "")
        self._relative: dict[str, str] = {}
        self.folder = directory / __version__
        settings_key = _hash(repr((_FORMAT, settings.options_key())))
        self.prefix = hashlib.sha256(os.fsencode(self.root)).hexdigest()[:16]
        self.file = self.folder / f"{self.prefix}-{settings_key[:16]}.json"
        self.enabled = True
        # Each file's entry as read, checked only when asked for: a run over a large tree
        # asks for many, but a run over a few files should not pay for all of them.
        self._raw: dict[str, Any] = {}
        # What runs keep beside the entries, by name (see `snapshot`), as read.
        self._snapshots: dict[str, Any] = {}
        self._load()
        self._checked: dict[str, Entry | None] = {}
        self._new: dict[str, Entry] = {}
        self._new_snapshots: dict[str, Any] = {}

    @classmethod
    def open(cls, directory: Path, settings: Settings) -> Store:
        """The store of `settings`' project in `directory`, which is checked first."""
        root = Path(settings.root)
        check_dir(directory, root)
        return cls(directory, root, settings)

    def relative(self, path: str) -> str:
        """`path` from the project root: the key of its entry (asked several times a file)."""
        found = self._relative.get(path)
        if found is None:
            absolute = os.path.abspath(path)
            inside = absolute.startswith(self._root_prefix)
            found = (
                absolute[len(self._root_prefix) :]
                if inside
                else os.path.relpath(absolute, self.root)
            )
            self._relative[path] = found
        return found

    def _old(self, relative: str) -> Entry | None:
        if relative not in self._checked:
            try:
                raw = self._raw.get(relative)
                self._checked[relative] = None if raw is None else _entry_from_json(raw)
            except _BAD_ENTRY:
                self._checked[relative] = None  # one bad entry costs one file
        return self._checked[relative]

    def facts(self, path: str, digest: str, module: str | None) -> ModuleFacts | None:
        entry = self._old(self.relative(path))
        if entry is None or (entry.digest, entry.module) != (digest, module):
            return None
        return entry.facts

    def result(self, path: str, digest: str, module: str | None, project: str) -> FileResult | None:
        entry = self._old(self.relative(path))
        if entry is None or (entry.digest, entry.module, entry.project) != (
            digest,
            module,
            project,
        ):
            return None
        if entry.result is None:
            return None
        return _shown_as(entry.result, path)

    def snapshot(self, name: str) -> Any:
        """What a run kept under `name` (`project_files` keeps what a walk of a directory
        found): JSON as read, untrusted, for the caller to check; None when there is none."""
        if name in self._new_snapshots:
            return self._new_snapshots[name]
        return self._snapshots.get(name)

    def keep(self, name: str, snapshot: Any) -> None:
        """Keep `snapshot` (plain JSON data) under `name` when the store is saved; the
        most recently kept are saved, a few at most."""
        self._new_snapshots[name] = snapshot

    def put(self, path: str, entry: Entry) -> None:
        if entry.result is not None:  # kept without the name this run shows it by
            entry = replace(entry, result=_shown_as(entry.result, ""))
        self._new[self.relative(path)] = entry

    def save(self) -> None:
        """Write this run's entries, and the old ones of files that still exist."""
        if not self.enabled:
            return
        snapshots = {**self._new_snapshots}
        for name, snapshot in self._snapshots.items():
            if len(snapshots) < _SNAPSHOTS_KEPT:
                snapshots.setdefault(name, snapshot)
        learnt = any(self._old(relative) != entry for relative, entry in self._new.items())
        if not learnt and snapshots == self._snapshots:
            # Every result was read: nothing to write. (The entries of files gone are
            # dropped by the next write; looking for them in a large tree costs more.)
            return
        files = {
            relative: raw
            for relative, raw in self._raw.items()
            if relative not in self._new and os.path.isfile(self.root / relative)
        }
        files.update((relative, _entry_to_json(entry)) for relative, entry in self._new.items())
        raw = {"root": str(self.root), "files": files, "snapshots": snapshots}
        try:
            _prepare(self.folder.parent)
            self.folder.mkdir(exist_ok=True)
            _write_atomically(self.file, json.dumps(raw, sort_keys=True))
            _evict(self.folder, self.prefix, self.file)
        except OSError as error:
            self.enabled = False
            _warn(self.folder, error)

    def _load(self) -> None:
        try:
            raw = json.loads(read_regular_file(self.file, _MAX_STORE_BYTES).decode("utf-8"))
            if not isinstance(raw, dict) or raw.get("root") != str(self.root):
                return
            files, snapshots = raw["files"], raw.get("snapshots")
            self._raw = files if isinstance(files, dict) else {}
            self._snapshots = snapshots if isinstance(snapshots, dict) else {}
        except _BAD_ENTRY:
            return  # missing, truncated, garbage or foreign: lint again


def _prepare(base: Path) -> None:
    """Make the directory ours: the tag marks it (backup tools skip it) and a
    `.gitignore` keeps it out of git; neither ever replaces a file that exists."""
    base.mkdir(parents=True, exist_ok=True)
    if not _is_signed(base):
        if any(entry.name != "CACHEDIR.TAG" for entry in base.iterdir()):
            raise OSError(f"{base} holds files that conclint did not write")
        _create(base / "CACHEDIR.TAG", _TAG)
    _create(base / ".gitignore", _GITIGNORE)


def _create(path: Path, text: str) -> None:
    try:
        with open(path, "x", encoding="utf-8") as out:  # "x": never over a file
            out.write(text)
    except FileExistsError:
        pass  # another run made it, or the user did: either way it stays


def _write_atomically(target: Path, text: str) -> None:
    """Write then rename: a reader sees the whole old file or the whole new one; a
    failed write (a full disk) leaves nothing behind."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _evict(folder: Path, prefix: str, current: Path) -> None:
    """Keep the most recent stores of this project's other settings; drop the rest,
    and the folders of other conclint versions (the whole directory is ours)."""
    stores = sorted(
        (entry for entry in folder.glob(f"{prefix}-*.json") if entry != current),
        key=_modified,
        reverse=True,
    )
    for stale in stores[_SETTINGS_KEPT - 1 :]:
        stale.unlink(missing_ok=True)
    for other in folder.parent.iterdir():
        if (
            other != folder
            and _VERSION_FOLDER.fullmatch(other.name)
            and _is_plain_dir(other)
            and not _foreign_in_version(other)
        ):
            shutil.rmtree(other, ignore_errors=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


_warned = False


def _warn(directory: Path, error: OSError) -> None:
    global _warned
    if not _warned:
        _warned = True
        reason = error.strerror or str(error)
        message = f"conclint: warning: cache disabled, cannot write {directory}: {reason}"
        print(printable(message), file=sys.stderr)


def content_digest(data: bytes) -> str:
    """A file's bytes, hashed once per run for every lookup."""
    return hashlib.sha256(data).hexdigest()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _shown_as(result: FileResult, path: str) -> FileResult:
    """A cached result under the name this run gives its file."""
    return FileResult(
        path,
        tuple(replace(d, path=path) for d in result.diagnostics),
        tuple(replace(d, path=path) for d in result.suppressed),
        failed=result.failed,
        snippets=result.snippets,
    )


# JSON shapes ------------------------------------------------------------------


def _entry_to_json(entry: Entry) -> dict[str, object]:
    return {
        "digest": entry.digest,
        "module": entry.module,
        "facts": _facts_to_json(entry.facts) if entry.facts is not None else None,
        "project": entry.project,
        "result": _result_to_json(entry.result) if entry.result is not None else None,
    }


def _entry_from_json(raw: object) -> Entry:
    if not isinstance(raw, dict):
        raise TypeError("an entry is a JSON object")
    digest, module, project = raw["digest"], raw["module"], raw["project"]
    if not isinstance(digest, str) or not isinstance(project, str):
        raise TypeError("digests are strings")
    if module is not None and not isinstance(module, str):
        raise TypeError("a module name is a string")
    facts = _facts_from_json(raw["facts"]) if raw["facts"] is not None else None
    result = _result_from_json(raw["result"]) if raw["result"] is not None else None
    return Entry(digest, module, facts, project, result)


def _facts_to_json(facts: ModuleFacts) -> dict[str, object]:
    return {
        "async": facts.async_functions,
        "endless": facts.endless,
        "reexports": facts.reexports,
        "blocking": facts.blocking,
        "syntax": facts.syntax_error,
        "declared": facts.declared_json,
        "mentions": facts.mentions,
        "ending": facts.ending,
        "bases": facts.bases,
        "imports": facts.imports,
    }


def _facts_from_json(raw: object) -> ModuleFacts:
    if not isinstance(raw, dict):
        raise TypeError("facts are a JSON object")
    return ModuleFacts(
        _strings(raw["async"]),
        _strings(raw["endless"]),
        _pairs(raw["reexports"]),
        _pairs(raw["blocking"]),
        _syntax_problem(raw["syntax"]),
        declared_json=_string(raw["declared"]),
        mentions=_strings(raw["mentions"]),
        ending=_strings(raw["ending"]),
        bases=_pairs(raw["bases"]),
        imports=_strings(raw["imports"]),
    )


def _result_to_json(result: FileResult) -> dict[str, object]:
    def rows(diagnostics: Iterable[Diagnostic]) -> list[list[object]]:
        return [
            [
                *(d.line, d.col, d.end_line, d.end_col, d.code, d.name, d.message),
                d.severity.value,
                *([fix_to_json(d.fix)] if d.fix else []),
            ]
            for d in diagnostics
        ]

    return {
        "diagnostics": rows(result.diagnostics),
        "suppressed": rows(result.suppressed),
        "failed": result.failed,
        "snippets": {str(line): text for line, text in result.snippets.items()},
    }


def _result_from_json(raw: object) -> FileResult:
    if not isinstance(raw, dict):
        raise TypeError("a result is a JSON object")

    def diagnostics(rows: object) -> tuple[Diagnostic, ...]:
        return tuple(_diagnostic(row) for row in _list(rows, list))

    snippets = raw["snippets"]
    failed = raw["failed"]
    if not isinstance(snippets, dict) or not isinstance(failed, bool):
        raise TypeError("malformed entry")
    if not all(isinstance(text, str) for text in snippets.values()):
        raise TypeError("malformed snippets")
    return FileResult(
        "",
        diagnostics(raw["diagnostics"]),
        diagnostics(raw["suppressed"]),
        failed=failed,
        snippets={int(line): text for line, text in snippets.items()},
    )


def _diagnostic(row: list[Any]) -> Diagnostic:
    # The fix, last, is absent from the rows of findings that have none.
    line, col, end_line, end_col, code, name, message, severity, *fix = row
    if len(fix) > 1:
        raise TypeError("a finding is a row of nine values at most")
    if not all(type(n) is int and n >= 0 for n in (line, col, end_line, end_col)):
        raise TypeError("positions are non-negative integers")
    if not all(isinstance(text, str) for text in (code, name, message)):
        raise TypeError("code, name and message are strings")
    where = (line, col, end_line, end_col)
    fixed = fix_from_json(fix[0]) if fix else None
    return Diagnostic("", *where, code, name, message, Severity(severity), fixed)


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


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value
