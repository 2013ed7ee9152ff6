"""CCL205: a timeout or cancel scope whose block never reaches a checkpoint, so it cannot fire."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name
from conclint.analysis.timeouts import entered_kind, with_form
from conclint.analysis.uses import BIND, uses_in
from conclint.rules.base import Rule

_SPAWNS = frozenset().union(*catalog.TASK_GROUP_SPAWNS.values())


@dataclass(slots=True)
class _Scope:
    """A timeout or cancel scope whose block is being visited."""

    node: cst.With
    item: cst.WithItem
    scope: int  # id of the function (or module) whose code enters it
    checkpoint: bool = False


@dataclass(slots=True)
class _Group:
    """A task group entered by `async with`: its exit waits (a checkpoint) once a task is
    started in it, for the scopes that were open when it was entered."""

    node: cst.With
    scope: int
    name: str | None  # what `as` binds it to
    enclosing: list[_Scope] = field(default_factory=list)
    spawned: bool = False


class TimeoutWithoutAwait(Rule):
    code = "CCL205"
    name = "timeout-without-await"
    summary = "A timeout or cancel scope has no `await` in its block, so it can never fire"
    message = (
        "`{construct}` has no `await`, `async for` or `async with` in its block: a timeout or "
        "cancellation only takes effect at one of those, so it can never fire; await inside "
        "it, or remove it"
    )
    needles = catalog.kind_words(catalog.CANCEL_SCOPE_KINDS)
    imports = catalog.kind_modules(catalog.CANCEL_SCOPE_KINDS)
    peers = ("ASYNC100",)
    tags = ("asyncio", "trio", "anyio", "timeout")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._open: list[_Scope] = []
        self._groups: list[_Group] = []

    def _here(self) -> int:
        return id(self.context.chain[-1])

    def _checkpoint(self, scopes: list[_Scope] | None = None) -> None:
        here = self._here()
        for scope in self._open if scopes is None else scopes:
            if scope.scope == here:
                scope.checkpoint = True

    def visit_With(self, node: cst.With) -> None:
        here = self._here()
        entered: list[_Scope] = []
        for item in node.items:
            kind = entered_kind(item, self.context)
            if kind in catalog.CANCEL_SCOPE_KINDS:
                entered.append(_Scope(node, item, here))
            elif kind in catalog.TASK_GROUP_KINDS:
                name = dotted_name(item.asname.name) if item.asname else None
                self._groups.append(_Group(node, here, name, [*self._open, *entered]))
            elif node.asynchronous is not None:
                # Entering any other async context manager awaits its `__aenter__`.
                self._checkpoint([*self._open, *entered])
        self._open.extend(entered)

    def leave_With(self, original_node: cst.With) -> None:
        while self._groups and self._groups[-1].node is original_node:
            group = self._groups.pop()
            if group.spawned:
                for scope in group.enclosing:
                    scope.checkpoint = True
        ended: list[_Scope] = []
        while self._open and self._open[-1].node is original_node:
            ended.append(self._open.pop())
        silent = [scope for scope in reversed(ended) if not scope.checkpoint]
        silent = [scope for scope in silent if not self._used_elsewhere(scope.item)]
        if silent:
            self.report(original_node, construct=with_form(original_node, silent[0].item))

    def _used_elsewhere(self, item: cst.WithItem) -> bool:
        """A scope bound by `as` and used: it may be cancelled or inspected from elsewhere."""
        if item.asname is None:
            return False
        target = item.asname.name
        if not isinstance(target, cst.Name):
            return True  # stored on an attribute or unpacked: it lives on
        uses = uses_in(self.context, self.context.chain[-1]).of(target.value)
        return any(use.how != BIND for use in uses)

    # Checkpoints: anything that suspends the code of the scope's own function.

    def visit_Await(self, node: cst.Await) -> None:
        self._checkpoint()

    def visit_Yield(self, node: cst.Yield) -> None:
        # The consumer the generator yields to runs inside the scope, and may await.
        self._checkpoint()

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self._checkpoint()

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is not None:
            self._checkpoint()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not self._groups or not isinstance(func, cst.Attribute):
            return
        if func.attr.value not in _SPAWNS:
            return
        kind = self.context.kind_of(func.value)
        if func.attr.value in catalog.TASK_GROUP_SPAWNS.get(kind or "", ()):
            here, receiver = self._here(), dotted_name(func.value)
            for group in self._groups:
                if group.scope == here and group.name == receiver:
                    group.spawned = True
