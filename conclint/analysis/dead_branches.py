"""The branches of `if` statements that never run.

Code generators that write a sync and an async twin of a module from one source leave
such branches behind: `if True:  # ASYNC` with the sync call in its `else`, or tests of
a module constant bound once to a literal (`_IS_SYNC = False`, then `if _IS_SYNC:
self._connect()`). What they hold never runs, so no rule looks at it.

A test is known when it is `True`, `False`, `0` or `1`, such a module constant, or
`not`, `and` and `or` of known tests (`_IS_SYNC and connect` is false). A module
constant is a private name (other modules do not set it: `settings.DEBUG = True` may)
that the module binds once, at its top level, to `True` or `False`, and never
otherwise: any other spelling of the name before `=`, `:=`, an augmented assignment,
`global`, `del`, `as` or `for` makes it unknown.
"""

from __future__ import annotations

import re
from functools import cached_property

import libcst as cst

_LITERALS = {"True": True, "False": False}
_NUMBERS = {"0": False, "1": True}
# `_NAME = True` or `_NAME: bool = False` as a whole top-level statement.
_CONSTANT = re.compile(r"^(_\w+)\s*(?::\s*[\w.]+\s*)?=\s*(True|False)\s*(?:#.*)?$", re.MULTILINE)


class DeadBranches:
    """Which `if` statements of one module have a branch that never runs."""

    def __init__(self, source: str) -> None:
        self.source = source

    @cached_property
    def constants(self) -> dict[str, bool]:
        """The module's private names bound once, at its top level, to `True` or `False`."""
        found: dict[str, bool] = {}
        for match in _CONSTANT.finditer(self.source):
            name = match.group(1)
            if len(_rebindings(name).findall(self.source)) == 1:
                found[name] = match.group(2) == "True"
        return found

    def never_run(self, node: cst.CSTNode) -> str | None:
        """The field of the `if` statement `node` that never runs: `body` when its test
        is known false, `orelse` when it is known true."""
        if not isinstance(node, cst.If):
            return None
        truth = self.truth(node.test)
        if truth is None:
            return None
        return "orelse" if truth else "body"

    def truth(self, test: cst.BaseExpression) -> bool | None:
        """What `test` always evaluates to as a condition, when that is known."""
        if isinstance(test, cst.Name):
            if test.value in _LITERALS:
                return _LITERALS[test.value]
            # Only private names can be constants: the common `if ready:` asks nothing more.
            return self.constants.get(test.value) if test.value.startswith("_") else None
        if isinstance(test, cst.Integer):
            return _NUMBERS.get(test.value)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.truth(test.expression)
            return None if inner is None else not inner
        if isinstance(test, cst.BooleanOperation):
            left, right = self.truth(test.left), self.truth(test.right)
            if isinstance(test.operator, cst.And):
                if left is False or right is False:
                    return False
                return True if left and right else None
            if left is True or right is True:
                return True
            return False if left is False and right is False else None
        return None


def _rebindings(name: str) -> re.Pattern[str]:
    """Every spelling that may bind `name`: assignments of any kind (keyword arguments
    too, which can only make the answer unknown), `global`, `del`, `as`, `for`, `def`,
    `class` and `import`."""
    word = re.escape(name)
    return re.compile(
        rf"(?<![\w.])(?:{word}\s*(?::[^=\n]*)?(?:[-+*/%&|^@:]|//|\*\*|<<|>>)?=(?!=)"
        rf"|(?:global|nonlocal|del|as|for|def|class|import)\s+(?:[\w\s,]*\b)?{word}\b)"
    )
