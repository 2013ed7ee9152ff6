"""What caps how much work runs at once: semaphores and capacity limiters being taken."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import ScopeNode, iter_statements, scope_body
from conclint.analysis.walk import descendants


class LimitedFunctions:
    """Answers "does this function take a limiter in its own body?", cached per function."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self._known: dict[int, bool] = {}
        self._counts: dict[int, bool] = {}

    def takes_limiter(self, function: cst.FunctionDef, chain: Sequence[ScopeNode]) -> bool:
        """`async with sem:` or `await sem.acquire()` as a statement of `function` (whose
        enclosing scopes are `chain`)."""
        known = self._known.get(id(function))
        if known is None:
            inner = (*chain, function)
            known = self._known[id(function)] = any(
                self._limits(statement, inner)
                for statement in iter_statements(scope_body(function))
            )
        return known

    def is_limiter(self, expr: cst.BaseExpression, chain: Sequence[ScopeNode]) -> bool:
        return self.context.bindings.kind_of(expr, chain) in catalog.LIMITER_KINDS

    def _limits(self, statement: cst.CSTNode, chain: Sequence[ScopeNode]) -> bool:
        if isinstance(statement, cst.With):
            return any(self.is_limiter(item.item, chain) for item in statement.items)
        if isinstance(statement, cst.Expr):
            value = statement.value
            value = value.expression if isinstance(value, cst.Await) else value
            return (
                isinstance(value, cst.Call)
                and isinstance(value.func, cst.Attribute)
                and value.func.attr.value in catalog.ACQUIRE_METHODS
            )
        return False

    def counts_running(self, function: cst.FunctionDef) -> bool:
        """`function` compares how many there are (`return len(self._running) < LIMIT`): a
        predicate that caps by hand what a loop testing it starts."""
        known = self._counts.get(id(function))
        if known is None:
            known = self._counts[id(function)] = any(
                is_size_comparison(node, self.context)
                for node in descendants(function.body)
                if isinstance(node, cst.Comparison)
            )
        return known


def is_size_comparison(node: cst.Comparison, context: FileContext) -> bool:
    """`len(self._tasks) >= LIMIT`: a comparison of how many there are."""
    return any(
        isinstance(operand, cst.Call) and context.qualname(operand.func) in catalog.SIZE_CALLS
        for operand in (node.left, *(target.comparator for target in node.comparisons))
    )
