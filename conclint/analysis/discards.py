"""Calls whose result is thrown away, for rules about results that must be kept.

A result is thrown away when its call is an expression statement, is assigned
to `_`, or is bound to a local of a function that nothing reads afterwards
(reads in nested functions and lambdas count, since closures keep it alive).
Reads are collected by name during the one traversal, so a name read anywhere
in the function counts as a use: that misses some bugs, never invents one.

The value of such a statement or assignment may also hold the result inside
it: an element of a list, tuple, set or dict display, the element of a
comprehension, a branch of `x if c else y`, an operand of `and`/`or`. A result
is thrown away too when it is only tested for truth (`if call():`, `not call()`,
the left operand of `and`/`or`, a comprehension's `if`), or used as a context
manager (`with call():`), which neither a task, a coroutine nor a future is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import libcst as cst

from conclint.analysis.tracking import Tracker

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

DISCARDED = "discarded"
ASSIGNED_TO_UNDERSCORE = "assigned to `_`"
TESTED = "used as a truth value (always true)"
AS_CONTEXT = "used as a context manager, which it is not"
# Where a result goes in a value that holds it, as the messages say it.
IN_GENERATOR = "a generator expression"
_CONTAINERS: dict[type[cst.CSTNode], str] = {
    cst.List: "a list",
    cst.Tuple: "a tuple",
    cst.Set: "a set",
    cst.Dict: "a dict",
    cst.ListComp: "a list comprehension",
    cst.SetComp: "a set comprehension",
    cst.DictComp: "a dict comprehension",
    cst.GeneratorExp: IN_GENERATOR,
}


def held_calls(
    value: cst.BaseExpression, container: str | None = None
) -> Iterator[tuple[cst.Call, str | None]]:
    """The calls whose result becomes `value` or part of it, with the outermost display or
    comprehension that holds it (None: the call's result is the value itself)."""
    if isinstance(value, cst.Call):
        yield value, container
    elif isinstance(value, cst.List | cst.Tuple | cst.Set):
        inner = container or _CONTAINERS[type(value)]
        for element in value.elements:
            if isinstance(element, cst.Element):  # `*spread` unpacks it: not kept as is
                yield from held_calls(element.value, inner)
    elif isinstance(value, cst.Dict):
        inner = container or _CONTAINERS[cst.Dict]
        for entry in value.elements:
            if isinstance(entry, cst.DictElement):
                yield from held_calls(entry.key, inner)
                yield from held_calls(entry.value, inner)
    elif isinstance(value, cst.ListComp | cst.SetComp | cst.GeneratorExp):
        yield from held_calls(value.elt, container or _CONTAINERS[type(value)])
    elif isinstance(value, cst.DictComp):
        inner = container or _CONTAINERS[cst.DictComp]
        yield from held_calls(value.key, inner)
        yield from held_calls(value.value, inner)
    elif isinstance(value, cst.IfExp):
        yield from held_calls(value.body, container)
        yield from held_calls(value.orelse, container)
    elif isinstance(value, cst.BooleanOperation):
        yield from held_calls(value.left, container)
        yield from held_calls(value.right, container)


@dataclass(slots=True)
class _Frame:
    """One function being visited: the names it reads and the calls bound to its locals."""

    reads: set[str] = field(default_factory=set)
    # (name, call, the display or comprehension of the value that holds the call's result)
    bound: list[tuple[str, cst.Call, str | None]] = field(default_factory=list)


class DiscardListener(Protocol):
    def discarded(self, call: cst.Call, how: str) -> None:
        """`call`'s result is dropped; `how` says how, for a message."""


class Discards(Tracker[DiscardListener]):
    """Tells its listeners `discarded(call, how)` for every call whose result is dropped.

    `how` is a phrase for the message (`discarded`, ``bound to `t` and never used``,
    `in a list that is discarded`, `TESTED`, `AS_CONTEXT`); each call is handed over once.
    When it is told, the context is positioned in the scope of the call, except for
    locals never used, handed over when their function has been visited.
    """

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._frames: list[_Frame] = []
        # Name nodes that are not reads: attribute names, keywords, targets, defined names.
        self._not_reads: set[int] = set()
        self._handed: set[int] = set()

    def _drop(self, call: cst.Call, how: str) -> None:
        if id(call) not in self._handed:
            self._handed.add(id(call))
            for listener in self.listeners:
                listener.discarded(call, how)

    def visit_Expr(self, node: cst.Expr) -> None:
        for call, container in held_calls(node.value):
            self._drop(call, f"in {container} that is discarded" if container else DISCARDED)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if isinstance(node.item, cst.Call):
            self._drop(node.item, AS_CONTEXT)

    # Truth tests: a task, coroutine or future is always true, and then dropped.

    def _tested(self, test: cst.BaseExpression) -> None:
        # In `a() and b()` the left operands are taken by visit_BooleanOperation.
        while isinstance(test, cst.BooleanOperation):
            test = test.right
        if isinstance(test, cst.Call):
            self._drop(test, TESTED)

    def visit_If(self, node: cst.If) -> None:
        self._tested(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._tested(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._tested(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._tested(node.test)

    def visit_CompIf(self, node: cst.CompIf) -> None:
        self._tested(node.test)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._tested(node.expression)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        # Every operand but the last is tested; the last one is the value.
        self._tested(node.left)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._not_reads.add(id(target.target))
        if len(node.targets) == 1:
            self._bind(node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._not_reads.add(id(node.target))
        if node.value is not None:
            self._bind(node.target, node.value)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name):
            return
        held = list(held_calls(value))
        if not held:
            return
        if target.value == "_":
            for call, container in held:
                where = f"in {container} " if container else ""
                self._drop(call, where + ASSIGNED_TO_UNDERSCORE)
            return
        scope = self.context.chain[-1]
        # Module and class attributes outlive the statement; so do `global`/`nonlocal` names.
        if not isinstance(scope, cst.FunctionDef) or not self._frames:
            return
        if target.value not in self.context.names.table(scope).declared_outer:
            self._frames[-1].bound.extend((target.value, call, where) for call, where in held)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_reads.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_reads.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        key = id(node)
        if key in self._not_reads:
            self._not_reads.discard(key)
        elif self._frames:
            self._frames[-1].reads.add(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._not_reads.add(id(node.name))
        self._frames.append(_Frame())

    def visit_Param(self, node: cst.Param) -> None:
        self._not_reads.add(id(node.name))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave_function()

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._leave_function()

    def _leave_function(self) -> None:
        frame = self._frames.pop()
        for name, call, container in frame.bound:
            if name not in frame.reads:
                where = f"in {container} " if container else ""
                self._drop(call, f"{where}bound to `{name}` and never used")
        if self._frames:
            self._frames[-1].reads.update(frame.reads)
