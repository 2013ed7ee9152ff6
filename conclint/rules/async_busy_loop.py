"""CCL602: an endless loop in `async def` that never gives the event loop a turn."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.loops import LoopStack, LoopVisits, OpenLoop, is_forever
from conclint.rules.base import Rule

# A fact noted on a loop when its body can suspend or leave it.
YIELDS = "yields"
_EXIT_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.NO_RETURN_CALLS)


class AsyncBusyLoop(LoopVisits, Rule):
    code = "CCL602"
    name = "async-busy-loop"
    summary = "A `while True:` loop in `async def` never awaits, so nothing else on the loop runs"
    message = (
        "`{loop}` in `async def {function}()` never awaits, returns, breaks or raises: it holds "
        "the event loop forever and cannot be cancelled; await something in it"
    )
    # The loop must sit in `async def`; "async" is shared with other rules, so it costs nothing.
    needles = ("async",)
    async_only = True
    tags = ("asyncio", "blocking")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = LoopStack(context)

    def loop_done(self, loop: OpenLoop) -> None:
        node = loop.node
        if loop.facts or not isinstance(node, cst.While) or not is_forever(node.test):
            return
        function = self.context.function
        if isinstance(function, cst.FunctionDef) and function.asynchronous is not None:
            test = node.test
            spelled = test.value if isinstance(test, cst.Name | cst.Integer) else "True"
            self.report(node, loop=f"while {spelled}", function=function.name.value)

    # Anything that suspends the coroutine, in the loop's own scope (`LoopVisits` notes exits).

    def visit_Await(self, node: cst.Await) -> None:
        self.loops.note(YIELDS)

    def visit_Yield(self, node: cst.Yield) -> None:
        # An async generator hands control to its consumer, which awaits it.
        self.loops.note(YIELDS)

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self.loops.note(YIELDS)

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:
            self.loops.note(YIELDS)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is not None:
            self.loops.note(YIELDS)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            spelled = func.attr.value
        else:
            spelled = func.value if isinstance(func, cst.Name) else ""
        if spelled in _EXIT_NAMES and self.context.qualname(func) in catalog.NO_RETURN_CALLS:
            self.loops.note("exit")
