"""Paths on the command line -> the Python files to lint."""

from __future__ import annotations

import codecs
import fnmatch
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pathspec

from conclint.config import Resolver, Settings
from conclint.files import MAX_SOURCE_BYTES, NotRegularFileError, check_regular, read_regular_file

# As ruff: stubs are linted too, and their `async def`s tell the project index
# which calls make coroutines.
PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # (path, why): a directory that cannot be listed, or a Python file that is no
    # regular file (a FIFO, a device); each is reported as CCL002, never skipped unseen.
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # Directories given that hold no Python file to lint (the user is told).
    empty: list[str] = field(default_factory=list)
    # Every directory walked (what a change of the tree must touch to change the files).
    directories: list[str] = field(default_factory=list)


def discover(
    paths: Sequence[str], settings: Settings | Resolver, *, force_exclude: bool = False
) -> Discovery:
    """Walk directories for `*.py`, honouring excludes and .gitignore; keep explicit files.

    Each directory's entries are judged by the excludes of its own configuration (the
    nearest config file above it, see `Resolver`), relative to that file's directory.
    Explicit files are linted whatever their name, unless `force_exclude` applies
    the excludes to them too (pre-commit passes every file explicitly).
    Directory walks never follow a symlink out of the directory given. Files are
    told apart by their stat, never opened here: a FIFO is reported, not waited on.
    """
    found = Discovery()
    seen: set[str] = set()
    resolver = Resolver.of(settings)
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(raw):
            found.missing.append(raw)
            continue
        if os.path.isdir(raw):
            walker = _walk(path, resolver, found.unreadable, found.directories)
        elif force_exclude and is_excluded(raw, resolver):
            continue
        else:
            walker = iter([path])
        yielded, troubles = 0, len(found.unreadable)
        for file in walker:
            yielded += 1
            text = os.path.normpath(str(file))
            if text in seen:
                continue
            seen.add(text)
            why = _not_regular(text)
            if why is None:
                found.files.append(text)
            else:
                found.unreadable.append((text, f"cannot read file: {why}"))
        if os.path.isdir(raw) and not yielded and len(found.unreadable) == troubles:
            found.empty.append(raw)  # (one that cannot be listed is reported as such)
    found.files.sort()
    found.unreadable = sorted(set(found.unreadable))
    return found


def is_excluded(path: str, settings: Settings | Resolver) -> bool:
    """Would the excludes of its configuration leave out this file, named explicitly?
    (`--force-exclude`: the file and each directory above it, up to the config's own.)"""
    own = Resolver.of(settings).settings_for(path)
    return _is_excluded(Path(path), _excludes(own), Path(own.root), with_parents=True)


def _excludes(settings: Settings) -> tuple[tuple[str, str], ...]:
    return _exclude_spec(settings.exclude + settings.extend_exclude)


def _not_regular(path: str) -> str | None:
    """What `path` is when it is no regular file; None for a regular file, and for one
    that cannot be looked at (reading it then reports why)."""
    try:
        check_regular(path)
    except NotRegularFileError as error:
        return error.strerror
    except OSError:
        pass
    return None


def _walk(
    top: Path, resolver: Resolver, unreadable: list[tuple[str, str]], walked: list[str]
) -> Iterator[Path]:
    def unlistable(error: OSError) -> None:
        where = os.path.normpath(error.filename or top)
        unreadable.append((where, f"cannot list directory: {error.strerror or error}"))

    real_top = top.resolve()
    ignores = _GitIgnores(top)
    for directory, dirnames, filenames in os.walk(top, onerror=unlistable):
        walked.append(directory)
        here = Path(directory)
        settings = resolver.settings_in(directory)
        excluded, root = _excludes(settings), Path(settings.root)
        ignores.enter(here)  # read on the way down even where unused: a config below may use it
        gitignored = ignores.ignored if settings.respect_gitignore else None
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not _is_excluded(here / name, excluded, root)
            and not (gitignored is not None and gitignored(here / name, is_dir=True))
            and _inside(here / name, real_top)
        )
        for name in sorted(filenames):
            candidate = here / name
            if not name.endswith(PYTHON_SUFFIXES):
                continue
            if _is_excluded(candidate, excluded, root):
                continue
            if gitignored is not None and gitignored(candidate, is_dir=False):
                continue
            # A symlink out of the tree is not followed, and a dangling one holds nothing.
            if os.path.islink(candidate) and not (
                _inside(candidate, real_top) and os.path.exists(candidate)
            ):
                continue
            yield candidate


def _inside(path: Path, real_top: Path) -> bool:
    """Symlinks may point anywhere; only what resolves inside the root is walked."""
    if not os.path.islink(path):
        return True
    try:
        path.resolve().relative_to(real_top)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


@cache
def _exclude_spec(patterns: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each glob, and what it is matched against: an entry's `name`, its path from the
    config's directory (`relative`: the glob holds a `/`), or its `absolute` path (a
    glob tied to the directory of the config file or command line that gave it)."""
    spec = []
    for pattern in patterns:
        if os.path.isabs(pattern):
            spec.append((pattern.replace(os.sep, "/"), "absolute"))
        else:
            pattern = pattern.strip("/")
            spec.append((pattern, "relative" if "/" in pattern else "name"))
    return tuple(spec)


@cache
def _resolved(root: Path) -> Path:
    return root.resolve()


def _is_excluded(
    path: Path, spec: tuple[tuple[str, str], ...], root: Path, *, with_parents: bool = False
) -> bool:
    """As in ruff: a glob matches an entry's name, or its path relative to the project root.

    During a walk only the entries below the given directory are tested, so a
    directory named explicitly is linted even when it is excluded;
    `with_parents` (for --force-exclude) tests every parent directory too, up to the
    project root.
    """
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(_resolved(root)).as_posix()
    except ValueError:
        relative = absolute.as_posix()
    candidates = [relative]
    if with_parents:
        parts = relative.split("/")
        candidates.extend("/".join(parts[:index]) for index in range(1, len(parts)))
    for candidate in candidates:
        name = candidate.rpartition("/")[2]
        for pattern, kind in spec:
            if kind == "absolute":
                subject = _absolute_of(candidate, root)
            else:
                subject = candidate if kind == "relative" else name
            if fnmatch.fnmatchcase(subject, pattern):
                return True
    return False


def _absolute_of(candidate: str, root: Path) -> str:
    """A candidate of `_is_excluded` (root-relative, or absolute outside it) as an
    absolute path."""
    if os.path.isabs(candidate):
        return candidate
    return f"{_resolved(root).as_posix().rstrip('/')}/{candidate}"


class _GitIgnores:
    """The .gitignore files that apply during one walk, from the repository root down."""

    def __init__(self, top: Path) -> None:
        self._specs: dict[Path, pathspec.GitIgnoreSpec] = {}
        top = Path(os.path.abspath(top))
        # .gitignore files above the walked directory, up to the repository root.
        for parent in (top, *top.parents):
            self._load(parent)
            if os.path.exists(parent / ".git"):
                break
        # A directory named on the command line is linted even if an outer .gitignore
        # lists it (a virtualenv's or pyenv's tree): then only its own files apply.
        if self.ignored(top, is_dir=True):
            self._specs = {d: spec for d, spec in self._specs.items() if top in (d, *d.parents)}

    def enter(self, directory: Path) -> None:
        self._load(Path(os.path.abspath(directory)))

    def _load(self, directory: Path) -> None:
        if directory in self._specs:
            return
        try:
            data = read_regular_file(directory / ".gitignore", MAX_SOURCE_BYTES)
        except OSError:
            return  # none, or none to read (git warns and goes on without it)
        self._specs[directory] = gitignore_spec(data)

    def ignored(self, path: Path, *, is_dir: bool) -> bool:
        absolute = Path(os.path.abspath(path))
        for directory, spec in self._specs.items():
            try:
                relative = absolute.relative_to(directory).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + "/" if is_dir else relative):
                return True
        return False


def gitignore_spec(data: bytes) -> pathspec.GitIgnoreSpec:
    """The patterns of a .gitignore as git reads them, whatever the bytes.

    Lines end at LF (a CR before it dropped), a UTF-8 BOM is skipped, and bytes
    that are not UTF-8 stand for themselves as in the names `os.walk` gives. A
    pattern that pathspec cannot compile (`foo\\`, `!`, `[z-a]`) is left out, as it
    matches nothing in git: one such line never costs the others.
    """
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8", "surrogateescape")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `re` warns of sets like `[[` (FutureWarning)
        try:
            return pathspec.GitIgnoreSpec.from_lines(lines)
        except (ValueError, re.error):
            return pathspec.GitIgnoreSpec.from_lines(filter(_usable, lines))


def _usable(pattern: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error):
        return False
    return True
