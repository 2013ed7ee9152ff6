"""The one place that reads, parses, traverses and filters: files in, diagnostics out."""

from __future__ import annotations

import ast
import gc
import io
import signal
import sys
import threading
import tokenize
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import libcst as cst
from libcst.metadata import CodeRange

from conclint import registry
from conclint.analysis.context import SCOPE_CLASSES, FileContext
from conclint.analysis.nesting import hazard
from conclint.analysis.project import ProjectIndex, parse_python
from conclint.analysis.walk import Walker
from conclint.config import Settings, per_file_ignored
from conclint.diagnostics import (
    Diagnostic,
    FileResult,
    Severity,
    is_suppressed,
    parse_suppressions,
)
from conclint.files import MAX_SOURCE_BYTES, read_regular_file
from conclint.parse import parse_module
from conclint.prefilter import Source
from conclint.rules.base import Finding, Rule

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


def lint_file(path: str, settings: Settings, project: ProjectIndex | None = None) -> FileResult:
    """Read one file from disk and lint it; failures become CCL002, never exceptions."""
    try:
        data = read_regular_file(path, MAX_SOURCE_BYTES)
    except OSError as error:
        return failure(path, UNREADABLE, f"cannot read file: {error.strerror or error}")
    return lint_bytes(data, path, settings, project)


def lint_bytes(
    data: bytes, path: str, settings: Settings, project: ProjectIndex | None = None
) -> FileResult:
    """Lint a file's bytes, decoded as the interpreter would; undecodable bytes are CCL002."""
    try:
        source = decode_source(data)
    except DecodeError as error:
        return failure(path, UNREADABLE, str(error))
    return lint_source(source, path, settings, project=project)


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
        with _time_guard(settings.file_timeout), paused_cyclic_gc():
            return _lint_source(
                source, path, settings, rules, apply_suppressions, prefilter, project
            )
    except _OutOfTime:
        return failure(path, UNREADABLE, _timeout_message(settings))


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
        return failure(path, kind, danger.message, danger.line, danger.column)
    try:
        module = parse_module(source)
    except cst.ParserSyntaxError as error:
        # Python's own parser places and words syntax errors better than LibCST's.
        message = f"syntax not supported by the parser: {error.message}"
        fallback = failure(path, SYNTAX_ERROR, message, error.raw_line, error.raw_column)
        return _python_syntax_error(source, path, project) or fallback
    except RecursionError:
        return failure(path, SYNTAX_ERROR, "too deeply nested to parse; file skipped")
    except BaseException as error:
        # Text the native parser cannot take (a lone surrogate, say), or a panic in
        # it, which pyo3 raises as a BaseException of its own.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        return failure(path, UNREADABLE, f"cannot parse: {type(error).__name__}: {error}")
    try:
        with _recursion_limit(_DEEP_RECURSION):
            findings, positions = _run_rules(module, source, path, settings, selected, project)
            if positions is None:
                return FileResult(path)
    except RecursionError:
        return failure(path, UNREADABLE, "too deeply nested to analyse; file skipped")
    except Exception as error:
        message = f"internal error, please report: {type(error).__name__}: {error}"
        return failure(path, UNREADABLE, message)
    diagnostics = [_diagnostic(path, finding, positions[finding.node]) for finding in findings]
    return _finish(path, source, diagnostics, apply_suppressions)


@contextmanager
def paused_cyclic_gc() -> Iterator[None]:
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


def timed_out(result: FileResult, settings: Settings) -> bool:
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
    return failure(path, SYNTAX_ERROR, message, line, column)


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


def failure(
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
