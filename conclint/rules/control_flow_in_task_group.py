"""CCL208: `return`, `break` or `continue` inside a task group or nursery block."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.timeouts import is_task_group, with_form
from conclint.rules.base import Rule


@dataclass(slots=True)
class _Group:
    """A task group block being visited."""

    node: cst.With
    item: cst.WithItem
    scope: int  # id of the function whose code enters it
    loops: int  # loops of that function open around it


class ControlFlowInTaskGroup(Rule):
    code = "CCL208"
    name = "control-flow-in-task-group"
    summary = "`return`, `break` or `continue` inside a task group or nursery block"
    message = (
        "`{statement}` inside `{construct}` (line {line}) takes effect only once every task "
        "in the group has finished, and an error in one of them replaces it; cancel the "
        "group's tasks and {fix} after the block"
    )
    needles = catalog.kind_words(catalog.TASK_GROUP_KINDS)
    imports = catalog.kind_modules(catalog.TASK_GROUP_KINDS)
    async_only = True
    peers = ("ASYNC121",)
    tags = ("asyncio", "trio", "anyio", "task-group")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._groups: list[_Group] = []
        self._loops: dict[int, int] = {}  # id of a function -> loops open in it

    def _here(self) -> int:
        return id(self.context.chain[-1])

    def visit_With_body(self, node: cst.With) -> None:
        if node.asynchronous is None or not self.context.in_async_function:
            return
        item = next((item for item in node.items if is_task_group(item, self.context)), None)
        if item is not None:
            here = self._here()
            self._groups.append(_Group(node, item, here, self._loops.get(here, 0)))

    def leave_With_body(self, node: cst.With) -> None:
        if self._groups and self._groups[-1].node is node:
            self._groups.pop()

    # Loop bodies: a `break` or `continue` there stays inside the loop (`else:` does not).

    def _enter_loop(self) -> None:
        here = self._here()
        self._loops[here] = self._loops.get(here, 0) + 1

    def _leave_loop(self) -> None:
        self._loops[self._here()] -= 1

    def visit_For_body(self, node: cst.For) -> None:
        self._enter_loop()

    def leave_For_body(self, node: cst.For) -> None:
        self._leave_loop()

    def visit_While_body(self, node: cst.While) -> None:
        self._enter_loop()

    def leave_While_body(self, node: cst.While) -> None:
        self._leave_loop()

    # The statements.

    def _group(self) -> _Group | None:
        group = self._groups[-1] if self._groups else None
        return group if group is not None and group.scope == self._here() else None

    def visit_Return(self, node: cst.Return) -> None:
        group = self._group()
        if group is not None:
            self._report(node, "return", group, "return")

    def visit_Break(self, node: cst.Break) -> None:
        self._loop_exit(node, "break")

    def visit_Continue(self, node: cst.Continue) -> None:
        self._loop_exit(node, "continue")

    def _loop_exit(self, node: cst.CSTNode, statement: str) -> None:
        group = self._group()
        if group is not None and self._loops.get(group.scope, 0) == group.loops:
            self._report(node, statement, group, f"{statement} the loop")

    def _report(self, node: cst.CSTNode, statement: str, group: _Group, fix: str) -> None:
        self.report(
            node,
            statement=statement,
            construct=with_form(group.node, group.item),
            line=self.context.line_of(group.node),
            fix=fix,
        )
