"""CCL105: work handed to an executor whose future nobody looks at, so its errors vanish."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.discards import Discards
from conclint.analysis.handoff import find_handoff, own_function
from conclint.analysis.scopes import ScopeNode, dotted_name, iter_statements, scope_body
from conclint.rules.base import Rule


class DiscardedFuture(Rule):
    code = "CCL105"
    name = "discarded-future"
    summary = "The future of work handed to an executor is dropped, so its exception is lost"
    message = "{what} of `{call}(...)` is {how}, so an exception in the work is lost; {fix}"
    # Receivers are executors, pools and event loops: a file names what makes them.
    method_needles = catalog.method_needles(catalog.FUTURE_METHODS)
    imports = catalog.kind_modules(catalog.FUTURE_METHODS)
    preview = True
    tags = ("concurrent.futures", "executor")
    uses = (Discards,)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._catches: dict[int, bool] = {}  # function -> has a handler for any exception

    def discarded(self, call: cst.Call, how: str) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return
        kind = self.context.kind_of(func.value) or ""
        what = catalog.FUTURE_METHODS.get(kind, {}).get(func.attr.value)
        fix = catalog.FUTURE_REMEDIES.get(kind, {}).get(func.attr.value)
        if what is None or fix is None or self._work_handles_errors(call):
            return
        called = dotted_name(func) or func.attr.value
        self.report(call, what=f"the {what}", call=called, how=how, fix=fix)

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
        return any(
            self.context.names.resolve(each, chain) in catalog.CATCH_ALL_EXCEPTIONS
            for each in types
        )
