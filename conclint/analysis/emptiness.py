"""Which queues a condition, when it holds, finds holding an item: `not q.empty()`,
`q.qsize()`, `q.qsize() > 0`, `q.full()`, joined by `and` (the catalog's `is-empty` and
`size` methods, by name: what the receiver is, the caller asks).

Right after such a test, with nothing between that could take the item, a take of that
queue finds one: `get_nowait()` cannot fail (`cfg.py`) and `get()` does not wait
(`blocking.py`, and `blocking_summary.py` for the index's summaries).
"""

from __future__ import annotations

import ast

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.names import ast_dotted
from conclint.analysis.scopes import dotted_name
from conclint.analysis.walk import descendants

# The statements of the index pass that hold no block (`q.get()` in one runs once).
_SIMPLE = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)


def found_not_empty(test: cst.BaseExpression) -> dict[str, cst.BaseExpression]:
    """The queues `test` finds not empty when true, by spelling, with the receiver."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return found_not_empty(test.left) | found_not_empty(test.right)
    methods = catalog.SIZE_METHODS
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, methods = test.expression, catalog.EMPTINESS_METHODS
    elif isinstance(test, cst.Comparison) and _counts_some(test):
        test = test.left
    if not (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Attribute)
        and test.func.attr.value in methods
    ):
        return {}
    key = dotted_name(test.func.value)
    return {} if key is None else {key: test.func.value}


def _counts_some(test: cst.Comparison) -> bool:
    """A count of at least one (`_at_least_one`)."""
    if len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    bound = target.comparator
    if not isinstance(bound, cst.Integer):
        return False
    return _at_least_one(type(target.operator).__name__, int(bound.value, 0))


# A count compared with a number says it is at least one: the operator (by its LibCST
# and its `ast` names) and the least number for which it does.
_AT_LEAST_ONE = {
    "GreaterThan": 0,
    "Gt": 0,
    "GreaterThanEqual": 1,
    "GtE": 1,
    "Equal": 1,
    "Eq": 1,
}
_NOT_ZERO = ("NotEqual", "NotEq")


def _at_least_one(operator: str, value: int) -> bool:
    """`n > 0`, `n > 3`, `n != 0`, `n >= 1`, `n == 1`: a count of at least one."""
    if operator in _NOT_ZERO:
        return value == 0
    least = _AT_LEAST_ONE.get(operator)
    return least is not None and value >= least


def guarded_takes(statement: cst.If | cst.While) -> list[cst.Call]:
    """The first take (`q.get()`) of each queue `statement`'s test finds not empty, in the
    first statement of its body: none when that is a compound statement, which may take
    more than once."""
    keys = found_not_empty(statement.test)
    body = statement.body.body
    first = body[0] if keys and body else None
    if not isinstance(first, cst.SimpleStatementLine | cst.BaseSmallStatement):
        return []
    takes: dict[str, cst.Call] = {}
    for node in descendants(first, prune=lambda node: isinstance(node, cst.Lambda)):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            key = dotted_name(node.func.value)
            if key in keys and node.func.attr.value in catalog.TAKE_METHODS:
                takes.setdefault(key, node)
    return list(takes.values())


def guarded_takes_ast(statement: ast.stmt) -> list[ast.Call]:
    """`guarded_takes` of a statement of the index pass (`ast`)."""
    if not isinstance(statement, ast.If | ast.While) or not statement.body:
        return []
    keys = _ast_not_empty(statement.test)
    first = statement.body[0]
    if not keys or not isinstance(first, _SIMPLE):
        return []
    takes: dict[str, ast.Call] = {}
    calls = [node for node in ast.walk(first) if isinstance(node, ast.Call)]
    for node in sorted(calls, key=lambda call: (call.lineno, call.col_offset)):
        if isinstance(node.func, ast.Attribute) and node.func.attr in catalog.TAKE_METHODS:
            key = ast_dotted(node.func.value)
            if key in keys:
                takes.setdefault(key, node)
    return list(takes.values())


def _ast_not_empty(test: ast.expr) -> set[str]:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return set().union(*(_ast_not_empty(value) for value in test.values))
    methods = catalog.SIZE_METHODS
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, methods = test.operand, catalog.EMPTINESS_METHODS
    elif isinstance(test, ast.Compare) and _ast_counts_some(test):
        test = test.left
    if not (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr in methods
    ):
        return set()
    key = ast_dotted(test.func.value)
    return set() if key is None else {key}


def _ast_counts_some(test: ast.Compare) -> bool:
    if len(test.ops) != 1 or not isinstance(bound := test.comparators[0], ast.Constant):
        return False
    value = bound.value
    return type(value) is int and _at_least_one(type(test.ops[0]).__name__, value)
