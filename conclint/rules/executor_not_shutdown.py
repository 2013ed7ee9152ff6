"""CCL104: an executor or process pool whose workers are never shut down."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.scopes import dotted_name
from conclint.analysis.teardown import (
    TEARDOWN_METHODS,
    Teardown,
    owned_by_constructor,
    teardown_of,
)
from conclint.analysis.tracking import SingleAssignments
from conclint.analysis.uses import (
    ARG,
    ATTR,
    BIND,
    ITER,
    KEPT,
    METHOD,
    WITH,
    Use,
    callee,
    local_bindings,
    of_instances,
    uses_in,
)
from conclint.rules.base import Rule

# Uses that end the workers or give the executor to an owner that outlives the use.
_HANDED_ON = KEPT | {ITER, WITH}


class ExecutorNotShutdown(Rule):
    """An executor created outside `with` and never shut down leaks its workers."""

    code = "CCL104"
    uses = (SingleAssignments,)
    name = "executor-not-shutdown"
    summary = "An executor or process pool is created outside `with` and never shut down"
    message = "{what} is never shut down{where}, so its workers leak; {fix}"
    needles = catalog.kind_words(catalog.EXECUTOR_KINDS)
    imports = catalog.kind_modules(catalog.EXECUTOR_KINDS)
    tags = ("concurrent.futures", "multiprocessing")
    options = (TEARDOWN_METHODS,)

    def visit_Call(self, node: cst.Call) -> None:
        # `ProcessPoolExecutor().map(...)`: the executor is unreachable once the call returns.
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Call)
            and func.attr.value not in catalog.EXECUTOR_SHUTDOWN_METHODS
            and func.attr.value != "__enter__"  # the language's `with` protocol
            and self._is_executor(func.value)
        ):
            self._report(func.value)

    def assigned(
        self, statement: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None:
        if not isinstance(value, cst.Call) or not self._is_executor(value):
            return
        function = self.context.function
        if isinstance(target, cst.Name) and function is not None:
            bindings = local_bindings(self.context, target.value)
            if bindings is None or len(bindings) != 1:
                return  # a global or a re-bound name: not this function's alone
            uses = uses_in(self.context, function).of(target.value)
            if self._unused(uses, value):
                return
            if not any(use.nested for use in uses) and not self._settled(uses):
                self._report(value)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = self.context.bindings.class_of_receiver(target.value, self.context.chain)
            if owner is None:
                return
            # Kept on the instance: its teardown (or anyone holding it) must shut it down.
            attribute = target.attr.value
            uses = uses_in(self.context, self.context.module).of_attribute(attribute)
            mine = of_instances(uses, owner)
            if self._settled(mine) or self._unused(mine, value):
                return
            by_self = any(_shuts_down(use) and use.owner is not None for use in mine)
            teardown = teardown_of(self.context, owner, attribute, by_self)
            kept_on = f"`{dotted_name(target)}`"
            if teardown is None and not by_self:
                self._report(value, kept_on)
            elif teardown is not None and teardown.stops is False:
                self._report(value, kept_on, teardown)

    def _settled(self, uses: Iterable[Use]) -> bool:
        """Some use shuts the executor down or hands it to an owner that outlives the function
        (a shutdown through `self` is the class's teardown's to answer)."""
        for use in uses:
            if _shuts_down(use):
                settles = use.how == ATTR or use.owner is None
            else:
                settles = use.how in _HANDED_ON or (
                    use.how == ARG and use.call is not None and self._kept_by(use.call, use.node)
                )
            if settles:
                return True
        return False

    def _unused(self, uses: Iterable[Use], made: cst.Call) -> bool:
        """An executor that starts its workers on the first submit, and that nothing but
        its own assignment names: it never has any worker to leak."""
        kind = self.context.bindings.constructors.get(callee(self.context, made) or "")
        return kind in catalog.LAZY_EXECUTOR_KINDS and all(use.how == BIND for use in uses)

    def _kept_by(self, call: cst.Call, argument: cst.BaseExpression) -> bool:
        """The call keeps `argument`: a container or a constructor, or a base class's
        `__init__` that may take ownership of it."""
        return _retains(call) or owned_by_constructor(self.context, call, argument)

    def _is_executor(self, call: cst.Call) -> bool:
        made = self.context.bindings.constructors.get(callee(self.context, call) or "")
        return made in catalog.EXECUTOR_KINDS

    def _report(
        self, call: cst.Call, kept_on: str | None = None, teardown: Teardown | None = None
    ) -> None:
        made_by = callee(self.context, call) or ""
        what = f"`{dotted_name(call.func) or made_by.rpartition('.')[2]}(...)`"
        kind = self.context.bindings.constructors.get(made_by, "")
        cleanup = " and ".join(f"`{name}()`" for name in sorted(catalog.CLEANUP_METHODS[kind]))
        self.report(
            call,
            what=f"{what} kept on {kept_on}" if kept_on else what,
            where=f" in {teardown.shown()}" if teardown else "",
            fix=f"call {cleanup} there" if teardown else f"use `with` or {cleanup} in `finally`",
        )


def _shuts_down(use: Use) -> bool:
    return use.how in (METHOD, ATTR) and use.attr in catalog.EXECUTOR_SHUTDOWN_METHODS


def _retains(call: cst.Call | None) -> bool:
    """A call that keeps its argument: a container or exit stack method, or a constructor."""
    if call is None:
        return False
    name = dotted_name(call.func)
    last = name.rpartition(".")[2] if name else ""
    return last in catalog.RETAINING_CALLS or last[:1].isupper()
