"""CCL603: a thread lock held while the coroutine is suspended at an `await`."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.acquires import held_by
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule


@dataclass(slots=True)
class _Held:
    """A region of code in which a sync lock is held."""

    lock: str
    kind: str
    scope: int
    # What ends the region: the `with`/`if` node, or the depth of the block it was acquired in.
    owner: int
    reported: bool = False
    # The call or object that took it for the code (`self._locked()`), if not the code.
    through: str = ""


class SyncLockAcrossAwait(Rule):
    code = "CCL603"
    name = "sync-lock-across-await"
    summary = "A threading lock is held across an `await`, which can deadlock the event loop"
    message = (
        "`{what}` while {holding} (a `{kind}`): another task that takes it blocks the whole "
        "event loop; use `{fix}` or release it before suspending"
    )
    # Regions count only inside `async def`.
    needles = ("async",)
    async_only = True
    tags = ("asyncio", "threading", "lock")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._held: list[_Held] = []
        self._depth = 0  # how many blocks enclose the current node

    def _hold(self, lock: cst.BaseExpression, owner: int) -> None:
        if not self.context.in_async_function:
            return
        kind = self.context.kind_of(lock)
        if kind in catalog.SYNC_LOCK_KINDS:
            scope = id(self.context.chain[-1])
            self._held.append(_Held(dotted_name(lock) or "lock", kind, scope, owner))

    def _hold_through(self, item: cst.BaseExpression, owner: int) -> None:
        """`with self._locked():`, `with Guard(lock):`: the locks a project context
        manager takes for the block, as its summary says (`acquires.py`)."""
        if not self.context.in_async_function or not isinstance(
            item, cst.Call | cst.Name | cst.Attribute
        ):
            return
        scope = id(self.context.chain[-1])
        for held in held_by(self.context, item):
            if held.kind in catalog.SYNC_LOCK_KINDS:
                entry = _Held(held.shown, held.kind, scope, owner, through=held.through)
                self._held.append(entry)

    def _drop(self, owner: int) -> None:
        self._held = [held for held in self._held if held.owner != owner]

    def _suspends(self, node: cst.CSTNode, what: str) -> None:
        scope = id(self.context.chain[-1])
        held = [entry for entry in self._held if entry.scope == scope]
        if not held or all(entry.reported for entry in held):
            return
        inner = held[-1]
        fix = catalog.ASYNC_ALTERNATIVES[inner.kind]
        holding = f"holding `{inner.lock}`"
        if inner.through:
            holding = f"`{inner.through}` holds `{inner.lock}`"
        self.report(node, what=what, holding=holding, kind=inner.kind, fix=fix)
        for entry in held:
            entry.reported = True  # one finding per region is enough to fix it

    # Regions: `with lock:`, `if lock.acquire(...):`, and `lock.acquire()` up to `lock.release()`.

    def visit_With_body(self, node: cst.With) -> None:
        for item in node.items:
            if node.asynchronous is None:
                self._hold(item.item, id(node))
            self._hold_through(item.item, id(node))

    def leave_With_body(self, node: cst.With) -> None:
        self._drop(id(node))

    def visit_If_body(self, node: cst.If) -> None:
        lock = _acquired(node.test)
        if lock is not None:
            self._hold(lock, id(node))

    def leave_If_body(self, node: cst.If) -> None:
        self._drop(id(node))

    def visit_Expr(self, node: cst.Expr) -> None:
        lock = _acquired(node.value)
        if lock is not None:
            self._hold(lock, -self._depth)

    def leave_While(self, original_node: cst.While) -> None:
        # `while not lock.acquire(False): await ...` holds the lock once the loop ends.
        test = original_node.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            lock = _acquired(test.expression)
            if lock is not None:
                self._hold(lock, -self._depth)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            self._held
            and isinstance(func, cst.Attribute)
            and func.attr.value in catalog.RELEASE_METHODS
        ):
            released = dotted_name(func.value)
            scope = id(self.context.chain[-1])
            self._held = [h for h in self._held if h.lock != released or h.scope != scope]

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._depth += 1

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._drop(-self._depth)
        self._depth -= 1

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._depth += 1

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self._drop(-self._depth)
        self._depth -= 1

    # Suspension points.

    def visit_Await(self, node: cst.Await) -> None:
        if self._held:
            self._suspends(node, "await")

    def visit_For(self, node: cst.For) -> None:
        if self._held and node.asynchronous is not None:
            self._suspends(node, "async for")

    def visit_With(self, node: cst.With) -> None:
        if self._held and node.asynchronous is not None:
            self._suspends(node, "async with")


def _acquired(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The lock of `lock.acquire(...)`, or None."""
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in catalog.ACQUIRE_METHODS
    ):
        return expr.func.value
    return None
