"""Cancellation questions: which `except` catches it, which block only reaps cancelled tasks,
what a handler raises, and whether a flag it sets leads to raising it again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import NamedTuple

import libcst as cst

from conclint.analysis import catalog, task_tops
from conclint.analysis.context import FileContext
from conclint.analysis.coroutines import never_suspends
from conclint.analysis.exit_summaries import not_cancellation
from conclint.analysis.exits import (
    BREAK,
    CONTINUE,
    FALLTHROUGH,
    RETURN,
    Statements,
    completions,
    handler_name,
)
from conclint.analysis.names import canonical
from conclint.analysis.scopes import Binding, ScopeNode, dotted_name, iter_statements, scope_body
from conclint.analysis.timeouts import shielded
from conclint.analysis.walk import descendants, is_scope, suspends
from conclint.prefilter import imports_in

# Exception classes that a cancellation is never an instance of.
_NOT_CANCELLATION = not_cancellation(catalog.SHIPPED)


def caught_cancellation(expr: cst.BaseExpression | None, context: FileContext) -> str | None:
    """The cancellation class an `except` type catches ('' for a bare `except:`), else None."""
    return next(iter(_caught(expr, context)), None)


def _runs_on_own_runner(context: FileContext) -> bool:
    """The module imports a library that runs coroutines itself and cancels them with an
    ordinary exception (Twisted), and none whose cancellation is a BaseException (asyncio,
    trio, anyio): its coroutines are that library's, which no such cancellation reaches."""
    # Read from the text: an import anywhere in the module counts, in any function.
    imported = imports_in(context.source).modules if context.source else frozenset()
    cancelling = catalog.LEVEL_CANCELLATION_MODULES | catalog.EDGE_CANCELLATION_MODULES
    return not imported.isdisjoint(catalog.OWN_RUNNER_MODULES) and imported.isdisjoint(cancelling)


def _caught(expr: cst.BaseExpression | None, context: FileContext) -> list[str]:
    """Every cancellation class an `except` type names, in order ('' for a bare `except:`);
    none in a module whose coroutines no cancellation of the catalog reaches."""
    if context.memo("cancellation.own-runner", lambda: _runs_on_own_runner(context)):
        return []
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


def checkpoint(value: cst.BaseExpression, context: FileContext) -> bool:
    """`await trio.aclose_forcefully(stream)`: a function that always checks for
    cancellation, of a library whose cancellation is level-triggered. Awaited in a handler
    of a cancellation, it runs under that library, whose scope is still cancelled: it
    raises the cancellation again and does not return."""
    if not isinstance(value, cst.Await) or not isinstance(value.expression, cst.Call):
        return False
    return context.qualname(value.expression.func) in catalog.CHECKPOINTS


Handler = cst.ExceptHandler | cst.ExceptStarHandler
# What a bare `except:` and `except BaseException` catch as cancellation: they catch it
# only because they catch everything.
_BROAD = frozenset({"", *(name.removeprefix("builtins.") for name in catalog.CATCH_ALL_EXCEPTIONS)})


def may_be_cancelled(body: cst.BaseSuite, context: FileContext) -> bool:
    """The block can receive the task's cancellation: it suspends somewhere (`await`,
    `async for`, `async with`, or a `yield`, where a context manager's generator gets what
    its block raised) outside a shielded cancel scope (`with trio.CancelScope(shield=True)`,
    which only its own cancellation enters, and which takes that back at its end). A block
    that never suspends can only catch a `CancelledError` raised by its own calls
    (`future.result()` of a cancelled future); nor does awaiting a coroutine of the
    project's that never suspends. At a `yield` of an undecorated generator, no context
    manager's, only what its consumer throws in comes (`aclose()`'s `GeneratorExit`). A
    `...` statement in the block stands for code left out, which may suspend."""
    function = context.function
    plain_generator = isinstance(function, cst.FunctionDef) and not function.decorators
    # The bodies of inner `try`s whose catch-all takes every cancellation and raises
    # nothing: what suspends there never reaches this block.
    kept_inside = {
        id(inner.body)
        for inner in descendants(body, prune=is_scope)
        if isinstance(inner, cst.Try) and _keeps_cancellation(inner, context)
    }
    return any(
        (isinstance(node, cst.Await) and not _awaits_no_turn(node.expression, context))
        or (isinstance(node, cst.Yield) and not plain_generator)
        or (suspends(node) and not isinstance(node, cst.Await))
        or (isinstance(node, cst.Expr) and isinstance(node.value, cst.Ellipsis))
        for node in descendants(
            body, prune=lambda node: is_scope(node) or _shields(node) or id(node) in kept_inside
        )
    )


def _keeps_cancellation(node: cst.Try, context: FileContext) -> bool:
    """A catch-all handler (`except BaseException:`, `except:`) reaches every cancellation
    of the `try`'s body, and no handler that a cancellation reaches raises anything."""
    reached = cancellation_handlers(node, context)
    return any(set(_caught(handler.type, context)) & _BROAD for handler in reached) and not any(
        isinstance(inner, cst.Raise)
        for handler in reached
        for inner in descendants(handler.body, prune=is_scope)
    )


def _awaits_no_turn(awaited: cst.BaseExpression, context: FileContext) -> bool:
    if isinstance(awaited, cst.Name):
        return _known_done(awaited, context)
    return isinstance(awaited, cst.Call) and never_suspends(awaited, context)


def _known_done(name: cst.Name, context: FileContext) -> bool:
    """A future of the done set of `asyncio.wait` (`done, pending = await asyncio.wait(fs)`
    then `for fut in done:`): awaiting it gives its outcome at once."""
    found = context.names.lookup(name.value, context.chain)
    if found is None:
        return False
    for binding in found[1]:
        loop = binding.node
        if not (
            isinstance(loop, cst.For)
            and loop.asynchronous is None
            and loop.target is not None
            and isinstance(loop.target, cst.Name)
            and isinstance(loop.iter, cst.Name)
        ):
            return False
        sets = context.names.lookup(loop.iter.value, context.chain)
        if sets is None or not all(_done_set(each, context) for each in sets[1]):
            return False
    return True


def _done_set(binding: Binding, context: FileContext) -> bool:
    """`done` of `done, pending = await asyncio.wait(...)` (catalog role `leaves-pending`)."""
    value = binding.value
    return (
        binding.how == "assign"
        and binding.index == 0
        and isinstance(value, cst.Await)
        and isinstance(value.expression, cst.Call)
        and context.qualname(value.expression.func)
        in context.catalog.functions_with("leaves-pending")
    )


def _shields(node: cst.CSTNode) -> bool:
    """A plain `with` that enters a scope with `shield=True`."""
    return (
        isinstance(node, cst.With)
        and node.asynchronous is None
        and any(shielded(item) for item in node.items)
    )


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
    """A cancellation class itself (`CancelledError`), or a class of the project derived
    from one (`class SendCancelled(asyncio.CancelledError)`), not a catch-all
    (`BaseException()` is no cancellation)."""
    if context.kind_of(cls) == catalog.CANCELLED_CLASS_KIND:
        return True
    name = context.bindings.qualified(cls, context.chain)
    if name is None:
        return False
    model = context.model()
    names = [each for each, _ in model.mro(name)] if model.is_class(name) else [name]
    return any(
        each in catalog.CANCELLATION_EXCEPTIONS and each not in catalog.CATCH_ALL_EXCEPTIONS
        for each in names
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


# Marks a kept exception held in a collection: `errors[]` for `errors.append(exc)`.
ITEM = "[]"


# Whether a call's callee makes an object that keeps its arguments (a class of the project).
Makes = Callable[[cst.BaseExpression], bool]


def raised_later(
    kept: str, flag: bool, scope: ScopeNode, makes_object: Makes = lambda func: False
) -> bool:
    """The function raises again what a handler kept: `raise kept` (an exception kept in a
    variable), `raise errors[0]` (kept in a collection: `errors[]`), or for a `flag` set in
    the handler, a `raise` under an `if` that tests it (`if cancelled: raise
    CancelledError`); or it hands the exception kept back to its caller (`return kept`,
    `yield kept`, `return Outcome(error=kept)` where `makes_object` says the callee makes
    an object of its own), whose business raising it then is."""
    for statement in iter_statements(scope_body(scope)):
        if not flag and hands_back(statement, kept, makes_object):
            return True
        if isinstance(statement, cst.Raise) and not flag:
            exc = statement.exc
            if isinstance(exc, cst.Call) and isinstance(exc.func, cst.Attribute):
                exc = exc.func.value  # `raise kept.with_traceback(tb)`
            if isinstance(exc, cst.Subscript):
                exc, held = exc.value, ITEM
            else:
                held = ""
            if exc is not None and (dotted_name(exc) or "") + held == kept:
                return True
        if (
            flag
            and isinstance(statement, cst.If)
            and _reads(statement.test, kept)
            and any(isinstance(s, cst.Raise) for s in iter_statements(statement.body.body))
        ):
            return True
    return False


def hands_back(statement: cst.CSTNode, spelled: str, makes_object: Makes) -> bool:
    """`return x`, `yield x` or `return Outcome(error=x)`: a statement that gives the value
    `spelled` names back to the caller, as itself or kept in an object it returns, made by
    a callee that `makes_object` says makes one (a class of the project; not `str(x)`)."""
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Yield):
        value = statement.value.value
    elif isinstance(statement, cst.Return):
        value = statement.value
    else:
        return False
    if isinstance(value, cst.Call):
        return makes_object(value.func) and any(
            dotted_name(arg.value) == spelled for arg in value.args
        )
    return isinstance(value, cst.Name | cst.Attribute) and dotted_name(value) == spelled


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


def handle(expr: cst.BaseExpression) -> str | None:
    """How a task handle is written, to match its `cancel()` with the awaits that reap it:
    `task`, `self._task`, or an element of a collection by a name or a constant
    (`owner.consumers[pid]`, `tasks[0]`); None for anything else."""
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        owner = handle(expr.value)
        key = index.value if isinstance(index, cst.Index) else None
        if owner is None or key is None:
            return None
        if isinstance(key, cst.Integer | cst.SimpleString):
            return f"{owner}[{key.value}]"
        spelled = dotted_name(key)
        return f"{owner}[{spelled}]" if spelled is not None else None
    return dotted_name(expr)


def only_reaps(
    body: Sequence[cst.CSTNode], cancelled: AbstractSet[str], context: FileContext
) -> bool:
    """The block suspends only to await tasks already cancelled, spelled as in `cancelled`
    (`await task`, `return await task`, in any branch): a cancellation caught there is
    theirs. What it does between (flags, logging, `t.cancel()`) suspends nowhere."""
    if not (body and cancelled):
        return False
    suspensions = [
        node
        for statement in body
        if not is_scope(statement)  # a function defined there runs elsewhere
        for node in (statement, *descendants(statement, prune=is_scope))
        if isinstance(node, cst.Yield) or suspends(node)
    ]
    return bool(suspensions) and all(
        isinstance(node, cst.Await)
        and bool(tasks := reaped(node, context))
        and all(handle(task) in cancelled for task in tasks)
        for node in suspensions
    )


def reaped(awaited: cst.Await, context: FileContext) -> list[cst.BaseExpression]:
    """What an `await` waits for as tasks: `await task`, `await asyncio.gather(*tasks)`,
    `await asyncio.wait_for(task, None)` (its timeout left out), also through
    `asyncio.shield(...)`. Empty when it awaits a call that is none of those."""
    value = _unwrapped(awaited.expression, context)
    if not isinstance(value, cst.Call):
        return [value]
    name = context.qualname(value.func)
    if name not in catalog.REAPING_CALLS:
        return []
    timeout = catalog.REAPING_TIMEOUTS.get(name)
    return [
        _unwrapped(arg.value, context)
        for position, arg in enumerate(value.args)
        if arg.keyword is None and (timeout is None or position != timeout.position)
    ]


def awaits_task(body: cst.BaseSuite, context: FileContext) -> bool:
    """The block awaits a task or a future (a value, not what a call returns: `await task`,
    `await self.consumers[pid]`, `await asyncio.wait_for(task, 5)`). A cancellation it
    raises may be that task's own, not the caller's."""
    return any(
        not isinstance(task, cst.Call)
        for node in descendants(body, prune=is_scope)
        if isinstance(node, cst.Await)
        for task in reaped(node, context)
    )


def _unwrapped(expr: cst.BaseExpression, context: FileContext) -> cst.BaseExpression:
    """`task` for `asyncio.shield(task)`: awaiting the one awaits the other."""
    for _ in range(3):
        if not (isinstance(expr, cst.Call) and expr.args and not expr.args[0].keyword):
            break
        if expr.args[0].star or context.qualname(expr.func) not in catalog.AWAITABLE_WRAPPERS:
            break
        expr = expr.args[0].value
    return expr


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


# A task's top coroutine ending on its own cancellation ---------------------------------

# How a handler of the top coroutine of a task may leave it and still end the coroutine.
_ENDING_EXITS = frozenset({FALLTHROUGH, RETURN, BREAK})
_PLAIN = "plain"
_LOOP = "loop"
_TRY_BODY = "try-body"


class _Level(NamedTuple):
    """One block on the way from a function's body down to a statement: the statements,
    where the way goes on (`at`), how the block is left at its end (`kind`), and the
    compound statement it belongs to (`owner`: the function for its body)."""

    statements: Statements
    at: int
    kind: str
    owner: cst.CSTNode


def ends_own_task(
    node: cst.Try | cst.TryStar | cst.With, exits: AbstractSet[str], context: FileContext
) -> bool:
    """A handler of `node` (or `node` itself, a `with` that suppresses the cancellation)
    with these `exits` ends the coroutine of an asyncio task that the project spawns and
    stops by cancelling it: the function being visited runs only as that task's top
    (`task_top`), the handler leaves it by `return`, or by falling through or `break`
    when what runs after it on the way out is cleanup (it may await, but raises nothing
    and runs no `while` or `async for` that may go on), and no cancel scope or task group
    of the task encloses the `try` (whose cancellation it could be). Falling through
    into the next iteration of a loop does not end it."""
    function = context.function
    if not exits <= _ENDING_EXITS or not isinstance(function, cst.FunctionDef):
        return False
    levels = _levels(function.body.body, node, function)
    if levels is None or any(_scopes_cancellation(level.owner, context) for level in levels):
        return False
    if FALLTHROUGH in exits and not _runs_to_end(levels, len(levels) - 1):
        return False
    if BREAK in exits:
        loop = next((i for i in reversed(range(len(levels))) if levels[i].kind == _LOOP), None)
        if loop is None or loop == 0 or not _runs_to_end(levels, loop - 1):
            return False
    return task_top(function, context) or _last_work_of_task_tops(function, context)


def _last_work_of_task_tops(function: cst.FunctionDef, context: FileContext) -> bool:
    """`function`, a private coroutine function of a class or of the module, is named only
    where task tops of the same class (or module) await it as the last work they do
    (`try: await self._read_events()`, then a `finally` that only cleans up): its
    cancellation ends their tasks too. Any other mention of its name counts against it."""
    chain = context.chain
    where = next((i for i, node in enumerate(chain) if node is function), 0)
    parent = chain[where - 1] if where else None
    name = function.name.value
    if not task_tops.private(name) or not isinstance(parent, cst.ClassDef | cst.Module):
        return False
    body = parent.body.body if isinstance(parent, cst.ClassDef) else parent.body
    callers = [
        statement
        for statement in body
        if isinstance(statement, cst.FunctionDef) and statement is not function
    ]
    method = isinstance(parent, cst.ClassDef)
    sites = [(caller, line) for caller in callers for line in _awaiting(caller, name, method)]
    named = context.memo("cancellation.names", lambda: _name_counts(context.module))
    if not sites or len(sites) != named[name] - 1:  # its `def` names it once
        return False
    owner = context.bindings.class_name(parent) if isinstance(parent, cst.ClassDef) else None
    module = context.module_name
    if (method and owner is None) or module is None:
        return False
    model = context.model()
    for caller, line in sites:
        levels = _levels(caller.body.body, line, caller)
        if (
            levels is None
            or any(_scopes_cancellation(level.owner, context) for level in levels)
            or not _runs_to_end(levels, len(levels) - 1)
        ):
            return False
        top = caller.name.value
        if not (model.task_top(top, owner) if owner else model.task_top(f"{module}.{top}")):
            return False
    return True


def _awaiting(caller: cst.FunctionDef, name: str, method: bool) -> Iterator[cst.CSTNode]:
    """The lines of `caller` that are `await name(...)` (`await self.name(...)` for a
    `method` of its class), alone or returned."""
    receiver = caller.params.params[0].name.value if caller.params.params else ""
    spelled = f"{receiver}.{name}" if method else name
    for node in descendants(caller.body, prune=is_scope):
        if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
            continue
        small = node.body[0]
        value = small.value if isinstance(small, cst.Expr | cst.Return) else None
        if (
            isinstance(value, cst.Await)
            and isinstance(value.expression, cst.Call)
            and dotted_name(value.expression.func) == spelled
        ):
            yield node


def _name_counts(module: cst.Module) -> Counter[str]:
    """How many times the module spells each name (attributes' names included)."""
    return Counter(node.value for node in descendants(module) if isinstance(node, cst.Name))


def statements_after(function: cst.FunctionDef, node: cst.CSTNode) -> Statements | None:
    """The statements after `node` in the block of `function` that holds it (any block
    of its compound statements, nested functions left out); None when none does."""
    levels = _levels(function.body.body, node, function)
    if levels is None:
        return None
    last = levels[-1]
    return last.statements[last.at + 1 :]


def _levels(
    body: Statements,
    target: cst.CSTNode,
    owner: cst.CSTNode,
    kind: str = _PLAIN,
) -> list[_Level] | None:
    """The blocks from `body` (of `owner`, left at its end as `kind` says) down to the one
    that holds `target`, outermost first; None when `target` is not in them (nested
    functions are not entered)."""
    for index, statement in enumerate(body):
        if statement is target:
            return [_Level(body, index, kind, owner)]
        for block, inner_kind, inner_owner in _blocks(statement):
            found = _levels(block, target, inner_owner, inner_kind)
            if found is not None:
                return [_Level(body, index, kind, owner), *found]
    return None


def _blocks(
    statement: cst.CSTNode,
) -> Iterator[tuple[Statements, str, cst.CSTNode]]:
    """The indented blocks of a compound statement, how each is left at its end, and the
    node it belongs to."""
    parts: list[tuple[cst.BaseSuite | None, str, cst.CSTNode]] = []
    if isinstance(statement, cst.If):
        parts.append((statement.body, _PLAIN, statement))
        if isinstance(statement.orelse, cst.If):
            yield [statement.orelse], _PLAIN, statement
        elif statement.orelse is not None:
            parts.append((statement.orelse.body, _PLAIN, statement))
    elif isinstance(statement, cst.For | cst.While):
        parts.append((statement.body, _LOOP, statement))
        if statement.orelse is not None:
            parts.append((statement.orelse.body, _PLAIN, statement))
    elif isinstance(statement, cst.With):
        parts.append((statement.body, _PLAIN, statement))
    elif isinstance(statement, cst.Try | cst.TryStar):
        parts.append((statement.body, _TRY_BODY, statement))
        parts.extend((handler.body, _PLAIN, handler) for handler in statement.handlers)
        if statement.orelse is not None:
            parts.append((statement.orelse.body, _PLAIN, statement))
        if statement.finalbody is not None:
            parts.append((statement.finalbody.body, _PLAIN, statement))
    elif isinstance(statement, cst.Match):
        parts.extend((case.body, _PLAIN, case) for case in statement.cases)
    for suite, kind, owner in parts:
        if isinstance(suite, cst.IndentedBlock):
            yield suite.body, kind, owner


def _runs_to_end(levels: list[_Level], at: int) -> bool:
    """Once the statement at `levels[at]` completes, control reaches the end of the
    function (or a `return`) through statements that may wait for cleanup but raise
    nothing and start no work that may go on (`while`, `async for`), and no loop goes round
    again. A level's `kind` is how its block is left: a loop body goes round, a `try` body
    goes on into its `else`."""
    for depth in range(at, -1, -1):
        level = levels[depth]
        rests = [level.statements[level.at + 1 :]]
        if depth < at:
            inner = levels[depth + 1]
            if inner.kind == _LOOP:
                return False  # the end of a loop's body goes round again
            owner = inner.owner
            if inner.kind == _TRY_BODY and isinstance(owner, cst.Try | cst.TryStar):
                orelse = owner.orelse
                if orelse is not None and isinstance(orelse.body, cst.IndentedBlock):
                    rests.insert(0, orelse.body.body)
        for rest in rests:
            if any(_goes_on_or_raises(statement) for statement in rest):
                return False
            exits = completions(rest)
            if exits & {BREAK, CONTINUE}:
                return False
            if FALLTHROUGH not in exits:
                return True  # it returns
    return True


def _goes_on_or_raises(statement: cst.CSTNode) -> bool:
    """A `raise`, a `yield`, or a loop that may go on waiting (an `async for`, a `while`
    that awaits): not the end of the task's work, as an `await` of cleanup is (nor a
    `while` that only cancels what is left: `while pending: pending.pop().cancel()`)."""
    nodes = (statement, *descendants(statement, prune=is_scope))
    return any(
        isinstance(node, cst.Yield | cst.Raise)
        or (isinstance(node, cst.While) and _waits(node))
        or (isinstance(node, cst.For | cst.CompFor) and node.asynchronous is not None)
        for node in nodes
    )


def _waits(loop: cst.While) -> bool:
    return any(suspends(node) for node in descendants(loop, prune=is_scope))


def _scopes_cancellation(owner: cst.CSTNode, context: FileContext) -> bool:
    """A `with` (or `async with`) of a cancel scope or a task group: what it cancels is the
    same task."""
    if not isinstance(owner, cst.With):
        return False
    return any(
        context.kind_of(item.item) in _SCOPE_KINDS
        or (isinstance(item.item, cst.Call) and context.kind_of(item.item.func) in _SCOPE_KINDS)
        for item in owner.items
    )


_SCOPE_KINDS = catalog.CANCEL_SCOPE_KINDS | catalog.TASK_GROUP_KINDS


def task_top(function: cst.FunctionDef, context: FileContext) -> bool:
    """`function` runs only as the top of an asyncio task the project spawns: a function
    with a private name or a method, as the project model says (`ProjectTypes.task_top`),
    or a nested function whose enclosing function names it only to spawn it."""
    chain = context.chain
    where = next((i for i, node in enumerate(chain) if node is function), 0)
    if where == 0:
        return False
    parent = chain[where - 1]
    name = function.name.value
    if isinstance(parent, cst.FunctionDef):
        return _spawned_locally(parent, function, context)
    module = context.module_name
    if module is None:
        return False
    if isinstance(parent, cst.ClassDef):
        owner = context.bindings.class_name(parent)
        return owner is not None and context.model().task_top(name, owner)
    return isinstance(parent, cst.Module) and context.model().task_top(f"{module}.{name}")


def _spawned_locally(
    parent: cst.FunctionDef, function: cst.FunctionDef, context: FileContext
) -> bool:
    """Every use of the nested `function`'s name in `parent` is the call handed to an
    asyncio task spawner (`asyncio.create_task(writer())`), and there is one."""
    name = function.name.value
    spawned: set[int] = set()
    named: list[cst.Name] = []
    awaited: set[int] = set()
    # Handles awaited, and handles cancelled: a task awaited and never cancelled is waited
    # for as a call would be (its cancellation is its awaiter's).
    waits: set[str] = set()
    cancels: set[str] = set()
    for node in descendants(parent.body):
        if isinstance(node, cst.Name) and node.value == name and node is not function.name:
            named.append(node)
        elif isinstance(node, cst.Await):
            awaited.add(id(node.expression))
            waits.add(handle(node.expression) or "")
        elif isinstance(node, cst.Call) and (
            id(node) not in awaited or context.qualname(node.func) in catalog.EACH_TOP_SPAWNERS
        ):
            # Awaited straight, a task's cancellation is its awaiter's; not a gather's.
            for first in _spawned_tops(node, context):
                if isinstance(first, cst.Call) and isinstance(first.func, cst.Name):
                    spawned.add(id(first.func))
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in catalog.CANCEL_METHODS
        ):
            cancels.add(handle(node.func.value) or "")
    if (waits - cancels) & _handles_of(parent, spawned, context):
        return False
    return bool(named) and all(id(node) in spawned for node in named)


def _handles_of(parent: cst.FunctionDef, spawned: set[int], context: FileContext) -> set[str]:
    """The local names the spawns of `spawned` callees are bound to (`t = create_task(f())`)."""
    found: set[str] = set()
    for node in descendants(parent.body):
        if not (isinstance(node, cst.Assign) and isinstance(node.value, cst.Call)):
            continue
        tops = _spawned_tops(node.value, context)
        if any(isinstance(top, cst.Call) and id(top.func) in spawned for top in tops):
            found.update(handle(target.target) or "" for target in node.targets)
    return found - {""}


def _spawned_tops(call: cst.Call, context: FileContext) -> list[cst.BaseExpression]:
    """What an asyncio task spawner is handed as its coroutine: `F()` of
    `asyncio.create_task(F())` or `loop.create_task(F())`, also through a call that calls
    the spawner it is given with the arguments that follow
    (`functools.partial(asyncio.run_coroutine_threadsafe, F(), loop=loop)`); each of
    `asyncio.gather(F(), G())`; both of `create_task(F() if c else G())`."""
    return [branch for handed in _handed(call, context) for branch in _branches(handed)]


def _branches(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The values a conditional expression may have (`F() if c else G()`: both)."""
    if isinstance(expr, cst.IfExp):
        return [*_branches(expr.body), *_branches(expr.orelse)]
    return [expr]


def _handed(call: cst.Call, context: FileContext) -> list[cst.BaseExpression]:
    args = [arg for arg in call.args if arg.keyword is None]
    if context.qualname(call.func) in catalog.EACH_TOP_SPAWNERS:
        return [arg.value for arg in args if not arg.star]
    if not _is_top_spawner(call.func, context):
        if len(args) < 2 or not _is_top_spawner(args[0].value, context):
            return []
        args = args[1:]
    elif not args:  # `asyncio.create_task(coro=F())`
        named = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        found = next((named[k] for k in task_tops.SPAWNED_KEYWORDS if k in named), None)
        return [found] if found is not None else []
    if args[0].star:
        return []
    return [args[0].value]


def _is_top_spawner(func: cst.BaseExpression, context: FileContext) -> bool:
    if context.qualname(func) in catalog.TOP_SPAWNERS:
        return True
    return isinstance(func, cst.Attribute) and func.attr.value in catalog.TOP_SPAWN_METHODS
