"""CCL404: `Condition.wait()` outside a loop that re-checks what it waits for."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog, cfg, exits
from conclint.analysis.context import FileContext
from conclint.analysis.pairing import receiver_key
from conclint.analysis.scopes import ScopeNode
from conclint.analysis.walk import descendants
from conclint.catalog.schema import Argument
from conclint.rules.base import Rule

_FALLS_THROUGH = frozenset({exits.FALLTHROUGH})
# The waits of conditions: the cheap test before the receiver's kind is looked up.
_WAITS = frozenset().union(*(catalog.WAIT_METHODS.get(k, ()) for k in catalog.CONDITION_KINDS))
# (a block, the position in it of the statement that holds the wait), innermost first.
_Levels = list[tuple[Sequence[cst.BaseStatement], int]]


class ConditionWaitNoLoop(Rule):
    code = "CCL404"
    name = "condition-wait-no-loop"
    summary = "Condition.wait() is not inside a loop that re-checks the predicate"
    message = (
        "`{target}.{method}()` outside a loop that re-checks the condition: a wake-up does not "
        "mean it holds; use {fix}"
    )
    needles = catalog.kind_words(catalog.CONDITION_KINDS)
    imports = catalog.kind_modules(catalog.CONDITION_KINDS)
    tags = ("lock", "condition")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._line: cst.SimpleStatementLine | None = None
        # Calls whose value is thrown away: `cond.wait()` / `await cond.wait()` as a statement.
        self._discarded: set[int] = set()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._line = None

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        self._discarded.add(id(value))

    def visit_Call(self, node: cst.Call) -> None:
        found = receiver_key(node, _WAITS)
        # A wait whose result is looked at (`if not cond.wait(5):`, `return cond.wait(t)`)
        # is a timed wait whose caller decides what a timeout means.
        if found is None or id(node) not in self._discarded:
            return
        assert isinstance(node.func, cst.Attribute)
        function = self.context.function
        kind = self.context.kind_of(node.func.value)
        target, method = found
        if (
            kind not in catalog.CONDITION_KINDS
            or method not in catalog.WAIT_METHODS.get(kind, ())
            or _polls(node, catalog.TIMEOUTS.get(kind, {}).get(method))
            or not isinstance(function, cst.FunctionDef)
            or self._line is None
        ):
            return
        timed = bool(node.args)  # `wait(1.0)`/`wait(timeout=...)` returns on its own
        # A function defined in another is judged by how that one runs it, unless that one
        # only hands it on and the wait is timed (`sched.scheduler(time.time, sleep)`): its
        # caller gets it back with or without a wake-up, so it re-checks either way.
        helper = not self._nested(function) or (
            timed and _handed_on(function, self.context.chain[-2])
        )
        levels = _path_to(self._line, _lines(function.body))
        if not _rechecked(levels, timed, ends_helper=helper) and not (
            self._defined_in_loop(function, timed)
        ):
            self.report(node, target=target, method=method, fix=_remedy(kind, target, method))

    def _nested(self, function: cst.FunctionDef) -> bool:
        chain = self.context.chain
        return len(chain) > 1 and chain[-1] is function and isinstance(chain[-2], cst.FunctionDef)

    def _defined_in_loop(self, function: cst.FunctionDef, timed: bool) -> bool:
        """The wait is in a function defined inside a loop of the enclosing function that
        re-checks (`while name not in self.values: async def _(): await cond.wait()`,
        then `await wait_for(_(), left)`): the loop runs it again until the state holds."""
        chain = self.context.chain
        parent = chain[-2] if len(chain) > 1 and chain[-1] is function else None
        if not isinstance(parent, cst.FunctionDef):
            return False
        return _rechecked(_path_to(function, _lines(parent.body)), timed, ends_turn=False)


def _handed_on(function: cst.FunctionDef, parent: ScopeNode) -> bool:
    """`parent` names `function` (besides its `def`) and never calls it by that name: it
    hands it on, to a caller of its own whose loop decides what a wake-up means."""
    name = function.name.value
    called: set[int] = set()
    named: list[cst.Name] = []
    for node in descendants(parent):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            called.add(id(node.func))
        elif isinstance(node, cst.Name) and node.value == name and node is not function.name:
            named.append(node)
    return bool(named) and not any(id(node) in called for node in named)


def _rechecked(
    levels: _Levels, timed: bool, ends_turn: bool = True, ends_helper: bool = False
) -> bool:
    """Is the wait inside a loop that re-checks, or followed by a test that can leave, or
    the last thing a loop's body does (what runs after a wake-up is then the start of the
    body, which ran first with no wait at all, so it assumes nothing of one), or, with
    `ends_helper`, the last thing the function does? Not that last, with `ends_turn`
    false: `levels` lead to a `def` holding the wait.

    A timed wait followed at once by `return` hands the decision to the caller,
    which polls (a scheduler's `next_entry()` waiting at most a second).
    """
    last = ends_turn  # nothing runs after the wait in the blocks seen so far
    for block, index in levels:
        statement = block[index]
        if last and isinstance(statement, cst.While | cst.For):
            return True  # the wait ends the loop's body: the next turn's start re-checks
        last = last and index == len(block) - 1
        if timed and _returns_first(block[index + 1 :]):
            return True
        if isinstance(statement, cst.While) and cfg.constant_truth(statement.test) is None:
            return True  # `while not ready:`
        if isinstance(statement, cst.For | cst.While) and _leaves_after_test(
            _lines(statement.body)
        ):
            return True  # `while True:` ... `if ready: break`
        if _leaves_after_test(block[index + 1 :]):
            return True  # `wait(timeout)` then `if not ready: raise TimeoutError`
    # With `ends_helper`, the wait is the last thing a function of the module or a method
    # does: a wake-up helper that assumes nothing of what woke it, whose callers re-check
    # (`while not ready: await self._woken()`).
    return ends_helper and last


def _returns_first(statements: Sequence[cst.BaseStatement]) -> bool:
    """The next statement returns a plain name or constant, reading no shared state."""
    first = statements[0] if statements else None
    if not isinstance(first, cst.SimpleStatementLine) or not isinstance(first.body[0], cst.Return):
        return False
    value = first.body[0].value
    return value is None or isinstance(value, cst.Name | cst.Integer | cst.Float)


def _leaves_after_test(statements: Sequence[cst.BaseStatement]) -> bool:
    """Does an `if` branch or an `except` handler here return, raise, break or continue?"""
    for statement in statements:
        if isinstance(statement, cst.If):
            if any(exits.completions(branch) != _FALLS_THROUGH for branch in _branches(statement)):
                return True
        elif isinstance(statement, cst.Try | cst.TryStar):
            handlers = (_lines(handler.body) for handler in statement.handlers)
            if any(exits.completions(handler) != _FALLS_THROUGH for handler in handlers):
                return True
            if _leaves_after_test(_lines(statement.body)):
                return True
        elif isinstance(statement, cst.With) and _leaves_after_test(_lines(statement.body)):
            return True
    return False


def _branches(statement: cst.If) -> list[Sequence[cst.BaseStatement]]:
    branches = [_lines(statement.body)]
    orelse = statement.orelse
    if isinstance(orelse, cst.If):
        branches += _branches(orelse)
    elif orelse is not None:
        branches.append(_lines(orelse.body))
    return branches


def _remedy(kind: str, target: str, wait: str) -> str:
    """The loop to write, and the kind's predicate wait if it has one; awaited when the
    kind's waits are coroutines."""
    fix = f"`while not ...: {catalog.awaited(kind, wait)}{target}.{wait}()`"
    for wait_for in sorted(catalog.WAIT_FOR_METHODS.get(kind, ()))[:1]:
        fix += f" or `{catalog.awaited(kind, wait_for)}{target}.{wait_for}(...)`"
    return fix


def _polls(call: cst.Call, timeout: Argument | None) -> bool:
    """`wait(0)` / `wait(timeout=0)`: gives the lock up for a moment, waits for nothing."""
    for position, arg in enumerate(call.args):
        if timeout is not None and (
            (arg.keyword is None and position == timeout.position)
            or (arg.keyword is not None and arg.keyword.value == timeout.keyword)
        ):
            value = arg.value
            return isinstance(value, cst.Integer | cst.Float) and float(value.value) == 0
    return False


def _path_to(line: cst.BaseStatement, body: Sequence[cst.BaseStatement]) -> _Levels:
    """Where `line` sits: its block and position, then those of each statement around it."""
    for index, statement in enumerate(body):
        if statement is line:
            return [(body, index)]
        for block in _child_blocks(statement):
            inner = _path_to(line, block)
            if inner:
                return [*inner, (body, index)]
    return []


def _child_blocks(statement: cst.BaseStatement) -> list[Sequence[cst.BaseStatement]]:
    if isinstance(statement, cst.If):
        return _branches(statement)
    suites: list[cst.BaseSuite] = []
    if isinstance(statement, cst.For | cst.While | cst.With):
        suites.append(statement.body)
    if isinstance(statement, cst.For | cst.While) and statement.orelse is not None:
        suites.append(statement.orelse.body)
    if isinstance(statement, cst.Try | cst.TryStar):
        suites.append(statement.body)
        suites.extend(handler.body for handler in statement.handlers)
        suites.extend(
            clause.body for clause in (statement.orelse, statement.finalbody) if clause is not None
        )
    if isinstance(statement, cst.Match):
        suites.extend(case.body for case in statement.cases)
    return [_lines(suite) for suite in suites]


def _lines(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    """The statements of an indented block (a one-line suite holds no statement lines)."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()
