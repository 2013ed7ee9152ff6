"""CCL203: a handler in `async def` that catches cancellation and can finish without re-raising."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.cancellation import caught_cancellation, is_cancellation_test, only_reaps
from conclint.analysis.context import FileContext
from conclint.analysis.exits import BREAK, CONTINUE, RETURN, Decide, completions, never_returns
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

Handler = cst.ExceptHandler | cst.ExceptStarHandler
# Reported in this order of preference: the least obvious way out first.
_WAYS = ((RETURN, "return"), (BREAK, "break"), (CONTINUE, "continue"))
# What a bare `except:` and `except BaseException` report as caught: they catch the
# cancellation only because they catch everything.
_BROAD = (
    "",
    *(
        name.removeprefix("builtins.")
        for name in sorted(catalog.CANCELLATION_EXCEPTIONS & catalog.CATCH_ALL_EXCEPTIONS)
    ),
)
# `cancelled = True`, `pending_raise = True`: a flag that re-raises once cleanup is done.
_FLAG_WORDS = ("cancel", "raise")


@dataclass
class _Open:
    """A handler that can swallow cancellation, kept until its body has been visited."""

    node: Handler
    function: cst.CSTNode | None
    construct: str
    how: str
    caught_as: str | None
    deliberate: bool = False


class SwallowedCancellation(Rule):
    code = "CCL203"
    name = "swallowed-cancellation"
    summary = "A handler in `async def` catches cancellation and can finish without re-raising"
    message = "`{construct}` can {how} without re-raising, which loses the cancellation; {fix}"
    needles = ("async",)
    async_only = True
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
        caught = caught_cancellation(node.type, self.context)
        if caught is None or self._only_reaps(self._tries[-1].body.body):
            return
        if caught in _BROAD and self._cancellation_caught_before(node):
            return  # `except CancelledError: raise` above takes it first
        caught_as = (
            node.name.name.value
            if isinstance(node.name, cst.AsName) and isinstance(node.name.name, cst.Name)
            else None
        )
        exits = completions(node.body.body, self._never_returns, self._decider(caught_as))
        if not exits:
            return
        how = next((text for way, text in _WAYS if way in exits), "fall through")
        star = "*" if isinstance(node, cst.ExceptStarHandler) else ""
        # Name the handler as written when that is short (`except STOP_SIGNALS`).
        spelled = dotted_name(node.type) if node.type is not None else None
        construct = f"except{star} {spelled or caught}" if caught else "except:"
        self._open.append(_Open(node, self.context.function, construct, how, caught_as))

    def _cancellation_caught_before(self, node: Handler) -> bool:
        """An earlier handler of the same `try` names a cancellation class itself."""
        for sibling in self._tries[-1].handlers:
            if sibling is node:
                return False
            if caught_cancellation(sibling.type, self.context) not in (None, *_BROAD):
                return True
        return False

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
        if func.attr.value in catalog.CANCEL_METHODS and function is not None:
            cancelled = self._cancelled.setdefault(id(function), set())
            receiver = dotted_name(func.value)
            cancelled.add(receiver or "")
            # `for t in tasks: t.cancel()` cancels `tasks`, reaped by `gather(*tasks)`.
            cancelled.update(c for v, c in self._loops if c is not None and v == receiver)
        elif func.attr.value in catalog.CANCEL_STATE_METHODS:
            # The handler reasons about whose cancellation it caught (`uncancel()`).
            self._mark_deliberate()

    def visit_Assign(self, node: cst.Assign) -> None:
        # A flag or the exception kept in a local: re-raised after cleanup that must finish.
        value = node.value
        if not self._open or not isinstance(value, cst.Name):
            return
        for target in node.targets:
            spelled = dotted_name(target.target) or ""
            kept = isinstance(target.target, cst.Name) and value.value == self._open[-1].caught_as
            flag = value.value == "True" and any(
                word in spelled.rpartition(".")[2].lower() for word in _FLAG_WORDS
            )
            if kept or flag:
                self._mark_deliberate()

    def _mark_deliberate(self) -> None:
        function = self.context.function
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
            if self.context.qualname(call.func) not in catalog.SUPPRESSORS:
                continue
            caught = next(
                filter(None, (caught_cancellation(arg.value, self.context) for arg in call.args)),
                None,
            )
            if caught and not self._only_reaps(node.body.body):
                fix = "suppress it only around awaiting a task you cancelled"
                self.report(call, construct=f"suppress({caught})", how="exit its block", fix=fix)

    def _only_reaps(self, body: Sequence[cst.CSTNode]) -> bool:
        function = self.context.function
        cancelled = self._cancelled.get(id(function), set()) if function is not None else set()
        return only_reaps(body, cancelled, self.context)

    def _never_returns(self, call: cst.Call) -> bool:
        return never_returns(call, self.context)

    def _decider(self, caught_as: str | None) -> Decide | None:
        """`if isinstance(exc, Exception): return` cannot be taken by a cancellation."""
        if caught_as is None:
            return None
        return lambda test: is_cancellation_test(test, caught_as, self.context)
