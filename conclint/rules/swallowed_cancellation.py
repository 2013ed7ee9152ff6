"""CCL203: a handler in `async def` that catches cancellation and can finish without re-raising
it: by falling through, `return`, `break`, `continue`, a `yield`, or raising another exception."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import libcst as cst

from conclint import fixes
from conclint.analysis import catalog
from conclint.analysis.acquires import target_of
from conclint.analysis.cancellation import (
    ITEM,
    Handler,
    awaits_task,
    cancellation_handlers,
    caught_cancellation,
    checkpoint,
    ends_own_task,
    handle,
    hands_back,
    is_cancellation_test,
    may_be_cancelled,
    only_reaps,
    raised_later,
    reraises,
    statements_after,
)
from conclint.analysis.context import FileContext
from conclint.analysis.exits import (
    BREAK,
    CONTINUE,
    FALLTHROUGH,
    RAISE_OTHER,
    RETURN,
    YIELD,
    Decide,
    Statements,
    completions,
    handler_name,
    has_items,
    never_returns,
)
from conclint.analysis.handoff import own_function
from conclint.analysis.scopes import ScopeNode, dotted_name
from conclint.analysis.timeouts import shielded
from conclint.analysis.tracking import Tries
from conclint.analysis.walk import children, descendants, is_scope
from conclint.rules.base import Rule

_LOST = "loses the cancellation"
_END_WITH_RAISE = "end it with `raise`"
# How a way out reads in the message (how, effect, fix), in order of preference: the
# least obvious way out first.
_WAYS = (
    (RETURN, "return without re-raising", _LOST, _END_WITH_RAISE),
    (BREAK, "break without re-raising", _LOST, _END_WITH_RAISE),
    (CONTINUE, "continue without re-raising", _LOST, _END_WITH_RAISE),
    (
        RAISE_OTHER,
        "raise `{raised}` instead of re-raising",
        "turns the cancellation into an error",
        "let the cancellation propagate (`raise`) and report the failure another way",
    ),
    (
        YIELD,
        "yield without re-raising",
        "hands the consumer a value instead of the cancellation",
        "re-raise before yielding",
    ),
)
_FALLS_THROUGH = ("fall through without re-raising", _LOST, _END_WITH_RAISE)
# How a block is left for what follows it, or for the head (or end) of its loop.
_FALLS = frozenset({FALLTHROUGH})
_ROUND = frozenset({FALLTHROUGH, CONTINUE, BREAK})
_AGAIN = frozenset({FALLTHROUGH, CONTINUE})
# `cancelled = True`, `pending_raise = True`: a flag that re-raises once cleanup is done.
_FLAG_WORDS = ("cancel", "raise")
_CANCELLATION_ONLY = catalog.CANCELLATION_EXCEPTIONS - catalog.CATCH_ALL_EXCEPTIONS
_EXITS = frozenset({"__exit__", "__aexit__"})


def _reraise(handler: Handler, safe: bool) -> fixes.Proposal:
    """`raise` after the last statement of a handler whose only way out is falling through:
    every path that reached the end now re-raises, and no other path in it changes. Safe
    when the `try` ends the function (falling through returned at once); unsafe when code
    after the `try` ran on the way out (cleanup, say), which the `raise` now skips."""
    body = handler.body
    if isinstance(body, cst.IndentedBlock):
        edit: fixes.NodeEdit = fixes.NewLine(body.body[-1], "raise", indent_like=body.body[0])
    else:  # `except CancelledError: pass`
        edit = fixes.Insert(body.body[-1], "; raise", after=True)
    return fixes.Proposal("End the handler with `raise`", (edit,), safe=safe)


def _ends(statement: cst.CSTNode, function: cst.FunctionDef) -> bool:
    """`statement` is the last the function runs: the last of its body, or of a branch of
    an `if` that is (no loop: falling through goes round again)."""
    branches: list[cst.CSTNode] = [function.body]
    while branches:
        node = branches.pop()
        if node is statement:
            return True
        if isinstance(node, cst.IndentedBlock) and node.body:
            branches.append(node.body[-1])
        elif isinstance(node, cst.If):
            branches.append(node.body)
            if isinstance(node.orelse, cst.If):
                branches.append(node.orelse)
            elif node.orelse is not None:
                branches.append(node.orelse.body)
    return False


@dataclass
class _Open:
    """A handler that can swallow cancellation, kept until its body has been visited."""

    node: Handler
    function: ScopeNode | None
    construct: str
    # (how, effect, fix) for the message.
    way: tuple[str, str, str]
    caught_as: str | None
    # The handler names cancellation classes only: ending it with `raise` re-raises nothing
    # else; and its `try` ends the function: falling through it ran no code after it.
    certain: bool = False
    last: bool = False
    deliberate: bool = False
    # Flags set (True) and locals holding the caught exception: the handler re-raises
    # through them if the function raises again once they are set.
    kept: list[tuple[str, bool]] = field(default_factory=list)


class SwallowedCancellation(Rule):
    code = "CCL203"
    name = "swallowed-cancellation"
    summary = "A handler in `async def` catches cancellation and can finish without re-raising"
    message = "`{construct}` can {how}, which {effect}; {fix}"
    needles = ("async",)
    async_only = True
    peers = ("ASYNC103", "ASYNC104")
    tags = ("asyncio", "trio", "anyio", "cancellation")
    fixable = True

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # The enclosing `try` statements, innermost last (shared with other rules).
        self._tries = context.tracker(Tries).open
        # Every handler whose body is being visited, innermost last.
        self._handlers: list[Handler] = []
        self._open: list[_Open] = []
        # id of function -> spellings of the receivers of `.cancel()` calls seen so far in it.
        self._cancelled: dict[int, set[str]] = {}
        # id of a `try` -> the receivers cancelled before its handlers (before the `try` or in
        # its body, not in an earlier handler).
        self._cancelled_before: dict[int, set[str]] = {}
        # (loop variable, iterated collection) of the `for` loops being visited.
        self._loops: list[tuple[str | None, str | None]] = []
        # How many `raise` statements are being visited: what they call makes what they
        # raise (`raise RuntimeError(exc)`), which hands nothing on.
        self._raising = 0
        # The shielded scopes being visited (`with CancelScope(shield=True):`), with the id
        # of their function: no cancellation from outside enters them.
        self._shields: list[tuple[cst.With, int]] = []

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is None and any(shielded(item) for item in node.items):
            self._shields.append((node, id(self.context.function)))

    def _shielded(self) -> bool:
        """Inside a shielded scope of the function being visited."""
        function = id(self.context.function)
        return any(owner == function for _, owner in self._shields)

    def visit_Raise(self, node: cst.Raise) -> None:
        self._raising += 1

    def visit_Return(self, node: cst.Return) -> None:
        self._handed_back(node)

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Yield):
            self._handed_back(node)

    def _handed_back(self, statement: cst.Return | cst.Expr) -> None:
        """`return exc`, `yield exc`, `return Outcome(error=exc)` in a handler: the caught
        exception given to the caller, whose business raising it then is."""
        if not self._open:
            return
        handler = self._open[-1]
        if (
            handler.function is self.context.function
            and handler.caught_as is not None
            and hands_back(statement, handler.caught_as, self._makes_object)
        ):
            handler.deliberate = True

    def leave_Raise(self, original_node: cst.Raise) -> None:
        self._raising -= 1

    def visit_For(self, node: cst.For) -> None:
        iterated = node.iter
        source = dotted_name(iterated)
        if (
            isinstance(iterated, cst.Call)
            and iterated.args
            and self.context.qualname(iterated.func) in catalog.AS_DONE_ITERATORS
        ):
            # `for done in asyncio.as_completed(tasks):`: each item awaits one of `tasks`.
            source = handle(iterated.args[0].value)
        self._loops.append((dotted_name(node.target), source))

    def leave_For(self, original_node: cst.For) -> None:
        self._loops.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._enter(node)
        self._handlers.append(node)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._handlers.pop()
        self._leave(original_node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._enter(node)
        self._handlers.append(node)

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        self._handlers.pop()
        self._leave(original_node)

    def _enter(self, node: Handler) -> None:
        if not self.context.in_async_function or not self._tries:
            return
        # What the first handler of the `try` sees cancelled: not what an earlier handler
        # cancels, which runs instead of this one.
        self._cancelled_before.setdefault(id(self._tries[-1]), self._cancelled_here())
        # A later `except BaseException:` or bare `except:` never sees the cancellation.
        if node not in cancellation_handlers(self._tries[-1], self.context):
            return
        body = self._tries[-1].body
        cancelled = self._cancelled_before[id(self._tries[-1])]
        if (
            only_reaps(body.body, cancelled, self.context)
            or not may_be_cancelled(body, self.context)
            or self._shielded()
        ):
            return
        caught = caught_cancellation(node.type, self.context)
        caught_as = (
            node.name.name.value
            if isinstance(node.name, cst.AsName) and isinstance(node.name.name, cst.Name)
            else None
        )
        raised_instead: list[cst.Raise] = []

        def judge(raised: cst.Raise) -> bool:
            again = reraises(raised, caught_as, self.context, self._handlers)
            if not again:
                raised_instead.append(raised)
            return again

        def ends(value: cst.BaseExpression) -> bool:
            return checkpoint(value, self.context) or never_returns(
                value, self.context, caught_as=caught_as
            )

        exits = completions(
            node.body.body,
            ends,
            self._decider(caught_as),
            reraises=judge,
            has_items=lambda iterable: has_items(iterable, self.context),
            yields=True,
        )
        if FALLTHROUGH in exits and (
            _reraised_by_finally(self._tries[-1], self._tries[:-1])
            or self._ends_after(self._tries[-1])
        ):
            exits -= {FALLTHROUGH}
        leaving = exits & _ROUND
        if leaving and self._reraised_after(self._tries[-1], leaving):
            exits -= leaving
        if not exits or ends_own_task(self._tries[-1], exits, self.context):
            return
        how, effect, fix = next(
            ((how, effect, fix) for way, how, effect, fix in _WAYS if way in exits), _FALLS_THROUGH
        )
        if RAISE_OTHER in exits and raised_instead:
            how = how.format(raised=_spelled(raised_instead[0]))
        star = "*" if isinstance(node, cst.ExceptStarHandler) else ""
        # Name the handler as written when that is short (`except STOP_SIGNALS`).
        spelled = dotted_name(node.type) if node.type is not None else None
        construct = f"except{star} {spelled or caught}" if caught else "except:"
        # Appending `raise` where the `try` awaits a task would re-raise the task's own
        # cancellation, which the handler may be there to take.
        certain = (
            node.type is not None
            and self._names_cancellation_only(node.type)
            and not awaits_task(body, self.context)
        )
        function = self.context.function
        way = (how, effect, fix)
        found = _Open(node, function, construct, way, caught_as, certain)
        found.last = isinstance(function, cst.FunctionDef) and _ends(self._tries[-1], function)
        self._open.append(found)

    def _ends_after(self, node: cst.Try | cst.TryStar) -> bool:
        """Every path through the statements after `node` in its block ends in a call the
        catalog says never returns (`os._exit(0)`, `sys.exit()`), or raises a cancellation
        anew (`raise asyncio.CancelledError("stopped")`, after the cleanup): falling
        through the handler, nothing goes on to lose the cancellation to."""
        function = self.context.function
        if not isinstance(function, cst.FunctionDef):
            return False
        rest = statements_after(function, node)
        if not rest:
            return False
        ending = self.context.catalog.functions_with("never-returns")

        def ends(value: cst.BaseExpression) -> bool:
            # The catalog's: a helper of the project that always raises turns it into an error.
            return isinstance(value, cst.Call) and self.context.qualname(value.func) in ending

        def cancels(raised: cst.Raise) -> bool:
            exc = raised.exc.func if isinstance(raised.exc, cst.Call) else raised.exc
            return exc is not None and self._names_cancellation_only(exc)

        return not completions(rest, ends, reraises=cancels)

    def _reraised_after(self, node: cst.CSTNode, ways: AbstractSet[str] = _FALLS) -> bool:
        """The `try` (or `with`) sits in the body of an enclosing handler of the
        cancellation (through `if`, `with`, `for` and `while` blocks), and every path from
        where it leaves (`ways`: falling through its end, `continue`, `break`) to the end of
        that handler raises again what that handler caught: the enclosing handler's `raise`
        re-raises the cancellation."""
        if not self._handlers:
            return False
        outer = self._handlers[-1]
        if caught_cancellation(outer.type, self.context) is None:
            return False
        rests = _rests_after(outer.body.body, node)
        if rests is None:
            return False
        caught_as = handler_name(outer)
        arriving = set(ways)
        for rest in reversed(rests):  # from the innermost block out
            if rest.loop and not arriving & _AGAIN:
                arriving = {FALLTHROUGH}  # `break`: on after the loop
                continue
            if rest.loop or FALLTHROUGH in arriving:
                exits = completions(
                    rest.statements,
                    lambda value: never_returns(value, self.context, caught_as=caught_as),
                    self._decider(caught_as),
                    reraises=lambda raised: reraises(
                        raised, caught_as, self.context, self._handlers
                    ),
                    has_items=lambda iterable: has_items(iterable, self.context),
                    yields=True,
                )
                if not exits <= _ROUND:
                    return False  # some path leaves otherwise
                # A loop goes round its whole body, then on after it (its end, a `break`).
                arriving = {FALLTHROUGH} if rest.loop else (arriving - _FALLS) | exits
            if not arriving:
                return True  # every path raises (again)
        return False  # the enclosing handler falls through too

    def _names_cancellation_only(self, caught: cst.BaseExpression) -> bool:
        """`except CancelledError` or `except (CancelledError, trio.Cancelled)`: every class
        named is a cancellation class, and none is a catch-all (`BaseException`)."""
        classes = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        return all(
            self.context.kind_of(expr) == catalog.CANCELLED_CLASS_KIND
            or self.context.qualname(expr) in _CANCELLATION_ONLY
            for expr in classes
        )

    def _leave(self, node: Handler) -> None:
        if not self._open or self._open[-1].node is not node:
            return
        found = self._open.pop()
        if found.deliberate or self._raised_later(found):
            return
        fixed = found.certain and found.way == _FALLS_THROUGH
        autofix = _reraise(node, safe=found.last) if fixed else None
        how, effect, fix = found.way
        self.report(node, autofix, construct=found.construct, how=how, effect=effect, fix=fix)

    def _raised_later(self, found: _Open) -> bool:
        """A flag set or the exception kept in the handler, then raised by the function."""
        function = found.function
        return function is not None and any(
            raised_later(kept, flag, function, self._makes_object) for kept, flag in found.kept
        )

    def _makes_object(self, func: cst.BaseExpression) -> bool:
        """`Outcome` of `Outcome(error=exc)`: a class of the project, whose instance keeps
        what it is given (not `str(exc)`, which only formats it)."""
        found = self.context.bindings.qualified(func, self.context.chain)
        return self.context.model().is_class(found)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._open and not self._raising and self._hands_on_caught(node):
            # `future.set_exception(exc)`, `outcomes.append(Error(exc))`: the handler
            # delivers what it caught, the cancellation too, to whoever waits for it.
            self._mark_deliberate()
        if self._open and self._asks_cancel_state(node):
            self._mark_deliberate()  # `if self._cancelled_by_us():` reads `cancelling()`
        if self._open and self._gets_cancel_state(node):
            self._mark_deliberate()  # `getattr(task, "cancelling", lambda: 0)()`
        function = self.context.function
        if function is not None:
            # `loop.call_soon(task.cancel)`: the task is cancelled when the callback runs.
            for arg in node.args:
                given = arg.value
                if isinstance(given, cst.Attribute) and given.attr.value in catalog.CANCEL_METHODS:
                    self._cancelled.setdefault(id(function), set()).add(handle(given.value) or "")
        if not isinstance(func, cst.Attribute):
            return
        if function is not None and isinstance(func.value, cst.Name):
            self._cancelled_through(func, function)
        if func.attr.value in catalog.CANCEL_METHODS and self._is_current_task(func.value):
            # `asyncio.current_task().cancel()`: the next `await` raises the cancellation
            # again; it is put off by a step, not lost.
            self._mark_deliberate()
        elif func.attr.value in catalog.CANCEL_METHODS and function is not None:
            cancelled = self._cancelled.setdefault(id(function), set())
            receiver = handle(func.value)
            cancelled.add(receiver or "")
            # `for t in tasks: t.cancel()` cancels `tasks`, reaped by `gather(*tasks)`.
            cancelled.update(c for v, c in self._loops if c is not None and v == receiver)
            owner = self._owner_of(func.value)
            if owner is not None and receiver:
                # A callback defined in the function cancels the function's own future
                # (a stop-signal handler ending `await forever`): the function reaps it.
                self._cancelled.setdefault(id(owner), set()).add(receiver)
        elif func.attr.value in catalog.CANCEL_STATE_METHODS:
            # The handler reasons about whose cancellation it caught (`uncancel()`).
            self._mark_deliberate()
        elif func.attr.value in catalog.COLLECTION_FILLS:
            self._keep_in(node, func.value)

    def _owner_of(self, receiver: cst.BaseExpression) -> ScopeNode | None:
        """The enclosing function that binds the name `receiver` is (or starts with), when
        the function being visited is defined inside it."""
        root = receiver
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return None
        chain = self.context.chain
        found = self.context.names.lookup(root.value, chain)
        if found is None or found[0] >= len(chain) - 1:
            return None
        owner = chain[found[0]]
        return owner if isinstance(owner, cst.FunctionDef) else None

    def _gets_cancel_state(self, node: cst.Call) -> bool:
        """`getattr(task, "cancelling", ...)`: the method of the role `cancel-state`, got by
        name (code that also runs where tasks lack it)."""
        if len(node.args) < 2 or self.context.qualname(node.func) not in catalog.ATTRIBUTE_GETTERS:
            return False
        name = node.args[1].value
        return (
            isinstance(name, cst.SimpleString)
            and name.evaluated_value in catalog.CANCEL_STATE_METHODS
        )

    def _is_current_task(self, expr: cst.BaseExpression) -> bool:
        """`asyncio.current_task()`, or a local every binding of which is that call."""
        context = self.context
        values = (
            context.bindings.values_of(expr, context.chain)
            if isinstance(expr, cst.Name)
            else [expr]
        )
        return bool(values) and all(
            isinstance(value, cst.Call) and context.qualname(value.func) in catalog.CURRENT_TASK
            for value in values
        )

    def _asks_cancel_state(self, call: cst.Call) -> bool:
        """A call of a project function that reads or undoes the task's cancellation
        (`reads_cancel_state`: `cancelling()`, `uncancel()` in its own code)."""
        target = target_of(self.context, call.func)
        if target is not None and target.facts is not None:
            return target.facts.reads_cancel_state
        # A function defined in this one (`def _cancelled_here(): ...`), which the index
        # does not summarise: its own code, read here.
        found = own_function(call.func, self.context, self.context.chain)
        return found is not None and any(
            isinstance(inner, cst.Call)
            and (
                (
                    isinstance(inner.func, cst.Attribute)
                    and inner.func.attr.value in catalog.CANCEL_STATE_METHODS
                )
                or self._gets_cancel_state(inner)
            )
            for inner in descendants(found[0].body, prune=is_scope)
        )

    def _cancelled_through(self, func: cst.Attribute, function: ScopeNode) -> None:
        """`self._finished()`, a method of the class that cancels `self._task` itself: the
        function cancels `self._task` there, as if it were written here."""
        receiver = func.value
        assert isinstance(receiver, cst.Name)
        if self.context.bindings.class_of_receiver(receiver, self.context.chain) is None:
            return
        found = self.context.bindings.callee(func, self.context.chain)
        if found is not None and found[1].cancels:
            cancelled = self._cancelled.setdefault(id(function), set())
            cancelled.update(f"{receiver.value}.{attribute}" for attribute in found[1].cancels)

    def _hands_on_caught(self, call: cst.Call) -> bool:
        """`call`, in the innermost open handler's own function, gives the exception that
        handler caught to another library's code that may keep it: no call that only
        reads or formats it (`isinstance`, `str`, a logger's methods), no local
        collection's fill (`errors.append(exc)`, raised from later or not), and no
        function or method of the project, whose own summary says what it does."""
        handler = self._open[-1]
        if handler.function is not self.context.function:
            return False
        if not any(self._is_caught(arg.value, handler.caught_as) for arg in call.args):
            return False
        func = call.func
        chain = self.context.chain
        bindings = self.context.bindings
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            root = func.value
            while isinstance(root, cst.Attribute):
                root = root.value
            if method in catalog.LOGGER_METHODS or (
                isinstance(root, cst.Name) and bindings.class_of_receiver(root, chain) is not None
            ):
                return False  # a logger's, or reached through the instance (`self.x.f(exc)`)
            if method in catalog.COLLECTION_FILLS and isinstance(func.value, cst.Name):
                return False
        if bindings.callee(func, chain) is not None:
            return False
        if isinstance(func, cst.Attribute) and bindings.instance_of(func.value, chain):
            return False
        if isinstance(func, cst.Name):
            found = self.context.names.lookup(func.value, chain)
            if found is not None and any(b.how in ("def", "class") for b in found[1]):
                return False  # a function or class of the module
        name = self.context.qualname(func)
        return name is None or (
            name not in catalog.READS_ARGUMENT_ONLY and not self.context.model().is_class(name)
        )

    def _is_caught(self, value: cst.BaseExpression, caught_as: str | None) -> bool:
        """The exception being handled: the handler's name for it, or `sys.exc_info()`
        (`*sys.exc_info()`) and `sys.exception()`."""
        if isinstance(value, cst.Name):
            return value.value == caught_as
        return (
            isinstance(value, cst.Call)
            and self.context.qualname(value.func) in catalog.HANDLED_EXCEPTION
        )

    def _keep_in(self, call: cst.Call, receiver: cst.BaseExpression) -> None:
        """`errors.append(exc)` in a handler: the caught exception kept in a local
        collection, which the function may raise from later (`raise errors[0]`)."""
        if not self._open or not isinstance(receiver, cst.Name) or not call.args:
            return
        handler = self._open[-1]
        first = call.args[0].value
        if (
            handler.function is self.context.function
            and isinstance(first, cst.Name)
            and first.value == handler.caught_as
        ):
            handler.kept.append((receiver.value + ITEM, False))

    def visit_Assign(self, node: cst.Assign) -> None:
        # A flag or the exception kept in a local or an attribute (`state.error = exc`):
        # re-raised after cleanup that must finish, if the function does raise again once
        # it is set.
        value = node.value
        if not self._open or not isinstance(value, cst.Name):
            return
        handler = self._open[-1]
        if handler.function is not self.context.function:
            return
        for target in node.targets:
            spelled = dotted_name(target.target) or ""
            kept = bool(spelled) and value.value == handler.caught_as
            flag = value.value == "True" and any(
                word in spelled.rpartition(".")[2].lower() for word in _FLAG_WORDS
            )
            if kept or flag:
                handler.kept.append((spelled, flag))

    def _mark_deliberate(self) -> None:
        function = self.context.function
        for handler in self._open:
            if handler.function is function:
                handler.deliberate = True

    def leave_With(self, original_node: cst.With) -> None:
        # At its end: a cancel in the block (`task.cancel(); await task`) has been seen.
        node = original_node
        shielded_here = bool(self._shields) and self._shields[-1][0] is node
        if shielded_here:
            self._shields.pop()
        if not self.context.in_async_function or shielded_here or self._shielded():
            return
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            if self.context.qualname(call.func) not in catalog.SUPPRESSORS:
                continue
            caught = next(
                filter(None, (caught_cancellation(arg.value, self.context) for arg in call.args)),
                None,
            )
            if (
                caught
                and may_be_cancelled(node.body, self.context)
                and not self._only_reaps(node.body.body)
                and not _reraised_by_finally(node, self._tries)
                and not self._reraised_after(node)
                and not ends_own_task(node, _FALLS, self.context)
            ):
                fix = "suppress it only around awaiting a task you cancelled"
                how = "exit its block without re-raising"
                self.report(call, construct=f"suppress({caught})", how=how, effect=_LOST, fix=fix)

    def _only_reaps(self, body: Sequence[cst.CSTNode]) -> bool:
        return only_reaps(body, self._cancelled_here(), self.context)

    def _cancelled_here(self) -> set[str]:
        """The task handles cancelled so far in the function being visited, and the loop
        variables that go through them (`for task in tasks:`, `for done in
        asyncio.as_completed(tasks):`, once `tasks` are cancelled)."""
        function = self.context.function
        found = set(self._cancelled.get(id(function), ())) if function is not None else set()
        found.update(variable for variable, source in self._loops if variable and source in found)
        return found

    def _decider(self, caught_as: str | None) -> Decide | None:
        """`if isinstance(exc, Exception): return` cannot be taken by a cancellation; in
        `__exit__`/`__aexit__`, `if exc is value: return False` is taken only by the
        exception the `with` block raised, which returning false raises again."""
        if caught_as is None:
            return None
        passed = _exit_value(self.context.function)

        def decide(test: cst.BaseExpression) -> bool | None:
            if passed is not None:
                same = _identity_test(test, caught_as, passed)
                if same is not None:
                    return not same  # a new cancellation is not the one passed in
            return is_cancellation_test(test, caught_as, self.context)

        return decide


def _exit_value(function: ScopeNode | None) -> str | None:
    """The parameter of an `__exit__` or `__aexit__` method that holds the exception the
    `with` block raised (`value` of `(self, typ, value, traceback)`)."""
    if not isinstance(function, cst.FunctionDef) or function.name.value not in _EXITS:
        return None
    params = [*function.params.posonly_params, *function.params.params]
    return params[2].name.value if len(params) == 4 else None


def _identity_test(test: cst.BaseExpression, left: str, right: str) -> bool | None:
    """For `left is right` True, for `left is not right` False (either order); None for
    any other test."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    target = test.comparisons[0]
    names = {dotted_name(test.left), dotted_name(target.comparator)}
    if names != {left, right}:
        return None
    if isinstance(target.operator, cst.Is):
        return True
    return False if isinstance(target.operator, cst.IsNot) else None


def _reraised_by_finally(target: cst.CSTNode, tries: Sequence[cst.Try | cst.TryStar]) -> bool:
    """`target` (a `try` or a `with`) sits in the `finally` of an enclosing `try` that is
    only ever left by an exception: its body cannot finish normally (`while True:` with no
    `break` or `return`) and it has no handler. That `finally` then runs with an exception
    in flight, the cancellation that ended the body among them, which its end raises
    again, unless a `return`, or a `break` or `continue` out of it, drops it: falling
    through `target` re-raises it."""
    for outer in reversed(tries):
        final = outer.finalbody
        if final is None or not any(node is target for node in descendants(final, prune=is_scope)):
            continue
        return (
            not outer.handlers
            and outer.orelse is None
            and not completions(outer.body.body)
            and not _drops_exception(final)
        )
    return False


def _drops_exception(block: cst.CSTNode, in_loop: bool = False) -> bool:
    """A `return` in `block`, or a `break` or `continue` not inside a loop of its own."""
    for node in children(block):
        if is_scope(node):
            continue
        if isinstance(node, cst.Return) or (
            isinstance(node, cst.Break | cst.Continue) and not in_loop
        ):
            return True
        if _drops_exception(node, in_loop or isinstance(node, cst.For | cst.While)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Rest:
    """Statements that run after a block completes; `loop`: the whole body of a loop,
    which runs again for as long as it goes round."""

    statements: Statements
    loop: bool = False


def _rests_after(body: Statements, target: cst.CSTNode) -> list[_Rest] | None:
    """What runs after `target` once it completes, outermost first (read from the end):
    the statements after it in each block that holds it, and for a loop (a `while`, or a
    `for` that is no `async for`, with no `else`) its whole body, which runs again before
    the statements after the loop; when `target` sits in `body` itself or in its `if`,
    `with`, `for` and `while` blocks. None when it is elsewhere (a nested `try`, an
    `async for`, another function)."""
    for position, statement in enumerate(body):
        after = _Rest(body[position + 1 :])
        if statement is target:
            return [after]
        for block, loop in _blocks_of(statement):
            found = _rests_after(block, target)
            if found is not None:
                return [after, *([_Rest(block, loop=True)] if loop else []), *found]
    return None


def _blocks_of(statement: cst.CSTNode) -> list[tuple[Statements, bool]]:
    """The blocks of an `if` (its `elif`s and `else`) and a `with`, left at their end for
    the statement after; and the body of a `while` or a `for` (not `async for`, which may
    wait for ever; with no `else`), left for the loop's head (True)."""
    if isinstance(statement, cst.With):
        return (
            [(statement.body.body, False)] if isinstance(statement.body, cst.IndentedBlock) else []
        )
    if isinstance(statement, cst.While | cst.For):
        if (
            (isinstance(statement, cst.For) and statement.asynchronous is not None)
            or statement.orelse is not None
            or not isinstance(statement.body, cst.IndentedBlock)
        ):
            return []
        return [(statement.body.body, True)]
    blocks: list[tuple[Statements, bool]] = []
    node: cst.If | cst.Else | None = statement if isinstance(statement, cst.If) else None
    while node is not None:
        if isinstance(node.body, cst.IndentedBlock):
            blocks.append((node.body.body, False))
        node = node.orelse if isinstance(node, cst.If) else None
    return blocks


def _spelled(raised: cst.Raise) -> str:
    """`ValueError`, `errors.Closed`: what a `raise` raises, for the message."""
    exc = raised.exc
    if isinstance(exc, cst.Call):
        exc = exc.func
    return dotted_name(exc) or "another exception"
