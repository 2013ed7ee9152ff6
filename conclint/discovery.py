"""Paths on the command line -> the Python files to lint."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pathspec

from conclint.config import Settings

PYTHON_SUFFIXES = (".py",)


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def discover(paths: Sequence[str], settings: Settings, *, force_exclude: bool = False) -> Discovery:
    """Walk directories for `*.py`, honouring excludes and .gitignore; keep explicit files.

    Explicit files are linted whatever their name, unless `force_exclude` applies
    the excludes to them too (pre-commit passes every file explicitly).
    Directory walks never follow a symlink out of the directory given.
    """
    found = Discovery()
    seen: set[str] = set()
    excluded = _exclude_spec(settings.exclude + settings.extend_exclude)
    root = Path(settings.root)
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            found.missing.append(raw)
            continue
        if path.is_dir():
            walker = _walk(path, excluded, root, settings.respect_gitignore)
        elif force_exclude and _is_excluded(path, excluded, root, with_parents=True):
            continue
        else:
            walker = iter([path])
        for file in walker:
            text = os.path.normpath(str(file))
            if text not in seen:
                seen.add(text)
                found.files.append(text)
    found.files.sort()
    return found


def _walk(
    top: Path, excluded: tuple[tuple[str, bool], ...], root: Path, use_gitignore: bool
) -> Iterator[Path]:
    real_top = top.resolve()
    ignores = _GitIgnores(top) if use_gitignore else None
    for directory, dirnames, filenames in os.walk(top):
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
            if candidate.is_symlink() and not _inside(candidate, real_top):
                continue
            if candidate.is_file():
                yield candidate


def _inside(path: Path, real_top: Path) -> bool:
    """Symlinks may point anywhere; only what resolves inside the root is walked."""
    if not path.is_symlink():
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
            if (parent / ".git").exists():
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
        ignore_file = directory / ".gitignore"
        try:
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self._specs[directory] = pathspec.GitIgnoreSpec.from_lines(lines)

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
