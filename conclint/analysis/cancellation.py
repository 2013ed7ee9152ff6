"""Cancellation questions: which `except` catches it, which block only reaps cancelled tasks."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name

# Exception classes that a cancellation is never an instance of: the builtin ones but
# `BaseException` (the cancellations derive from it alone), and those the catalog names.
_NOT_CANCELLATION = (
    frozenset(
        f"builtins.{name}"
        for name, value in vars(builtins).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value is not BaseException
    )
    | catalog.NOT_CANCELLATION
)


def caught_cancellation(expr: cst.BaseExpression | None, context: FileContext) -> str | None:
    """The cancellation class an `except` type catches ('' for a bare `except:`), else None."""
    if expr is None:
        return ""
    for element in _elements(expr, context):
        if context.kind_of(element) == catalog.CANCELLED_CLASS_KIND:
            return catalog.CANCELLED_CLASS_SHOWN
        name = context.qualname(element)
        if name in catalog.CANCELLATION_EXCEPTIONS:
            return name.removeprefix("builtins.")
    return None


def _elements(
    expr: cst.BaseExpression, context: FileContext, depth: int = 0
) -> Iterator[cst.BaseExpression]:
    """The classes of `except (A, B)`, also through a name bound once to such a tuple."""
    if isinstance(expr, cst.Tuple):
        for element in expr.elements:
            yield from _elements(element.value, context, depth + 1)
        return
    if isinstance(expr, cst.Name) and depth < 2:
        found = context.names.lookup(expr.value, context.chain)
        if found is not None and len(found[1]) == 1:
            binding = found[1][0]
            if binding.how == "assign" and isinstance(binding.value, cst.Tuple):
                yield from _elements(binding.value, context, depth + 1)
                return
    yield expr


def only_reaps(
    body: Sequence[cst.CSTNode], cancelled: AbstractSet[str], context: FileContext
) -> bool:
    """The block only awaits (or cancels) tasks already cancelled, spelled as in `cancelled`."""
    return bool(body and cancelled) and all(_reaps(line, cancelled, context) for line in body)


def _reaps(statement: cst.CSTNode, cancelled: AbstractSet[str], context: FileContext) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return all(_reaps(small, cancelled, context) for small in statement.body)
    value: cst.BaseExpression | None = None
    if isinstance(statement, cst.Expr | cst.Assign | cst.AnnAssign):
        value = statement.value
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        # `t.cancel()` inside the reaping block
        return value.func.attr.value in catalog.CANCEL_METHODS
    if not isinstance(value, cst.Await):
        return False
    awaited = value.expression
    # `await asyncio.gather(*tasks)` after cancelling them reaps them like `await task`.
    if isinstance(awaited, cst.Call) and context.qualname(awaited.func) in catalog.REAPING_CALLS:
        tasks = [arg.value for arg in awaited.args if arg.keyword is None]
        return bool(tasks) and all(dotted_name(task) in cancelled for task in tasks)
    return dotted_name(awaited) in cancelled


def is_cancellation_test(
    test: cst.BaseExpression, caught_as: str, context: FileContext
) -> bool | None:
    """The value of an `if` test about the exception `caught_as` when that is a cancellation.

    `isinstance(exc, Exception)` is False and `not isinstance(exc, Exception)` True for a
    cancellation; None when the test says something else or names unknown classes.
    """
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = is_cancellation_test(test.expression, caught_as, context)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        left = is_cancellation_test(test.left, caught_as, context)
        right = is_cancellation_test(test.right, caught_as, context)
        stop = not isinstance(test.operator, cst.And)  # `and` stops at False, `or` at True
        if stop in (left, right):
            return stop
        return None if left is None or right is None else not stop
    if not (
        isinstance(test, cst.Call)
        and len(test.args) == 2
        and isinstance(test.args[0].value, cst.Name)
        and test.args[0].value.value == caught_as
        and context.qualname(test.func) == "builtins.isinstance"
    ):
        return None
    verdicts = {
        _is_cancellation_class(cls, context) for cls in _elements(test.args[1].value, context)
    }
    if True in verdicts:
        return True
    return False if verdicts == {False} else None


def _is_cancellation_class(expr: cst.BaseExpression, context: FileContext) -> bool | None:
    if context.kind_of(expr) == catalog.CANCELLED_CLASS_KIND:
        return True
    name = context.qualname(expr)
    if name in catalog.CANCELLATION_EXCEPTIONS:
        return True
    return False if name in _NOT_CANCELLATION else None
