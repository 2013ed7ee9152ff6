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

from conclint.config import Settings
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


def discover(paths: Sequence[str], settings: Settings, *, force_exclude: bool = False) -> Discovery:
    """Walk directories for `*.py`, honouring excludes and .gitignore; keep explicit files.

    Explicit files are linted whatever their name, unless `force_exclude` applies
    the excludes to them too (pre-commit passes every file explicitly).
    Directory walks never follow a symlink out of the directory given. Files are
    told apart by their stat, never opened here: a FIFO is reported, not waited on.
    """
    found = Discovery()
    seen: set[str] = set()
    excluded = _exclude_spec(settings.exclude + settings.extend_exclude)
    root = Path(settings.root)
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(raw):
            found.missing.append(raw)
            continue
        if os.path.isdir(raw):
            walker = _walk(path, excluded, root, settings.respect_gitignore, found.unreadable)
        elif force_exclude and _is_excluded(path, excluded, root, with_parents=True):
            continue
        else:
            walker = iter([path])
        for file in walker:
            text = os.path.normpath(str(file))
            if text in seen:
                continue
            seen.add(text)
            why = _not_regular(text)
            if why is None:
                found.files.append(text)
            else:
                found.unreadable.append((text, f"cannot read file: {why}"))
    found.files.sort()
    found.unreadable = sorted(set(found.unreadable))
    return found


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
    top: Path,
    excluded: tuple[tuple[str, bool], ...],
    root: Path,
    use_gitignore: bool,
    unreadable: list[tuple[str, str]],
) -> Iterator[Path]:
    def unlistable(error: OSError) -> None:
        where = os.path.normpath(error.filename or top)
        unreadable.append((where, f"cannot list directory: {error.strerror or error}"))

    real_top = top.resolve()
    ignores = _GitIgnores(top) if use_gitignore else None
    for directory, dirnames, filenames in os.walk(top, onerror=unlistable):
        here = Path(directory)
        if ignores is not None:
            ignores.enter(here)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not _is_excluded(here / name, excluded, root)
            and not (ignores is not None and ignores.ignored(here / name, is_dir=True))
            and _inside(here / name, real_top)
        )
        for name in sorted(filenames):
            candidate = here / name
            if not name.endswith(PYTHON_SUFFIXES):
                continue
            if _is_excluded(candidate, excluded, root):
                continue
            if ignores is not None and ignores.ignored(candidate, is_dir=False):
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
def _exclude_spec(patterns: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """Each glob, and whether it holds a `/` (then it matches the root-relative path)."""
    return tuple((pattern.strip("/"), "/" in pattern.strip("/")) for pattern in patterns)


@cache
def _resolved(root: Path) -> Path:
    return root.resolve()


def _is_excluded(
    path: Path, spec: tuple[tuple[str, bool], ...], root: Path, *, with_parents: bool = False
) -> bool:
    """As in ruff: a glob matches an entry's name, or its path relative to the project root.

    During a walk only the entries below the given directory are tested, so a
    directory named explicitly is linted even when it is excluded;
    `with_parents` (for --force-exclude) tests every parent directory too.
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
        for pattern, anchored in spec:
            if fnmatch.fnmatchcase(candidate if anchored else name, pattern):
                return True
    return False


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
