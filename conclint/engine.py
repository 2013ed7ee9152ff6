"""The one place that reads, parses, traverses and filters: files in, diagnostics out."""

from __future__ import annotations

import ast
import gc
import io
import os
import signal
import sys
import threading
import tokenize
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import libcst as cst
from libcst.metadata import CodeRange

from conclint import registry
from conclint.analysis.context import SCOPE_CLASSES, FileContext
from conclint.analysis.nesting import hazard
from conclint.analysis.project import (
    ModuleFacts,
    ProjectIndex,
    facts_of,
    module_name,
    parse_python,
)
from conclint.analysis.walk import Walker
from conclint.cache import Cache, content_digest, usable_dir
from conclint.config import Settings, per_file_ignored
from conclint.diagnostics import (
    Diagnostic,
    FileResult,
    Severity,
    is_suppressed,
    parse_suppressions,
)
from conclint.parse import parse_module
from conclint.prefilter import Source
from conclint.rules.base import Finding, Rule

T = TypeVar("T")

SYNTAX_ERROR = ("CCL001", "syntax-error")
UNREADABLE = ("CCL002", "unreadable-file")


class DecodeError(Exception):
    """The bytes of a file are not Python source text."""


def decode_source(data: bytes) -> str:
    """Bytes -> text per PEP 263 (BOM, coding cookie), as the interpreter would."""
    if b"\x00" in data:
        raise DecodeError("file contains NUL bytes (binary?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise DecodeError(f"cannot decode: {error}") from None


def displayable(path: str) -> str:
    """A file name that is not valid UTF-8 (kept by Python as lone surrogates) is shown
    with U+FFFD in its place, so that every output format stays valid UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return path


def lint_file(
    path: str,
    settings: Settings,
    cache: Cache | None = None,
    project: ProjectIndex | None = None,
) -> FileResult:
    """Read one file from disk and lint it; failures become CCL002, never exceptions."""
    shown = displayable(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return _failure(shown, UNREADABLE, f"cannot read file: {error.strerror or error}")
    key = cache.key(path, content_digest(data)) if cache is not None else ""
    if cache is not None:
        cached = cache.load(key, shown)
        if cached is not None:
            return cached
    try:
        result = lint_source(decode_source(data), shown, settings, project=project)
    except DecodeError as error:
        result = _failure(shown, UNREADABLE, str(error))
    # Running out of time says more about the machine's load than about the file.
    if cache is not None and not _timed_out(result, settings):
        cache.store(key, result)
    return result


def lint_source(
    source: str,
    path: str,
    settings: Settings,
    *,
    rules: Sequence[type[Rule]] | None = None,
    apply_suppressions: bool = True,
    prefilter: bool = True,
    project: ProjectIndex | None = None,
) -> FileResult:
    """Lint source text shown as `path`. Never raises for any input text.

    `prefilter=False` runs every selected rule, even where the pre-filter says it
    cannot fire (only tests use it, to prove the pre-filter never hides a finding).
    """
    try:
        with _time_guard(settings.file_timeout), _cyclic_gc_paused():
            return _lint_source(
                source, path, settings, rules, apply_suppressions, prefilter, project
            )
    except _OutOfTime:
        return _failure(path, UNREADABLE, _timeout_message(settings))


def _lint_source(
    source: str,
    path: str,
    settings: Settings,
    rules: Sequence[type[Rule]] | None,
    apply_suppressions: bool,
    prefilter: bool,
    project: ProjectIndex | None,
) -> FileResult:
    selected = tuple(rules) if rules is not None else registry.enabled_rules(settings)
    selected = _without_ignored(selected, path, settings)
    project = project or ProjectIndex()
    if prefilter:
        text = Source(source, path, project)
        selected = tuple(rule for rule in selected if rule.may_fire(text, settings))
    if not selected:
        return _python_syntax_error(source, path, project) or FileResult(path)
    danger = hazard(source)
    if danger is not None:
        kind = SYNTAX_ERROR if danger.syntax_error else UNREADABLE
        return _failure(path, kind, danger.message, danger.line, danger.column)
    try:
        module = parse_module(source)
    except cst.ParserSyntaxError as error:
        # Python's own parser places and words syntax errors better than LibCST's.
        message = f"syntax not supported by the parser: {error.message}"
        fallback = _failure(path, SYNTAX_ERROR, message, error.raw_line, error.raw_column)
        return _python_syntax_error(source, path, project) or fallback
    except RecursionError:
        return _failure(path, SYNTAX_ERROR, "too deeply nested to parse; file skipped")
    except BaseException as error:
        # Text the native parser cannot take (a lone surrogate, say), or a panic in
        # it, which pyo3 raises as a BaseException of its own.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        return _failure(path, UNREADABLE, f"cannot parse: {type(error).__name__}: {error}")
    try:
        with _recursion_limit(_DEEP_RECURSION):
            findings, positions = _run_rules(module, source, path, settings, selected, project)
            if positions is None:
                return FileResult(path)
    except RecursionError:
        return _failure(path, UNREADABLE, "too deeply nested to analyse; file skipped")
    except Exception as error:
        message = f"internal error, please report: {type(error).__name__}: {error}"
        return _failure(path, UNREADABLE, message)
    diagnostics = [_diagnostic(path, finding, positions[finding.node]) for finding in findings]
    return _finish(path, source, diagnostics, apply_suppressions)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A syntax tree is millions of objects that reference counting alone frees; while
    one is alive, each pass of the cyclic collector would scan all of them again, so
    the cost per line would grow with the file. The collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _OutOfTime(BaseException):
    """The time guard's alarm: a BaseException, so that no `except Exception` swallows it."""


@contextmanager
def _time_guard(seconds: float) -> Iterator[None]:
    """Interrupt the work on one file after `seconds`, where a real-time timer is ours.

    Signals exist on POSIX only and reach the main thread only (of the CLI and of
    each pool worker); a timer or handler the host process set up is left alone.
    """
    if (
        seconds <= 0
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN)
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)


def _timeout_message(settings: Settings) -> str:
    return f"took longer than the file-timeout of {settings.file_timeout:g} s; file skipped"


def _timed_out(result: FileResult, settings: Settings) -> bool:
    return result.failed and result.diagnostics[0].message == _timeout_message(settings)


# LibCST's visitors recurse once per nesting level, and long implicit string
# concatenations nest deeply (the stdlib's pydoc_data/topics.py needs about 5,000).
_DEEP_RECURSION = 20_000


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def _python_syntax_error(source: str, path: str, project: ProjectIndex) -> FileResult | None:
    """CCL001 from Python's own parser, or None when it accepts the source.

    Also run on files the pre-filter skips, so that no broken file goes unreported;
    the project index has already parsed most files, and its verdict is reused.
    """
    if path in project.syntax:
        problem = project.syntax[path]
    else:
        parsed = parse_python(source)
        problem = None if isinstance(parsed, ast.Module) or parsed is None else parsed
    if problem is None:
        return None
    line, column, message = problem
    return _failure(path, SYNTAX_ERROR, message, line, column)


def _run_rules(
    module: cst.Module,
    source: str,
    path: str,
    settings: Settings,
    selected: Sequence[type[Rule]],
    project: ProjectIndex,
) -> tuple[list[Finding], dict[cst.CSTNode, CodeRange] | None]:
    """The rules' findings, with the positions of their nodes when there are any."""
    context = FileContext(path, module, settings, project)
    instances = [rule_class(context) for rule_class in selected]
    around = dict.fromkeys(SCOPE_CLASSES, (context.enter, context.leave))
    Walker(instances, around).walk(module)
    findings = [finding for instance in instances for finding in instance.findings]
    positions = context.positions_of([f.node for f in findings], source) if findings else None
    context.forget()
    return findings, positions


def _diagnostic(path: str, finding: Finding, where: CodeRange) -> Diagnostic:
    start, end = where.start, where.end
    return Diagnostic(
        path,
        start.line,
        start.column,
        end.line,
        end.column,
        finding.code,
        finding.name,
        finding.message,
        finding.severity,
    )


def _finish(
    path: str, source: str, diagnostics: list[Diagnostic], apply_suppressions: bool
) -> FileResult:
    lines = source.splitlines()
    active: list[Diagnostic] = []
    suppressed: list[Diagnostic] = []
    noqa = parse_suppressions(lines) if apply_suppressions else {}
    for diagnostic in sorted(set(diagnostics), key=lambda d: d.sort_key):
        (suppressed if is_suppressed(diagnostic, noqa) else active).append(diagnostic)
    reported = {d.line for d in (*active, *suppressed)}
    snippets = {n: lines[n - 1] for n in reported if 0 < n <= len(lines)}
    return FileResult(path, tuple(active), tuple(suppressed), snippets=snippets)


def _failure(
    path: str, kind: tuple[str, str], message: str, line: int = 1, column: int = 0
) -> FileResult:
    code, name = kind
    diagnostic = Diagnostic(path, line, column, line, column, code, name, message, Severity.ERROR)
    return FileResult(path, (diagnostic,), failed=True)


def _without_ignored(
    selected: Sequence[type[Rule]], path: str, settings: Settings
) -> tuple[type[Rule], ...]:
    ignored = per_file_ignored(path, settings)
    if not ignored:
        return tuple(selected)
    return tuple(rule for rule in selected if not rule.code.startswith(ignored))


# Many files --------------------------------------------------------------


def lint_paths(
    paths: Iterable[str], settings: Settings, jobs: int | None = None, cache_dir: str | None = None
) -> list[FileResult]:
    """Lint files, in parallel when `jobs` > 1; results sorted by path whatever the order.

    First a cheap pass indexes the `async def`s of every file (project mode),
    then each file is linted knowing them. Whatever the cache holds is read here;
    only the rest goes to worker processes, as paths (never syntax trees).
    """
    files = sorted(set(paths))
    cache_dir = usable_dir(cache_dir)  # once, here: a read-only cache warns once per run
    workers = _worker_count(jobs, len(files))
    digests = _content_digests(files) if cache_dir is not None else {}
    project = _project_index(files, digests, cache_dir, workers)
    results = _results(files, digests, settings, cache_dir, project, workers)
    return sorted(results, key=lambda result: result.path)


def _content_digests(files: Sequence[str]) -> dict[str, bytes]:
    """Each readable file's content digest, read and hashed once for both cache lookups."""
    digests = {}
    for path in files:
        try:
            digests[path] = content_digest(Path(path).read_bytes())
        except OSError:
            continue  # the lint pass reports it
    return digests


def _project_index(
    files: Sequence[str], digests: dict[str, bytes], cache_dir: str | None, workers: int
) -> ProjectIndex:
    cache = Cache(Path(cache_dir), Settings()) if cache_dir is not None else None
    found: list[Indexed] = []
    missing = []
    for path in files:
        name = module_name(path)
        if name is None:
            continue
        facts = None
        if cache is not None and path in digests:
            facts = cache.load_facts(path, digests[path])
        if facts is None:
            missing.append(path)
        else:
            found.append((path, name, facts))
    try:
        found += _in_chunks(workers, _index_chunk, missing, cache_dir)
    except BrokenProcessPool:
        found += _index_chunk(missing, cache_dir)  # `ast` alone: nothing native to crash
    index = ProjectIndex.from_facts((name, facts) for _, name, facts in found)
    syntax = {displayable(path): facts.syntax_error for path, _, facts in found}
    return replace(index, syntax=syntax)


def _results(
    files: Sequence[str],
    digests: dict[str, bytes],
    settings: Settings,
    cache_dir: str | None,
    project: ProjectIndex,
    workers: int,
) -> list[FileResult]:
    cache = None
    if cache_dir is not None:
        cache = Cache(Path(cache_dir), settings, extra_key=project.digest)
    results = []
    missing = []
    for path in files:
        hit = None
        if cache is not None and path in digests:
            hit = cache.load(cache.key(path, digests[path]), displayable(path))
        if hit is None:
            missing.append(path)
        else:
            results.append(hit)
    try:
        results += _in_chunks(workers, _lint_chunk, missing, settings, cache_dir, project)
    except BrokenProcessPool:
        # A worker died (a native crash, the OOM killer): lint file by file, each in a
        # process of its own, so that only the file that kills its process is lost.
        results += [_lint_isolated(path, settings, cache_dir, project) for path in missing]
    return results


def _in_chunks(workers: int, work: Callable[..., list[T]], files: list[str], *args: Any) -> list[T]:
    """`work(chunk, *args)` over chunks of `files`, results joined; in worker processes
    when there are enough files for more than one. `args` (the project index, say) reach
    each worker once, when it starts, rather than with every chunk."""
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


def _with_shared(work: Callable[..., list[T]], chunk: list[str]) -> list[T]:
    return work(chunk, *_shared)


Indexed = tuple[str, str, ModuleFacts]  # path, module, facts


def _index_chunk(paths: Sequence[str], cache_dir: str | None) -> list[Indexed]:
    cache = Cache(Path(cache_dir), Settings()) if cache_dir is not None else None
    found = []
    for path in paths:
        name = module_name(path)
        if name is None:
            continue
        try:
            data = Path(path).read_bytes()
            with _cyclic_gc_paused():  # an `ast` tree holds no cycles either
                facts = facts_of(decode_source(data), path)
        except (OSError, DecodeError):
            continue  # the lint pass reports the file
        if cache is not None:
            cache.store_facts(path, content_digest(data), facts)
        found.append((path, name, facts))
    return found


def _lint_chunk(
    paths: Sequence[str], settings: Settings, cache_dir: str | None, project: ProjectIndex
) -> list[FileResult]:
    cache = None
    if cache_dir is not None:
        cache = Cache(Path(cache_dir), settings, extra_key=project.digest)
    return [lint_file(path, settings, cache, project) for path in paths]


def _lint_isolated(
    path: str, settings: Settings, cache_dir: str | None, project: ProjectIndex
) -> FileResult:
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(_lint_chunk, [path], settings, cache_dir, project).result()[0]
    except BrokenProcessPool:
        return _failure(displayable(path), UNREADABLE, "the analysis crashed on this file")


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
