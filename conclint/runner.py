"""Running many files: the project index pass, the cache, and worker processes.

Each file is linted knowing its project: the index of what every module of the
project defines, made by a cheap pass over the project's files (see `project_files`:
the files `conclint <root>` would lint, of the file's own configuration), not over
the files the run names. A file's findings are then the same whether a run names it
alone, with others or through its directory; the plugins and standard input make
the same index (`FileProjects`). A project is one import namespace: a monorepo's
`backend/` and `frontend/`, each with its own `pyproject.toml`, are two, and an
index over both would take one's coroutine functions for the other's. Files outside
any project (no root above them) are indexed with the run's other such files of
their configuration. Both passes of all groups share one pool of workers.

The cache is read and written here, in the main process, once per run and store
(one per configuration): it keeps each file's facts by content digest, so a warm
run reads the index rather than making it, and the digest of the index the last
run made of the same files, so a run whose results are all cached does not even
read that. Workers get paths and give back results; the per-file engine never sees
the cache.
"""

from __future__ import annotations

import functools
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
from conclint.cache import Entry, Store, check_dir, content_digest
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
from conclint.project_files import ProjectKey, Projects, SettingsKey, settings_key

T = TypeVar("T")

CacheDir = Path | Callable[[Settings], Path] | None


@dataclass
class Group:
    """The files of one project and configuration, and what the run knows of them."""

    settings: Settings
    files: list[str]  # those the run lints
    store: Store | None = None
    # The project the files belong to, and the files its index is built from (absolute);
    # None for files outside any project, indexed with each other.
    key: ProjectKey | None = None
    members: list[str] | None = None
    # The digest of the project's index, known from the cache without making the index
    # when the project's files are those of the run that made it, unchanged.
    known_digest: str | None = None
    _project: ProjectIndex | None = field(default=None, repr=False)
    _make: Callable[[], ProjectIndex] | None = field(default=None, repr=False)

    @property
    def indexed(self) -> list[str]:
        """The files whose facts make the group's project index."""
        return self.members if self.members is not None else self.files

    @property
    def project(self) -> ProjectIndex:
        """The project index the files are linted with (made when first asked, where a
        run took every result from the cache: `--fix` lints some files again)."""
        if self._project is None:
            self._project = self._make() if self._make is not None else ProjectIndex()
        return self._project

    @project.setter
    def project(self, project: ProjectIndex) -> None:
        self._project = project

    @property
    def digest(self) -> str:
        """The digest of the project index, which keys the files' cached results."""
        if self._project is None and self.known_digest is not None:
            return self.known_digest
        return self.project.digest


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
    stores = _Stores(cache_dir)
    projects = Projects(Resolver.of(settings), stores)
    groups = group_by_project(files, projects)
    for group in groups:
        group.store = stores.of(group)
    work = max(len(files), len({path for group in groups for path in group.indexed}))
    workers = _worker_count(jobs, work)
    modules, digests = _modules_and_digests(groups, projects)
    cached: dict[str, Linted] = {}
    for group in groups:
        group.known_digest = _known_digest(group, modules, digests)
        if group.known_digest is not None:
            cached.update(_cached_results(group, modules, digests))
    # A project whose files all have a result under the index it knows needs no index.
    pending = [group for group in groups if not all(path in cached for path in group.files)]
    indexed = _index(pending, modules, digests, workers)
    for group in groups:
        if any(group is other for other in pending):
            group.project = _project(group, indexed)
        else:
            group._make = functools.partial(_made_alone, group, modules, digests)
    results = {**cached, **_lint(pending, modules, digests, workers)}
    for group in pending:
        if group.store is not None:
            _remember(group, group.store, results, indexed, digests, modules)
    projects.keep()
    stores.save()
    ordered = sorted((result for result, _ in results.values()), key=lambda result: result.path)
    return ordered, groups


def group_by_settings(files: Sequence[str], resolver: Resolver) -> list[Group]:
    """The files of each configuration, in the order of their first file."""
    groups: dict[tuple[str, str | None, Settings], Group] = {}
    for path in files:
        settings = resolver.settings_for(path)
        groups.setdefault(settings_key(settings), Group(settings, [])).files.append(path)
    return list(groups.values())


def group_by_project(files: Sequence[str], projects: Projects) -> list[Group]:
    """The files of each project and configuration, in the order of their first file;
    files outside any project are grouped by configuration alone."""
    groups: dict[object, Group] = {}
    for path in files:
        settings = projects.resolver.settings_for(path)
        key = projects.key_of(path, settings)
        group = groups.get(key or settings_key(settings))
        if group is None:
            members = projects.members(key) if key is not None else None
            group = groups[key or settings_key(settings)] = Group(
                settings, [], key=key, members=members
            )
        group.files.append(path)
    return list(groups.values())


class FileProjects:
    """The project index of each file a front end lints one at a time (the flake8 and
    pylint plugins, standard input): the index `lint_groups` would lint the file with,
    built once per project in a process, from the cache where it knows; the facts it
    makes go into the cache for the next process."""

    def __init__(self, resolver: Resolver, cache_dir: CacheDir, jobs: int | None = 1) -> None:
        self.stores = _Stores(cache_dir)
        self.projects = Projects(resolver, self.stores)
        self.jobs = jobs
        self._built: dict[ProjectKey, _Built] = {}

    def index_for(self, path: str, source: str, settings: Settings) -> ProjectIndex:
        """The index to lint `source`, the text of `path` under `settings`, with."""
        key = self.projects.key_of(path, settings)
        if key is None:
            return ProjectIndex()  # outside any project: the file knows itself alone
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(key, settings)
        absolute = os.path.abspath(path)
        indexed = built.facts.get(absolute)
        if indexed is None or _reads_as(absolute, source):
            return built.project
        # The text linted is not the file's (an editor's buffer, standard input): the
        # index knows the module as the text has it.
        own = bounded_facts(source, path, settings)
        if own == indexed or own.transient:
            return built.project
        project = ProjectIndex.from_facts(
            (module, own if member == absolute else facts) for member, module, facts in built.order
        )
        syntax = {
            member: found for member, found in built.project.syntax.items() if member != absolute
        }
        return replace(project, syntax=syntax)

    def prepare(self, paths: Iterable[str], jobs: int | None) -> None:
        """Make the indexes of the projects of `paths` (files, or directories: that of a
        file directly inside) now, with `jobs` processes: a front end that lints in
        worker processes of its own does this before it starts them."""
        for path in paths:
            if os.path.isdir(path):
                path = os.path.join(path, "__init__.py")  # need not exist
            elif not os.path.isfile(path):
                continue
            settings = self.projects.resolver.settings_for(path)
            key = self.projects.key_of(path, settings)
            if key is not None and key not in self._built:
                self._built[key] = self._build(key, settings, jobs)

    def _build(self, key: ProjectKey, settings: Settings, jobs: int | None = None) -> _Built:
        group = Group(settings, [], key=key, members=self.projects.members(key))
        group.store = self.stores.of(group)
        modules, digests = _modules_and_digests([group], self.projects)
        wanted = jobs if jobs is not None else self.jobs
        indexed = _index([group], modules, digests, _worker_count(wanted, len(group.indexed)))
        group.project = _project(group, indexed)
        if group.store is not None:
            _remember(group, group.store, {}, indexed, digests, modules)
        self.projects.keep()
        self.stores.save()
        order = [(path, *indexed[path]) for path in _stubs_first(group.indexed) if path in indexed]
        facts = {path: found for path, _, found in order}
        return _Built(group.project, facts, order)


@functools.cache
def plugin_projects() -> FileProjects:
    """The projects of the files the flake8 and pylint plugins lint, one per process: the
    settings of a file with no configuration of its own are those found from the working
    directory, and each configuration's cache directory is the one the CLI uses."""
    from conclint.cache import resolve_dir
    from conclint.config import settings_from_cwd
    from conclint.registry import known_codes

    resolver = Resolver(known_codes(), fallback=settings_from_cwd())
    return FileProjects(resolver, lambda settings: resolve_dir(None, settings))


@dataclass(frozen=True)
class _Built:
    """One project's index, and the facts it was made of (in the order it was)."""

    project: ProjectIndex
    facts: dict[str, ModuleFacts]  # by absolute path
    order: list[tuple[str, str, ModuleFacts]]  # path, module, facts


def _reads_as(path: str, source: str) -> bool:
    """Is `source` the text of the file at `path`, as the index read it?"""
    try:
        return decode_source(read_regular_file(path, MAX_SOURCE_BYTES)) == source
    except (OSError, DecodeError):
        return False


class _Stores:
    """The store of each configuration, opened once: a run's projects under one
    configuration share its cache."""

    def __init__(self, cache_dir: CacheDir) -> None:
        self.cache_dir = cache_dir
        self._opened: dict[tuple[str, SettingsKey], Store] = {}
        self._checked: set[tuple[str, str]] = set()

    def __call__(self, settings: Settings) -> Store | None:
        directory = self.cache_dir(settings) if callable(self.cache_dir) else self.cache_dir
        if directory is None:
            return None
        where = (os.path.abspath(directory), settings_key(settings))
        if where not in self._opened:
            self._opened[where] = Store.open(directory, settings)
        return self._opened[where]

    def of(self, group: Group) -> Store | None:
        """The group's store; its directory may not be or hold the group's project root
        either (nor does it the settings root, see `Store.open`)."""
        store = self(group.settings)
        if store is not None and group.key is not None:
            directory = store.folder.parent
            if (str(directory), group.key.root) not in self._checked:
                check_dir(directory, Path(group.key.root))
                self._checked.add((str(directory), group.key.root))
        return store

    def save(self) -> None:
        for store in self._opened.values():
            store.save()


def _modules_and_digests(
    groups: Sequence[Group], projects: Projects
) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each file's module name, and each readable file's content digest (for the groups
    with a cache), under every name the run gives it: a file linted is often a member
    of its project's index under its absolute path too. Each file is read once, and
    not at all when its project's walk knows its digest (see `Projects.digest_of`)."""
    names: dict[str, list[str]] = {}
    cached: set[str] = set()
    for group in groups:
        for path in (*group.files, *(group.members or ())):
            absolute = os.path.abspath(path)
            forms = names.setdefault(absolute, [])
            if path not in forms:
                forms.append(path)
            if group.store is not None:
                cached.add(absolute)
    modules: dict[str, str | None] = {}
    digests: dict[str, str] = {}
    for absolute, forms in names.items():
        module = module_name(absolute)
        digest = projects.digest_of(absolute) if absolute in cached else None
        for path in forms:
            modules[path] = module
            if digest is not None:
                digests[path] = digest
    return modules, digests


def _stubs_first(paths: Sequence[str]) -> list[str]:
    """`paths` in their order, but stubs first: where a module has both `conn.pyi` and
    `conn.py`, the index keeps the facts of the source (the last), which says what runs
    (`@asynccontextmanager` where the stub declares a plain `async def`)."""
    return sorted(paths, key=lambda path: not path.endswith(".pyi"))


def _project(group: Group, indexed: dict[str, Indexed]) -> ProjectIndex:
    """The group's project index, from the facts of its files in path order; Python's
    opinion of each file's syntax is kept under the names the lint pass gives them."""
    known = [indexed[path] for path in _stubs_first(group.indexed) if path in indexed]
    project = ProjectIndex.from_facts((name, facts) for name, facts in known)
    # A file out of time or memory in the index pass has no verdict: the lint pass decides.
    syntax = {
        path: indexed[path][1].syntax_error
        for path in group.indexed
        if path in indexed and not indexed[path][1].transient
    }
    for path in group.files:
        absolute = os.path.abspath(path)
        if path not in syntax and absolute in syntax:
            syntax[path] = syntax[absolute]
    return replace(project, syntax=syntax)


def _members_digest(
    group: Group, modules: dict[str, str | None], digests: dict[str, str]
) -> str | None:
    """What the project's index is made of: each file's path, module and content (None
    when a file has no digest: then the index is made again)."""
    if group.key is None or any(path not in digests for path in group.indexed):
        return None
    text = "\n".join(f"{path}\t{modules[path]}\t{digests[path]}" for path in group.indexed)
    return content_digest(text.encode("utf-8", "surrogateescape"))


def _known_digest(
    group: Group, modules: dict[str, str | None], digests: dict[str, str]
) -> str | None:
    """The digest of the index the last run made of the same files, as the store keeps
    it (see `_remember`); None when the files or their contents differ."""
    if group.store is None or group.key is None:
        return None
    kept = group.store.snapshot(_project_name(group.key))
    if not isinstance(kept, dict) or not isinstance(kept.get("index"), str):
        return None
    made_of = _members_digest(group, modules, digests)
    return kept["index"] if made_of is not None and kept.get("members") == made_of else None


def _project_name(key: ProjectKey) -> str:
    return f"project:{key.root}:{key.extra or ''}"


def _cached_results(
    group: Group, modules: dict[str, str | None], digests: dict[str, str]
) -> dict[str, Linted]:
    """The results the cache has for the group's files under its known index digest."""
    lookup = _result_lookup(group.store, digests, modules, group.digest)
    found, _ = _from_cache(group.files, lookup, digests)
    return {path: (result, digests[path]) for path, result in found.items()}


def _made_alone(
    group: Group, modules: dict[str, str | None], digests: dict[str, str]
) -> ProjectIndex:
    """The group's index, made after the run (from the cache, which has every fact)."""
    return _project(group, _index([group], modules, digests, 1))


def _remember(
    group: Group,
    store: Store,
    results: dict[str, Linted],
    indexed: dict[str, Indexed],
    digests: dict[str, str],
    modules: dict[str, str | None],
) -> None:
    """Put the run's results and the facts it made into the store (saved by the caller)."""
    linted = set()
    for path in group.files:
        result, digest = results[path]
        linted.add(os.path.abspath(path))
        if result.transient:
            continue  # running out of time says more about the machine than the file
        found = indexed.get(path) or indexed.get(os.path.abspath(path))
        facts = found[1] if found is not None else None
        if digests.get(path) != digest or (facts is not None and facts.transient):
            facts = None  # the file changed between the two passes, or has no facts
        store.put(path, Entry(digest, modules[path], facts, group.project.digest, result))
    for path in group.members or ():
        if path not in linted:
            _remember_facts(store, path, indexed, digests, modules)
    made_of = _members_digest(group, modules, digests)
    complete = all(
        not indexed[path][1].transient if path in indexed else modules[path] is None
        for path in group.indexed
    )
    if group.key is not None and made_of is not None and complete:
        kept = {"members": made_of, "index": group.project.digest}
        store.keep(_project_name(group.key), kept)


def _remember_facts(
    store: Store,
    path: str,
    indexed: dict[str, Indexed],
    digests: dict[str, str],
    modules: dict[str, str | None],
) -> None:
    """Keep the facts of a file the run indexed but did not lint, unless the store
    has them already (with the result of an earlier run)."""
    digest, found = digests.get(path), indexed.get(path)
    if digest is None or found is None or found[1].transient:
        return
    if store.facts(path, digest, modules[path]) is None:
        store.put(path, Entry(digest, modules[path], found[1]))


Indexed = tuple[str, ModuleFacts]  # module name, facts


def _index(
    groups: Sequence[Group],
    modules: dict[str, str | None],
    digests: dict[str, str],
    workers: int,
) -> dict[str, Indexed]:
    """What every module of the run's projects defines, by path: from the cache where it
    knows. A file in the index of several groups (of one configuration) is indexed once."""
    found: dict[str, Indexed] = {}
    work: list[tuple[list[str], tuple[Any, ...]]] = []
    queued: set[str] = set()
    for group in groups:
        wanted = [
            path
            for path in group.indexed
            if modules[path] is not None and path not in found and path not in queued
        ]
        cached, missing = _from_cache(wanted, _facts_lookup(group.store, digests, modules), digests)
        found.update((path, (modules[path] or "", facts)) for path, facts in cached.items())
        queued.update(missing)
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
            group.files, _result_lookup(group.store, digests, modules, group.digest), digests
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
    project: str,
) -> Callable[[str], FileResult | None]:
    """Each file's cached result, linted with the index of digest `project`."""
    return lambda path: store.result(path, digests[path], modules[path], project) if store else None


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
