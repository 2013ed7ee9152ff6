"""CCL208: `return`, `break` or `continue` inside a task group or nursery block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name
from conclint.analysis.timeouts import is_task_group, with_form
from conclint.analysis.tracking import Tries
from conclint.analysis.walk import descendants
from conclint.rules.base import Rule


@dataclass(slots=True)
class _Group:
    """A task group block being visited."""

    node: cst.With
    item: cst.WithItem
    scope: int  # id of the function whose code enters it
    loops: int  # loops of that function open around it
    name: str | None  # what `as` binds the group to
    open_loops: int  # loops open anywhere around it (`_open_loops`)
    used: bool = False  # the name has been read in the block so far


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
        self._tries = context.tracker(Tries).open
        self._groups: list[_Group] = []
        self._loops: dict[int, int] = {}  # id of a function -> loops open in it
        self._open_loops: list[cst.For | cst.While] = []

    def _here(self) -> int:
        return id(self.context.chain[-1])

    def visit_With_body(self, node: cst.With) -> None:
        if node.asynchronous is None or not self.context.in_async_function:
            return
        item = next((item for item in node.items if is_task_group(item, self.context)), None)
        if item is not None:
            here = self._here()
            name = item.asname.name if item.asname is not None else None
            bound = name.value if isinstance(name, cst.Name) else None
            loops = self._loops.get(here, 0)
            self._groups.append(_Group(node, item, here, loops, bound, len(self._open_loops)))

    def leave_With_body(self, node: cst.With) -> None:
        if self._groups and self._groups[-1].node is node:
            self._groups.pop()

    # Loop bodies: a `break` or `continue` there stays inside the loop (`else:` does not).

    def _enter_loop(self, node: cst.For | cst.While) -> None:
        here = self._here()
        self._loops[here] = self._loops.get(here, 0) + 1
        self._open_loops.append(node)

    def _leave_loop(self) -> None:
        self._loops[self._here()] -= 1
        self._open_loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self._enter_loop(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._leave_loop()

    def visit_While_body(self, node: cst.While) -> None:
        self._enter_loop(node)

    def leave_While_body(self, node: cst.While) -> None:
        self._leave_loop()

    def visit_Name(self, node: cst.Name) -> None:
        for group in self._groups:
            if group.name == node.value:
                group.used = True

    def _started(self, group: _Group) -> bool:
        """Work may be in the group when the block is left here: its name was read earlier
        in the block (`nursery.start_soon(...)`, handed on), or is read in a loop around
        this statement, whose next turn comes after that read. Before any of it nothing
        runs in the group, and leaving waits for nothing."""
        if group.used or group.name is None:
            return group.used
        return any(
            isinstance(node, cst.Name) and node.value == group.name
            for loop in self._open_loops[group.open_loops :]
            for node in descendants(loop.body)
        )

    # The statements.

    def _group(self) -> _Group | None:
        group = self._groups[-1] if self._groups else None
        return group if group is not None and group.scope == self._here() else None

    def visit_Return(self, node: cst.Return) -> None:
        group = self._group()
        if group is not None and self._started(group):
            self._report(node, "return", group, "return")

    def visit_Break(self, node: cst.Break) -> None:
        self._loop_exit(node, "break")

    def visit_Continue(self, node: cst.Continue) -> None:
        self._loop_exit(node, "continue")

    def _loop_exit(self, node: cst.CSTNode, statement: str) -> None:
        group = self._group()
        if (
            group is not None
            and self._loops.get(group.scope, 0) == group.loops
            and self._started(group)
        ):
            self._report(node, statement, group, f"{statement} the loop")

    def _cancelled_on_the_way_out(self, node: cst.CSTNode, group: _Group) -> bool:
        """The group is cancelled (`group.cancel_scope.cancel()`) before `node` leaves: by
        a statement before it in its own block, or by the `finally` of a `try` in the
        group's block whose body (or a handler) holds it. Leaving then waits only for the
        cancelled tasks to unwind, which is what the fix would do."""
        if group.name is None:
            return False
        inside = [group.node.body, *descendants(group.node.body)]
        for block in inside:
            if not isinstance(block, cst.IndentedBlock):
                continue
            for position, line in enumerate(block.body):
                holds = isinstance(line, cst.SimpleStatementLine) and any(
                    part is node for part in line.body
                )
                if holds and _cancels(block.body[:position], group.name):
                    return True
        for statement in reversed(self._tries):
            final = statement.finalbody
            if (
                final is not None
                and _cancels(_lines(final.body), group.name)
                and any(found is statement for found in inside)
                and any(
                    found is node
                    for part in (statement.body, *statement.handlers)
                    for found in descendants(part)
                )
            ):
                return True
        return False

    def _report(self, node: cst.CSTNode, statement: str, group: _Group, fix: str) -> None:
        if self._cancelled_on_the_way_out(node, group):
            return
        self.report(
            node,
            statement=statement,
            construct=with_form(group.node, group.item),
            line=self.context.line_of(group.node),
            fix=fix,
        )


def _lines(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body if isinstance(suite, cst.IndentedBlock) else [suite]


def _cancels(lines: Sequence[cst.CSTNode], name: str) -> bool:
    """One of the statements cancels what the group `name` runs:
    `name.cancel_scope.cancel()` (or a cancel of `name` itself)."""
    parts = [
        part
        for line in lines
        if isinstance(line, cst.SimpleStatementLine | cst.SimpleStatementSuite)
        for part in line.body
    ]
    for part in parts:
        call = part.value if isinstance(part, cst.Expr) else None
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in catalog.CANCEL_METHODS
            and (dotted_name(call.func.value) or "").partition(".")[0] == name
        ):
            return True
    return False
