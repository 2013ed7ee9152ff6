"""CCL401: an item taken from a joined queue that some path never marks done."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, pairing
from conclint.analysis.context import FileContext
from conclint.analysis.flow import analyse
from conclint.analysis.scopes import dotted_name
from conclint.analysis.tracking import MarkedScopes
from conclint.rules.base import Rule

_Identity = tuple[str, str]
_JOIN_NAMES = frozenset().union(*catalog.QUEUE_JOINS.values())


class TaskDoneMissing(Rule):
    code = "CCL401"
    uses = (MarkedScopes,)
    name = "task-done-missing"
    summary = "An item taken from a joined queue can miss its task_done() call"
    message = (
        "item from `{target}.{method}()` is not marked done {reason}: `{join}` then hangs; "
        "call `{done}()` in `finally`"
    )
    needles = catalog.words(catalog.TASK_DONE_METHODS)
    imports = catalog.kind_modules(catalog.TASK_DONE_QUEUES)
    tags = ("queue",)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._joined: list[tuple[_Identity, str]] = []
        self._misses: list[tuple[cst.Call, str, _Identity, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        found = pairing.receiver_key(node, catalog.TASK_DONE_METHODS | _JOIN_NAMES)
        if found is None:
            return
        if found[1] in catalog.TASK_DONE_METHODS:
            self.context.tracker(MarkedScopes).mark(self)
        elif not node.args:  # `Queue.join()` takes no arguments, `Thread.join(timeout)` may
            assert isinstance(node.func, cst.Attribute)
            kind = self.context.kind_of(node.func.value)
            if kind in catalog.TASK_DONE_QUEUES and found[1] in catalog.QUEUE_JOINS[kind]:
                self._joined.append((pairing.identity(self.context, node.func.value), kind))

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        result = analyse(self.context, scope, pairing.Takes(self.context))
        found = pairing.unpaired(
            result.at_events(), pairing.TAKE, pairing.DONE, pairing.pending_takes
        )
        for take, (key, kind, _) in found.found.items():
            if key not in found.ended:
                continue  # a function that leaves `task_done()` to others
            assert isinstance(take.func, cst.Attribute)
            identity = pairing.identity(self.context, take.func.value)
            self._misses.append((take, kind, identity, found.reason(take)))

    def leave_Module(self, original_node: cst.Module) -> None:
        for take, kind, identity, reason in self._misses:
            if any(
                joined_kind == kind and (joined == identity or "local" in (joined[0], identity[0]))
                for joined, joined_kind in self._joined
            ):
                assert isinstance(take.func, cst.Attribute)
                target = dotted_name(take.func.value)
                join = min(catalog.QUEUE_JOINS[kind])
                self.report(
                    take,
                    target=target,
                    method=take.func.attr.value,
                    reason=reason,
                    join=f"{catalog.awaited(kind, join)}{target}.{join}()",
                    done=min(catalog.TASK_DONES[kind]),
                )
