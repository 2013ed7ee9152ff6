"""CCL201: a task that loops forever, kept on an attribute or global that nothing ever cancels."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.exits import completions
from conclint.analysis.scopes import dotted_name, iter_statements, scope_body
from conclint.analysis.teardown import TEARDOWN_METHODS, teardown_of
from conclint.analysis.tracking import SingleAssignments
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
from conclint.rules.base import Rule

# Uses that end the task or hand it to code that can: the task is not lost.
_SETTLING = KEPT | {ARG, AWAIT, ITER, WITH}


class TaskNeverCancelled(Rule):
    """An endless task kept on an object or module outlives its owner unless cancelled."""

    code = "CCL201"
    uses = (SingleAssignments,)
    name = "task-never-cancelled"
    summary = "A task that loops forever is kept but never cancelled or awaited"
    message = (
        "task `{target}` runs endless `{coroutine}()` and nothing{where} cancels or awaits it; "
        "cancel it {when}"
    )
    needles = catalog.TASK_SPAWN_WORDS
    imports = catalog.TASK_SPAWN_MODULES
    tags = ("asyncio", "task", "cancellation")
    options = (TEARDOWN_METHODS,)

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
        shown = {"target": dotted_name(target), "coroutine": coroutine}
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = self.context.bindings.class_of_receiver(target.value, self.context.chain)
            if owner is None:
                return
            attribute = target.attr.value
            uses = of_instances(module_uses.of_attribute(attribute), owner)
            if _settled(uses, by_self=False):
                return
            by_self = _settled(uses, by_self=True)
            teardown = teardown_of(self.context, owner, attribute, by_self)
            if teardown is None and not by_self:
                self.report(statement, **shown, where="", when="on close")
            elif teardown is not None and teardown.stops is False:
                self.report(statement, **shown, where=f" in {teardown.shown()}", when="there")
        elif (
            isinstance(target, cst.Name)
            and self._is_global(target.value)
            and not _settled(module_uses.of(target.value), by_self=True)
        ):
            self.report(statement, **shown, where="", when="on close")
        # A local: CCL101 and CCL204 look after those.

    def _is_global(self, name: str) -> bool:
        function = self.context.function
        if function is None:
            return len(self.context.chain) == 1  # module level, not a class body
        if name not in self.context.names.table(function).declared_outer:
            return False
        found = self.context.names.lookup(name, self.context.chain)
        return found is None or found[0] == 0  # `global name`, not `nonlocal name`

    def _inherited_endless(self, owner: cst.ClassDef, method: str) -> bool:
        """`self.method` is an endless coroutine the class inherits from a project base."""
        name = self.context.bindings.class_name(owner)
        found = self.context.model().method(name, method) if name is not None else None
        return found is not None and f"{found[0]}.{method}" in self.context.project.endless

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
                if not candidates and self._inherited_endless(owner, func.attr.value):
                    return dotted_name(func)
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


def _settled(uses: Sequence[Use], by_self: bool) -> bool:
    """Some use cancels, awaits or passes the task on (a `bind` is not a use of the old task);
    a cancel through `self` counts only `by_self` (else it is the teardown's to answer)."""
    return any(
        use.how in _SETTLING
        or (
            use.how in (METHOD, ATTR)
            and use.attr in catalog.CANCEL_METHODS
            and (by_self or use.how == ATTR or use.owner is None)
        )
        for use in uses
    )
