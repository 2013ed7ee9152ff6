"""CCL106: `Thread(target=work())` runs the work at once and hands the thread its result."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.coroutines import CoroutineFunctions
from conclint.analysis.handoff import CallableResults, find_handoff, own_function
from conclint.analysis.scopes import dotted_name
from conclint.catalog import top_modules
from conclint.rules.base import Rule


class TargetCalledNotPassed(Rule):
    code = "CCL106"
    name = "target-called-not-passed"
    summary = "A function is called where a thread, process or executor expects the function itself"
    message = (
        "`{callee}(...)` runs now, on this thread, and `{taker}(...)` gets its result instead "
        "of a callable; pass `{callee}` and its arguments separately"
    )
    # Functions that hand a callable over, or such methods and what makes their receivers.
    needles = catalog.words(catalog.HANDOFF_FUNCTIONS)
    method_needles = catalog.method_needles(catalog.HANDOFF_METHODS)
    imports = top_modules(catalog.HANDOFF_FUNCTIONS) | catalog.kind_modules(catalog.HANDOFF_METHODS)
    tags = ("threading", "executor")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.results = CallableResults(context, CoroutineFunctions(context))

    def visit_Call(self, node: cst.Call) -> None:
        handoff = find_handoff(node, self.context)
        if handoff is None or not isinstance(handoff.function, cst.Call):
            return
        inner = handoff.function
        if self._returns_no_callable(inner):
            callee = dotted_name(inner.func) or "function"
            taker = dotted_name(node.func) or "call"
            self.report(inner, callee=callee, taker=taker)

    def _returns_no_callable(self, call: cst.Call) -> bool:
        chain = self.context.chain
        function = own_function(call.func, self.context, chain)
        if function is not None:
            return not self.results.may_return_callable(*function)
        return self.context.qualname(call.func) in catalog.NON_CALLABLE_RESULTS
