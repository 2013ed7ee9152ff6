"""The report root, and paths relative to it.

GitHub resolves the relative paths of SARIF results and of workflow annotations against
the repository root, whatever directory the tool ran in (`working-directory:`), so the
formats read by other tools (SARIF, `github`) and the baseline name files from there:
the top level of the git work tree, else the project root, or `--report-root`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePath


def repository_root(directory: str) -> str | None:
    """The top level of the git work tree holding `directory`, as git itself says; None
    outside a work tree. When git cannot answer (not installed, or refusing a checkout
    another user owns, as in a container), the nearest directory holding `.git`."""
    if not os.path.isdir(directory):
        return None
    try:
        run = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=directory,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return _holding_git(directory)
    top = run.stdout.removesuffix(b"\n")
    if run.returncode == 0 and top:
        return os.path.normpath(os.fsdecode(top))
    if b"safe.directory" in run.stderr:  # "detected dubious ownership"
        return _holding_git(directory)
    return None


def _holding_git(directory: str) -> str | None:
    start = Path(directory).resolve()
    return next((str(d) for d in (start, *start.parents) if (d / ".git").exists()), None)


def report_root(start: str, project_root: str, chosen: str | None = None) -> str:
    """The absolute report root: `chosen` (from `--report-root`), else the repository
    holding `start` (the first path linted), else the project root."""
    if chosen is not None:
        return str(Path(chosen).resolve())
    found = repository_root(start)
    return str(Path(found if found is not None else project_root).resolve())


def relative_path(path: str, root: str, base: str) -> str | None:
    """`path` from `root`, with `/` between names; None when it lies outside `root`.

    A relative `path` starts at `base`, the directory the paths were given from; `a/../b`
    is `b`. A path that reaches the root only through a symlink is resolved: GitHub
    shows nothing at a symlinked path.
    """
    full = PurePath(os.path.normpath(PurePath(base) / path))
    if full.is_relative_to(root):
        return full.relative_to(root).as_posix()
    try:
        real = PurePath(os.path.realpath(full))
    except (OSError, ValueError):  # a NUL, or a surrogate that stands for no byte
        return None
    return real.relative_to(root).as_posix() if real.is_relative_to(root) else None


def shown_path(path: str, root: str, base: str) -> str:
    """`path` from `root` when inside it, else absolute; `/` between names either way."""
    relative = relative_path(path, root, base)
    if relative is not None:
        return relative
    return PurePath(os.path.normpath(PurePath(base) / path)).as_posix()
