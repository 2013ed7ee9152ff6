"""CCL604: a coroutine calls a sync helper of the module that makes a blocking call."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis.blocking import BlockingScan
from conclint.analysis.callees import module_functions, plain_decorators
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import ScopeNode, dotted_name
from conclint.rules.base import Rule

# Helpers followed from the coroutine to the blocking call, the first one included.
_MAX_DEPTH = 3

# A call of a possible helper and the chain of scopes it is written in.
_Site = tuple[cst.Call, tuple[ScopeNode, ...]]


@dataclass(slots=True)
class _Summary:
    """What one sync `def` does when called: its first blocking call, its helper calls."""

    blocking: str | None = None
    calls: list[_Site] = field(default_factory=list)
    generator: bool = False


def _in_sync_def(context: FileContext) -> bool:
    function = context.function
    return isinstance(function, cst.FunctionDef) and function.asynchronous is None


class BlockingCallViaHelper(Rule):
    code = "CCL604"
    name = "blocking-call-via-helper"
    summary = "A coroutine calls a sync helper of the module that blocks the event loop"
    message = (
        "`{chain}` blocks the event loop; run `{helper}` with `await asyncio.to_thread(...)` "
        "or make it async"
    )
    needles = ("async",)
    tags = ("asyncio", "blocking")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._scan = BlockingScan(context, _in_sync_def)
        # Every sync `def` of the file by id, summarised during the traversal.
        self._summaries: dict[int, _Summary] = {}
        # Calls of possible helpers made directly in an `async def`.
        self._from_async: list[_Site] = []
        # Blocking chains already worked out, by (id of the def, depth left).
        self._chains: dict[tuple[int, int], list[str] | None] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            self._summaries[id(node)] = _Summary()

    def visit_Yield(self, node: cst.Yield) -> None:
        # Calling a generator function runs none of its body.
        function = self.context.function
        if isinstance(function, cst.FunctionDef) and function.asynchronous is None:
            self._summaries[id(function)].generator = True

    def visit_Call(self, node: cst.Call) -> None:
        found = self._scan.visit_Call(node)
        function = self.context.function
        if self._scan.offloaded or not isinstance(function, cst.FunctionDef):
            return  # runs on a worker thread, in a lambda, or at import time
        site = (node, tuple(self.context.chain)) if _may_be_helper(node.func) else None
        if function.asynchronous is not None:
            if site is not None:
                self._from_async.append(site)
            return
        summary = self._summaries[id(function)]
        if summary.blocking is not None:
            return  # the first blocking call is the one the message names
        if found is not None:
            summary.blocking = found.shown
        elif site is not None:
            summary.calls.append(site)

    def leave_Call(self, original_node: cst.Call) -> None:
        self._scan.leave_Call(original_node)

    def visit_Try(self, node: cst.Try) -> None:
        self._scan.visit_Try(node)

    def leave_Try(self, original_node: cst.Try) -> None:
        self._scan.leave_Try(original_node)

    def visit_If(self, node: cst.If) -> None:
        self._scan.visit_If(node)

    def leave_If(self, original_node: cst.If) -> None:
        self._scan.leave_If(original_node)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._scan.visit_IfExp(node)

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self._scan.leave_IfExp(original_node)

    def leave_Module(self, original_node: cst.Module) -> None:
        # Helpers may be defined after the coroutines that call them: resolve at the end.
        for call, chain in self._from_async:
            links = self._via(call, chain, _MAX_DEPTH)
            if links is not None:
                self.report(call, chain=" -> ".join(links), helper=links[0].removesuffix("()"))

    def _via(self, call: cst.Call, chain: tuple[ScopeNode, ...], depth: int) -> list[str] | None:
        """`helper() -> ... -> blocking()` when every def `call` may run blocks within `depth`."""
        callees = module_functions(call.func, self.context, chain)
        if not callees:
            return None
        tails = [self._blocking_chain(function, scope, depth) for function, scope in callees]
        first = tails[0]
        if first is None or any(tail is None for tail in tails):
            return None
        return [f"{dotted_name(call.func)}()", *first]

    def _blocking_chain(
        self, function: cst.FunctionDef, scope: tuple[ScopeNode, ...], depth: int
    ) -> list[str] | None:
        key = (id(function), depth)
        if key in self._chains:
            return self._chains[key]
        # Depth falls by one per helper, so a cycle of helpers ends like any other chain.
        self._chains[key] = None
        summary = self._summaries.get(id(function))
        found: list[str] | None = None
        if summary is None or summary.generator or not plain_decorators(function, scope, self.context):
            found = None
        elif summary.blocking is not None:
            found = [summary.blocking]
        elif depth > 1:
            for call, chain in summary.calls:
                found = self._via(call, chain, depth - 1)
                if found is not None:
                    break
        self._chains[key] = found
        return found


def _may_be_helper(func: cst.BaseExpression) -> bool:
    """`helper(...)`, `self.helper(...)`, `cls.helper(...)`, `Class.helper(...)`."""
    return isinstance(func, cst.Name) or (
        isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
    )
