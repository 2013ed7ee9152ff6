"""The nodes of a function's own code, as Python's `ast` gives them (index pass)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

# The `try` statements: `try/except*` is Python 3.11's (the same `Try` where it is not).
TRY_STATEMENTS = (ast.Try, getattr(ast, "TryStar", ast.Try))


def own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of some statements: nested defs, classes and lambdas left out."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
