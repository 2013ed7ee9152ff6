"""CCL209: a relative timeout made before the `with` that enters it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.timeouts import spelled, with_form
from conclint.rules.base import Rule


class TimeoutCreatedEarly(Rule):
    code = "CCL209"
    name = "timeout-created-early"
    summary = "A relative timeout is created before the `with` that enters it"
    message = (
        "`{call}` fixes its deadline when it is called, not when `{entry}` enters it on line "
        "{line}: time spent in between is taken from the timeout; create it in the `with` "
        "statement"
    )
    needles = catalog.words(catalog.RELATIVE_DEADLINES)
    imports = catalog.RELATIVE_DEADLINE_MODULES
    peers = ("ASYNC122",)
    tags = ("asyncio", "trio", "anyio", "timeout")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._reported: set[int] = set()
        # Statement -> the one before it in its block.
        self._before: dict[int, cst.CSTNode] = {}

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._note_order(node.body)

    def visit_Module(self, node: cst.Module) -> None:
        self._note_order(node.body)

    def _note_order(self, body: Sequence[cst.CSTNode]) -> None:
        for before, statement in itertools.pairwise(body):
            self._before[id(statement)] = before
        # `try:` runs nothing: its first statement comes right after the one before it.
        for statement in body:
            first = statement
            while isinstance(first, cst.Try | cst.TryStar) and first.body.body:
                first = first.body.body[0]
                if id(statement) in self._before:
                    self._before[id(first)] = self._before[id(statement)]

    def _made_just_before(self, node: cst.With, value: cst.Call) -> bool:
        """The timeout is made by the statement right before the `with`: nothing runs in
        between to take time from it."""
        before = self._before.get(id(node))
        return isinstance(before, cst.SimpleStatementLine) and any(
            isinstance(small, cst.Assign | cst.AnnAssign) and small.value is value
            for small in before.body
        )

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            entered = item.item
            if not isinstance(entered, cst.Name | cst.Attribute):
                continue
            for value in self.context.bindings.values_of(entered, self.context.chain):
                if (
                    isinstance(value, cst.Call)
                    and id(value) not in self._reported
                    and not _no_deadline(value)
                    and self.context.qualname(value.func) in catalog.RELATIVE_DEADLINES
                    and not self._made_just_before(node, value)
                ):
                    self._reported.add(id(value))
                    line = self.context.line_of(node)
                    entry = with_form(node, item)
                    self.report(value, call=spelled(value), entry=entry, line=line)


def _no_deadline(call: cst.Call) -> bool:
    """`asyncio.timeout(None)`: no deadline yet (it is rescheduled later), nothing to lose."""
    first = call.args[0].value if call.args else None
    return isinstance(first, cst.Name) and first.value == "None"
