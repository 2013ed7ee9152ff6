"""CCL203: a handler in `async def` that catches cancellation and can finish without re-raising."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.exits import BREAK, CONTINUE, RETURN, completions
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

Handler = cst.ExceptHandler | cst.ExceptStarHandler
# Reported in this order of preference: the least obvious way out first.
_WAYS = ((RETURN, "return"), (BREAK, "break"), (CONTINUE, "continue"))
# Methods that show a handler reasons about whose cancellation it caught.
_DELIBERATE = frozenset({"uncancel", "cancelling"})
# `await asyncio.gather(*tasks)` after cancelling them reaps them like `await task`.
_REAPERS = frozenset({"asyncio.gather", "asyncio.wait", "asyncio.wait_for"})


@dataclass
class _Open:
    """A handler that can swallow cancellation, kept until its body has been visited."""

    node: Handler
    function: cst.CSTNode | None
    construct: str
    how: str
    deliberate: bool = False


class SwallowedCancellation(Rule):
    code = "CCL203"
    name = "swallowed-cancellation"
    summary = "A handler in `async def` catches cancellation and can finish without re-raising"
    message = "`{construct}` can {how} without re-raising, which loses the cancellation; {fix}"
    needles = ("async",)
    tags = ("asyncio", "trio", "anyio", "cancellation")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._tries: list[cst.Try | cst.TryStar] = []
        self._open: list[_Open] = []
        # id of function -> spellings of the receivers of `.cancel()` calls seen so far in it.
        self._cancelled: dict[int, set[str]] = {}
        # (loop variable, iterated collection) of the `for` loops being visited.
        self._loops: list[tuple[str | None, str | None]] = []

    def visit_For(self, node: cst.For) -> None:
        self._loops.append((dotted_name(node.target), dotted_name(node.iter)))

    def leave_For(self, original_node: cst.For) -> None:
        self._loops.pop()

    def visit_Try(self, node: cst.Try) -> None:
        self._tries.append(node)

    def leave_Try(self, original_node: cst.Try) -> None:
        self._tries.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._tries.append(node)

    def leave_TryStar(self, original_node: cst.TryStar) -> None:
        self._tries.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._enter(node)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._leave(original_node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._enter(node)

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        self._leave(original_node)

    def _enter(self, node: Handler) -> None:
        if not self.context.in_async_function or not self._tries:
            return
        caught = self._caught(node.type)
        if caught is None or self._only_reaps(self._tries[-1].body.body):
            return
        exits = completions(node.body.body, self._never_returns)
        if not exits:
            return
        how = next((text for way, text in _WAYS if way in exits), "fall through")
        star = "*" if isinstance(node, cst.ExceptStarHandler) else ""
        # Name the handler as written when that is short (`except STOP_SIGNALS`).
        spelled = dotted_name(node.type) if node.type is not None else None
        construct = f"except{star} {spelled or caught}" if caught else "except:"
        self._open.append(_Open(node, self.context.function, construct, how))

    def _leave(self, node: Handler) -> None:
        if not self._open or self._open[-1].node is not node:
            return
        found = self._open.pop()
        if not found.deliberate:
            self.report(node, construct=found.construct, how=found.how, fix="end it with `raise`")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        function = self.context.function
        if func.attr.value == "cancel" and function is not None:
            cancelled = self._cancelled.setdefault(id(function), set())
            receiver = dotted_name(func.value)
            cancelled.add(receiver or "")
            # `for t in tasks: t.cancel()` cancels `tasks`, reaped by `gather(*tasks)`.
            cancelled.update(c for v, c in self._loops if c is not None and v == receiver)
        elif func.attr.value in _DELIBERATE:
            for handler in self._open:
                if handler.function is function:
                    handler.deliberate = True

    def visit_With(self, node: cst.With) -> None:
        if not self.context.in_async_function:
            return
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            if self.context.qualname(call.func) != "contextlib.suppress":
                continue
            caught = next(filter(None, (self._caught(arg.value) for arg in call.args)), None)
            if caught and not self._only_reaps(node.body.body):
                fix = "suppress it only around awaiting a task you cancelled"
                self.report(call, construct=f"suppress({caught})", how="exit its block", fix=fix)

    # What the handler catches -------------------------------------------

    def _caught(self, expr: cst.BaseExpression | None) -> str | None:
        """The cancellation class `expr` catches ('' for a bare `except:`), else None."""
        if expr is None:
            return ""
        for element in self._elements(expr):
            if self.context.kind_of(element) == catalog.CANCELLED_CLASS_KIND:
                return "anyio.get_cancelled_exc_class()"
            name = self.context.qualname(element)
            if name in catalog.CANCELLATION_EXCEPTIONS:
                return name.removeprefix("builtins.")
        return None

    def _elements(self, expr: cst.BaseExpression, depth: int = 0) -> Iterator[cst.BaseExpression]:
        """The classes of `except (A, B)`, also through a name bound once to such a tuple."""
        if isinstance(expr, cst.Tuple):
            for element in expr.elements:
                yield from self._elements(element.value, depth + 1)
            return
        if isinstance(expr, cst.Name) and depth < 2:
            found = self.context.names.lookup(expr.value, self.context.chain)
            if found is not None and len(found[1]) == 1:
                value = found[1][0].value
                if found[1][0].how == "assign" and isinstance(value, cst.Tuple):
                    yield from self._elements(value, depth + 1)
                    return
        yield expr

    # Cancel, then reap -------------------------------------------------------

    def _only_reaps(self, body: Sequence[cst.CSTNode]) -> bool:
        """The block only awaits tasks this function has cancelled (and maybe cancels them)."""
        function = self.context.function
        cancelled = self._cancelled.get(id(function), set()) if function is not None else set()
        return bool(body and cancelled) and all(self._reaps(line, cancelled) for line in body)

    def _reaps(self, statement: cst.CSTNode, cancelled: set[str]) -> bool:
        if isinstance(statement, cst.SimpleStatementLine):
            return all(self._reaps(small, cancelled) for small in statement.body)
        value: cst.BaseExpression | None = None
        if isinstance(statement, cst.Expr | cst.Assign | cst.AnnAssign):
            value = statement.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            return value.func.attr.value == "cancel"  # `t.cancel()` inside the reaping block
        if not isinstance(value, cst.Await):
            return False
        awaited = value.expression
        if isinstance(awaited, cst.Call) and self.context.qualname(awaited.func) in _REAPERS:
            tasks = [arg.value for arg in awaited.args if arg.keyword is None]
            return bool(tasks) and all(dotted_name(task) in cancelled for task in tasks)
        return dotted_name(awaited) in cancelled

    def _never_returns(self, call: cst.Call) -> bool:
        return self.context.qualname(call.func) in catalog.NO_RETURN_CALLS
