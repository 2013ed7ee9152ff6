"""CCL105: work handed to an executor whose future nobody looks at, so its errors vanish."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.discards import DiscardedResults
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

_FIX = {
    "future": "keep it and check `result()`, or pass it to `wait()`/`as_completed()`",
    "asyncio future": "await it, or keep it and check `exception()`",
    "result iterator": "iterate it (`for _ in ...`) or check futures from `submit()`",
    "result": "keep it and call `get()`, or pass `error_callback=`",
}


class DiscardedFuture(DiscardedResults, Rule):
    code = "CCL105"
    name = "discarded-future"
    summary = "The future of work handed to an executor is dropped, so its exception is lost"
    message = "{what} of `{call}(...)` is {how}, so an exception in the work is lost; {fix}"
    needles = ("submit", "run_in_executor", "map", "apply_async")
    preview = True
    tags = ("concurrent.futures", "executor")

    def discarded(self, call: cst.Call, how: str) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return
        methods = catalog.FUTURE_METHODS.get(self.context.kind_of(func.value) or "")
        what = methods.get(func.attr.value) if methods else None
        if what is not None:
            called = dotted_name(func) or func.attr.value
            self.report(call, what=f"the {what}", call=called, how=how, fix=_FIX[what])
