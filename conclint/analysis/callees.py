"""Which `def`s of the linted module a call calls, resolved by Python's scoping.

`module_functions(func, context, chain)` answers for a plain name (a function
of the module or of an enclosing function), for `self.method`/`cls.method`
of the enclosing class, and for `Class.method` of a class of the module. It
answers only when every binding of the name is a `def`, and for methods
when no assignment in the class (`self.method = ...`) replaces them; else
None. Each `def` comes with the chain of the scope that binds it, which is
where its decorators are resolved.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import Binding, ScopeNode

# A `def` and the chain of the scope that binds it (ending with that scope).
Callee = tuple[cst.FunctionDef, tuple[ScopeNode, ...]]


def module_functions(
    func: cst.BaseExpression, context: FileContext, chain: Sequence[ScopeNode]
) -> list[Callee] | None:
    """The `def`s that calling `func` (seen from `chain`) may run, or None when unknown."""
    if isinstance(func, cst.Name):
        found = context.names.lookup(func.value, chain)
        if found is None:
            return None
        index, bindings = found
        return _defs(bindings, tuple(chain[: index + 1]))
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
        return None
    owner = _class_of(func.value, context, chain)
    if owner is None:
        return None
    method = func.attr.value
    members = context.names.table(owner).bindings.get(method)
    if not members or method in context.bindings.assigned_attributes(owner):
        return None  # unknown, or replaced by `self.method = ...` somewhere in the class
    class_chain = context.bindings.chains.get(id(owner), (owner,))
    return _defs(members, class_chain)


def plain_decorators(
    function: cst.FunctionDef, chain: Sequence[ScopeNode], context: FileContext
) -> bool:
    """True when every decorator leaves calling the function running its body."""
    return all(
        context.names.resolve(_undecorated(decorator.decorator), chain) in catalog.PLAIN_DECORATORS
        for decorator in function.decorators
    )


def _undecorated(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The decorator itself: `lru_cache` of `@lru_cache(maxsize=1)`."""
    return expr.func if isinstance(expr, cst.Call) else expr


def _class_of(
    receiver: cst.Name, context: FileContext, chain: Sequence[ScopeNode]
) -> cst.ClassDef | None:
    """The class that `self`/`cls` of the enclosing method, or a class name, denotes."""
    owner = context.bindings.class_of_receiver(receiver, chain)
    if owner is not None:
        return owner
    found = context.names.lookup(receiver.value, chain)
    if found is None or len(found[1]) != 1 or found[1][0].how != "class":
        return None
    node = found[1][0].node
    return node if isinstance(node, cst.ClassDef) else None


def _defs(bindings: list[Binding], chain: tuple[ScopeNode, ...]) -> list[Callee] | None:
    functions = [binding.node for binding in bindings if binding.how == "def"]
    if len(functions) != len(bindings):
        return None
    return [(node, chain) for node in functions if isinstance(node, cst.FunctionDef)]
