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
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

import libcst as cst
from libcst._nodes.base import CSTNode

from conclint.analysis.project import parse_python

# Files longer than this are parsed in pieces of about this many lines.
PIECE_LINES = 2_000


def parse_module(source: str, piece_lines: int = PIECE_LINES) -> cst.Module:
    """`libcst.parse_module(source)`, in pieces when the source is long."""
    # Line ends as Python counts them (str.splitlines would also cut at form feeds).
    lines = io.StringIO(source, newline="").readlines()
    if len(lines) <= 2 * piece_lines:
        return _parsed(source)
    tree = parse_python(source)
    cuts = _cuts(tree, lines, piece_lines) if isinstance(tree, ast.Module) else []
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
