"""CCL105: work handed to an executor whose future nobody looks at, so its errors vanish."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.discards import DiscardedResults
from conclint.analysis.handoff import find_handoff, own_function
from conclint.analysis.scopes import ScopeNode, dotted_name, iter_statements, scope_body
from conclint.rules.base import Rule

_FIX = {
    "future": "keep it and check `result()`, or pass it to `wait()`/`as_completed()`",
    "asyncio future": "await it, or keep it and check `exception()`",
    "result iterator": "iterate it (`for _ in ...`) or check futures from `submit()`",
    "result": "keep it and call `get()`, or pass `error_callback=`",
}
_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})


class DiscardedFuture(DiscardedResults, Rule):
    code = "CCL105"
    name = "discarded-future"
    summary = "The future of work handed to an executor is dropped, so its exception is lost"
    message = "{what} of `{call}(...)` is {how}, so an exception in the work is lost; {fix}"
    # Receivers are executors and pools (their class names) or event loops.
    needles = ("Executor", "Pool", "run_in_executor")
    imports = catalog.CONCURRENCY_MODULES
    preview = True
    tags = ("concurrent.futures", "executor")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._catches: dict[int, bool] = {}  # function -> has a handler for any exception

    def discarded(self, call: cst.Call, how: str) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return
        methods = catalog.FUTURE_METHODS.get(self.context.kind_of(func.value) or "")
        what = methods.get(func.attr.value) if methods else None
        if what is None or self._work_handles_errors(call):
            return
        called = dotted_name(func) or func.attr.value
        self.report(call, what=f"the {what}", call=called, how=how, fix=_FIX[what])

    def _work_handles_errors(self, call: cst.Call) -> bool:
        """The work is a function of the module with its own `except Exception:`."""
        handoff = find_handoff(call, self.context)
        if handoff is None:
            return False
        found = own_function(handoff.function, self.context, self.context.chain)
        if found is None:
            return False
        function, chain = found
        known = self._catches.get(id(function))
        if known is None:
            known = self._catches[id(function)] = any(
                self._broad(handler, (*chain, function))
                for statement in iter_statements(scope_body(function))
                if isinstance(statement, cst.Try)
                for handler in statement.handlers
            )
        return known

    def _broad(self, handler: cst.ExceptHandler, chain: Sequence[ScopeNode]) -> bool:
        caught = handler.type
        if caught is None:
            return True
        types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        return any(self.context.names.resolve(each, chain) in _BROAD for each in types)
