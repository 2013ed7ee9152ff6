"""CCL602: an endless loop in `async def` that never gives the event loop a turn, or can go
round without one (its awaits are all behind tests)."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.exits import CONTINUE, FALLTHROUGH, completions
from conclint.analysis.loops import (
    Loops,
    OpenLoop,
    Tests,
    does_nothing,
    idle_round,
    is_forever,
)
from conclint.rules.base import Rule

# A fact noted on a loop when its body can suspend or leave it.
YIELDS = "yields"
EXITS = "exit"
# The facts (its own, and the exits the loop tracker notes) that mean the body can suspend
# or leave the loop; other rules note facts of their own on the same loops.
_SUSPENDS_OR_LEAVES = frozenset({YIELDS, EXITS, "break", "return", "raise"})
_EXIT_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.NO_RETURN_CALLS)
_NEVER = "never awaits, returns, breaks or raises"
_FOREVER = "it holds the event loop forever and cannot be cancelled; await something in it"
_SPINS = (
    "it then spins, holding the event loop, and cannot be cancelled; await something on "
    "every round (an `Event` to wait for)"
)
# An iteration that ends normally, so the loop goes round again.
_REPEATS = frozenset({FALLTHROUGH, CONTINUE})
# The longest description of the tests quoted in the message.
_LONGEST = 80


class AsyncBusyLoop(Rule):
    code = "CCL602"
    name = "async-busy-loop"
    summary = (
        "A `while True:` loop in `async def` can go round without awaiting, so nothing else on "
        "the loop runs"
    )
    message = "`{loop}` in `async def {function}()` {how}: {consequence}"
    # The loop must sit in `async def`; "async" is shared with other rules, so it costs nothing.
    needles = ("async",)
    async_only = True
    peers = ("ASYNC913",)
    tags = ("asyncio", "blocking")
    uses = (Loops,)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = context.tracker(Loops).stack

    def loop_done(self, loop: OpenLoop) -> None:
        node = loop.node
        if not isinstance(node, cst.While) or not is_forever(node.test):
            return
        function = self.context.function
        if not isinstance(function, cst.FunctionDef) or function.asynchronous is None:
            return
        if loop.facts & _SUSPENDS_OR_LEAVES:
            idle = idle_round(node.body.body)
            if idle is None:
                return
            how = f"can go round without awaiting{self._when(idle)}"
            consequence = _SPINS
        elif completions(node.body.body) & _REPEATS:
            how, consequence = _NEVER, _FOREVER
        else:
            return  # an endless loop inside never lets it go round (that one is reported)
        test = node.test
        spelled = test.value if isinstance(test, cst.Name | cst.Integer) else "True"
        self.report(
            node,
            loop=f"while {spelled}",
            function=function.name.value,
            how=how,
            consequence=consequence,
        )

    def _when(self, tests: Tests) -> str:
        """` when `ready()` is false`: the tests of the idle way round, if they are short."""
        said = []
        for test, outcome in tests:
            while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                test, outcome = test.expression, not outcome
            code = self.context.module.code_for_node(test)
            said.append(f"`{code}` is {'true' if outcome else 'false'}")
        text = " and ".join(said)
        if not said or len(text) > _LONGEST or "\n" in text:
            return ""
        return f" when {text}"

    # Anything that suspends the coroutine, in the loop's own scope (`Loops` notes exits).

    def visit_Await(self, node: cst.Await) -> None:
        self.loops.note(YIELDS)

    def visit_Yield(self, node: cst.Yield) -> None:
        # An async generator hands control to its consumer, which awaits it.
        self.loops.note(YIELDS)

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self.loops.note(YIELDS)

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None and not self._empty_task_group(node):
            self.loops.note(YIELDS)

    def _empty_task_group(self, node: cst.With) -> bool:
        """`async with TaskGroup(): pass`: with no task started, entering and leaving it
        does not suspend (asyncio), or is no point where a cancellation arrives (trio)."""
        return all(
            self.context.kind_of(item.item) in catalog.TASK_GROUP_KINDS for item in node.items
        ) and all(does_nothing(statement) for statement in _statements(node.body))

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
            self.loops.note(EXITS)


def _statements(suite: cst.BaseSuite) -> list[cst.BaseStatement | cst.BaseSmallStatement]:
    found: list[cst.BaseStatement | cst.BaseSmallStatement] = []
    for statement in suite.body:
        if isinstance(statement, cst.SimpleStatementLine):
            found.extend(statement.body)
        else:
            found.append(statement)
    return found
