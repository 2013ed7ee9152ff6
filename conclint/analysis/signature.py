"""A function's parameters as its callers pass them, for the index pass's summaries."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    # The receiver of a method (`self`, `cls`), which callers do not pass; None for a
    # function or a static method.
    receiver: str | None
    # The positional parameters, in the order callers pass them (the receiver not counted).
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]
    # `*args`, `**kwargs`: which argument lands in them is not shown.
    packed: frozenset[str]


def signature(
    function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool, static: bool
) -> Signature:
    """The parameters of `function`, a method of a class when `method` (`static`: a
    `staticmethod`, which takes no receiver)."""
    args = function.args
    positional = [param.arg for param in (*args.posonlyargs, *args.args)]
    receiver = positional.pop(0) if method and not static and positional else None
    return Signature(
        receiver,
        tuple(positional),
        tuple(param.arg for param in args.kwonlyargs),
        frozenset(param.arg for param in (args.vararg, args.kwarg) if param is not None),
    )
