"""Kinds that follow from other kinds: `executor.submit(...)` is a Future, `path / "x"` a Path.

`Bindings.kind_of` knows what constructors and annotations give; this adds
what a method call, an attribute or an operator gives on an object of a known
kind (`catalog.DERIVED_KINDS`; an operator as the method Python calls for it,
`/` as `__truediv__`), also through a local name bound to such an expression
(`config = Path(root) / "app.toml"`).
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.bindings import Bindings
from conclint.analysis.scopes import ScopeNode

_MAX_DEPTH = 3
# The method Python calls for a binary operator on its left operand (the language's names).
_OPERATOR_METHODS: dict[type[cst.BaseBinaryOp], str] = {cst.Divide: "__truediv__"}


def derived_kind(
    expr: cst.BaseExpression, bindings: Bindings, chain: Sequence[ScopeNode], _depth: int = 0
) -> str | None:
    """The kind `expr` evaluates to, from constructors, annotations or derivations."""
    kind = bindings.kind_of(expr, chain)
    if kind is not None or _depth >= _MAX_DEPTH:
        return kind
    depth = _depth + 1
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        return _derive(expr.func.value, expr.func.attr.value, bindings, chain, depth)
    if isinstance(expr, cst.Attribute):
        return _derive(expr.value, expr.attr.value, bindings, chain, depth)
    if isinstance(expr, cst.BinaryOperation):
        method = _OPERATOR_METHODS.get(type(expr.operator))
        return _derive(expr.left, method, bindings, chain, depth) if method else None
    if isinstance(expr, cst.Name):
        return _name_kind(expr, bindings, chain, depth)
    if (
        isinstance(expr, cst.Await)
        and isinstance(expr.expression, cst.Call)
        and isinstance(expr.expression.func, cst.Attribute)
    ):
        # What a method call gives, awaited (`await session.get(url)`: its response), as
        # `async with` gives it: a derived member is no coroutine of the catalog's.
        func = expr.expression.func
        return _derive(func.value, func.attr.value, bindings, chain, depth)
    return None


def _derive(
    owner: cst.BaseExpression,
    member: str,
    bindings: Bindings,
    chain: Sequence[ScopeNode],
    depth: int,
) -> str | None:
    members = catalog.DERIVED_KINDS.get(derived_kind(owner, bindings, chain, depth) or "")
    return members.get(member) if members else None


def _name_kind(
    name: cst.Name, bindings: Bindings, chain: Sequence[ScopeNode], depth: int
) -> str | None:
    found = bindings.names.lookup(name.value, chain)
    if found is None:
        return None
    index, bound = found
    kinds = set()
    for binding in bound:
        if (
            binding.how not in ("assign", "with")
            or binding.value is None
            or binding.index is not None
        ):
            return None
        kinds.add(derived_kind(binding.value, bindings, chain[: index + 1], depth))
    return kinds.pop() if len(kinds) == 1 else None
