"""CCL404: `Condition.wait()` outside a loop that re-checks what it waits for."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog, cfg
from conclint.analysis.context import FileContext
from conclint.analysis.pairing import receiver_key
from conclint.rules.base import Rule

_Loop = cst.For | cst.While
# Statements that leave the loop, or go round it again, after a test.
_LEAVES = (cst.Break, cst.Continue, cst.Return, cst.Raise)


class ConditionWaitNoLoop(Rule):
    code = "CCL404"
    name = "condition-wait-no-loop"
    summary = "Condition.wait() is not inside a loop that re-checks the predicate"
    message = (
        "`{target}.wait()` outside a loop that re-checks the condition: a wake-up does not mean "
        "it holds; use `while not ...: wait()` or `wait_for()`"
    )
    needles = ("Condition",)
    tags = ("lock", "condition")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Loops whose body is being visited, innermost last; None starts a function.
        self._loops: list[_Loop | None] = []
        self._rechecks: dict[int, bool] = {}
        # The simple statement line being visited.
        self._line: cst.SimpleStatementLine | None = None
        # Calls whose value is thrown away: `cond.wait()` / `await cond.wait()` as a statement.
        self._discarded: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._loops.append(None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._loops.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._loops.append(None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._loops.pop()

    def visit_While_body(self, node: cst.While) -> None:
        self._loops.append(node)

    def leave_While_body(self, node: cst.While) -> None:
        self._loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self._loops.append(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._loops.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._line = None

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        self._discarded.add(id(value))

    def visit_Call(self, node: cst.Call) -> None:
        found = receiver_key(node, ("wait",))
        # A wait whose result is looked at (`if not cond.wait(5):`, `return cond.wait(t)`)
        # is a timed wait whose caller decides what a timeout means; `wait(0)` only polls.
        if found is None or id(node) not in self._discarded or _polls(node):
            return
        assert isinstance(node.func, cst.Attribute)
        if self.context.kind_of(node.func.value) not in catalog.CONDITION_KINDS:
            return
        if any(self._rechecked(loop) for loop in self._enclosing_loops()):
            return
        function = self.context.function
        if not isinstance(function, cst.FunctionDef) or self._line is None:
            return
        # A re-check after the wait, in its block or in any block around it, that can leave.
        levels = _path_to(self._line, _lines(function.body))
        if not any(_exits_conditionally(block[index + 1 :], False) for block, index in levels):
            self.report(node, target=found[0])

    def _enclosing_loops(self) -> list[_Loop]:
        loops = []
        for loop in reversed(self._loops):
            if loop is None:
                break
            loops.append(loop)
        return loops

    def _rechecked(self, loop: _Loop) -> bool:
        """A `while` on a predicate, or a loop left (or restarted) from inside an `if`."""
        if isinstance(loop, cst.While) and cfg.constant_truth(loop.test) is None:
            return True
        found = self._rechecks.get(id(loop))
        if found is None:
            found = self._rechecks[id(loop)] = _exits_conditionally(loop.body.body, False)
        return found


def _exits_conditionally(
    body: Sequence[cst.BaseStatement | cst.BaseSmallStatement], guarded: bool
) -> bool:
    """Does the block leave its loop from inside an `if` (not from a nested loop's `break`)?"""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            if guarded and any(isinstance(small, _LEAVES) for small in statement.body):
                return True
        elif isinstance(statement, cst.If):
            blocks = [statement.body.body]
            orelse = statement.orelse
            while orelse is not None:
                if isinstance(orelse, cst.If):
                    blocks.append(orelse.body.body)
                    orelse = orelse.orelse
                else:
                    blocks.append(orelse.body.body)
                    orelse = None
            if any(_exits_conditionally(block, True) for block in blocks):
                return True
        elif isinstance(statement, cst.With | cst.Try | cst.TryStar):
            blocks = [statement.body.body]
            if isinstance(statement, cst.Try | cst.TryStar):
                if statement.orelse is not None:
                    blocks.append(statement.orelse.body.body)
                # A handler runs only when the `try` failed: it is a test too.
                handlers = [handler.body.body for handler in statement.handlers]
                if any(_exits_conditionally(block, True) for block in handlers):
                    return True
            if any(_exits_conditionally(block, guarded) for block in blocks):
                return True
        elif isinstance(statement, cst.For | cst.While) and _returns_conditionally(
            statement.body.body, guarded
        ):
            return True  # a `break` there leaves the inner loop only, `return`/`raise` ours too
    return False


def _polls(call: cst.Call) -> bool:
    """`wait(0)` / `wait(timeout=0)`: gives the lock up for a moment, waits for nothing."""
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "timeout":
            value = arg.value
            return isinstance(value, cst.Integer | cst.Float) and float(value.value) == 0
    return False


def _path_to(
    line: cst.SimpleStatementLine, body: Sequence[cst.BaseStatement]
) -> list[tuple[Sequence[cst.BaseStatement], int]]:
    """(block, position) of `line` and of each compound statement around it, innermost first."""
    for index, statement in enumerate(body):
        if statement is line:
            return [(body, index)]
        for block in _child_blocks(statement):
            inner = _path_to(line, block)
            if inner:
                return [*inner, (body, index)]
    return []


def _child_blocks(statement: cst.BaseStatement) -> list[Sequence[cst.BaseStatement]]:
    suites: list[cst.BaseSuite] = []
    if isinstance(statement, cst.If):
        suites.append(statement.body)
        if isinstance(statement.orelse, cst.If):
            return [_lines(statement.body), *_child_blocks(statement.orelse)]
        if statement.orelse is not None:
            suites.append(statement.orelse.body)
    elif isinstance(statement, cst.For | cst.While):
        suites.append(statement.body)
        if statement.orelse is not None:
            suites.append(statement.orelse.body)
    elif isinstance(statement, cst.With):
        suites.append(statement.body)
    elif isinstance(statement, cst.Try | cst.TryStar):
        suites.append(statement.body)
        suites.extend(handler.body for handler in statement.handlers)
        for clause in (statement.orelse, statement.finalbody):
            if clause is not None:
                suites.append(clause.body)
    elif isinstance(statement, cst.Match):
        suites.extend(case.body for case in statement.cases)
    return [_lines(suite) for suite in suites]


def _lines(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    """The statements of an indented block (a one-line suite holds no statement lines)."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()


def _returns_conditionally(
    body: Sequence[cst.BaseStatement | cst.BaseSmallStatement], guarded: bool
) -> bool:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            if guarded and any(
                isinstance(small, cst.Return | cst.Raise) for small in statement.body
            ):
                return True
        elif isinstance(statement, cst.If) and _returns_conditionally(statement.body.body, True):
            return True
    return False
