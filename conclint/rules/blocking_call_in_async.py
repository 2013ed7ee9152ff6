"""CCL601: a blocking call made directly inside `async def`."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.derived import derived_kind
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

_FUNCTION_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.BLOCKING_CALLS)
_METHOD_NAMES = frozenset(name for methods in catalog.BLOCKING_METHODS.values() for name in methods)
_OFFLOAD_NAMES = frozenset(
    name.rpartition(".")[2] for name in catalog.THREAD_OFFLOADS | catalog.THREAD_OFFLOAD_METHODS
)
_CONFIGURED_REMEDY = "call it through `await asyncio.to_thread(...)`"
# Socket methods that make a socket non-blocking when given a literal 0/False.
_SOCKET_MODES = frozenset({"setblocking", "settimeout"})


class BlockingCallInAsync(Rule):
    code = "CCL601"
    name = "blocking-call-in-async"
    summary = "A blocking call inside `async def` stalls every task on the event loop"
    message = "`{call}` blocks the event loop; {remedy}"
    needles = ("async",)
    tags = ("asyncio", "blocking")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        extra = context.settings.extra_blocking_calls
        self._extra = frozenset(extra)
        self._function_names = _FUNCTION_NAMES | {name.rpartition(".")[2] for name in extra}
        # Offload calls being visited: their arguments run on a worker thread.
        self._offloads: list[cst.Call] = []
        # `if`/ternary nodes whose test calls `x.done()`, with the receivers so guarded.
        self._done_guards: list[tuple[cst.CSTNode, frozenset[str]]] = []
        # Sockets (by spelling) switched to non-blocking mode somewhere above.
        self._non_blocking_sockets: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        attr = func.attr.value if isinstance(func, cst.Attribute) else None
        first = node.args[0].value if node.args else None
        if isinstance(func, cst.Attribute) and attr in _SOCKET_MODES and _literal_off(first):
            self._non_blocking_sockets.add(dotted_name(func.value) or "")
            return
        short = attr if attr is not None else func.value if isinstance(func, cst.Name) else ""
        if short in _OFFLOAD_NAMES and self._is_offload(node, attr):
            self._offloads.append(node)
            return
        if self._offloads or not self.context.in_async_function:
            return
        # A bare name may be an import alias (`from time import sleep as pause`).
        if short in self._function_names or isinstance(func, cst.Name):
            callee = self.context.qualname(func)
            if callee is not None and (callee in catalog.BLOCKING_CALLS or callee in self._extra):
                remedy = catalog.BLOCKING_CALLS.get(callee, _CONFIGURED_REMEDY)
                self.report(node, call=f"{callee.removeprefix('builtins.')}()", remedy=remedy)
                return
        if isinstance(func, cst.Attribute) and short in _METHOD_NAMES:
            self._check_method(node, func, short)

    def leave_Call(self, original_node: cst.Call) -> None:
        if self._offloads and self._offloads[-1] is original_node:
            self._offloads.pop()

    def _is_offload(self, node: cst.Call, attr: str | None) -> bool:
        if attr in catalog.THREAD_OFFLOAD_METHODS:
            return True
        return self.context.qualname(node.func) in catalog.THREAD_OFFLOADS

    def _check_method(self, node: cst.Call, func: cst.Attribute, attr: str) -> None:
        receiver = func.value
        kind = derived_kind(receiver, self.context.bindings, self.context.chain)
        methods = catalog.BLOCKING_METHODS.get(kind or "")
        if kind is None or methods is None or attr not in methods:
            return
        if kind == "io.IOBase" and isinstance(receiver, cst.Call):
            return  # `open(path).read()`: the call that opened it is reported already
        spelled = dotted_name(receiver)
        if _non_blocking_form(node, methods[attr]):
            return
        if kind == "socket.socket" and spelled in self._non_blocking_sockets:
            return
        if kind == "concurrent.futures.Future" and any(
            spelled in names for _, names in self._done_guards
        ):
            return
        shown = f"{spelled}.{attr}()" if spelled else f"{kind}.{attr}()"
        self.report(node, call=shown, remedy=catalog.BLOCKING_METHOD_REMEDIES[kind])

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
        names = frozenset(_done_receivers(test))
        if names:
            self._done_guards.append((node, names))

    def _pop_guard(self, node: cst.CSTNode) -> None:
        if self._done_guards and self._done_guards[-1][0] is node:
            self._done_guards.pop()


def _done_receivers(test: cst.BaseExpression) -> list[str]:
    """Spellings of `x` in the `x.done()` calls of a condition (a small expression)."""
    found: list[str] = []
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "done"
        ):
            found.append(dotted_name(node.func.value) or "")
        elif isinstance(node, cst.BooleanOperation | cst.UnaryOperation | cst.Comparison):
            stack.extend(node.children)
    return found


def _non_blocking_form(node: cst.Call, positions: tuple[int | None, int | None]) -> bool:
    """`acquire(False)`, `get(block=False)`, `wait(timeout=0)`, `shutdown(wait=False)`."""
    flag, timeout = positions
    positional = [arg.value for arg in node.args if arg.keyword is None and arg.star == ""]
    for arg in node.args:
        if arg.keyword is None or not _literal_off(arg.value):
            continue
        name = arg.keyword.value
        if (flag is not None and name in catalog.NON_BLOCKING_FLAGS) or (
            timeout is not None and name == "timeout"
        ):
            return True
    return any(
        index is not None and index < len(positional) and _literal_off(positional[index])
        for index in (flag, timeout)
    )


def _literal_off(value: cst.BaseExpression | None) -> bool:
    """A literal `False`, `0` or `0.0`."""
    if isinstance(value, cst.Name):
        return value.value == "False"
    if isinstance(value, cst.Integer):
        return not value.value.strip("0_xXoObB")
    if isinstance(value, cst.Float):
        return float(value.value) == 0
    return False
