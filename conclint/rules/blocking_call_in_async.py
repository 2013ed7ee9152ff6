"""CCL601: a blocking call made directly inside `async def`."""

from __future__ import annotations

import libcst as cst

from conclint.analysis.blocking import blocking_call, done_receivers, is_thread_offload, literal_off
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

# Socket methods that make a socket non-blocking when given a literal 0/False.
_SOCKET_MODES = frozenset({"setblocking", "settimeout"})
# Handlers for these show that the socket calls in the `try` are expected not to block.
_WOULD_BLOCK = frozenset(
    {"builtins.BlockingIOError", "ssl.SSLWantReadError", "ssl.SSLWantWriteError"}
)
_FUTURE = "concurrent.futures.Future"


class BlockingCallInAsync(Rule):
    code = "CCL601"
    name = "blocking-call-in-async"
    summary = "A blocking call inside `async def` stalls every task on the event loop"
    message = "`{call}` blocks the event loop; {remedy}"
    needles = ("async",)
    tags = ("asyncio", "blocking")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._extra = frozenset(context.settings.extra_blocking_calls)
        # Offload calls being visited: their arguments run on a worker thread.
        self._offloads: list[cst.Call] = []
        # `if`/ternary nodes whose test calls `x.done()`, with the receivers so guarded.
        self._done_guards: list[tuple[cst.CSTNode, frozenset[str]]] = []
        # Sockets (by spelling) switched to non-blocking mode somewhere above.
        self._non_blocking_sockets: set[str] = set()
        # (function id, spelling) of futures already waited for by `asyncio.wrap_future(f)`.
        self._wrapped: set[tuple[int, str]] = set()
        # `try` statements with an `except BlockingIOError` being visited.
        self._would_block: list[cst.Try] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        first = node.args[0].value if node.args else None
        if isinstance(func, cst.Attribute) and func.attr.value in _SOCKET_MODES:
            if literal_off(first):
                self._non_blocking_sockets.add(dotted_name(func.value) or "")
            return
        if is_thread_offload(node, self.context):
            self._offloads.append(node)
            return
        if self._offloads or not self.context.in_async_function:
            return
        if dotted_name(func) in ("wrap_future", "asyncio.wrap_future"):
            if self.context.qualname(func) == "asyncio.wrap_future":
                self._wrapped.add((id(self.context.function), dotted_name(first) or ""))
            return
        found = blocking_call(node, self.context, self._extra)
        if found is not None and not self._exempt(found.kind, found.receiver):
            self.report(node, call=found.shown, remedy=found.remedy)

    def leave_Call(self, original_node: cst.Call) -> None:
        if self._offloads and self._offloads[-1] is original_node:
            self._offloads.pop()

    def _exempt(self, kind: str | None, receiver: str | None) -> bool:
        """What the code around the call shows: the socket or the future cannot block here."""
        if kind == "socket.socket":
            return receiver in self._non_blocking_sockets or bool(self._would_block)
        if kind == _FUTURE:
            guarded = any(receiver in names for _, names in self._done_guards)
            return guarded or (id(self.context.function), receiver) in self._wrapped
        return False

    def visit_Try(self, node: cst.Try) -> None:
        if not self.context.in_async_function:
            return
        for handler in node.handlers:
            caught = handler.type
            kinds = (
                [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
            )
            if any(k is not None and self.context.qualname(k) in _WOULD_BLOCK for k in kinds):
                self._would_block.append(node)
                return

    def leave_Try(self, original_node: cst.Try) -> None:
        if self._would_block and self._would_block[-1] is original_node:
            self._would_block.pop()

    # `if fut.done(): fut.result()` and `fut.result() if fut.done() else None` do not block.

    def visit_If(self, node: cst.If) -> None:
        self._push_guard(node, node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self._pop_guard(original_node)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._push_guard(node, node.test)

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self._pop_guard(original_node)

    def _push_guard(self, node: cst.CSTNode, test: cst.BaseExpression) -> None:
        if self.context.in_async_function:
            names = frozenset(done_receivers(test))
            if names:
                self._done_guards.append((node, names))

    def _pop_guard(self, node: cst.CSTNode) -> None:
        if self._done_guards and self._done_guards[-1][0] is node:
            self._done_guards.pop()
