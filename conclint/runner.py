"""Running many files: the project index pass, the cache, and worker processes.

Files are grouped by their configuration (each file's nearest config file, see
`config.Resolver`). For each group, a cheap pass first indexes what every file
defines (project mode), then each file is linted knowing it. The index spans
one group, not the whole run: a config file marks a project (a monorepo's
`backend/` and `frontend/` each have theirs), and two projects are two import
namespaces; their modules often share names (`app.db`, `tests.helpers`), so an
index over both would take one project's coroutine functions for the other's
(false findings), and a file's findings would depend on which other projects
the run happened to include. Both passes of all groups share one pool of
workers. The cache is read and written here, in the main process, once per
run and group (a store per project root and settings); workers get paths and
give back results, and the per-file engine never sees the cache.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from conclint.analysis.project import ModuleFacts, ProjectIndex, module_name
from conclint.cache import Entry, Store, content_digest
from conclint.config import Resolver, Settings
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

CacheDir = Path | Callable[[Settings], Path] | None


@dataclass
class Group:
    """The files of one configuration, and what the run knows of them."""

    settings: Settings
    files: list[str]
    store: Store | None = None
    project: ProjectIndex = field(default_factory=ProjectIndex)


def lint_paths(
    paths: Iterable[str],
    settings: Settings | Resolver,
    jobs: int | None = None,
    cache_dir: CacheDir = None,
) -> list[FileResult]:
    """Lint files, in parallel when `jobs` > 1; results sorted by path whatever the order.

    `settings` are those of every file, or a `Resolver` that gives each file its own.
    `cache_dir` (or, per configuration, the function that gives it) is checked before
    anything is read (UnsafeCacheDir when it would overlap the project); None runs
    without a cache.
    """
    return lint_groups(paths, settings, jobs, cache_dir)[0]


def lint_groups(
    paths: Iterable[str],
    settings: Settings | Resolver,
    jobs: int | None = None,
    cache_dir: CacheDir = None,
) -> tuple[list[FileResult], list[Group]]:
    """`lint_paths`, and the groups of files with the settings and project index they
    were linted with (`--fix` lints some of them again, as the run saw them)."""
    files = sorted(set(paths))
    groups = group_by_settings(files, Resolver.of(settings))
    for group in groups:
        directory = cache_dir(group.settings) if callable(cache_dir) else cache_dir
        group.store = Store.open(directory, group.settings) if directory is not None else None
    workers = _worker_count(jobs, len(files))
    cached = [group for group in groups if group.store is not None]
    digests = _content_digests([path for group in cached for path in group.files])
    modules = {path: module_name(path) for path in files}
    indexed = _index(groups, modules, digests, workers)
    for group in groups:
        known = [indexed[path] for path in group.files if path in indexed]
        project = ProjectIndex.from_facts((name, facts) for name, facts in known)
        # A file out of time or memory in the index pass has no verdict: the lint pass decides.
        syntax = {
            path: indexed[path][1].syntax_error
            for path in group.files
            if path in indexed and not indexed[path][1].transient
        }
        group.project = replace(project, syntax=syntax)
    results = _lint(groups, modules, digests, workers)
    for group in groups:
        if group.store is not None:
            _remember(group, group.store, results, indexed, digests, modules)
    ordered = sorted((result for result, _ in results.values()), key=lambda result: result.path)
    return ordered, groups


def group_by_settings(files: Sequence[str], resolver: Resolver) -> list[Group]:
    """The files of each configuration, in the order of their first file."""
    groups: dict[tuple[str, str | None, Settings], Group] = {}
    for path in files:
        settings = resolver.settings_for(path)
        key = (settings.root, settings.config_file, settings)
        groups.setdefault(key, Group(settings, [])).files.append(path)
    return list(groups.values())


def _remember(
    group: Group,
    store: Store,
    results: dict[str, Linted],
    indexed: dict[str, Indexed],
    digests: dict[str, str],
    modules: dict[str, str | None],
) -> None:
    for path in group.files:
        result, digest = results[path]
        if result.transient:
            continue  # running out of time says more about the machine than the file
        facts = indexed[path][1] if path in indexed else None
        if digests.get(path) != digest or (facts is not None and facts.transient):
            facts = None  # the file changed between the two passes, or has no facts
        store.put(path, Entry(digest, modules[path], facts, group.project.digest, result))
    store.save()


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
    groups: Sequence[Group],
    modules: dict[str, str | None],
    digests: dict[str, str],
    workers: int,
) -> dict[str, Indexed]:
    """What every module of the run defines, by path: from the cache where it knows."""
    found: dict[str, Indexed] = {}
    work: list[tuple[list[str], tuple[Any, ...]]] = []
    for group in groups:
        cached, missing = _from_cache(
            [path for path in group.files if modules[path] is not None],
            _facts_lookup(group.store, digests, modules),
            digests,
        )
        found.update((path, (modules[path] or "", facts)) for path, facts in cached.items())
        work.append((missing, (group.settings,)))
    try:
        fresh = _in_chunks(workers, _index_chunk, work)
    except BrokenProcessPool:  # `ast` alone: nothing native to crash
        fresh = [item for missing, args in work for item in _index_chunk(missing, *args)]
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
    groups: Sequence[Group],
    modules: dict[str, str | None],
    digests: dict[str, str],
    workers: int,
) -> dict[str, Linted]:
    results: dict[str, Linted] = {}
    work: list[tuple[list[str], tuple[Any, ...]]] = []
    for group in groups:
        cached, missing = _from_cache(
            group.files, _result_lookup(group.store, digests, modules, group.project), digests
        )
        results.update((path, (hit, digests[path])) for path, hit in cached.items())
        work.append((missing, (group.settings, group.project)))
    try:
        fresh = _in_chunks(workers, _lint_chunk, work)
    except BrokenProcessPool:
        # A worker died (a native crash, the OOM killer): lint file by file, each in a
        # process of its own, so that only the file that kills its process is lost.
        fresh = [_lint_isolated(path, *args) for missing, args in work for path in missing]
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


def _facts_lookup(
    store: Store | None, digests: dict[str, str], modules: dict[str, str | None]
) -> Callable[[str], ModuleFacts | None]:
    return lambda path: store.facts(path, digests[path], modules[path]) if store else None


def _result_lookup(
    store: Store | None,
    digests: dict[str, str],
    modules: dict[str, str | None],
    project: ProjectIndex,
) -> Callable[[str], FileResult | None]:
    return lambda path: (
        store.result(path, digests[path], modules[path], project.digest) if store else None
    )


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


def _in_chunks(
    workers: int, work: Callable[..., list[T]], jobs: Sequence[tuple[list[str], tuple[Any, ...]]]
) -> list[T]:
    """`work(chunk, *args)` over chunks of each job's files (a group's, with its
    settings), results joined; in worker processes when there are enough files for
    more than one. The `args` of every group (its project index, say) reach each worker
    once, when it starts, rather than with every chunk."""
    workers = _worker_count(workers, sum(len(files) for files, _ in jobs))
    if workers <= 1:
        return [item for files, args in jobs for item in work(files, *args)]
    chunks = [
        (group, chunk) for group, (files, _) in enumerate(jobs) for chunk in _chunks(files, workers)
    ]
    chunks.sort(key=lambda item: _size(item[1][0]), reverse=True)  # largest files first
    shared = [args for _, args in jobs]
    with ProcessPoolExecutor(workers, initializer=_share, initargs=(shared,)) as pool:
        futures = [pool.submit(_with_shared, work, chunk, group) for group, chunk in chunks]
        return [item for future in futures for item in future.result()]


_shared: list[tuple[Any, ...]] = []


def _share(shared: list[tuple[Any, ...]]) -> None:
    global _shared
    _shared = shared
    _watch_parent()


def _with_shared(work: Callable[..., list[T]], chunk: list[str], group: int) -> list[T]:
    return work(chunk, *_shared[group])


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
