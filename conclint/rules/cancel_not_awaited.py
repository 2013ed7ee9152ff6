"""CCL204: a local task cancelled and then never awaited, so its cleanup runs unobserved."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.uses import (
    ARG,
    AWAIT,
    BIND,
    ITER,
    KEPT,
    WITH,
    local_bindings,
    uses_in,
)
from conclint.rules.base import Rule

# Uses after the cancel that wait for the task (`await t`, `gather(t)`, `for t in (a, b)`).
_REAPS = frozenset({AWAIT, ARG, ITER, WITH})
# How a task is cancelled.
_CANCELS = frozenset().union(
    *(catalog.CANCEL_METHODS_BY_KIND.get(kind, frozenset()) for kind in catalog.TASK_KINDS)
)

# The catalog's role of the calls whose coroutine has no cleanup to outlive the canceller.
_NO_CLEANUP = "no-cleanup"


class CancelNotAwaited(Rule):
    """`cancel()` only asks: until the task is awaited, its cleanup may still be running."""

    code = "CCL204"
    name = "cancel-not-awaited"
    summary = "A local task is cancelled but never awaited afterwards"
    message = (
        "`{task}.cancel()` is never followed by awaiting `{task}`, so its cleanup may outlive "
        "the function; await it"
    )
    needles = tuple(sorted(_CANCELS))
    imports = catalog.kind_modules(catalog.TASK_KINDS)
    preview = True
    tags = ("asyncio", "task", "cancellation")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value in _CANCELS
            and isinstance(func.value, cst.Name)
        ):
            return
        task = func.value.value
        function = self.context.function
        bindings = local_bindings(self.context, task)
        if (
            function is None
            or not bindings
            or any(binding.how != "assign" for binding in bindings)
            or self.context.kind_of(func.value) not in catalog.TASK_KINDS
        ):
            return  # not a task this function created (a parameter, global, other kind)
        started = [b.value for b in bindings if not _is_none(b.value)]
        if started and all(self._runs_no_cleanup(value) for value in started):
            return  # `ensure_future(queue.get())`: cancelled, it ends with nothing to run
        uses = uses_in(self.context, function)
        cancelled_at = uses.order_of(node)
        if cancelled_at is None:
            return
        for use in uses.of(task):
            if use.how == BIND:
                continue
            if use.nested or use.how in KEPT:
                return  # kept elsewhere: whoever holds it may await it
            if use.order > cancelled_at and use.how in _REAPS:
                return
            if use.how == ARG and not self._waits_only(use.call):
                return  # handed to a call that may keep it
        self.report(node, task=task)

    def _runs_no_cleanup(self, value: cst.BaseExpression | None) -> bool:
        """`value` starts a task of one catalog call whose coroutine holds no cleanup
        (`create_task(queue.get())`, `ensure_future(asyncio.sleep(5))`): once cancelled,
        nothing of it is left to run or to fail."""
        if not (isinstance(value, cst.Call) and value.args and self.context.is_task_spawn(value)):
            return False
        first = value.args[0]
        work = first.value
        if first.keyword is not None or first.star or not isinstance(work, cst.Call):
            return False
        known = self.context.catalog
        func = work.func
        if isinstance(func, cst.Attribute):
            method = known.method(self.context.kind_of(func.value), func.attr.value)
            if method is not None:
                return _NO_CLEANUP in method.roles
        return self.context.qualname(func) in known.functions_with(_NO_CLEANUP)

    def _waits_only(self, call: cst.Call | None) -> bool:
        return call is not None and self.context.qualname(call.func) in catalog.WAITING_CALLS


def _is_none(value: cst.BaseExpression | None) -> bool:
    """`task = None`: the name holds no task there (before one starts, or after a reap)."""
    return isinstance(value, cst.Name) and value.value == "None"
