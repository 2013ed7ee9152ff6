"""CCL402: `task_done()` called again for an item already marked done."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, pairing
from conclint.analysis.flow import analyse
from conclint.analysis.tracking import MarkedScopes
from conclint.rules.base import Rule


class TaskDoneExtra(Rule):
    code = "CCL402"
    uses = (MarkedScopes,)
    name = "task-done-extra"
    summary = "task_done() is called twice for one item taken from a queue"
    message = (
        "`{target}.{method}()` again for the item taken on line {line}: `{join}()` may return "
        "too early, or it raises `ValueError`"
    )
    needles = catalog.words(catalog.TASK_DONE_METHODS)
    imports = catalog.kind_modules(catalog.TASK_DONE_QUEUES)
    tags = ("queue",)

    def visit_Call(self, node: cst.Call) -> None:
        if pairing.receiver_key(node, catalog.TASK_DONE_METHODS) is not None:
            self.context.tracker(MarkedScopes).mark(self)

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        result = analyse(self.context, scope, pairing.Takes(self.context))
        for event, op, states in result.at_events():
            if op.action != pairing.DONE:
                continue
            settled = [
                take
                for state in states
                for key, pending, many, take in state
                if key == op.key and not many and not pending and take is not None
            ]
            if settled:
                first = min(self.context.line_of(take) for take in settled)
                assert isinstance(event.node, cst.Call) and isinstance(
                    event.node.func, cst.Attribute
                )
                method = event.node.func.attr.value
                join = min(catalog.QUEUE_JOINS[op.kind])
                self.report(event.node, target=op.key, method=method, line=first, join=join)
