"""CCL209: a relative timeout made before the `with` that enters it."""

from __future__ import annotations

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
                ):
                    self._reported.add(id(value))
                    line = self.context.line_of(node)
                    entry = with_form(node, item)
                    self.report(value, call=spelled(value), entry=entry, line=line)


def _no_deadline(call: cst.Call) -> bool:
    """`asyncio.timeout(None)`: no deadline yet (it is rescheduled later), nothing to lose."""
    first = call.args[0].value if call.args else None
    return isinstance(first, cst.Name) and first.value == "None"
