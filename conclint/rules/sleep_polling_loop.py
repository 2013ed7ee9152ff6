"""CCL605: a loop in `async def` that waits for a state change by sleeping and looking again."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.loops import is_forever
from conclint.analysis.scopes import dotted_name
from conclint.analysis.walk import descendants
from conclint.catalog import top_modules
from conclint.rules.base import Rule

_SLEEP_TAILS = frozenset(catalog.words(catalog.ASYNC_SLEEPS))
# Methods that only read a state another task sets (`event.is_set()`), by receiver kind: a
# test calling them still polls. Only the events that are awaited: a `threading.Event` is
# set by a thread, which cannot wake a task, so polling it is the way to wait.
_STATE_READS = {
    kind: methods
    for kind, methods in catalog.IS_SET_METHODS.items()
    if catalog.WAIT_METHODS.get(kind, frozenset()) & catalog.COROUTINE_METHODS.get(kind, set())
}
_STATE_READ_NAMES = frozenset().union(*_STATE_READS.values())
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LONGEST_TEST = 40


def _event_of(module: str) -> str:
    """The event class of the library a sleep comes from (`trio.Event` for `trio.sleep`)."""
    return min(kind for kind in catalog.EVENT_KINDS if kind.partition(".")[0] == module)


_EVENTS = {module: _event_of(module) for module in top_modules(catalog.ASYNC_SLEEPS)}


class SleepPollingLoop(Rule):
    code = "CCL605"
    name = "sleep-polling-loop"
    summary = "A loop in `async def` waits for a change by sleeping and checking again"
    message = (
        "`{loop}:` looks again after each `await {sleep}`: it wakes up for nothing and "
        "sees the change late; have the code that makes the change set an event "
        "(`{event}`) and await its `wait()`"
    )
    needles = catalog.words(catalog.ASYNC_SLEEPS)
    imports = top_modules(catalog.ASYNC_SLEEPS)
    async_only = True
    # Common and harmless in tests (waiting for a server to start): opt in.
    preview = True
    peers = ("ASYNC110",)
    tags = ("asyncio", "event")

    def visit_While(self, node: cst.While) -> None:
        if not self.context.in_async_function or is_forever(node.test):
            return  # `while True: await sleep(60)` waits for nothing but cancellation
        sleep = self._only_sleep(node.body)
        if sleep is None or not self._reads_state(node.test):
            return  # `while not try_connect():` retries a call; a body with other work
        test = self.context.module.code_for_node(node.test)
        self.report(
            node,
            # A test written over several lines is not quoted: a message is one line.
            loop=f"while {test}"
            if len(test) <= _LONGEST_TEST and test.isprintable()
            else "while ...",
            sleep=f"{dotted_name(sleep.func)}({'...' if sleep.args else ''})",
            event=_EVENTS[(self.context.qualname(sleep.func) or "").partition(".")[0]],
        )

    def _only_sleep(self, body: cst.BaseSuite) -> cst.Call | None:
        """The awaited sleep that is the whole body of a loop, else None."""
        line: cst.BaseSuite | cst.SimpleStatementLine = body
        if isinstance(body, cst.IndentedBlock):
            if len(body.body) != 1 or not isinstance(body.body[0], cst.SimpleStatementLine):
                return None
            line = body.body[0]
        statements = line.body
        if len(statements) != 1 or not isinstance(statements[0], cst.Expr):
            return None
        awaited = statements[0].value
        if not isinstance(awaited, cst.Await) or not isinstance(awaited.expression, cst.Call):
            return None
        call = awaited.expression
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value not in _SLEEP_TAILS:
            return None
        return call if self.context.qualname(func) in catalog.ASYNC_SLEEPS else None

    def _reads_state(self, test: cst.BaseExpression) -> bool:
        """A test that only reads names, attributes, sizes and events: no call that may do
        the work or look outside the process (`os.path.exists(...)`), nothing awaited."""
        nodes = [test, *descendants(test, prune=lambda inner: isinstance(inner, _SCOPES))]
        for node in nodes:
            if isinstance(node, cst.Await):
                return False
            if isinstance(node, cst.Call) and not self._reads_only(node):
                return False
        return True

    def _reads_only(self, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _STATE_READ_NAMES:
            kind = self.context.kind_of(func.value)
            return func.attr.value in _STATE_READS.get(kind or "", ())
        return self.context.qualname(func) in catalog.SIZE_CALLS
