"""Loops around the node being visited, and which of them never run out of items.

A loop is *endless* when nothing finite bounds it: `while True:` (not one that drains
what only its own thread can fill, `q.get_nowait()` until `QueueEmpty` with no `await`),
`while not stop.is_set():`, an `async for` (a stream, a socket, a queue consumer; not one over
an iterator known to run out, such as a project async generator whose loops all
end), and a
`for` over an endless source (`sys.stdin`, `iter(q.get, None)`,
`itertools.count()`, a generator function of the module that yields from a
`while True:`). A `for` over anything else is taken to be finite: that misses
some bugs and never invents one.

`idle_round(body)` finds a way round a loop body on which nothing happens but
tests: `while True: if ready(): await go()` spins while `ready()` is false.

`Loops` is the tracker that keeps one `LoopStack` in step with the traversal,
entering a loop when its body starts (its `for` iterable and `else` block are
outside it), noting `break`/`return`/`raise` on the loops they leave, and
handing each finished loop to `loop_done`. `remember(node)` and
`runs_once(node)` tell work that leaves the loop right after it
(`q.put(x); break`) from work that repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.blocking import blocking_call
from conclint.analysis.scopes import iter_statements, scope_body
from conclint.analysis.tracking import Tracker
from conclint.analysis.walk import descendants, is_scope, suspends

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

Loop = cst.For | cst.While
_IS_SET_NAMES = frozenset().union(*catalog.IS_SET_METHODS.values())
Statements = Sequence[cst.BaseStatement | cst.BaseSmallStatement]
# The tests on a way through a block, each with the outcome that takes it.
Tests = tuple[tuple[cst.BaseExpression, bool], ...]
# How a way through a block ends: past its last statement, or at a `continue`.
_END = "end"
_CONTINUE = "continue"


def idle_round(body: Statements) -> Tests | None:
    """A way from the start of a loop body back to the loop's head (its end, or a
    `continue`) on which nothing runs but tests of `if` and `while` statements that do not
    await: the tests taken, with their outcomes. None when every way round does some work
    or suspends (any other statement counts as work). A test that calls something is taken
    to have done work when its value is true (`if self.step(): continue`), and to have
    found nothing to do when it is false (`if queue.empty(): continue` is no way round)."""
    found = _idle(body, ())
    return found[1] if found is not None else None


def _idle(block: Statements, tests: Tests) -> tuple[str, Tests] | None:
    """An idle way through `block` from `tests` on: to its end, or to a `continue`."""
    for index, statement in enumerate(block):
        if isinstance(statement, cst.SimpleStatementLine):
            found = _idle([*statement.body, *block[index + 1 :]], tests)
            return found
        if does_nothing(statement):
            continue
        if isinstance(statement, cst.Continue):
            return _CONTINUE, tests
        if isinstance(statement, cst.While) and statement.orelse is None:
            if is_forever(statement.test):
                return None  # `while True:` runs its body: no way round skips it
            if _suspends(statement.test) or not _idle_outcome(statement.test, False):
                return None
            if _contradicts(tests, statement.test, False):
                return None  # `if items: while items: ...`: its body runs at least once
            tests = (*tests, (statement.test, False))  # it may run zero times
            continue
        if not isinstance(statement, cst.If) or _suspends(statement.test):
            return None
        rest = block[index + 1 :]
        test = statement.test
        taken = skipped = None
        if _idle_outcome(test, True) and not _contradicts(tests, test, True):
            taken = _idle(statement.body.body, (*tests, (test, True)))
        if _idle_outcome(test, False) and not _contradicts(tests, test, False):
            skipped = _idle_else(statement.orelse, (*tests, (test, False)))
        for way in (taken, skipped):
            if way is not None:
                found = way if way[0] == _CONTINUE else _idle(rest, way[1])
                if found is not None:
                    return found
        return None
    return _END, tests


def _contradicts(tests: Tests, test: cst.BaseExpression, outcome: bool) -> bool:
    """`test` came out the other way earlier on this way round, and nothing since could
    have changed it: no test on the way calls anything (only tests run on it)."""
    if any(isinstance(node, cst.Call) for node in _nodes(test)):
        return False
    for earlier, earlier_outcome in reversed(tests):
        if any(isinstance(node, cst.Call) for node in _nodes(earlier)):
            return False
        if earlier_outcome != outcome and earlier.deep_equals(test):
            return True
    return False


def _idle_else(orelse: cst.If | cst.Else | None, tests: Tests) -> tuple[str, Tests] | None:
    if orelse is None:
        return _END, tests
    if isinstance(orelse, cst.If):
        return _idle([orelse], tests)
    return _idle(orelse.body.body, tests)


def does_nothing(statement: cst.BaseStatement | cst.BaseSmallStatement) -> bool:
    """`pass`, `...`, a docstring."""
    if isinstance(statement, cst.Pass):
        return True
    return isinstance(statement, cst.Expr) and isinstance(
        statement.value, cst.Ellipsis | cst.SimpleString | cst.ConcatenatedString
    )


def _idle_outcome(test: cst.BaseExpression, outcome: bool) -> bool:
    """Can this outcome of the test leave everything as it was? Not when a call in it gave
    a true value, which says it found or did something."""
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, outcome = test.expression, not outcome
    return not outcome or not any(isinstance(node, cst.Call) for node in _nodes(test))


def _nodes(test: cst.BaseExpression) -> list[cst.CSTNode]:
    return [test, *descendants(test, prune=lambda node: isinstance(node, cst.Lambda))]


def _suspends(test: cst.BaseExpression) -> bool:
    """The test awaits or yields (`if await ready():`)."""
    return any(isinstance(node, cst.Await | cst.Yield) for node in _nodes(test))


def is_forever(test: cst.BaseExpression) -> bool:
    """`while True:` / `while 1:`."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.evaluated_value != 0


@dataclass(slots=True)
class OpenLoop:
    """A loop whose body is being visited."""

    node: Loop
    # id of the function (or module, or class) whose code holds the loop.
    scope: int
    endless: bool
    # What rules noticed in its body (own scope only): "await", "break", ...
    facts: set[str] = field(default_factory=set)


class LoopStack:
    """The loops enclosing the current node, and what makes a loop endless."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.open: list[OpenLoop] = []
        self._generators: dict[int, bool] = {}
        # Blocks being visited, innermost last: (is a loop body, ids of nodes remembered in it).
        self._blocks: list[tuple[bool, list[int]]] = []
        self._next_is_body = False
        self._once: set[int] = set()

    def enter(self, loop: Loop) -> None:
        scope = id(self.context.chain[-1])
        self.open.append(OpenLoop(loop, scope, self.is_endless(loop)))
        self._next_is_body = True

    def leave(self) -> OpenLoop:
        return self.open.pop()

    def here(self) -> list[OpenLoop]:
        """The open loops of the innermost scope, outermost first."""
        scope = id(self.context.chain[-1])
        start = len(self.open)
        while start and self.open[start - 1].scope == scope:
            start -= 1
        return self.open[start:]

    def endless(self, *, outermost: bool = False) -> OpenLoop | None:
        """The innermost (or outermost) endless loop of the current scope, if any."""
        here = self.here()
        ordered = here if outermost else reversed(here)
        return next((loop for loop in ordered if loop.endless), None)

    def note(self, fact: str) -> None:
        """Record `fact` on every open loop of the current scope."""
        for loop in self.here():
            loop.facts.add(fact)

    # Work that leaves the loop right after it runs ---------------------------

    def remember(self, node: cst.CSTNode) -> None:
        """Watch `node`: `runs_once` tells later whether its block leaves the loop after it."""
        if self._blocks:
            self._blocks[-1][1].append(id(node))

    def runs_once(self, node: cst.CSTNode) -> bool:
        """`node` is followed, in its block or an enclosing one of the same loop body, by an
        unconditional `break`, `return` or `raise` (`q.put(x); break`)."""
        return id(node) in self._once

    def leaves(self, how: str) -> None:
        """A `break`, `return` or `raise` statement is being visited."""
        if self._blocks:
            self._once.update(self._blocks[-1][1])
        here = self.here()
        if how != "break":
            self.note(how)
        elif here:
            here[-1].facts.add(how)  # a break leaves only the innermost loop

    def enter_block(self) -> None:
        self._blocks.append((self._next_is_body, []))
        self._next_is_body = False

    def leave_block(self) -> None:
        is_body, remembered = self._blocks.pop()
        # An exit after an `if` or `try` still follows what ran inside it, but one after a
        # nested loop does not stop that loop from repeating its body.
        if self._blocks and not is_body:
            self._blocks[-1][1].extend(remembered)

    # What makes a loop endless -------------------------------------------

    def is_endless(self, loop: Loop) -> bool:
        if isinstance(loop, cst.While):
            if is_forever(loop.test):
                return not self._drains(loop) and not self._leaves_when_dry(loop)
            return self._until_event(loop.test)
        if loop.asynchronous is not None:
            # An async iterator may wait for items forever, unless it is one known to run out.
            return not (isinstance(loop.iter, cst.Call) and self._runs_out(loop.iter))
        return self._endless_iterable(loop.iter)

    def _runs_out(self, call: cst.Call) -> bool:
        """`call` gives an async iterator known to end: a catalog one (`as_completed`), or
        a project async generator whose loops all end (none a `while` or an `async for`,
        none over an endless source)."""
        if self.context.qualname(call.func) in catalog.FINITE_ITERATIONS:
            return True
        found = self.context.bindings.callee(call.func, self.context.chain)
        if found is None:
            return False
        facts = found[1]
        generator = facts.is_async and not facts.coroutine and not facts.wrapped
        return generator and all(
            source
            and source not in catalog.ENDLESS_ITERATORS
            and source not in catalog.ENDLESS_STREAMS
            for source in facts.loops
        )

    def _drains(self, loop: cst.While) -> bool:
        """`while True:` that starts by taking an item that only this thread can put
        (`q.get_nowait()` of an asyncio queue, catalog role `fails-when-empty`) and leaves
        when there is none, and never suspends: it ends once the items there are gone."""
        statements = list(iter_statements(loop.body.body))
        first = statements[0] if statements else None
        if not isinstance(first, cst.Try) or not any(
            _breaks(handler.body) for handler in first.handlers
        ):
            return False
        taken = list(iter_statements(first.body.body))[:1]
        value = getattr(taken[0], "value", None) if taken else None
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)):
            return False
        method = value.func.attr.value
        kind = self.context.kind_of(value.func.value)
        if method not in catalog.FAILING_WHEN_EMPTY.get(kind or "", ()):
            return False
        return not any(suspends(node) for node in descendants(loop.body))

    def _leaves_when_dry(self, loop: cst.While) -> bool:
        """`while True:` in sync code that can leave (`break`, `return`) and waits for
        nothing the code shows (no blocking call): it moves what is ready and stops, a
        parser's or a drain's loop (`if event is None: break`). A sync loop that never
        waits and never ends would spin, which is no producer's way; one that reads a
        socket or a file until it is done blocks, and stays endless."""
        if self.context.in_async_function:
            return False
        body = list(descendants(loop.body, prune=is_scope))
        own = descendants(loop.body, prune=lambda node: is_scope(node) or _is_loop(node))
        leaves = any(isinstance(node, cst.Return) for node in body) or any(
            isinstance(node, cst.Break) for node in own
        )
        # Only then the calls are looked up: most such loops never leave.
        return leaves and not any(
            isinstance(node, cst.Call) and blocking_call(node, self.context) for node in body
        )

    def _until_event(self, test: cst.BaseExpression) -> bool:
        """`while not stop.is_set():` runs until another task or thread says stop."""
        if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)):
            return False
        call = test.expression
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in _IS_SET_NAMES
        ):
            return False
        kind = self.context.kind_of(call.func.value)
        methods = catalog.IS_SET_METHODS.get(kind or "", frozenset())
        return kind in catalog.EVENT_KINDS and call.func.attr.value in methods

    def _endless_iterable(self, iterable: cst.BaseExpression) -> bool:
        if self.context.qualname(iterable) in catalog.ENDLESS_STREAMS:
            return True
        if not isinstance(iterable, cst.Call):
            return False
        callee = self.context.qualname(iterable.func)
        counts = catalog.ENDLESS_ITERATORS.get(callee or "")
        if counts is not None:
            positional = [arg for arg in iterable.args if arg.keyword is None and not arg.star]
            return len(positional) == len(iterable.args) and len(positional) in counts
        if isinstance(iterable.func, cst.Name):
            found = self.context.names.lookup(iterable.func.value, self.context.chain)
            if found is not None and len(found[1]) == 1:
                node = found[1][0].node
                return isinstance(node, cst.FunctionDef) and self._endless_generator(node)
        return False

    def _endless_generator(self, function: cst.FunctionDef) -> bool:
        """A generator function that yields inside a `while True:` of its own body."""
        known = self._generators.get(id(function))
        if known is None:
            known = self._generators[id(function)] = any(
                isinstance(statement, cst.While)
                and is_forever(statement.test)
                and _yields(statement.body)
                for statement in iter_statements(scope_body(function))
            )
        return known


def _is_loop(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.For | cst.While)


def _breaks(body: cst.BaseSuite) -> bool:
    """The block's last statement is `break`."""
    if isinstance(body, cst.SimpleStatementSuite):
        return isinstance(body.body[-1], cst.Break)
    last = body.body[-1] if body.body else None
    if isinstance(last, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        return isinstance(last.body[-1], cst.Break)
    return False


def _yields(body: cst.BaseSuite) -> bool:
    """`yield` as a statement of the block (`yield x`, `item = yield`), nested blocks included."""
    for statement in iter_statements(body.body):
        value = None
        if isinstance(statement, cst.Expr | cst.Assign | cst.AnnAssign):
            value = statement.value
        if isinstance(value, cst.Yield):
            return True
    return False


class LoopListener(Protocol):
    def loop_done(self, loop: OpenLoop) -> None:
        """A loop's body has been visited; `loop.facts` holds what was noted in it."""


class Loops(Tracker[LoopListener]):
    """Keeps one `LoopStack` (`self.stack`) in step with the traversal, for every rule that
    asks about the loops around a node, and tells its listeners `loop_done(loop)` with
    each loop once its body has been visited. The listeners share the loops' facts: each
    notes and reads facts of its own names, and the exits the tracker notes."""

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.stack = LoopStack(context)

    def _done(self) -> None:
        loop = self.stack.leave()
        for listener in self.listeners:
            listener.loop_done(loop)

    def visit_For_body(self, node: cst.For) -> None:
        self.stack.enter(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._done()

    def visit_While_body(self, node: cst.While) -> None:
        self.stack.enter(node)

    def leave_While_body(self, node: cst.While) -> None:
        self._done()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.stack.enter_block()

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self.stack.leave_block()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.stack.enter_block()

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self.stack.leave_block()

    def visit_Break(self, node: cst.Break) -> None:
        self.stack.leaves("break")

    def visit_Return(self, node: cst.Return) -> None:
        self.stack.leaves("return")

    def visit_Raise(self, node: cst.Raise) -> None:
        self.stack.leaves("raise")
