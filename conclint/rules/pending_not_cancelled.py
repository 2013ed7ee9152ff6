"""CCL202: tasks that `asyncio.wait(...)` returned as pending, then dropped while they run."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.uses import (
    ARG,
    ATTR,
    BIND,
    COMPARE,
    METHOD,
    TEST,
    ScopeUses,
    Use,
    keyword,
    local_bindings,
    uses_in,
)
from conclint.rules.base import Rule

# Uses that only look at the pending set: its size, its truth, membership.
_LOOKS_ONLY = frozenset({BIND, TEST, COMPARE})
_SIZE_CALLS = frozenset({"builtins.len", "builtins.bool"})
# Methods that put tasks into a local collection: what they add counts as its content.
_FILLING = frozenset({"append", "add", "appendleft", "insert", "extend", "update"})
_MAX_DEPTH = 2


class PendingNotCancelled(Rule):
    """`asyncio.wait` that can return early leaves tasks running that someone must cancel."""

    code = "CCL202"
    name = "pending-not-cancelled"
    summary = "Tasks left pending by `asyncio.wait(...)` are never cancelled or awaited"
    message = (
        "`asyncio.wait(...)` with `{mode}` leaves tasks running that nothing cancels or awaits; "
        "cancel them"
    )
    needles = ("FIRST_", "timeout")
    imports = catalog.CONCURRENCY_MODULES
    tags = ("asyncio", "cancellation")

    def visit_Expr(self, node: cst.Expr) -> None:
        call = _awaited_call(node.value)
        if call is not None:
            self._check(call, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        call = _awaited_call(node.value)
        if call is None or not isinstance(target, cst.Tuple) or len(target.elements) != 2:
            return
        pending = target.elements[1].value
        if isinstance(pending, cst.Name):
            self._check(call, None if pending.value == "_" else pending.value)

    def _check(self, call: cst.Call, pending: str | None) -> None:
        """`pending` is the local bound to the pending set; None when it is thrown away."""
        function = self.context.function
        if function is None:
            return
        # The keywords are the cheap test: most awaited calls have neither.
        mode = self._early_return(call)
        if mode is None or self.context.qualname(call.func) != "asyncio.wait":
            return
        uses = uses_in(self.context, function)
        if pending is not None:
            if local_bindings(self.context, pending) is None:
                return  # a global or closure variable outlives the call
            if not all(self._only_looks(use_of) for use_of in uses.of(pending)):
                return
        if call.args and not self._tasks_dropped(call.args[0].value, call, uses):
            return
        self.report(call, mode=mode)

    def _early_return(self, call: cst.Call) -> str | None:
        """`FIRST_COMPLETED`, `FIRST_EXCEPTION` or `timeout=`; None when it waits for all."""
        when = keyword(call, "return_when")
        if when is not None:
            value = when.value
            if isinstance(value, cst.SimpleString):
                literal = value.evaluated_value
                if literal in ("FIRST_COMPLETED", "FIRST_EXCEPTION"):
                    return str(literal)
            mode = catalog.WAIT_RETURN_EARLY.get(self.context.qualname(value) or "")
            if mode is not None:
                return mode
        timeout = keyword(call, "timeout")
        if timeout is not None and not (
            isinstance(timeout.value, cst.Name) and timeout.value.value == "None"
        ):
            return "timeout="
        return None

    def _only_looks(self, use: Use) -> bool:
        """The use reads the set's size or truth, nothing that would stop or reap the tasks."""
        if use.nested:
            return False
        if use.how in _LOOKS_ONLY:
            return True
        call = use.call
        return (
            use.how == ARG and call is not None and self.context.qualname(call.func) in _SIZE_CALLS
        )

    def _tasks_dropped(
        self, tasks: cst.BaseExpression, wait: cst.Call, uses: ScopeUses, depth: int = 0
    ) -> bool:
        """Some task given to `wait` is reachable only through its result."""
        if isinstance(tasks, cst.List | cst.Set | cst.Tuple):
            return any(
                self._tasks_dropped(element.value, wait, uses, depth) for element in tasks.elements
            )
        if isinstance(tasks, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            return isinstance(tasks.elt, cst.Call) and self.context.is_task_spawn(tasks.elt)
        if isinstance(tasks, cst.Call):
            return self.context.is_task_spawn(tasks)
        if isinstance(tasks, cst.Name) and depth <= _MAX_DEPTH:
            return self._local_dropped(tasks.value, wait, uses, depth)
        return False  # an attribute or anything else may outlive the call

    def _local_dropped(self, name: str, wait: cst.Call, uses: ScopeUses, depth: int) -> bool:
        """A local task (or collection of tasks) that nothing but this `wait` sees again."""
        bindings = local_bindings(self.context, name)
        if not bindings or any(b.how != "assign" or b.value is None for b in bindings):
            return False  # a parameter, global or loop variable: owned elsewhere
        content = [binding.value for binding in bindings if binding.value is not None]
        for use in uses.of(name):
            if use.how == ARG and use.call is wait and not use.nested:
                continue
            if use.how in (METHOD, ATTR) and not use.nested:
                if use.attr == "cancel":
                    return False
                if use.attr in _FILLING and use.call is not None and use.call.args:
                    content.append(use.call.args[-1].value)
                continue  # also `task.add_done_callback(...)`, `task.result()`
            if not self._only_looks(use):
                return False
        return any(self._tasks_dropped(value, wait, uses, depth + 1) for value in content)


def _awaited_call(value: cst.BaseExpression) -> cst.Call | None:
    if isinstance(value, cst.Await) and isinstance(value.expression, cst.Call):
        return value.expression
    return None
