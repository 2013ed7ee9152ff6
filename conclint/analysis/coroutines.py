"""Which calls create a coroutine: `async def`s of the module or project, asyncio's, known methods.

`CoroutineFunctions(context).callee(call)` names the coroutine function a
call calls, or answers None when the call is not known to create a coroutine.
An `async def` counts only when the name at the call site resolves to it by
Python's scoping (every binding of the name being that kind of def), when it
is not an async generator (`yield` in its body), and when its decorators are
known to keep it a coroutine function. Methods count through `self.`/`cls.`
or the class name, unless an assignment in the class replaces them. In
project mode, names imported from other linted modules are looked up in the
project's index of `async def`s.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.acquires import receiver_class
from conclint.analysis.context import FileContext
from conclint.analysis.derived import derived_kind
from conclint.analysis.scopes import Binding, ScopeNode, identifier
from conclint.analysis.walk import descendants, is_scope, suspends


class CoroutineFunctions:
    """Answers "does this call create a coroutine?" for one file."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        # In project mode: the `async def`s of the other linted modules, by qualified name.
        self.external = context.project.async_functions
        self._generators: dict[int, bool] = {}

    def callee(self, call: cst.Call) -> str | None:
        """The coroutine function `call` calls (`fetch`, `Worker.run`, `asyncio.sleep`), or None."""
        chain = self.context.chain
        func = call.func
        if isinstance(func, cst.Name):
            found = self.context.names.lookup(func.value, chain)
            if found is not None and _all_defs(found[1]):
                index, bindings = found
                return func.value if self._all_coroutines(bindings, chain[: index + 1]) else None
        elif isinstance(func, cst.Attribute):
            owner = self._class_of(func.value, chain) if isinstance(func.value, cst.Name) else None
            if owner is not None:
                return self._own_method(*owner, identifier(func.attr.value))
            kind = derived_kind(func.value, self.context.bindings, chain)
            if kind is not None:
                known = func.attr.value in self.context.catalog.methods_with("coroutine", kind)
                return f"{kind}.{func.attr.value}" if known else None
            instance = self.context.bindings.instance_of(func.value, chain)
            if instance is not None:
                return self._project_method(instance, identifier(func.attr.value))
        qualified = self.context.qualname(func)
        if qualified in self.context.catalog.functions_with("coroutine") or (
            qualified is not None and qualified in self.external
        ):
            return qualified
        return None

    def _own_method(
        self, owner: cst.ClassDef, chain: tuple[ScopeNode, ...], method: str
    ) -> str | None:
        """`Class.method` when the class defines it with `async def` and nothing replaces it."""
        bindings = self.context.names.table(owner).bindings.get(method)
        if not bindings:
            # Not the class's own: a project base class's, as the project model knows it.
            qualified = self.context.bindings.class_name(owner)
            return self._project_method(qualified, method) if qualified else None
        if not _all_defs(bindings):
            return None
        if method in self.context.bindings.assigned_attributes(owner):
            return None  # `self.method = ...` somewhere in the class
        return f"{owner.name.value}.{method}" if self._all_coroutines(bindings, chain) else None

    def _project_method(self, owner: str, method: str) -> str | None:
        """`Class.method` when the project model shows that calling `method` on an instance
        of `owner` runs a coroutine function (as its type says: a subclass that overrides
        it with a plain function breaks that promise, as type checkers report)."""
        found = self.context.model().method(owner, method)
        if found is None or not found[1].coroutine:
            return None
        return f"{found[0].rpartition('.')[2]}.{method}"

    def _class_of(
        self, receiver: cst.Name, chain: Sequence[ScopeNode]
    ) -> tuple[cst.ClassDef, tuple[ScopeNode, ...]] | None:
        """The module's class that `self`, `cls` or a class name denotes, and its body's chain."""
        owner = self.context.bindings.class_of_receiver(receiver, chain)
        if owner is not None:
            index = next(i for i, scope in enumerate(chain) if scope is owner)
            return owner, tuple(chain[: index + 1])
        found = self.context.names.lookup(receiver.value, chain)
        if found is None or len(found[1]) != 1 or found[1][0].how != "class":
            return None
        index, bindings = found
        node = bindings[0].node
        assert isinstance(node, cst.ClassDef)
        return node, (*chain[: index + 1], node)

    def _all_coroutines(self, bindings: list[Binding], chain: Sequence[ScopeNode]) -> bool:
        return all(self._is_coroutine_function(binding.node, chain) for binding in bindings)

    def _is_coroutine_function(self, node: cst.CSTNode, chain: Sequence[ScopeNode]) -> bool:
        if not isinstance(node, cst.FunctionDef) or node.asynchronous is None:
            return False
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if self.context.names.resolve(expr, chain) not in catalog.COROUTINE_KEEPING_DECORATORS:
                return False  # it may wrap the function into anything
        return not self.is_generator(node)

    def is_generator(self, function: cst.FunctionDef) -> bool:
        """True when `yield` occurs in the function's own body (not in nested scopes)."""
        key = id(function)
        found = self._generators.get(key)
        if found is None:
            found = self._generators[key] = any(
                isinstance(node, cst.Yield) for node in descendants(function.body, prune=is_scope)
            )
        return found


def _all_defs(bindings: list[Binding]) -> bool:
    return all(binding.how == "def" for binding in bindings)


def never_suspends(call: cst.Call, context: FileContext) -> bool:
    """`call` makes a coroutine of the project's that never suspends (`self._post(m)` where
    `_post` awaits nothing, whichever override an instance runs): run, it ends in its
    first step, giving the loop no turn."""
    model = context.model()
    func = call.func
    if isinstance(func, cst.Name):
        found = context.names.lookup(func.value, context.chain)
        if found is not None and found[0] > 0:  # defined in a function: the file shows it
            return all(_nested_never_suspends(binding.node) for binding in found[1])
    name = context.bindings.qualified(func, context.chain)
    if name is not None:
        return model.never_suspends(name)
    if isinstance(func, cst.Attribute):
        owner = receiver_class(context, func.value)
        return owner is not None and model.never_suspends(func.attr.value, owner)
    return False


def _nested_never_suspends(node: cst.CSTNode) -> bool:
    """An undecorated `async def` whose own body spells no `await`, `async for`, `async
    with` or `yield`: a task of it runs to its end in its first step."""
    if not isinstance(node, cst.FunctionDef) or node.asynchronous is None or node.decorators:
        return False
    return not any(
        isinstance(inner, cst.Yield) or suspends(inner)
        for inner in descendants(node.body, prune=is_scope)
    )
