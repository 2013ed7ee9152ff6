"""Timeouts, cancel scopes and task groups entered by `with`/`async with` (CCL205-209)."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name
from conclint.analysis.uses import keyword


def entered_kind(item: cst.WithItem, context: FileContext) -> str | None:
    """The kind of what a `with` item enters (`trio.CancelScope` for `trio.move_on_after(5)`)."""
    return context.kind_of(item.item)


def is_cancel_scope(item: cst.WithItem, context: FileContext) -> bool:
    return entered_kind(item, context) in catalog.CANCEL_SCOPE_KINDS


def is_task_group(item: cst.WithItem, context: FileContext) -> bool:
    return entered_kind(item, context) in catalog.TASK_GROUP_KINDS


def spelled(expr: cst.BaseExpression) -> str:
    """How messages show a context manager: `trio.move_on_after(...)`, `self._lock`."""
    if isinstance(expr, cst.Await):
        return f"await {spelled(expr.expression)}"
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        return f"{name}(...)" if name else "(...)"
    return dotted_name(expr) or "..."


def with_form(node: cst.With, item: cst.WithItem) -> str:
    """`async with trio.open_nursery(...)`, for messages."""
    prefix = "async with" if node.asynchronous is not None else "with"
    return f"{prefix} {spelled(item.item)}"


def is_false(expr: cst.BaseExpression) -> bool:
    """A literal that is false (`False`, `None`, `0`): what turns a flag off for certain."""
    if isinstance(expr, cst.Name):
        return expr.value in ("False", "None")
    return isinstance(expr, cst.Integer) and expr.evaluated_value == 0


# The keywords (and attributes) that shield a scope, of every kind that has one.
SHIELD_FLAGS = frozenset(catalog.SHIELD_FLAGS.values())


def shielded(item: cst.WithItem) -> bool:
    """Entered with `shield=True` (any value but a false literal). The keyword decides, not
    the kind: a framework's own scope classes and wrappers of them take it too."""
    call = item.item
    if not isinstance(call, cst.Call):
        return False
    given = [keyword(call, flag) for flag in SHIELD_FLAGS]
    return any(arg is not None and not is_false(arg.value) for arg in given)
