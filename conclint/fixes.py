"""Fixes: the edits a rule proposes for a finding, and applying them to the text.

A rule proposes a fix in terms of the syntax tree (`Proposal`, made of node edits);
the engine turns it into positions (`Fix`, made of `Edit`s) once it knows where the
nodes are, and the `Diagnostic` carries that plain data across processes and the
cache. Applying a fix replaces exactly the text its edits name and keeps every other
byte of the file. Fixes whose edits overlap are not applied in the same pass: the file
is linted again and what is left is fixed in the next one, a bounded number of times.
"""

from __future__ import annotations

import difflib
import io
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import CodeRange

if TYPE_CHECKING:
    from conclint.analysis.project import ProjectIndex
    from conclint.config import Settings
    from conclint.diagnostics import Diagnostic, FileResult

SAFE, UNSAFE = "safe", "unsafe"
# Passes of "lint, apply what does not overlap" before giving up, as ruff bounds it.
MAX_ITERATIONS = 100


# What a diagnostic carries --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text from (line, col) to (end_line, end_col) with `content`.

    Positions are those of a `Diagnostic`: 1-based lines, 0-based code-point columns,
    the end exclusive; an insertion starts and ends at the same place.
    """

    line: int
    col: int
    end_line: int
    end_col: int
    content: str


@dataclass(frozen=True, slots=True)
class Fix:
    """How to fix one finding: what it does (`message`), its edits, and whether it is
    certain to keep the program's meaning but for the bug (`safe`) or only likely to."""

    message: str
    edits: tuple[Edit, ...]
    applicability: str = SAFE

    @property
    def safe(self) -> bool:
        return self.applicability == SAFE

    def applies(self, unsafe_fixes: bool) -> bool:
        return self.safe or unsafe_fixes


def fix_to_json(fix: Fix | None) -> dict[str, object] | None:
    """A fix as the cache keeps it."""
    if fix is None:
        return None
    edits = [[e.line, e.col, e.end_line, e.end_col, e.content] for e in fix.edits]
    return {"message": fix.message, "applicability": fix.applicability, "edits": edits}


def fix_from_json(raw: object) -> Fix | None:
    """A fix read back from the cache, every value checked (TypeError when malformed)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw["edits"], list):
        raise TypeError("a fix is a JSON object with a list of edits")
    message, applicability = raw["message"], raw["applicability"]
    if not isinstance(message, str) or applicability not in (SAFE, UNSAFE):
        raise TypeError("malformed fix")
    edits = []
    for line, col, end_line, end_col, content in raw["edits"]:
        if not all(type(n) is int and n >= 0 for n in (line, col, end_line, end_col)):
            raise TypeError("positions are non-negative integers")
        if not isinstance(content, str):
            raise TypeError("an edit's content is a string")
        edits.append(Edit(line, col, end_line, end_col, content))
    return Fix(message, tuple(edits), applicability)


# What a rule proposes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replace:
    """Replace the node's text."""

    node: cst.CSTNode
    text: str


@dataclass(frozen=True, slots=True)
class Insert:
    """Insert text just before the node's first character, or just after its last."""

    node: cst.CSTNode
    text: str
    after: bool = False


@dataclass(frozen=True, slots=True)
class NewLine:
    """A new line after the node's last line, with the indentation of the first line of
    `indent_like` (the node's own when None) and the file's line ending."""

    node: cst.CSTNode
    text: str
    indent_like: cst.CSTNode | None = None


@dataclass(frozen=True, slots=True)
class NewLineBefore:
    """A new line before the node's first line, with that line's indentation."""

    node: cst.CSTNode
    text: str


@dataclass(frozen=True, slots=True)
class DeleteLines:
    """Remove the whole lines the node is on, their ends included."""

    node: cst.CSTNode


@dataclass(frozen=True, slots=True)
class IndentBetween:
    """Put `unit` in front of every line that is not blank strictly between the last
    line of `after` and the first line of `before`."""

    after: cst.CSTNode
    before: cst.CSTNode
    unit: str


NodeEdit = Replace | Insert | NewLine | NewLineBefore | DeleteLines | IndentBetween


@dataclass(frozen=True)
class Proposal:
    """A fix as a rule sees it: edits anchored to nodes of the tree it visited."""

    message: str
    edits: tuple[NodeEdit, ...]
    safe: bool = True

    def nodes(self) -> list[cst.CSTNode]:
        found: list[cst.CSTNode] = []
        for edit in self.edits:
            if isinstance(edit, IndentBetween):
                found += [edit.after, edit.before]
            else:
                found.append(edit.node)
                if isinstance(edit, NewLine) and edit.indent_like is not None:
                    found.append(edit.indent_like)
        return found


def add_import(module: cst.Module, statement: str) -> NodeEdit | None:
    """A new line for `statement` (`import asyncio`) after the imports at the top of the
    module (after its docstring and `from __future__` imports), or before its first
    statement when it starts with none."""
    anchor: cst.CSTNode | None = None
    for index, line in enumerate(module.body):
        if not isinstance(line, cst.SimpleStatementLine):
            break
        imports = all(isinstance(small, cst.Import | cst.ImportFrom) for small in line.body)
        docstring = (
            index == 0
            and len(line.body) == 1
            and isinstance(line.body[0], cst.Expr)
            and isinstance(line.body[0].value, cst.SimpleString | cst.ConcatenatedString)
        )
        if not (imports or docstring):
            break
        anchor = line
    if anchor is not None:
        return NewLine(anchor, statement)
    if not module.body:
        return None
    first = module.body[0]
    # A decorated definition starts at its first decorator, above the `def` line.
    decorators = getattr(first, "decorators", ())
    return NewLineBefore(decorators[0] if decorators else first, statement)


def resolve(
    proposal: Proposal, where: Callable[[cst.CSTNode], CodeRange], lines: Sequence[str]
) -> Fix | None:
    """The proposal in positions of the source whose `lines` (with their ends) the tree
    was parsed from; None when an edit cannot be placed."""
    edits: list[Edit] = []
    for edit in proposal.edits:
        try:
            placed = _placed(edit, where, lines)
        except (KeyError, IndexError):  # a node or line not where the tree says: no fix
            placed = None
        if placed is None:
            return None
        edits += placed
    edits.sort(key=lambda e: (e.line, e.col, e.end_line, e.end_col))
    if any(_overlap(a, b) for a, b in pairwise(edits)):
        return None
    applicability = SAFE if proposal.safe else UNSAFE
    return Fix(proposal.message, tuple(edits), applicability)


def _placed(
    edit: NodeEdit, where: Callable[[cst.CSTNode], CodeRange], lines: Sequence[str]
) -> list[Edit] | None:
    if isinstance(edit, IndentBetween):
        first, last = where(edit.after).end.line + 1, where(edit.before).start.line - 1
        base = _indentation(lines[where(edit.after).start.line - 1])
        unit = edit.unit
        if base and set(base) != set(unit):  # a tab-indented block in a file of spaces
            unit = "\t" if set(base) == {"\t"} else " " * 4
        return [
            Edit(number, 0, number, 0, unit)
            for number in range(first, last + 1)
            if number <= len(lines) and lines[number - 1].strip()
        ]
    span = where(edit.node)
    start, end = span.start, span.end
    if isinstance(edit, Replace):
        return [Edit(start.line, start.column, end.line, end.column, edit.text)]
    if isinstance(edit, Insert):
        point = end if edit.after else start
        return [Edit(point.line, point.column, point.line, point.column, edit.text)]
    if end.line > len(lines):
        return None
    if isinstance(edit, DeleteLines):
        return [Edit(start.line, 0, end.line + 1, 0, "")]
    if isinstance(edit, NewLineBefore):
        text = _indentation(lines[start.line - 1]) + edit.text + _ending(lines, start.line)
        return [Edit(start.line, 0, start.line, 0, text)]
    indent_line = where(edit.indent_like).start.line if edit.indent_like else start.line
    text = _indentation(lines[indent_line - 1]) + edit.text
    final = lines[end.line - 1]
    if final.endswith(("\n", "\r")):
        return [Edit(end.line + 1, 0, end.line + 1, 0, text + _ending(lines, end.line))]
    # The node ends the file, on a line without an end: the new line gets one before it.
    column = len(final)
    return [Edit(end.line, column, end.line, column, _ending(lines, end.line) + text)]


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def _ending(lines: Sequence[str], number: int) -> str:
    """The line end of line `number`, or of the file's first line that has one."""
    for line in (lines[number - 1], *lines):
        stripped = line.rstrip("\r\n")
        if stripped != line:
            return line[len(stripped) :]
    return "\n"


# Applying -------------------------------------------------------------------------

Span = tuple[int, int]


def _overlap(a: Edit, b: Edit) -> bool:
    """Two edits (`a` first) that share text, or two insertions at one place (whose order
    would be unknown). Edits that only touch do not overlap."""
    a_end, b_start = (a.end_line, a.end_col), (b.line, b.col)
    both_insert = (a.line, a.col) == a_end == b_start == (b.end_line, b.end_col)
    return both_insert or b_start < a_end


def apply_fixes(source: str, fixes: Sequence[Fix]) -> tuple[str, list[int]]:
    """`source` with the fixes applied that start after the end of every fix applied
    before them (taken in the order of where they start, as ruff does), and the indices
    of those applied. The rest waits for the next pass, on the text this one makes. An
    edit identical to one already applied (two fixes adding the same import) is not
    applied again."""
    offsets = _line_offsets(source)
    placed: list[tuple[list[tuple[int, int, str]], int]] = []
    for index, fix in enumerate(fixes):
        edits = []
        for edit in fix.edits:
            span = _offsets(edit, offsets, len(source))
            if span is None:
                break
            edits.append((*span, edit.content))
        else:
            if edits:
                placed.append((sorted(edits), index))
    placed.sort(key=lambda item: (item[0][0][:2], item[1]))
    taken: dict[tuple[int, int, str], None] = {}
    last = -1  # where the last edit applied ends
    applied: list[int] = []
    for edits, index in placed:
        fresh = [edit for edit in edits if edit not in taken]
        if fresh and fresh[0][0] <= last:
            continue
        taken.update(dict.fromkeys(fresh))
        last = max([last, *(end for _, end, _ in fresh)])
        applied.append(index)
    out: list[str] = []
    position = 0
    for start, end, content in sorted(taken):
        out += [source[position:start], content]
        position = end
    out.append(source[position:])
    return "".join(out), sorted(applied)


def _line_offsets(source: str) -> list[int]:
    """Where each line starts (lines as Python and LibCST count them), and the end."""
    from conclint.parse import source_lines

    offsets = [0]
    for line in source_lines(source):
        offsets.append(offsets[-1] + len(line))
    return offsets


def _offsets(edit: Edit, offsets: list[int], size: int) -> Span | None:
    def offset(line: int, col: int) -> int | None:
        if not 1 <= line <= len(offsets) or col < 0:
            return None
        point = offsets[line - 1] + col
        limit = offsets[line] if line < len(offsets) else size
        return point if point <= limit else None

    start, end = offset(edit.line, edit.col), offset(edit.end_line, edit.end_col)
    if start is None or end is None or end < start:
        return None
    return start, end


# Fixing a file until nothing is left to fix -----------------------------------------


@dataclass
class Fixed:
    """A source after its fixes: the text, its findings now, what was fixed per code,
    and anything that stopped the fixing early."""

    source: str
    result: FileResult
    fixed: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def fix_source(
    source: str,
    path: str,
    settings: Settings,
    unsafe_fixes: bool,
    project: ProjectIndex | None = None,
    result: FileResult | None = None,
) -> Fixed:
    """Apply the applicable fixes of `source` pass after pass, linting again after each,
    until none is left. A pass whose result does not parse is undone and ends the work.
    `result`: the findings of `source` when the caller has them already."""
    from conclint.engine import lint_source

    def lint(text: str) -> FileResult:
        return lint_source(text, path, settings, project=project)

    done = Fixed(source, result if result is not None else lint(source))
    seen = {source}
    for _ in range(MAX_ITERATIONS):
        pending = applicable(done.result.diagnostics, unsafe_fixes)
        if done.result.failed or not pending:
            return done
        text, applied = apply_fixes(done.source, [d.fix for d in pending if d.fix])
        if not applied or text in seen:
            return done
        again = lint(text)
        if again.failed:
            codes = ", ".join(sorted({pending[i].code for i in applied}))
            done.problems.append(
                f"{path}: a fix of {codes} gave a file that does not parse; "
                "those fixes were not applied, please report"
            )
            return done
        done.fixed.update(pending[i].code for i in applied)
        done.source, done.result = text, again
        seen.add(text)
    done.problems.append(f"{path}: fixes did not converge after {MAX_ITERATIONS} passes")
    return done


def applicable(diagnostics: Iterable[Diagnostic], unsafe_fixes: bool) -> list[Diagnostic]:
    return [d for d in diagnostics if d.fix is not None and d.fix.applies(unsafe_fixes)]


def unified_diff(before: str, after: str, path: str | None) -> str:
    """What `--diff` prints for one file: a unified diff with the path as both names
    (none for standard input without a name), and a blank line after it, as ruff does."""
    from conclint.parse import source_lines

    lines = list(
        difflib.unified_diff(
            source_lines(before),
            source_lines(after),
            fromfile=path or "",
            tofile=path or "",
        )
    )
    if path is None:
        lines = lines[2:]
    out = []
    for line in lines:
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:  # the last line of a file that does not end with a newline
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out) + "\n"


def encoding_of(data: bytes) -> str:
    """The encoding Python reads a file's bytes with (`utf-8-sig` when there is a BOM)."""
    return tokenize.detect_encoding(io.BytesIO(data).readline)[0]


class CannotEdit(Exception):
    """A file that cannot be rewritten in place (unreadable, or its text would not
    encode back to the same bytes)."""


def read_editable(path: str) -> tuple[str, str]:
    """A file's text and the encoding to write it back with."""
    from conclint.engine import DecodeError, decode_source
    from conclint.files import MAX_SOURCE_BYTES, read_regular_file

    try:
        data = read_regular_file(path, MAX_SOURCE_BYTES)
        encoding = encoding_of(data)
        text = decode_source(data)
        if text.encode(encoding) != data:
            raise DecodeError("its text does not encode back to the same bytes")
    except (OSError, SyntaxError, DecodeError, UnicodeError) as error:
        raise CannotEdit(str(error)) from None
    return text, encoding


# Fixing the files of a run ----------------------------------------------------------


@dataclass
class FileFix:
    """One file the fixes changed: its text before and after, and what was fixed."""

    path: str
    before: str
    after: str
    fixed: Counter[str]


@dataclass
class FixRun:
    """What fixing a run's files did: the findings left in every file, the files changed,
    and what stopped the fixing of some file early (for stderr)."""

    results: list[FileResult]
    changed: list[FileFix] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for change in self.changed:
            total.update(change.fixed)
        return total


def fix_files(
    results: Sequence[FileResult],
    settings_of: Callable[[str], tuple[Settings, ProjectIndex] | None],
    unsafe_fixes: bool,
    write: bool,
) -> FixRun:
    """Fix the files of `results` that have applicable fixes, each with the settings and
    project index it was linted with (`settings_of`), and write them back when `write`
    (else only say what would change: `--diff`). A file is written in place, encoded as
    it was read (its BOM and coding cookie kept), only when its bytes decode and encode
    back to themselves."""
    run = FixRun([])
    for result in results:
        known = settings_of(result.path)
        if result.failed or known is None or not applicable(result.diagnostics, unsafe_fixes):
            run.results.append(result)
            continue
        try:
            before, encoding = read_editable(result.path)
        except CannotEdit as error:
            run.problems.append(f"{result.path}: not fixed: {error}")
            run.results.append(result)
            continue
        settings, project = known
        fixed = fix_source(before, result.path, settings, unsafe_fixes, project)
        run.problems += fixed.problems
        if fixed.source == before:
            run.results.append(result)
            continue
        try:
            encoded = fixed.source.encode(encoding)  # before the file is opened and emptied
            if write:
                with open(result.path, "wb") as out:  # in place: its mode and links stay
                    out.write(encoded)
        except (OSError, UnicodeError) as error:
            run.problems.append(f"{result.path}: cannot write the fixes: {error}")
            run.results.append(result)
            continue
        run.changed.append(FileFix(result.path, before, fixed.source, fixed.fixed))
        run.results.append(fixed.result)
    return run
