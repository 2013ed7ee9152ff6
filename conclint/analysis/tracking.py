"""Shared trackers: analyses that follow the one traversal of a file for every rule.

A rule names the trackers it listens to (`Rule.uses`); the file's context makes
each tracker once (`FileContext.tracker`), and the engine walks the trackers
before the rules, so a tracker has seen a node before any rule visits it and
has taken its leave before any rule's leave. A tracker tells its listeners
what it finds through the methods its listener protocol names, so no rule
mixes an analysis into itself and nothing here knows the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import libcst as cst

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

L = TypeVar("L")


class Tracker(cst.BatchableCSTVisitor, Generic[L]):
    """One shared analysis of one file, with the listeners it tells."""

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.listeners: list[L] = []

    def subscribe(self, listener: L) -> None:
        self.listeners.append(listener)

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        return {name: getattr(self, name) for name in hook_names(type(self))}


@cache
def hook_names(visitor: type) -> tuple[str, ...]:
    """The `visit_`/`leave_` methods a visitor class defines (LibCST's own search runs
    on every instance; the names depend only on the class)."""
    return tuple(
        name
        for name in dir(visitor)
        if name.startswith(("visit_", "leave_"))
        and callable(getattr(visitor, name))
        and not getattr(getattr(visitor, name), "_is_no_op", False)
    )


class Tries(Tracker[object]):
    """The `try` statements enclosing the current node, innermost last (`open`): for the
    rules about handlers, which ask which `try` a handler belongs to."""

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.open: list[cst.Try | cst.TryStar] = []

    def visit_Try(self, node: cst.Try) -> None:
        self.open.append(node)

    def leave_Try(self, original_node: cst.Try) -> None:
        self.open.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self.open.append(node)

    def leave_TryStar(self, original_node: cst.TryStar) -> None:
        self.open.pop()


class ScopeListener(Protocol):
    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None: ...


class MarkedScopes(Tracker[ScopeListener]):
    """Tells a listener when the traversal leaves a function (or the module) it marked
    while inside it (`mark`: a cheap syntactic test found something there worth a flow
    analysis), with the context's chain still ending at that scope. Code in class bodies
    and lambdas is not marked. A listener's own `leave_Module` runs after the module's
    `check_scope`: where findings that need the whole module belong."""

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._marked: dict[int, list[ScopeListener]] = {}

    def mark(self, listener: ScopeListener) -> None:
        scope = self.context.chain[-1]
        if isinstance(scope, cst.FunctionDef | cst.Module):
            marked = self._marked.setdefault(id(scope), [])
            if not any(seen is listener for seen in marked):
                marked.append(listener)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._check(original_node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self._check(original_node)

    def _check(self, scope: cst.FunctionDef | cst.Module) -> None:
        for listener in self._marked.pop(id(scope), ()):
            listener.check_scope(scope)


class AssignmentListener(Protocol):
    def assigned(
        self, statement: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None: ...


class SingleAssignments(Tracker[AssignmentListener]):
    """Tells its listeners what one target receives: `x = value` (a single target) and
    `x: T = value`, for the rules about what a name or attribute holds."""

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            for listener in self.listeners:
                listener.assigned(node, node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            for listener in self.listeners:
                listener.assigned(node, node.target, node.value)
