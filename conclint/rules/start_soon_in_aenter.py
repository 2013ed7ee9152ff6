"""CCL108: `start_soon` of a startable task while a context is being entered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.handoff import own_function
from conclint.analysis.scopes import ScopeNode, dotted_name
from conclint.analysis.startable import status_parameter
from conclint.rules.base import Rule

# What the entry of an async context manager is called: its protocol method.
_AENTER = "__aenter__"
# A receiver of unknown kind counts when the method is one every task group has.
_COMMON_METHODS = frozenset.intersection(*catalog.START_SOON_METHODS.values())
_ALL_METHODS = frozenset().union(*catalog.START_SOON_METHODS.values())
_WAITING = {kind: min(methods) for kind, methods in catalog.START_WAITING_METHODS.items()}
_ANY_WAITING = min(_WAITING.values())
_MAX_ALIASES = 3
_LONGEST = 40


@dataclass(eq=False)
class _Entry:
    """A function whose code runs while a context is entered, up to its first `yield`."""

    function: cst.FunctionDef
    where: str
    yielded: bool = False
    # The `with` statements open around the code being visited, and whether each has
    # held a `yield` so far.
    withs: list[tuple[cst.With, list[bool]]] = field(default_factory=list)
    # Findings waiting for the `with` that binds their receiver to end: reported if it
    # held a `yield` (the context was entered inside it), else it waited for the task.
    waiting: dict[int, list[tuple[cst.Call, dict[str, str]]]] = field(default_factory=dict)


class StartSoonInAenter(Rule):
    code = "CCL108"
    name = "start-soon-in-aenter"
    summary = "A startable task is started with `start_soon` while a context is being entered"
    message = (
        "`{receiver}.{method}({arguments})` in {where} does not wait for `{callee}` to call "
        "`{status}.started()`: the context is entered before the task is ready; "
        "use `await {receiver}.{start}({arguments})`"
    )
    needles = catalog.words(_COMMON_METHODS)
    method_needles = catalog.method_needles(catalog.START_SOON_METHODS)
    async_only = True
    peers = ("ASYNC113",)
    tags = ("trio", "anyio")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # One frame per function being visited: the entry it is, or None.
        self._frames: list[_Entry | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        where = None
        if node.asynchronous is not None:
            if node.name.value == _AENTER:
                where = f"`{_AENTER}`"
            elif any(self._makes_context(d.decorator) for d in node.decorators):
                where = f"`{node.name.value}()` before its `yield`"
        self._frames.append(_Entry(node, where) if where else None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()

    def _makes_context(self, decorator: cst.BaseExpression) -> bool:
        if isinstance(decorator, cst.Call):
            decorator = decorator.func
        return self.context.qualname(decorator) in catalog.GENERATOR_CONTEXTS

    def _entry(self) -> _Entry | None:
        """The entry whose own code (not a nested function or lambda) is being visited."""
        entry = self._frames[-1] if self._frames else None
        if entry is None or self.context.function is not entry.function:
            return None
        return entry

    def visit_With(self, node: cst.With) -> None:
        entry = self._entry()
        if entry is not None:
            entry.withs.append((node, []))

    def leave_With(self, original_node: cst.With) -> None:
        entry = self._entry()
        if entry is None or not entry.withs or entry.withs[-1][0] is not original_node:
            return
        _, held_yield = entry.withs.pop()
        for call, fields in entry.waiting.pop(id(original_node), []):
            if held_yield:
                self.report(call, **fields)

    def visit_Yield(self, node: cst.Yield) -> None:
        entry = self._entry()
        if entry is not None:
            entry.yielded = True
            for _, held_yield in entry.withs:
                held_yield.append(True)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _ALL_METHODS:
            return
        entry = self._entry()
        if entry is None or entry.yielded or not node.args or node.args[0].keyword is not None:
            return
        receiver = dotted_name(func.value)
        if receiver is None or receiver == "None":
            return
        method = func.attr.value
        kind = self.context.kind_of(func.value)
        if kind is None and method not in _COMMON_METHODS:
            return
        if kind is not None and method not in catalog.START_SOON_METHODS.get(kind, ()):
            return
        status = self._status_of(node.args[0].value, self.context.chain)
        if status is None:
            return
        fields = {
            "receiver": receiver,
            "method": method,
            "arguments": self._shown(node.args),
            "callee": dotted_name(_unwrapped(node.args[0].value, self.context)) or "...",
            "where": entry.where,
            "status": status,
            "start": _WAITING.get(kind or "", _ANY_WAITING),
        }
        binder = _binding_with(entry.withs, receiver)
        if binder is None:
            self.report(node, **fields)
        else:
            entry.waiting.setdefault(id(binder), []).append((node, fields))

    def _shown(self, args: Sequence[cst.Arg]) -> str:
        """`serve, ...`: the started function as written, and whether more follows."""
        first = self.context.module.code_for_node(args[0].value)
        if len(first) > _LONGEST:
            first = dotted_name(_unwrapped(args[0].value, self.context)) or "..."
        return f"{first}, ..." if len(args) > 1 else first

    def _status_of(
        self, expr: cst.BaseExpression, chain: Sequence[ScopeNode], depth: int = 0
    ) -> str | None:
        """The status parameter of the startable function `expr` denotes, or None when it
        is not known to take one: a library's (`trio.serve_tcp`), a `def` of the module
        (through `functools.partial` and plain aliases)."""
        expr = _unwrapped(expr, self.context)
        if self.context.names.resolve(expr, chain) in catalog.STARTABLE_FUNCTIONS:
            return min(catalog.STATUS_KEYWORDS.values())
        function = own_function(expr, self.context, chain)
        if function is not None:
            return status_parameter(self.context, *function)
        if depth < _MAX_ALIASES and isinstance(expr, cst.Name):
            values = self.context.bindings.values_of(expr, chain)
            if len(values) == 1 and isinstance(values[0], cst.Name | cst.Attribute):
                found = self.context.names.lookup(expr.value, chain)
                if found is not None:
                    return self._status_of(values[0], chain[: found[0] + 1], depth + 1)
        return None


def _unwrapped(expr: cst.BaseExpression, context: FileContext) -> cst.BaseExpression:
    """`f` of `functools.partial(f, ...)`: what a callable factory wraps."""
    while (
        isinstance(expr, cst.Call)
        and expr.args
        and expr.args[0].keyword is None
        and not expr.args[0].star
        and context.qualname(expr.func) in catalog.CALLABLE_FACTORIES
    ):
        expr = expr.args[0].value
    return expr


def _binding_with(withs: list[tuple[cst.With, list[bool]]], receiver: str) -> cst.With | None:
    """The innermost open `with` whose item binds `receiver` (`as nursery`)."""
    for node, _ in reversed(withs):
        for item in node.items:
            if item.asname is not None and dotted_name(item.asname.name) == receiver:
                return node
    return None
