"""Cancellation questions: which `except` catches it, which block only reaps cancelled tasks,
what a handler raises, and whether a flag it sets leads to raising it again."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.exits import handler_name
from conclint.analysis.names import canonical
from conclint.analysis.scopes import ScopeNode, dotted_name, iter_statements, scope_body
from conclint.analysis.walk import descendants

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
    return next(iter(_caught(expr, context)), None)


def _caught(expr: cst.BaseExpression | None, context: FileContext) -> list[str]:
    """Every cancellation class an `except` type names, in order ('' for a bare `except:`)."""
    if expr is None:
        return [""]
    found = []
    for element in _elements(expr, context):
        if context.kind_of(element) == catalog.CANCELLED_CLASS_KIND:
            found.append(catalog.CANCELLED_CLASS_SHOWN)
            continue
        name = context.qualname(element)
        if name in catalog.CANCELLATION_EXCEPTIONS:
            found.append(name.removeprefix("builtins."))
    return found


Handler = cst.ExceptHandler | cst.ExceptStarHandler
# What a bare `except:` and `except BaseException` catch as cancellation: they catch it
# only because they catch everything.
_BROAD = frozenset({"", *(name.removeprefix("builtins.") for name in catalog.CATCH_ALL_EXCEPTIONS)})


def may_be_cancelled(body: cst.BaseSuite) -> bool:
    """The block can receive the task's cancellation: it suspends somewhere (`await`,
    `async for`, `async with`, or a `yield`, where a context manager's generator gets what
    its block raised). A block that never suspends can only catch a `CancelledError`
    raised by its own calls (`future.result()` of a cancelled future). A `...` statement
    in it stands for code left out, which may suspend."""
    return any(
        isinstance(node, cst.Await | cst.Yield)
        or (isinstance(node, cst.For | cst.With | cst.CompFor) and node.asynchronous is not None)
        or (isinstance(node, cst.Expr) and isinstance(node.value, cst.Ellipsis))
        for node in descendants(body, prune=_is_scope)
    )


def _is_scope(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef)


def cancellation_handlers(node: cst.Try | cst.TryStar, context: FileContext) -> list[Handler]:
    """The handlers of the `try` that a cancellation can reach: each cancellation class is
    taken by the first handler that names it, and a catch-all (`except BaseException`, a
    bare `except:`) sees none once an earlier handler names one (a `try` meets the
    cancellation of one framework) or catches everything."""
    reached: list[Handler] = []
    named: set[str] = set()
    for handler in node.handlers:
        caught = set(_caught(handler.type, context))
        if not caught:
            continue
        if caught & _BROAD:
            if not named:
                reached.append(handler)
            break  # nothing reaches the handlers after a catch-all
        if caught - named:
            reached.append(handler)
        named |= caught
    return reached


def reraises(
    raised: cst.Raise,
    caught_as: str | None,
    context: FileContext,
    enclosing: Sequence[Handler] = (),
) -> bool:
    """A `raise` in a handler of the cancellation lets a cancellation go on: `raise`,
    `raise exc` (the caught one, also `from ...` or `.with_traceback(...)`), a cancellation
    class, or a value the function holds that may be the cancellation. False when it
    raises a class or a new exception (`raise ValueError`, `raise Error(...) from exc`), or
    what an enclosing handler (`enclosing`, innermost last) caught that is no cancellation."""
    exc = raised.exc
    if exc is None:
        return True
    if isinstance(exc, cst.Call):
        func = exc.func
        if isinstance(func, cst.Attribute) and dotted_name(func.value) == caught_as:
            return True  # `exc.with_traceback(tb)` gives `exc` back
        return _is_new_cancellation(func, context)
    if isinstance(exc, cst.Name) and exc.value == caught_as:
        return True
    if isinstance(exc, cst.Name):
        # Inside `except OSError as err:`, `err` is what that handler caught.
        for handler in reversed(enclosing):
            if handler_name(handler) == exc.value:
                return caught_cancellation(handler.type, context) is not None
    return _is_new_cancellation(exc, context) or not _holds_another(exc, context)


def _is_new_cancellation(cls: cst.BaseExpression, context: FileContext) -> bool:
    """A cancellation class itself (`CancelledError`), not a catch-all (`BaseException()`
    is no cancellation)."""
    name = context.qualname(cls)
    return context.kind_of(cls) == catalog.CANCELLED_CLASS_KIND or (
        name in catalog.CANCELLATION_EXCEPTIONS and name not in catalog.CATCH_ALL_EXCEPTIONS
    )


def _holds_another(expr: cst.BaseExpression, context: FileContext) -> bool:
    """Surely another exception than the cancellation: a builtin, an import or a class of the
    module, or a name an enclosing `except` bound to what it caught, when that handler does
    not catch the cancellation (`except OSError as err`). Other values may hold anything."""
    if isinstance(expr, cst.Attribute):
        return context.qualname(expr) is not None
    if not isinstance(expr, cst.Name):
        return False
    found = context.names.lookup(expr.value, context.chain)
    if found is None:
        return context.qualname(expr) is not None  # a builtin exception
    return all(
        binding.how in ("class", "import")
        or (
            isinstance(binding.node, cst.ExceptHandler | cst.ExceptStarHandler)
            and caught_cancellation(binding.node.type, context) is None
        )
        for binding in found[1]
    )


def raised_later(kept: str, flag: bool, scope: ScopeNode) -> bool:
    """The function raises again what a handler kept: `raise kept` (an exception kept in a
    variable), or for a `flag` set in the handler, a `raise` under an `if` that tests it
    (`if cancelled: raise CancelledError`)."""
    for statement in iter_statements(scope_body(scope)):
        if isinstance(statement, cst.Raise) and not flag:
            exc = statement.exc
            if isinstance(exc, cst.Call) and isinstance(exc.func, cst.Attribute):
                exc = exc.func.value  # `raise kept.with_traceback(tb)`
            if dotted_name(exc) == kept:
                return True
        if (
            flag
            and isinstance(statement, cst.If)
            and _reads(statement.test, kept)
            and any(isinstance(s, cst.Raise) for s in iter_statements(statement.body.body))
        ):
            return True
    return False


def _reads(test: cst.BaseExpression, spelled: str) -> bool:
    """`spelled` (`cancelled`, `self._cancelled`) occurs in the test."""
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name | cst.Attribute) and dotted_name(node) == spelled:
            return True
        stack.extend(node.children)
    return False


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
    """Is a cancellation an instance of this class? A class that a name resolves to (an
    import, a builtin exception) is none of the cancellation classes nor one of their bases
    unless the catalog says so; None for a value the function holds."""
    if context.kind_of(expr) == catalog.CANCELLED_CLASS_KIND:
        return True
    name = context.qualname(expr)
    if name in catalog.CANCELLATION_EXCEPTIONS:
        return True
    if name in _NOT_CANCELLATION:
        return False
    if name is None and isinstance(expr, cst.Name):
        # Imported in several places (`try: from a import E except ImportError: from b ...`).
        found = context.names.lookup(expr.value, context.chain)
        bindings = found[1] if found is not None else []
        imported = [canonical(b.imported) for b in bindings if b.imported is not None]
        classes = bool(bindings) and all(b.how in ("import", "class") for b in bindings)
        if classes and not set(imported) & catalog.CANCELLATION_EXCEPTIONS:
            return False
    return None if name is None or name.startswith("builtins.") else False
