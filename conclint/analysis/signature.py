"""A function's parameters as its callers pass them, for the index pass's summaries."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

# Where a keyword-only parameter is passed (`Signature.where`).
KEYWORD = "*"


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
    # The annotation of each parameter that has one (not the receiver's, nor those of
    # `*args` and `**kwargs`, which annotate each item packed there).
    annotations: Mapping[str, ast.expr]

    @property
    def names(self) -> frozenset[str]:
        """Every parameter's name, the receiver's included."""
        own = {*self.positional, *self.keyword_only, *self.packed}
        return frozenset(own | {self.receiver} if self.receiver is not None else own)

    def where(self, name: str) -> str | None:
        """Where callers pass the parameter `name`: its position ("0" for the first after
        the receiver) or "*" (`KEYWORD`) when only by keyword; None for the receiver,
        `*args`, `**kwargs` and a name that is no parameter."""
        if name in self.positional:
            return str(self.positional.index(name))
        return KEYWORD if name in self.keyword_only else None


def signature(
    function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool, static: bool
) -> Signature:
    """The parameters of `function`, a method of a class when `method` (`static`: a
    `staticmethod`, which takes no receiver)."""
    args = function.args
    positional = [param.arg for param in (*args.posonlyargs, *args.args)]
    receiver = positional.pop(0) if method and not static and positional else None
    named = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    return Signature(
        receiver,
        tuple(positional),
        tuple(param.arg for param in args.kwonlyargs),
        frozenset(param.arg for param in (args.vararg, args.kwarg) if param is not None),
        {
            param.arg: param.annotation
            for param in named
            if param.annotation is not None and param.arg != receiver
        },
    )
