"""LibCST parsing whose cost per line does not grow with the file.

LibCST's parser slows down per line on long files (about twice as slow per line
at 100,000 lines as at 1,000). A long module is therefore cut where top-level
statements begin (Python's own parser says where), each piece is parsed alone,
and the pieces are joined into the tree a whole-file parse gives: the comments
and blank lines at a cut belong to the next statement, as LibCST would attach
them. tests/test_parse.py checks the joined tree equals the whole-file one.

LibCST also re-checks every node the parser builds (`CSTNode.__post_init__`
calls `_validate`), about a fifth of the parse. Those checks guard trees built by
hand; the parser rejects invalid source itself and builds only valid nodes, so
they are switched off while it runs (tests/test_parse.py: same trees, same
verdicts on broken code, the checks back on afterwards).

A few layouts Python accepts cannot be written as LibCST's tree: an indented
block whose indentation is not the text of the enclosing block's plus more (a
tab, then eight spaces and a tab; a form feed), or more than 3,000 strings in
one implicit concatenation (LibCST's parser refuses them). `rewritten` writes
those as LibCST takes them, keeping every line and, but for a form feed's, every
column where it was, so that the findings stay where they are in the file.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise

import libcst as cst
from libcst._nodes.base import CSTNode

from conclint.analysis.nesting import UNPARSED, Python, parse_python

# Files longer than this are parsed in pieces of about this many lines.
PIECE_LINES = 2_000


def is_long(source: str) -> bool:
    """Whether `parse_module` parses `source` in pieces, cut where Python's parser says."""
    # Line ends counted cheaply first: a CRLF counts twice, so only "not long" is sure.
    ends = source.count("\n") + source.count("\r")
    return ends > 2 * PIECE_LINES and len(source_lines(source)) > 2 * PIECE_LINES


def source_lines(source: str) -> list[str]:
    """The lines of `source`, with their ends, as Python counts them (str.splitlines
    would also cut at form feeds and other separators)."""
    return io.StringIO(source, newline="").readlines()


def parse_module(
    source: str, piece_lines: int = PIECE_LINES, python: Python = UNPARSED
) -> cst.Module:
    """`libcst.parse_module(source)`, in pieces when the source is long, cut where
    Python's parse of it (`python`, where the caller has it) says statements start."""
    lines = source_lines(source)
    if len(lines) <= 2 * piece_lines:
        return _parsed(source)
    if python is UNPARSED:
        python = parse_python(source)
    cuts = _cuts(python, lines, piece_lines) if isinstance(python, ast.Module) else []
    if not cuts:
        return _parsed(source)
    bounds = [0, *(line - 1 for line in cuts), len(lines)]
    try:
        pieces = [_parsed("".join(lines[start:end])) for start, end in pairwise(bounds)]
    except cst.ParserSyntaxError:
        pieces = []  # the whole file's parse places the error
    return (pieces and _joined(pieces)) or _parsed(source)


def _parsed(source: str) -> cst.Module:
    with _node_checks_off():
        return cst.parse_module(source)


def _unchecked(node: CSTNode) -> None:
    """What `CSTNode.__post_init__` does while the parser runs: nothing."""


@contextmanager
def _node_checks_off() -> Iterator[None]:
    checked = CSTNode.__dict__["__post_init__"]
    CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        CSTNode.__post_init__ = checked  # type: ignore[method-assign]


def _cuts(tree: ast.Module, lines: list[str], piece_lines: int) -> list[int]:
    """Lines, about `piece_lines` apart, where a top-level statement starts its own line
    (at its very first character: LibCST reads a form feed there differently)."""
    cuts: list[int] = []
    previous_end = 0
    last_cut = 1
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(decorator.lineno for decorator in decorators)])
        if (
            statement.col_offset == 0
            and first > previous_end
            and not lines[first - 1][:1].isspace()
            and first - last_cut >= piece_lines
        ):
            cuts.append(first)
            last_cut = first
        previous_end = statement.end_lineno or statement.lineno
    return cuts


def _joined(pieces: list[cst.Module]) -> cst.Module | None:
    """The pieces as one module, or None where a piece guessed the indentation or the
    newline differently from the first (the whole file would have one guess)."""
    first = pieces[0]
    if any(
        piece.default_indent != first.default_indent
        or piece.default_newline != first.default_newline
        for piece in pieces
    ):
        return None
    body: list[cst.SimpleStatementLine | cst.BaseCompoundStatement] = list(first.body)
    pending = list(first.footer)
    for piece in pieces[1:]:
        statements = list(piece.body)
        leading = [*pending, *piece.header]
        if statements:
            statements[0] = statements[0].with_changes(
                leading_lines=[*leading, *statements[0].leading_lines]
            )
            pending = list(piece.footer)
        else:
            pending = [*leading, *piece.footer]
        body.extend(statements)
    return first.with_changes(
        body=body, footer=pending, has_trailing_newline=pieces[-1].has_trailing_newline
    )


# Layout LibCST cannot represent -----------------------------------------------------

# LibCST's parser refuses an implicit concatenation of more strings than this.
_MOST_STRINGS = 3_000
# Longer concatenations are cut about this often into ones LibCST takes, joined by `+`.
_STRINGS_APIECE = 2_000
# Tokens that begin a string: in 3.12 and later an f-string (3.14 a t-string) is many.
_STRING_STARTS = frozenset(
    getattr(tokenize, name)
    for name in ("STRING", "FSTRING_START", "TSTRING_START")
    if hasattr(tokenize, name)
)
_STRING_ENDS = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, name)
)
_LAYOUT = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT})

Point = tuple[int, int]  # row (1-based), column


@dataclass(frozen=True)
class Rewritten:
    """A source with its layout written as LibCST takes it: the same lines, and the same
    columns but where a form feed left the start of a line."""

    source: str
    # Line -> how many characters were taken from its start.
    shifts: Mapping[int, int]


@dataclass(frozen=True)
class Parsed:
    """A module as LibCST parsed it, and the text it parsed: the file's own, or the file's
    `rewritten`, whose columns `column` turns into the file's."""

    module: cst.Module
    source: str
    shifts: Mapping[int, int] = field(default_factory=dict)

    def column(self, line: int, column: int) -> int:
        return column + self.shifts.get(line, 0)


def rewritten(source: str) -> Rewritten | None:
    """`source` (which Python's parser accepts) with each logical line's indentation made
    spaces only, as deep as Python counts it, and each implicit concatenation of more
    than 3,000 strings cut by `+` (in place of a space between two of them). None when
    Python's tokenizer cannot read the source, or nothing needed rewriting."""
    lines = source_lines(source)
    plain = "".join(line.rstrip("\r\n") + "\n" for line in lines)  # rows as Python counts
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(plain).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    starts, runs = _line_starts_and_string_runs(tokens)
    cuts = [cut for run in runs for cut in _cuts_of(run, lines)]
    for row, column in cuts:
        line = lines[row - 1]
        lines[row - 1] = f"{line[:column]}+{line[column + 1 :]}"
    shifts: dict[int, int] = {}
    changed = bool(cuts)
    for row, column in starts:
        line = lines[row - 1]
        indentation = line[:column]
        # As deep as Python counts it: a form feed starts the count again, a tab counts
        # one (Python's rules on mixing tabs and spaces make that agree with eight).
        depth = len(indentation) - indentation.rfind("\x0c") - 1
        if indentation != " " * depth:
            changed = True
            lines[row - 1] = " " * depth + line[column:]
            if depth < len(indentation):
                shifts[row] = len(indentation) - depth
    return Rewritten("".join(lines), shifts) if changed else None


def _line_starts_and_string_runs(
    tokens: list[tokenize.TokenInfo],
) -> tuple[list[Point], list[list[tuple[Point, Point]]]]:
    """Where each logical line starts, and each run of more than 3,000 strings that are
    implicitly concatenated (as the (start, end) of each string)."""
    starts: list[Point] = []
    runs: list[list[tuple[Point, Point]]] = []
    run: list[tuple[Point, Point]] = []
    line_starts = True
    opened: Point | None = None  # the start of an f-string whose tokens are being read
    nested = 0
    for token in tokens:
        kind = token.type
        if nested:  # inside an f-string (3.12 and later): its own tokens
            nested += (kind in _STRING_STARTS and kind != tokenize.STRING) - (kind in _STRING_ENDS)
            if not nested and opened is not None:
                run.append((opened, token.end))
            continue
        if kind in _LAYOUT:
            continue
        if line_starts and kind not in (tokenize.NEWLINE, tokenize.ENDMARKER):
            starts.append(token.start)
            line_starts = False
        if kind == tokenize.STRING:
            run.append((token.start, token.end))
        elif kind in _STRING_STARTS:
            opened, nested = token.start, 1
        else:
            if len(run) > _MOST_STRINGS:
                runs.append(run)
            run = []
            line_starts = kind == tokenize.NEWLINE
    return starts, runs


def _cuts_of(run: list[tuple[Point, Point]], lines: list[str]) -> list[Point]:
    """Where a space or tab between two strings of `run` can become a `+`, so that no
    part of the run is longer than LibCST takes (fewer when no such place is found)."""
    cuts: list[Point] = []
    since = 0
    for index in range(1, len(run)):
        since += 1
        if since < _STRINGS_APIECE:
            continue
        place = _gap(run[index - 1][1], run[index][0], lines)
        if place is not None:
            cuts.append(place)
            since = 0
    return cuts


def _gap(end: Point, start: Point, lines: list[str]) -> Point | None:
    """A space or tab outside any comment between the end of one string and the start
    of the next."""
    row, column = start
    if column > 0 and lines[row - 1][column - 1] in " \t" and (row, column) > end:
        return (row, column - 1)
    row, column = end
    for offset, char in enumerate(lines[row - 1][column:]):
        if char in " \t":
            return (row, column + offset)
        if char not in "\x0c":
            return None  # a comment, a continuation or the line end
    return None
