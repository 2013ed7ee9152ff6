"""Which calls block the calling thread, and which of their forms do not (CCL601, CCL604)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.derived import derived_kind
from conclint.analysis.scopes import dotted_name

_FUNCTION_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.BLOCKING_CALLS)
_METHOD_NAMES = frozenset(name for methods in catalog.BLOCKING_METHODS.values() for name in methods)
_OFFLOAD_NAMES = frozenset(
    name.rpartition(".")[2] for name in catalog.THREAD_OFFLOADS | catalog.THREAD_OFFLOAD_METHODS
)
CONFIGURED_REMEDY = "call it through `await asyncio.to_thread(...)`"


@dataclass(frozen=True, slots=True)
class BlockingCall:
    """A blocking call: how to name it, what to use instead, and for a method its receiver."""

    shown: str
    remedy: str
    kind: str | None = None
    receiver: str | None = None


def blocking_call(
    node: cst.Call, context: FileContext, extra: frozenset[str] = frozenset()
) -> BlockingCall | None:
    """How `node` blocks, if it does in the form written; `extra` adds configured names."""
    func = node.func
    # A bare name may be an import alias (`from time import sleep as pause`), so resolve it.
    if isinstance(func, cst.Name) or (
        isinstance(func, cst.Attribute)
        and (
            func.attr.value in _FUNCTION_NAMES
            or any(n.rpartition(".")[2] == func.attr.value for n in extra)
        )
    ):
        callee = context.qualname(func)
        if callee is not None and (callee in catalog.BLOCKING_CALLS or callee in extra):
            remedy = catalog.BLOCKING_CALLS.get(callee, CONFIGURED_REMEDY)
            return BlockingCall(f"{callee.removeprefix('builtins.')}()", remedy)
    if isinstance(func, cst.Attribute) and func.attr.value in _METHOD_NAMES:
        return _blocking_method(node, func, context)
    return None


def _blocking_method(
    node: cst.Call, func: cst.Attribute, context: FileContext
) -> BlockingCall | None:
    receiver, attr = func.value, func.attr.value
    kind = derived_kind(receiver, context.bindings, context.chain)
    positions = catalog.BLOCKING_METHODS.get(kind or "", {}).get(attr)
    if kind is None or positions is None or _non_blocking_form(node, positions):
        return None
    if kind == "io.IOBase" and isinstance(receiver, cst.Call):
        return None  # `open(path).read()`: the call that opened it blocks, not this one too
    spelled = dotted_name(receiver)
    shown = f"{spelled or kind}.{attr}()"
    return BlockingCall(shown, catalog.BLOCKING_METHOD_REMEDIES[kind], kind, spelled)


def is_thread_offload(node: cst.Call, context: FileContext) -> bool:
    """`asyncio.to_thread(...)`, `loop.run_in_executor(...)`, ...: arguments run on a thread."""
    func = node.func
    if isinstance(func, cst.Attribute):
        short = func.attr.value
    elif isinstance(func, cst.Name):
        short = func.value
    else:
        return False
    if short not in _OFFLOAD_NAMES:
        return False
    if short in catalog.THREAD_OFFLOAD_METHODS and isinstance(func, cst.Attribute):
        return True
    return context.qualname(func) in catalog.THREAD_OFFLOADS


def done_receivers(test: cst.BaseExpression) -> list[str]:
    """Spellings of `x` in the `x.done()` calls of a condition (`and`/`or`/`not` followed)."""
    found: list[str] = []
    stack: list[cst.BaseExpression] = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BooleanOperation):
            stack += (node.left, node.right)
        elif isinstance(node, cst.UnaryOperation):
            stack.append(node.expression)
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "done"
        ):
            found.append(dotted_name(node.func.value) or "")
    return found


def literal_off(value: cst.BaseExpression | None) -> bool:
    """A literal `False`, `0` or `0.0`."""
    if isinstance(value, cst.Name):
        return value.value == "False"
    if isinstance(value, cst.Integer):
        return not value.value.strip("0_xXoObB")
    if isinstance(value, cst.Float):
        return float(value.value) == 0
    return False


def _non_blocking_form(node: cst.Call, positions: catalog.ArgPositions) -> bool:
    """`acquire(False)`, `get(block=False)`, `wait(timeout=0)`, `shutdown(wait=False)`."""
    flag, timeout = positions
    positional = [arg.value for arg in node.args if arg.keyword is None and arg.star == ""]
    for arg in node.args:
        if arg.keyword is None or not literal_off(arg.value):
            continue
        name = arg.keyword.value
        if (flag is not None and name in catalog.NON_BLOCKING_FLAGS) or (
            timeout is not None and name == "timeout"
        ):
            return True
    return any(
        index is not None and index < len(positional) and literal_off(positional[index])
        for index in (flag, timeout)
    )
