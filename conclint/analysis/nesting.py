"""Sources too large or too deeply nested for LibCST's native parser, found before it runs."""

from __future__ import annotations

import ast
import functools
import re
import warnings
from dataclasses import dataclass

# LibCST's native parser recurses once per nesting level: its time grows with the
# cube of the depth (1,000 levels of `a[0][0]...` take seconds, 3,000 a minute),
# no signal can interrupt it, and past a few thousand levels it overflows the C
# stack and the whole process dies. Python's own parser is fast and protected.
MAX_DEPTH = 1000

# LibCST's tree takes about 2 KB a token (Python's `ast` a quarter of that), so this
# keeps one file's tree near 2 GB. The largest real files seen have 180,000 (sympy's
# test_spin.py, the largest of 13,000 files of the stdlib and a scientific stack).
MAX_TOKENS = 1_000_000

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
# Characters of operators and delimiters; each is next to about one name or number.
_PUNCTUATION = ",()[]{}.:;=+-*/%<>&|^~@!"
# What can add a level to LibCST's tree, in text whose strings and comments are each
# one `"`: brackets, separators, line ends (not continued ones), operators, keywords.
# (Implicitly concatenated strings nest too, but LibCST takes no more than 3,000,
# which neither its parser nor conclint's walker finds too deep.)
_NESTING_TOKENS = re.compile(
    r"[(\[{]|[)\]}]|[,;]|\\(?:\r\n?|\n)|\r\n?|\n|[-+*/%@&|^~<>!=.:]"
    r"|\b(?:not|and|or|if|else|lambda|await|for|in|is|yield)\b"
)

SyntaxProblem = tuple[int, int, str]  # line, column, message


@dataclass(frozen=True)
class Screen:
    """What the text alone says of a source, in a few C-level passes over it."""

    # About how many tokens it holds, erring high (each string and comment counts one):
    # what parsing it costs, in time and memory.
    tokens: int
    # An upper bound on how deeply any statement nests.
    depth_bound: int


@functools.lru_cache(maxsize=2)
def screen(source: str) -> Screen:
    """The text screen of `source`: a few C-level passes, and one loop over its lines.
    Remembered for the last sources, which the index and lint passes both screen."""
    text = _STRINGS_AND_COMMENTS.sub('"', source)
    return Screen(_tokens(text), max(_longest_statement(text), 2 * source.count("elif")))


def _tokens(text: str) -> int:
    punctuation = sum(map(text.count, _PUNCTUATION))
    lines = text.count("\n") + text.count("\r")
    return 2 * punctuation + 2 * lines + text.count('"')


@functools.lru_cache(maxsize=2)
def too_large(source: str) -> bool:
    """More than MAX_TOKENS tokens: counted (C-level passes only) where that is possible."""
    return (
        2 * len(source) > MAX_TOKENS
        and _tokens(_STRINGS_AND_COMMENTS.sub('"', source)) > MAX_TOKENS
    )


@dataclass(frozen=True)
class Hazard:
    """Why a source must not reach LibCST's parser."""

    message: str
    line: int = 1
    column: int = 0
    # Python's parser rejects the source too: a syntax error rather than a skipped file.
    syntax_error: bool = False


class _Unparsed:
    """Python's parser has not been asked yet."""


UNPARSED = _Unparsed()
Python = ast.Module | SyntaxProblem | None | _Unparsed  # None: too deep for `ast` itself


def hazard(source: str, found: Screen | None = None, python: Python = UNPARSED) -> Hazard | None:
    """None when LibCST can parse `source` safely and in reasonable time.

    `python` is Python's parse of the source where the caller has it already
    (`parse_python`); it is made here when the text screen cannot decide.
    """
    found = found or screen(source)
    if found.depth_bound < MAX_DEPTH:
        return None  # every level of nesting costs at least one character
    if isinstance(python, _Unparsed):
        python = parse_python(source)
    if python is None:
        return _too_deep(None)
    if isinstance(python, ast.Module):
        depth = _depth(python)
        return _too_deep(depth) if depth > MAX_DEPTH else None
    # Python rejects it (newer syntax than the running Python's, or broken code):
    # LibCST judges it where the text shows it cannot nest too deeply for LibCST.
    if not deep_by_text(source):
        return None
    line, column, message = python
    return Hazard(message, line, column, syntax_error=True)


def deep_by_text(source: str) -> bool:
    """Whether the text alone shows nesting near the depth that exhausts parsers."""
    if 2 * source.count("elif") >= MAX_DEPTH:
        return True
    text = _STRINGS_AND_COMMENTS.sub('"', source)
    return estimated_depth(text, MAX_DEPTH) >= MAX_DEPTH


def parse_python(source: str) -> ast.Module | SyntaxProblem | None:
    """Python's own parse of `source`: the tree, its syntax error, or None when the
    file nests too deeply for `ast` (which is no syntax error of the file). Raises
    MemoryError when Python's parser runs out of memory on anything else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the linted code's warnings are not ours
            return ast.parse(source)
    except SyntaxError as error:
        column = max((error.offset or 1) - 1, 0)
        return (error.lineno or 1, column, f"syntax error: {error.msg}")
    except ValueError as error:
        return (1, 0, f"syntax error: {error}")
    except RecursionError:
        return None
    except MemoryError:
        if deep_by_text(source):
            return None  # Python's parser says so when its own stack runs out
        raise


def _too_deep(depth: int | None) -> Hazard:
    levels = depth or f"more than {MAX_DEPTH}"
    return Hazard(
        f"code nests {levels} levels deep; beyond {MAX_DEPTH} it cannot be parsed safely,"
        " so the file was skipped"
    )


def _longest_statement(text: str) -> int:
    """Characters of the longest logical line of `text` (a source with each string and
    comment made one character), spaces left out.

    An upper bound on how deeply any statement can nest, for the price of a few
    C-level passes over the text.
    """
    text = text.translate(_BRACKETS)
    longest = length = brackets = 0
    for line in _LINES.split(text):
        length += len(line) - line.count(" ")
        brackets += line.count("(") - line.count(")")
        if brackets <= 0 and not line.endswith("\\"):
            longest = max(longest, length)
            length = brackets = 0
    return max(longest, length)


def estimated_depth(text: str, enough: int | None = None) -> int:
    """How deeply LibCST would nest the deepest statement of `text` (a source with each
    string and comment made one `"`), erring high, without parsing it: each open
    bracket adds levels, and so does each operator or keyword of the element (between
    commas) it is in. Stops counting at `enough`."""
    counts = [0]  # per open bracket: what the current element of it adds
    total = deepest = 0
    for match in _NESTING_TOKENS.finditer(text):
        token = match.group()
        if token in "([{":
            counts[-1] += 1
            counts.append(0)
            total += 3  # the bracketed node, and its element
        elif token in ")]}":
            if len(counts) > 1:
                total -= counts.pop() + 2
        elif token in ",;" or (token[0] in "\r\n" and len(counts) == 1):
            total -= counts[-1]
            counts[-1] = 0
        elif token[0] not in "\\\r\n":
            counts[-1] += 1
            total += 1
        if total > deepest:
            deepest = total
            if enough is not None and deepest >= enough:
                break
    return deepest


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
