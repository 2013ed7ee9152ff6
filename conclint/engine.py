"""The one place that reads, parses, traverses and filters: files in, diagnostics out."""

from __future__ import annotations

import ast
import gc
import io
import signal
import sys
import threading
import time
import tokenize
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Literal

import libcst as cst
from libcst.metadata import CodeRange

from conclint import fixes, registry
from conclint.analysis import nesting
from conclint.analysis.context import SCOPE_CLASSES, FileContext
from conclint.analysis.dead_branches import DeadBranches
from conclint.analysis.nesting import (
    UNPARSED,
    Python,
    Screen,
    SyntaxProblem,
    hazard,
    parse_python,
    screen,
)
from conclint.analysis.project import ModuleFacts, ProjectIndex, facts_of
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
from conclint.parse import Parsed, is_long, parse_module, rewritten, source_lines
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
        with _time_guard(settings.file_timeout) as budget, paused_cyclic_gc():
            return _lint_source(
                source, path, settings, rules, apply_suppressions, prefilter, project, budget
            )
    except _OutOfTime:
        return failure(path, UNREADABLE, _timeout_message(settings), transient=True)
    except _Refused as refusal:
        return failure(path, UNREADABLE, refusal.message, transient=True)
    except MemoryError:
        # Raised where the tree was being built: unwinding to here has freed it.
        return failure(path, UNREADABLE, "ran out of memory; file skipped", transient=True)


def bounded_facts(source: str, path: str, settings: Settings) -> ModuleFacts:
    """`facts_of` for the index pass, within the bounds of linting the file: out of time
    or memory, the facts are transient (no opinion on the file, never cached). So are
    they where the index pass fails on the file (a bug): every file of a project is
    indexed, and one file must not stop the run of another."""
    try:
        with _time_guard(settings.file_timeout) as budget, paused_cyclic_gc():
            if 2 * len(source) >= _SMALL and not nesting.too_large(source):
                budget.afford(screen(source).tokens, "python")
            return facts_of(source, path, settings.catalog())
    except (_OutOfTime, Exception):  # _Refused, MemoryError, RecursionError included
        return ModuleFacts(transient=True)


def _lint_source(
    source: str,
    path: str,
    settings: Settings,
    rules: Sequence[type[Rule]] | None,
    apply_suppressions: bool,
    prefilter: bool,
    project: ProjectIndex | None,
    budget: _Budget,
) -> FileResult:
    selected = tuple(rules) if rules is not None else registry.enabled_rules(settings)
    selected = _without_ignored(selected, path, settings)
    project = project or ProjectIndex()
    if prefilter:
        text = Source(source, path, project)
        selected = tuple(rule for rule in selected if rule.may_fire(text, settings))
    # Python's opinion from the index pass: None where it parsed the file.
    opinion: Python = project.syntax.get(path, UNPARSED)
    if not selected:
        return _verdict(source, path, opinion, budget)
    parsed = _parse(source, path, UNPARSED if opinion is None else opinion, budget)
    if isinstance(parsed, FileResult):
        return parsed
    try:
        with _recursion_limit(_DEEP_RECURSION):
            findings, positions = _run_rules(
                parsed.module, parsed.source, path, settings, selected, project
            )
            if positions is None:
                return FileResult(path)
    except RecursionError:
        return failure(path, UNREADABLE, "too deeply nested to analyse; file skipped")
    except MemoryError:
        raise
    except Exception as error:
        message = f"internal error, please report: {type(error).__name__}: {error}"
        return failure(path, UNREADABLE, message)
    # Fixes are placed in the text LibCST parsed; a rewritten layout gets none.
    fixed = parsed.source == source and any(finding.fix for finding in findings)
    lines = source_lines(source) if fixed else None
    diagnostics = [_diagnostic(path, finding, positions, parsed, lines) for finding in findings]
    return _finish(path, source, diagnostics, apply_suppressions)


def _verdict(source: str, path: str, opinion: Python, budget: _Budget) -> FileResult:
    """The result of a file no rule looks at: whether it parses, as LibCST's parser says.

    Python's parser is asked first, being far cheaper (the index pass has asked it
    for most files already); what it accepts, conclint's parse accepts too (see
    `parse.rewritten`). Only a file it rejects goes to LibCST, which decides: newer
    syntax than the running Python's parses, broken code does not. A file too large
    to parse at all is left alone: nothing needs it parsed.
    """
    clean = FileResult(path)
    if opinion is None:
        return clean
    found = None
    if opinion is UNPARSED:
        found = screen(source)
        if found.tokens > nesting.MAX_TOKENS:
            return clean
        opinion = _python(source, found, budget)
    if not isinstance(opinion, tuple):
        return clean  # Python parses it, or it nests too deeply to ask
    parsed = _parse(source, path, opinion, budget, found)
    if isinstance(parsed, Parsed):
        return clean
    syntax_error = parsed.diagnostics[0].code == SYNTAX_ERROR[0]
    return parsed if syntax_error or parsed.transient else clean


def _parse(
    source: str, path: str, python: Python, budget: _Budget, found: Screen | None = None
) -> Parsed | FileResult:
    """The file as LibCST parses it, or why it cannot be: its CCL001, or a CCL002 for a
    file too large or too deeply nested to parse. `python` is Python's parse of it,
    where the caller has it; it is made here only where it is needed (a deep or long
    file, or one LibCST rejects)."""
    found = found or screen(source)
    if found.tokens > nesting.MAX_TOKENS:
        message = (
            f"too large to analyse: about {found.tokens:,} tokens, more than the"
            f" {nesting.MAX_TOKENS:,} conclint parses in one file; file skipped"
        )
        return failure(path, UNREADABLE, message)
    if python is UNPARSED and (found.depth_bound >= nesting.MAX_DEPTH or is_long(source)):
        python = _python(source, found, budget)
    danger = hazard(source, found, python)
    if danger is not None:
        kind = SYNTAX_ERROR if danger.syntax_error else UNREADABLE
        return failure(path, kind, danger.message, danger.line, danger.column)
    budget.afford(found.tokens, "libcst")
    module = _libcst(source, python, path)
    if not isinstance(module, cst.ParserSyntaxError):
        return module if isinstance(module, FileResult) else Parsed(module, source)
    # Rejected: Python's parser rejects it too (and words and places it better), or
    # LibCST cannot take its layout as written.
    if python is UNPARSED:
        python = _python(source, found, budget)
    if isinstance(python, tuple):
        line, column, message = python
        return failure(path, SYNTAX_ERROR, message, line, column)
    layout = rewritten(source) if isinstance(python, ast.Module) else None
    if layout is not None:
        budget.afford(found.tokens, "libcst")
        again = _libcst(layout.source, python, path)
        if isinstance(again, FileResult):
            return again
        if isinstance(again, cst.Module):
            return Parsed(again, layout.source, layout.shifts)
    message = f"syntax not supported by the parser: {module.message}"
    return failure(path, SYNTAX_ERROR, message, module.raw_line, module.raw_column)


def _libcst(
    source: str, python: Python, path: str
) -> cst.Module | cst.ParserSyntaxError | FileResult:
    """LibCST's parse of `source`, its syntax error, or why it could not parse it."""
    try:
        return parse_module(source, python=python)
    except cst.ParserSyntaxError as error:
        return error
    except RecursionError:
        return failure(path, SYNTAX_ERROR, "too deeply nested to parse; file skipped")
    except MemoryError:
        raise
    except BaseException as error:
        # Text the native parser cannot take (a lone surrogate, say), or a panic in
        # it, which pyo3 raises as a BaseException of its own.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        return failure(path, UNREADABLE, f"cannot parse: {type(error).__name__}: {error}")


def _python(source: str, found: Screen, budget: _Budget) -> ast.Module | SyntaxProblem | None:
    budget.afford(found.tokens, "python")
    return parse_python(source)


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


# Time ------------------------------------------------------------------------------


class _OutOfTime(BaseException):
    """The time guard's alarm: a BaseException, so that no `except Exception` swallows it."""


class _Refused(Exception):
    """Work no signal can interrupt (a native parse) that would not end in time."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Pace:
    """Seconds a token that Python's parser and LibCST's take on this machine."""

    python: float
    libcst: float


# Below this many tokens no machine parses for long: the alarm is bound enough.
_SMALL = 20_000
# Measured once per process, when a file first needs an estimate.
_pace: Pace | None = None


def _measured_pace() -> Pace:
    global _pace
    if _pace is None:
        sample = _PACE_SAMPLE * 40
        tokens = screen(sample).tokens
        per_token = [_seconds(parse, sample) / tokens for parse in (parse_python, parse_module)]
        _pace = Pace(*per_token)
    return _pace


# Ordinary code of about 130 tokens: 40 of it take Python's parser some milliseconds,
# LibCST's some tens.
_PACE_SAMPLE = """
class Worker(Base):
    \"\"\"A worker.\"\"\"

    async def run(self, queue: asyncio.Queue[int], *, limit: int = 10) -> list[str]:
        done = [str(item) for item in await queue.get() if item > limit]  # kept
        if not done or self.stopped:
            raise RuntimeError(f"nothing for {self.name!r}", len(done))
        return {"done": done, "left": queue.qsize() - 1}.get("done", [])
"""


def _seconds(parse: Callable[[str], object], sample: str) -> float:
    """The faster of two runs: the slower says more about other work on the machine."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        parse(sample)
        times.append(time.perf_counter() - started)
    return min(times)


class _Budget:
    """The time one file has left, where the time guard runs (else no bound applies)."""

    def __init__(self, seconds: float, guarded: bool) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds if guarded else None

    def afford(self, tokens: int, parser: Literal["python", "libcst"]) -> None:
        """Refuse a native parse that would not end before the deadline: no signal can
        stop it, so the file would overrun by as long as it takes."""
        if self.deadline is None or tokens < _SMALL:
            return
        pace = _measured_pace()
        expected = tokens * (pace.python if parser == "python" else pace.libcst)
        if expected > self.deadline - time.monotonic():
            shown = f"{expected:.0f}" if expected >= 10 else f"{expected:.1f}"
            raise _Refused(
                f"would take longer than the file-timeout of {self.seconds:g} s: parsing its"
                f" {tokens:,} tokens takes about {shown} s here; file skipped"
            )


@contextmanager
def _time_guard(seconds: float) -> Iterator[_Budget]:
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
        yield _Budget(seconds, guarded=False)
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield _Budget(seconds, guarded=True)
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)


def _timeout_message(settings: Settings) -> str:
    return f"took longer than the file-timeout of {settings.file_timeout:g} s; file skipped"


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


def _run_rules(
    module: cst.Module,
    source: str,
    path: str,
    settings: Settings,
    selected: Sequence[type[Rule]],
    project: ProjectIndex,
) -> tuple[list[Finding], dict[cst.CSTNode, CodeRange] | None]:
    """The rules' findings, with the positions of their nodes when there are any."""
    context = FileContext(path, module, settings, project, source=source)
    instances = [rule_class(context) for rule_class in selected]
    around = dict.fromkeys(SCOPE_CLASSES, (context.enter, context.leave))
    # The trackers the rules listen to see every node first; no one sees a branch that
    # never runs.
    never_runs = DeadBranches(source).never_run
    Walker([*context.trackers.values(), *instances], around, never_runs).walk(module)
    findings = [finding for instance in instances for finding in instance.findings]
    nodes = [f.node for f in findings] + [n for f in findings if f.fix for n in f.fix.nodes()]
    positions = context.positions_of(nodes, source) if findings else None
    context.forget()
    return findings, positions


def _diagnostic(
    path: str,
    finding: Finding,
    positions: dict[cst.CSTNode, CodeRange],
    parsed: Parsed,
    lines: list[str] | None,
) -> Diagnostic:
    where = positions[finding.node]
    start, end = where.start, where.end
    fix = None
    if finding.fix is not None and lines is not None:
        fix = fixes.resolve(finding.fix, positions.__getitem__, lines)
    return Diagnostic(
        path,
        start.line,
        parsed.column(start.line, start.column),
        end.line,
        parsed.column(end.line, end.column),
        finding.code,
        finding.name,
        finding.message,
        finding.severity,
        fix,
    )


def _finish(
    path: str, source: str, diagnostics: list[Diagnostic], apply_suppressions: bool
) -> FileResult:
    lines = [line.rstrip("\r\n") for line in source_lines(source)]
    active: list[Diagnostic] = []
    suppressed: list[Diagnostic] = []
    noqa = parse_suppressions(lines) if apply_suppressions else {}
    for diagnostic in sorted(set(diagnostics), key=lambda d: d.sort_key):
        (suppressed if is_suppressed(diagnostic, noqa) else active).append(diagnostic)
    reported = {d.line for d in (*active, *suppressed)}
    snippets = {n: lines[n - 1] for n in reported if 0 < n <= len(lines)}
    return FileResult(path, tuple(active), tuple(suppressed), snippets=snippets)


def failure(
    path: str,
    kind: tuple[str, str],
    message: str,
    line: int = 1,
    column: int = 0,
    *,
    transient: bool = False,
) -> FileResult:
    code, name = kind
    diagnostic = Diagnostic(path, line, column, line, column, code, name, message, Severity.ERROR)
    return FileResult(path, (diagnostic,), failed=True, transient=transient)


def _without_ignored(
    selected: Sequence[type[Rule]], path: str, settings: Settings
) -> tuple[type[Rule], ...]:
    ignored = per_file_ignored(path, settings)
    if not ignored:
        return tuple(selected)
    return tuple(rule for rule in selected if not rule.code.startswith(ignored))
