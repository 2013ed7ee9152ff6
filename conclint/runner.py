"""Running many files: the project index pass, the cache, and worker processes.

First a cheap pass indexes what every file defines (project mode), then each file
is linted knowing it. The cache is read and written here, in the main process,
once per run; workers get paths and give back results, and the per-file engine
never sees the cache.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from conclint.analysis.project import ModuleFacts, ProjectIndex, module_name
from conclint.cache import Entry, Store, content_digest
from conclint.config import Settings
from conclint.diagnostics import FileResult
from conclint.engine import (
    UNREADABLE,
    DecodeError,
    bounded_facts,
    decode_source,
    failure,
    lint_bytes,
)
from conclint.files import MAX_SOURCE_BYTES, read_regular_file

T = TypeVar("T")


def lint_paths(
    paths: Iterable[str],
    settings: Settings,
    jobs: int | None = None,
    cache_dir: Path | None = None,
) -> list[FileResult]:
    """Lint files, in parallel when `jobs` > 1; results sorted by path whatever the order.

    `cache_dir` is checked before anything is read (UnsafeCacheDir when it would
    overlap the project); None runs without a cache.
    """
    files = sorted(set(paths))
    store = Store.open(cache_dir, settings) if cache_dir is not None else None
    workers = _worker_count(jobs, len(files))
    digests = _content_digests(files) if store is not None else {}
    modules = {path: module_name(path) for path in files}
    indexed = _index(files, modules, digests, settings, store, workers)
    project = ProjectIndex.from_facts((name, facts) for name, facts in indexed.values())
    # A file out of time or memory in the index pass has no verdict: the lint pass decides.
    syntax = {
        path: facts.syntax_error for path, (_, facts) in indexed.items() if not facts.transient
    }
    project = replace(project, syntax=syntax)
    results = _lint(files, modules, digests, settings, store, project, workers)
    if store is not None:
        for path, (result, digest) in results.items():
            if result.transient:
                continue  # running out of time says more about the machine than the file
            facts = indexed[path][1] if path in indexed else None
            if digests.get(path) != digest or (facts is not None and facts.transient):
                facts = None  # the file changed between the two passes, or has no facts
            store.put(path, Entry(digest, modules[path], facts, project.digest, result))
        store.save()
    return sorted((result for result, _ in results.values()), key=lambda result: result.path)


def _content_digests(files: Sequence[str]) -> dict[str, str]:
    """Each readable file's content digest, read and hashed once for every lookup."""
    digests = {}
    for path in files:
        try:
            digests[path] = content_digest(read_regular_file(path, MAX_SOURCE_BYTES))
        except OSError:
            continue  # the lint pass reports it
    return digests


Indexed = tuple[str, ModuleFacts]  # module name, facts


def _index(
    files: Sequence[str],
    modules: dict[str, str | None],
    digests: dict[str, str],
    settings: Settings,
    store: Store | None,
    workers: int,
) -> dict[str, Indexed]:
    """What every module of the run defines, by path: from the cache where it knows."""
    cached, missing = _from_cache(
        [path for path in files if modules[path] is not None],
        lambda path: store.facts(path, digests[path], modules[path]) if store else None,
        digests,
    )
    found: dict[str, Indexed] = {
        path: (modules[path] or "", facts) for path, facts in cached.items()
    }
    try:
        fresh = _in_chunks(workers, _index_chunk, missing, settings)
    except BrokenProcessPool:
        fresh = _index_chunk(missing, settings)  # `ast` alone: nothing native to crash
    found.update((path, (name, facts)) for path, name, facts in fresh)
    return found


def _index_chunk(paths: Sequence[str], settings: Settings) -> list[tuple[str, str, ModuleFacts]]:
    found = []
    for path in paths:
        name = module_name(path)
        if name is None:
            continue
        try:
            data = read_regular_file(path, MAX_SOURCE_BYTES)
            facts = bounded_facts(decode_source(data), path, settings)
        except (OSError, DecodeError):
            continue  # the lint pass reports the file
        found.append((path, name, facts))
    return found


Linted = tuple[FileResult, str]  # the result and the digest of the bytes it is of


def _lint(
    files: Sequence[str],
    modules: dict[str, str | None],
    digests: dict[str, str],
    settings: Settings,
    store: Store | None,
    project: ProjectIndex,
    workers: int,
) -> dict[str, Linted]:
    cached, missing = _from_cache(
        files,
        lambda path: (
            store.result(path, digests[path], modules[path], project.digest) if store else None
        ),
        digests,
    )
    results: dict[str, Linted] = {path: (hit, digests[path]) for path, hit in cached.items()}
    try:
        fresh = _in_chunks(workers, _lint_chunk, missing, settings, project)
    except BrokenProcessPool:
        # A worker died (a native crash, the OOM killer): lint file by file, each in a
        # process of its own, so that only the file that kills its process is lost.
        fresh = [_lint_isolated(path, settings, project) for path in missing]
    results.update((path, (result, digest)) for path, result, digest in fresh)
    return results


def _lint_chunk(
    paths: Sequence[str], settings: Settings, project: ProjectIndex
) -> list[tuple[str, FileResult, str]]:
    return [(path, *_lint_one(path, settings, project)) for path in paths]


def _lint_one(path: str, settings: Settings, project: ProjectIndex) -> Linted:
    try:
        data = read_regular_file(path, MAX_SOURCE_BYTES)
    except OSError as error:
        return failure(path, UNREADABLE, f"cannot read file: {error.strerror or error}"), ""
    return lint_bytes(data, path, settings, project), content_digest(data)


def _lint_isolated(
    path: str, settings: Settings, project: ProjectIndex
) -> tuple[str, FileResult, str]:
    try:
        with ProcessPoolExecutor(max_workers=1, initializer=_watch_parent) as pool:
            return pool.submit(_lint_chunk, [path], settings, project).result()[0]
    except BrokenProcessPool:
        return path, failure(path, UNREADABLE, "the analysis crashed on this file"), ""


def _from_cache(
    files: Sequence[str], lookup: Callable[[str], T | None], digests: dict[str, str]
) -> tuple[dict[str, T], list[str]]:
    """What the cache has for each readable file, and the files it lacks (in order)."""
    found: dict[str, T] = {}
    missing = []
    for path in files:
        hit = lookup(path) if path in digests else None
        if hit is None:
            missing.append(path)
        else:
            found[path] = hit
    return found, missing


# Worker processes ----------------------------------------------------------------


def _in_chunks(workers: int, work: Callable[..., list[T]], files: list[str], *args: Any) -> list[T]:
    """`work(chunk, *args)` over chunks of `files`, results joined; in worker processes
    when there are enough files for more than one. `args` (the project index, say)
    reach each worker once, when it starts, rather than with every chunk."""
    workers = _worker_count(workers, len(files))
    if workers <= 1:
        return work(files, *args)
    with ProcessPoolExecutor(workers, initializer=_share, initargs=args) as pool:
        futures = [pool.submit(_with_shared, work, chunk) for chunk in _chunks(files, workers)]
        return [item for future in futures for item in future.result()]


_shared: tuple[Any, ...] = ()


def _share(*args: Any) -> None:
    global _shared
    _shared = args
    _watch_parent()


def _with_shared(work: Callable[..., list[T]], chunk: list[str]) -> list[T]:
    return work(chunk, *_shared)


def _watch_parent() -> None:
    """A worker ends when the run that started it is gone (killed, say), rather than
    linting on for nobody: a thread sees its parent change and ends the process."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="conclint-parent-watch", daemon=True).start()


def _worker_count(jobs: int | None, files: int) -> int:
    wanted = jobs if jobs is not None else (os.cpu_count() or 1)
    # Below a handful of files, starting processes costs more than it saves.
    return max(1, min(wanted, files // 4 or 1))


def _chunks(files: list[str], workers: int) -> list[list[str]]:
    """Largest files first, dealt out in small chunks so that no worker waits on one big tail."""
    by_size = sorted(files, key=_size, reverse=True)
    size = max(1, min(32, len(by_size) // (workers * 8) or 1))
    return [by_size[start : start + size] for start in range(0, len(by_size), size)]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
