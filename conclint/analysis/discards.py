"""Calls whose result is thrown away, for rules about results that must be kept.

A result is thrown away when its call is an expression statement, is assigned
to `_`, or is bound to a local of a function that nothing reads afterwards
(reads in nested functions and lambdas count, since closures keep it alive).
Reads are collected by name during the one traversal, so a name read anywhere
in the function counts as a use: that misses some bugs, never invents one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext
    from conclint.rules.base import Rule

    _RuleBase = Rule
else:
    # At run time the mixin sits before `Rule` in the rule's bases.
    _RuleBase = object

DISCARDED = "discarded"
ASSIGNED_TO_UNDERSCORE = "assigned to `_`"


@dataclass(slots=True)
class _Frame:
    """One function being visited: the names it reads and the calls bound to its locals."""

    reads: set[str] = field(default_factory=set)
    bound: list[tuple[str, cst.Call]] = field(default_factory=list)


class DiscardedResults(_RuleBase):
    """Mixin for rules: calls `self.discarded(call, how)` for every call whose result is dropped.

    `how` is a phrase for the message (`discarded`, ``bound to `t` and never used``).
    When it is called, `self.context` is positioned in the scope of the call.
    A rule that also defines one of the visit methods below must call `super()`.
    """

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._frames: list[_Frame] = []
        # Name nodes that are not reads: attribute names, keywords, targets, defined names.
        self._not_reads: set[int] = set()

    def discarded(self, call: cst.Call, how: str) -> None:
        raise NotImplementedError

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.discarded(node.value, DISCARDED)

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
        if not isinstance(target, cst.Name) or not isinstance(value, cst.Call):
            return
        if target.value == "_":
            self.discarded(value, ASSIGNED_TO_UNDERSCORE)
            return
        scope = self.context.chain[-1]
        # Module and class attributes outlive the statement; so do `global`/`nonlocal` names.
        if not isinstance(scope, cst.FunctionDef) or not self._frames:
            return
        if target.value not in self.context.names.table(scope).declared_outer:
            self._frames[-1].bound.append((target.value, value))

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
        for name, call in frame.bound:
            if name not in frame.reads:
                self.discarded(call, f"bound to `{name}` and never used")
        if self._frames:
            self._frames[-1].reads.update(frame.reads)
