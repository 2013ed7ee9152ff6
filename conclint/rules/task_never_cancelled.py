"""CCL201: a task that loops forever, kept on an attribute or global that nothing ever cancels."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.exits import completions
from conclint.analysis.scopes import dotted_name, iter_statements, scope_body
from conclint.analysis.uses import (
    ARG,
    ATTR,
    AWAIT,
    ITER,
    KEPT,
    METHOD,
    WITH,
    Use,
    of_instances,
    uses_in,
)
from conclint.rules.base import Rule, SingleAssignments

# Uses that end the task or hand it to code that can: the task is not lost.
_SETTLING = KEPT | {ARG, AWAIT, ITER, WITH}


class TaskNeverCancelled(SingleAssignments, Rule):
    """An endless task kept on an object or module outlives its owner unless cancelled."""

    code = "CCL201"
    name = "task-never-cancelled"
    summary = "A task that loops forever is kept but never cancelled or awaited"
    message = (
        "task `{target}` runs endless `{coroutine}()` and nothing cancels or awaits it; "
        "cancel it on close"
    )
    needles = catalog.TASK_SPAWN_WORDS
    imports = catalog.TASK_SPAWN_MODULES
    tags = ("asyncio", "task", "cancellation")

    def assigned(
        self, statement: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None:
        if (
            not isinstance(value, cst.Call)
            or not value.args
            or not self.context.is_task_spawn(value)
        ):
            return
        coroutine = self._endless_coroutine(value.args[0].value)
        if coroutine is None:
            return
        module_uses = uses_in(self.context, self.context.module)
        uses: Sequence[Use]
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = self.context.bindings.class_of_receiver(target.value, self.context.chain)
            if owner is None:
                return
            uses = of_instances(module_uses.of_attribute(target.attr.value), owner)
        elif isinstance(target, cst.Name) and self._is_global(target.value):
            uses = module_uses.of(target.value)
        else:
            return  # a local: CCL101 and CCL204 look after those
        if not _settled(uses):
            self.report(statement, target=dotted_name(target), coroutine=coroutine)

    def _is_global(self, name: str) -> bool:
        function = self.context.function
        if function is None:
            return len(self.context.chain) == 1  # module level, not a class body
        if name not in self.context.names.table(function).declared_outer:
            return False
        found = self.context.names.lookup(name, self.context.chain)
        return found is None or found[0] == 0  # `global name`, not `nonlocal name`

    def _endless_coroutine(self, arg: cst.BaseExpression) -> str | None:
        """The name of the `async def` that `arg` calls, when it can only end by cancellation."""
        if not isinstance(arg, cst.Call):
            return None
        func = arg.func
        chain = self.context.chain
        candidates: Sequence[cst.CSTNode] = ()
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            owner = self.context.bindings.class_of_receiver(func.value, chain)
            if owner is not None:
                candidates = [
                    s
                    for s in scope_body(owner)
                    if isinstance(s, cst.FunctionDef) and s.name.value == func.attr.value
                ]
        elif isinstance(func, cst.Name):
            found = self.context.names.lookup(func.value, chain)
            if found is not None and found[0] == 0:
                candidates = [binding.node for binding in found[1]]
        if self.context.qualname(func) in self.context.project.endless:
            return dotted_name(func)  # project mode: an endless coroutine of another module
        if len(candidates) != 1:
            return None
        coroutine = candidates[0]
        if (
            not isinstance(coroutine, cst.FunctionDef)
            or coroutine.asynchronous is None
            or not _loops_forever(coroutine)
        ):
            return None
        return dotted_name(func)


def _loops_forever(function: cst.FunctionDef) -> bool:
    """It cannot finish normally, and the reason is a loop with no way out (not a `raise`)."""
    body = scope_body(function)
    if completions(body):
        return False
    return any(
        isinstance(statement, cst.While) and not completions([statement])
        for statement in iter_statements(body)
    )


def _settled(uses: Sequence[Use]) -> bool:
    """Some use cancels, awaits or passes the task on (a `bind` is not a use of the old task)."""
    return any(
        use.how in _SETTLING or (use.how in (METHOD, ATTR) and use.attr in catalog.CANCEL_METHODS)
        for use in uses
    )
