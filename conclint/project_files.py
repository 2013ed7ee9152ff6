"""The project a file belongs to, and the files its index is built from.

A file's project root is the nearest directory above it that holds a
`pyproject.toml`, a `setup.cfg` or `.git`, whether it configures conclint or not.
The index of a file spans what `conclint <root>` would lint (discovery from the
root: the configuration's excludes and `.gitignore` apply), of the file's own
configuration (as `runner.group_by_settings` groups files) and root (a project
nested in another, with a root of its own, is not part of it): so the index of a
file, and its findings, are the same whichever paths a run names and whichever
front end (the CLI, flake8, pylint) runs.

A file that the root's discovery leaves out (one in an excluded directory, named on
the command line) is indexed with the files of its import root too: the directory
its top-level package (or the module itself) sits in, as `conclint <that directory>`
would lint it. Modules there import each other by the names the index gives them.

A file with no root above it belongs to no project: it is indexed with the other
files of its configuration that the run names (alone, when it is named alone).

With a cache, what a walk found is kept in the store (`Store.keep`): the files, the
modification times of the directories walked (a file added, removed or renamed
changes its directory's) and the signatures of the `.gitignore` and config files
that shaped it; and each file's content digest with the signature of the file it was
taken of. A later run stats instead of walking and reads only the files whose
signature changed: a project of thousands of files costs a few milliseconds. What
changed within the clock's resolution of the walk is not trusted (walked again).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conclint.analysis.project import module_name
from conclint.cache import Store, content_digest
from conclint.config import Resolver, Settings
from conclint.discovery import discover
from conclint.files import MAX_SOURCE_BYTES, read_regular_file

# What marks the root of a project, configured for conclint or not.
ROOT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")
# Files whose content shapes a walk: what is ignored, and what is configured where.
_WALK_CONFIGS = (".gitignore", "pyproject.toml")
# A signature taken this close to a change may not show the next one (coarse clocks).
_SETTLED_NS = 2_000_000_000

SettingsKey = tuple[str, str | None, Settings]
Signature = tuple[int, int, int, int]  # size, modified, changed (ns), inode


def settings_key(settings: Settings) -> SettingsKey:
    """Settings compare without their origin: two config files with the same keys are
    two configurations all the same (their excludes and cache are relative to each)."""
    return settings.root, settings.config_file, settings


@dataclass(frozen=True)
class ProjectKey:
    """One project index: a root, the import root of a file its discovery leaves out
    (or None), and a configuration."""

    root: str
    extra: str | None
    settings: SettingsKey


@dataclass
class _Walk:
    """The files a walk of one directory found, and what it knew of each file's content."""

    files: frozenset[str]  # absolute
    signed: dict[str, tuple[Signature, str]]  # absolute path -> signature, digest
    store: Store | None = None
    snapshot: dict[str, Any] | None = None  # to keep, where it may be trusted
    changed: bool = False


class Projects:
    """The projects of one run (or of one plugin process): each file's root, and the
    files each root's discovery keeps, walked once (or read from the store of the
    settings, `stores`, when nothing has changed since)."""

    def __init__(
        self, resolver: Resolver, stores: Callable[[Settings], Store | None] | None = None
    ) -> None:
        self.resolver = resolver
        self._stores = stores
        self._roots: dict[str, str | None] = {}
        self._walks: dict[str, _Walk] = {}
        self._members: dict[ProjectKey, list[str]] = {}
        self._views: dict[int, str] = {}

    def root_of(self, path: str) -> str | None:
        """The nearest directory above `path` holding a root marker (None: no project)."""
        passed = []
        found: str | None = None
        current = os.path.dirname(os.path.abspath(path))
        while True:
            if current in self._roots:
                found = self._roots[current]
                break
            passed.append(current)
            if any(os.path.exists(os.path.join(current, marker)) for marker in ROOT_MARKERS):
                found = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for directory in passed:
            self._roots[directory] = found
        return found

    def key_of(self, path: str, settings: Settings | None = None) -> ProjectKey | None:
        """The project whose index `path` is linted with (`settings`: its own, when the
        caller has them); None for a file outside any project."""
        root = self.root_of(path)
        if root is None:
            return None
        own = settings or self.resolver.settings_for(path)
        absolute = os.path.abspath(path)
        extra = None
        if absolute not in self._walk(root, own).files:
            extra = _import_root(absolute)
            inside = extra.startswith(os.path.join(root, ""))
            if not inside or self._walk(extra, own).files <= self._walk(root, own).files:
                extra = None  # nothing the root's files lack (or outside the project)
        return ProjectKey(root, extra, settings_key(own))

    def members(self, key: ProjectKey) -> list[str]:
        """The files (absolute, sorted) the project's index is built from."""
        found = self._members.get(key)
        if found is None:
            settings = key.settings[2]
            files = set(self._walk(key.root, settings).files)
            if key.extra is not None:
                files |= self._walk(key.extra, settings).files
            ours: dict[str, bool] = {}  # by directory: its files share root and settings
            for path in files:
                directory = os.path.dirname(path)
                if directory not in ours:
                    own = settings_key(self.resolver.settings_in(directory))
                    ours[directory] = own == key.settings and self.root_of(path) == key.root
            found = self._members[key] = sorted(
                path for path in files if ours[os.path.dirname(path)]
            )
        return found

    def digest_of(self, path: str) -> str | None:
        """The content digest of a file (None when it cannot be read): from what a walk
        knew of it when its signature is unchanged, else read and hashed."""
        absolute = os.path.abspath(path)
        walks = [walk for walk in self._walks.values() if absolute in walk.files]
        try:
            signature = _signature(os.stat(absolute))
        except OSError:
            return None
        for walk in walks:
            known = walk.signed.get(absolute)
            if known is not None and known[0] == signature:
                return known[1]
        try:
            digest = content_digest(read_regular_file(path, MAX_SOURCE_BYTES))
        except OSError:
            return None  # the lint pass reports it
        if _settled(signature):
            for walk in walks:
                walk.signed[absolute] = (signature, digest)
                walk.changed = True
        return digest

    def keep(self) -> None:
        """Put what the walks found and learnt into their stores (saved by the caller)."""
        for directory, walk in self._walks.items():
            if walk.store is None or walk.snapshot is None:
                continue
            if walk.changed:  # a new dict: the store compares it with the one it read
                files = {
                    os.path.relpath(path, directory): _signed_json(walk.signed.get(path))
                    for path in sorted(walk.files)
                }
                walk.snapshot = {**walk.snapshot, "files": files}
                walk.changed = False
            walk.store.keep(_name(directory), walk.snapshot)  # kept among the recent ones

    # Walks --------------------------------------------------------------------------

    def _walk(self, directory: str, settings: Settings) -> _Walk:
        walk = self._walks.get(directory)
        if walk is None:
            store = self._stores(settings) if self._stores is not None else None
            walk = self._read(directory, store) if store is not None else None
            if walk is None:
                walk = self._walked(directory, store)
            self._walks[directory] = walk
        return walk

    def _walked(self, directory: str, store: Store | None) -> _Walk:
        started = time.time_ns()
        found = discover([directory], self.resolver)
        files = frozenset(os.path.abspath(path) for path in found.files)
        walk = _Walk(files, {}, store)
        if store is None or found.unreadable or not found.directories:
            return walk  # a directory that cannot be listed now may be listable later
        # The cache directory may lie in the tree: it holds no Python file, and every
        # store written changes it.
        cache = os.path.join(os.path.abspath(store.folder.parent), "")
        walked = [
            path
            for path in map(os.path.abspath, found.directories)
            if not os.path.join(path, "").startswith(cache)
        ]
        dirs = self._directories(walked, directory) if walked else None
        if dirs is None or any(started - mtime < _SETTLED_NS for _, mtime in dirs):
            return walk  # changed as it was walked, or too lately to tell a next change
        # Where the settings may change on the way down: a directory's are its parent's
        # unless it holds a `pyproject.toml` or `.git` (see `config.Resolver`).
        turns = [walked[0], *(path for path in walked[1:] if _is_turn(path))]
        configs = self._configs([path for path, _ in dirs], turns)
        snapshot = {
            "dirs": [[os.path.relpath(path, directory), mtime] for path, mtime in dirs],
            "configs": [[os.path.relpath(path, directory), *sign] for path, sign in configs],
            "settings": self._settings_digest(turns),
            "turns": [os.path.relpath(path, directory) for path in turns],
        }
        walk.snapshot, walk.changed = snapshot, True
        return walk

    def _read(self, directory: str, store: Store) -> _Walk | None:
        """The walk kept in the store, when it may be trusted still; None otherwise."""
        try:
            return self._trusted(directory, store, store.snapshot(_name(directory)))
        except (TypeError, ValueError, KeyError, AttributeError, OSError):
            return None  # damaged or foreign: walk again

    def _trusted(self, directory: str, store: Store, snapshot: Any) -> _Walk | None:
        if not isinstance(snapshot, dict):
            return None

        def absolute(relative: object) -> str:
            if not isinstance(relative, str):
                raise TypeError("a path is a string")
            return os.path.normpath(os.path.join(directory, relative))

        for relative, mtime in snapshot["dirs"]:
            if os.stat(absolute(relative)).st_mtime_ns != mtime:
                return None
        for relative, *sign in snapshot["configs"]:
            if list(_signature(os.stat(absolute(relative)))) != sign:
                return None
        turns = [absolute(relative) for relative in snapshot["turns"]]
        if snapshot["settings"] != self._settings_digest(turns):
            return None
        files: set[str] = set()
        signed: dict[str, tuple[Signature, str]] = {}
        for relative, known in snapshot["files"].items():
            path = absolute(relative)
            files.add(path)
            if known:
                size, modified, changed, inode, digest = known
                if not all(type(n) is int for n in (size, modified, changed, inode)):
                    raise TypeError("a signature is four integers")
                if not isinstance(digest, str):
                    raise TypeError("a digest is a string")
                signed[path] = ((size, modified, changed, inode), digest)
        return _Walk(frozenset(files), signed, store, snapshot)

    def _directories(self, walked: list[str], top: str) -> list[tuple[str, int]] | None:
        """The modification time of every directory whose entries a walk depends on: the
        directories walked, and those above up to the repository root (whose `.gitignore`
        and config files the walk reads)."""
        above = []
        current = top
        while True:
            parent = os.path.dirname(current)
            if parent == current or os.path.exists(os.path.join(current, ".git")):
                break
            above.append(parent)
            current = parent
        try:
            return [(path, os.stat(path).st_mtime_ns) for path in (*walked, *above)]
        except OSError:
            return None

    def _configs(self, directories: list[str], turns: list[str]) -> list[tuple[str, Signature]]:
        """The signatures of the files a walk read besides the directories: `.gitignore`
        and `pyproject.toml` files, and the config files of each directory's settings."""
        candidates = {os.path.join(path, name) for path in directories for name in _WALK_CONFIGS}
        for path in turns:
            settings = self.resolver.settings_in(path)
            candidates.update(filter(None, (settings.config_file, *settings.extends)))
        found = []
        for path in sorted(candidates):
            try:
                found.append((os.path.abspath(path), _signature(os.stat(path))))
            except OSError:
                continue  # none there: creating one changes its directory
        return found

    def _settings_digest(self, turns: list[str]) -> str:
        """What the settings of the walked directories say about which files a walk
        keeps (their excludes, and where they come from), asked where they may change."""
        text = "\n".join(f"{path}\t{self._view(self.resolver.settings_in(path))}" for path in turns)
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def _view(self, settings: Settings) -> str:
        found = self._views.get(id(settings))
        if found is None:
            seen = (settings.root, settings.config_file, settings.extends, settings.exclude)
            found = repr((*seen, settings.extend_exclude, settings.respect_gitignore))
            self._views[id(settings)] = found
        return found


def _name(directory: str) -> str:
    return f"walk:{directory}"


def _is_turn(directory: str) -> bool:
    return any(os.path.exists(os.path.join(directory, name)) for name in ("pyproject.toml", ".git"))


def _signature(stat: os.stat_result) -> Signature:
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def _signed_json(known: tuple[Signature, str] | None) -> list[int | str]:
    return [*known[0], known[1]] if known is not None else []


def _settled(signature: Signature) -> bool:
    """Was the file last changed long enough ago that a next change shows in its
    signature, whatever the resolution of the file system's clock?"""
    return time.time_ns() - max(signature[1], signature[2]) >= _SETTLED_NS


def _import_root(path: str) -> str:
    """The directory a module's top-level package sits in (its own, for a module that
    is in no package): where the modules it imports by absolute name start."""
    directory = os.path.dirname(path)
    module = module_name(path)
    if module is None:
        return directory
    packages = module.count(".") + (1 if Path(path).stem == "__init__" else 0)
    for _ in range(packages):
        directory = os.path.dirname(directory)
    return directory
