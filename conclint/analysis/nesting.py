"""Sources too deeply nested for LibCST's native parser, found before it runs."""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

# LibCST's native parser recurses once per nesting level: its time grows with the
# cube of the depth (1,000 levels of `a[0][0]...` take seconds, 3,000 a minute),
# no signal can interrupt it, and past a few thousand levels it overflows the C
# stack and the whole process dies. Python's own parser is fast and protected.
MAX_DEPTH = 1000

# A file that Python's parser rejects (newer syntax than the running Python, say)
# may still go to LibCST when this cheap bound shows it cannot nest much deeper.
_FALLBACK_BOUND = 3 * MAX_DEPTH

# String literals and comments, each matched in linear time: the loops are
# unrolled and an unterminated literal runs to the end of its line or file,
# so no input makes the scanner backtrack or restart.
_STRINGS_AND_COMMENTS = re.compile(
    r"'''[^\\']*(?:(?:\\(?:\r\n|.)|'(?!''))[^\\']*)*(?:'''|\Z)"
    r'|"""[^\\"]*(?:(?:\\(?:\r\n|.)|"(?!""))[^\\"]*)*(?:"""|\Z)'
    r"|'[^\\'\r\n]*(?:\\(?:\r\n|.)[^\\'\r\n]*)*(?:'|(?=[\r\n])|\Z)"
    r'|"[^\\"\r\n]*(?:\\(?:\r\n|.)[^\\"\r\n]*)*(?:"|(?=[\r\n])|\Z)'
    r"|#[^\r\n]*",
    re.DOTALL,
)
_LINES = re.compile(r"\r\n?|\n")
_BRACKETS = str.maketrans("[{]}", "(())")
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Hazard:
    """Why a source must not reach LibCST's parser."""

    message: str
    line: int = 1
    column: int = 0
    # Python's parser rejects the source too: a syntax error rather than a skipped file.
    syntax_error: bool = False


def hazard(source: str) -> Hazard | None:
    """None when LibCST can parse `source` safely and in reasonable time."""
    bound = max(_longest_statement(source), 2 * source.count("elif"))
    if bound < MAX_DEPTH:
        return None  # every level of nesting costs at least one character
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the linted code's warnings are not ours
            tree = ast.parse(source)
    except (SyntaxError, ValueError) as error:
        if bound < _FALLBACK_BOUND:
            return None
        if isinstance(error, SyntaxError):
            column = max((error.offset or 1) - 1, 0)
            return Hazard(f"syntax error: {error.msg}", error.lineno or 1, column, True)
        return Hazard(f"syntax error: {error}", syntax_error=True)
    except (RecursionError, MemoryError):
        return _too_deep(None)
    depth = _depth(tree)
    return _too_deep(depth) if depth > MAX_DEPTH else None


def _too_deep(depth: int | None) -> Hazard:
    levels = depth or f"more than {MAX_DEPTH}"
    return Hazard(
        f"code nests {levels} levels deep; beyond {MAX_DEPTH} it cannot be parsed safely,"
        " so the file was skipped"
    )


def _longest_statement(source: str) -> int:
    """Characters of the longest logical line, spaces left out and each string counted once.

    An upper bound on how deeply any statement can nest, for the price of a few
    C-level passes over the text.
    """
    text = _STRINGS_AND_COMMENTS.sub("s", source).translate(_BRACKETS)
    longest = length = brackets = 0
    for line in _LINES.split(text):
        length += len(line) - line.count(" ")
        brackets += line.count("(") - line.count(")")
        if brackets <= 0 and not line.endswith("\\"):
            longest = max(longest, length)
            length = brackets = 0
    return max(longest, length)


def _depth(tree: ast.AST) -> int:
    """The deepest path through the tree, counted as LibCST nests it."""
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        below = depth + 1
        # `ast` keeps these flat; LibCST nests each operand or `for` clause in the next.
        if isinstance(node, ast.BoolOp):
            below += len(node.values)
        elif isinstance(node, _COMPREHENSIONS):
            below += len(node.generators)
        stack.extend((child, below) for child in ast.iter_child_nodes(node))
    return deepest
