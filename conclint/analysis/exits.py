"""How a block of statements can finish other than by raising.

`completions(body)` answers with the ways control can leave a block normally:
`"fallthrough"` (past its last statement), `"return"`, `"break"` and
`"continue"`. An empty answer means every path raises (or never ends), which
is what "this handler always re-raises" needs. The walk visits statements
only, never expressions, and does not enter nested functions or classes.
Callers may say which calls never return (given the value of an expression
statement: a call, or an awaited one) and which `if` tests they can
decide (True/False/None for unknown), so that impossible branches are skipped,
and which `for` iterables surely have an item (the body then runs at least once).

A handler's body may also end by raising something other than what it caught:
given `reraises`, a `raise` it does not accept is the exit `"raise-other"`, unless
an enclosing `try` of the block may catch it, or it re-raises what a nested handler
caught (`except OSError: raise`: that propagates a failure of the code in the
handler, as if there were no nested `try`). With `yields`, a `yield` statement is
the exit `"yield"`: control leaves the block there and may come back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import ScopeNode, scope_body

FALLTHROUGH = "fallthrough"
RETURN = "return"
BREAK = "break"
CONTINUE = "continue"
RAISE_OTHER = "raise-other"
YIELD = "yield"

Exits = frozenset[str]
Statements = Sequence[cst.BaseStatement | cst.BaseSmallStatement]
# Says whether the value of an expression statement never returns normally (`sys.exit(...)`,
# `await self._fail(exc)`); the caller resolves names.
NoReturn = Callable[[cst.BaseExpression], bool]
# The value of an `if` test where the caller knows it, else None.
Decide = Callable[[cst.BaseExpression], bool | None]
# Says whether a `raise` statement raises again what the block handles (`raise`, `raise exc`).
Reraises = Callable[[cst.Raise], bool]
# Says whether a `for` loop's iterable surely has an item.
HasItems = Callable[[cst.BaseExpression], bool]

_NOTHING: Exits = frozenset()
_FALLS: Exits = frozenset({FALLTHROUGH})
_RAISES_OTHER: Exits = frozenset({RAISE_OTHER})
_YIELDS: Exits = frozenset({YIELD, FALLTHROUGH})
# Exits that end a loop's iteration without leaving the scope.
_LOOP_EXITS = frozenset({FALLTHROUGH, BREAK, CONTINUE})


def completions(
    body: Statements,
    no_return: NoReturn | None = None,
    decide: Decide | None = None,
    *,
    reraises: Reraises | None = None,
    has_items: HasItems | None = None,
    yields: bool = False,
) -> Exits:
    """The normal exits of `body`; empty when every path through it raises (what it handles)."""
    return _Walker(no_return, decide, reraises, has_items, yields).block(body)


def always_raises(body: Statements, no_return: NoReturn | None = None) -> bool:
    return not completions(body, no_return)


def never_returns(
    value: cst.BaseExpression,
    context: FileContext,
    chain: Sequence[ScopeNode] | None = None,
    caught_as: str | None = None,
) -> bool:
    """`value` is a call that never comes back (awaited, for a coroutine function): one the
    catalog says never returns (`sys.exit(...)`), or one of a project function or method
    (`project_never_returns`). `chain` is where the call is (the context's)."""
    call = value.expression if isinstance(value, cst.Await) else value
    if not isinstance(call, cst.Call):
        return False
    scopes = context.chain if chain is None else chain
    if context.names.resolve(call.func, scopes) in context.catalog.functions_with("never-returns"):
        return True
    return project_never_returns(value, context, scopes, caught_as)


def project_never_returns(
    value: cst.BaseExpression,
    context: FileContext,
    chain: Sequence[ScopeNode] | None = None,
    caught_as: str | None = None,
) -> bool:
    """`value` is a call of a project function or method (of this module, another one, a
    base class) that never returns, as `ProjectTypes` says: awaited, for a coroutine
    function. With `caught_as`, also one given the exception that name holds (a
    cancellation) of a helper that raises it again (`reraise(exc)`)."""
    awaited = isinstance(value, cst.Await)
    call = value.expression if isinstance(value, cst.Await) else value
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute | cst.Name):
        return False
    func = call.func
    spelled = func.attr.value if isinstance(func, cst.Attribute) else func.value
    scopes = context.chain if chain is None else chain
    model = context.model()
    found = context.bindings.callee(func, scopes) if spelled in model.ending_names() else None
    if found is None:
        return _nested_raises(func, awaited, context, scopes)
    name = found[0]
    dispatched = (
        isinstance(func, cst.Attribute) and context.bindings.qualified(func, scopes) is None
    )
    if model.never_returns(name, awaited=awaited, dispatched=dispatched):
        return True
    if caught_as is None or not (dispatched or isinstance(func, cst.Name)):
        return False  # `Class.method(self, exc)` passes its receiver: positions differ
    given = _argument(call, caught_as)
    return given is not None and model.reraises(name, given, awaited=awaited, dispatched=dispatched)


def _argument(call: cst.Call, name: str) -> int | str | None:
    """Where `call` passes the variable `name`: its position or keyword."""
    for position, arg in enumerate(call.args):
        if arg.star:
            return None  # positions after `*args` are unknown
        if isinstance(arg.value, cst.Name) and arg.value.value == name:
            return arg.keyword.value if arg.keyword is not None else position
    return None


def _nested_raises(
    func: cst.BaseExpression, awaited: bool, context: FileContext, chain: Sequence[ScopeNode]
) -> bool:
    """A function defined inside a function (which the project model does not know), or
    one of a module the model cannot name, whose every path raises: a local `def` (an
    `async def` awaited), or a method of the class for `self.method`."""
    if context.module_name is not None and not _bound_in_function(func, context, chain):
        return False
    function = _local_function(func, context, chain, awaited)
    if function is None:
        return False
    returns = function.returns
    if returns and context.names.resolve(returns.annotation, chain) in catalog.NO_RETURN_TYPES:
        return True
    # One level only: the helper's own calls are not followed.
    return always_raises(scope_body(function))


def _bound_in_function(
    func: cst.BaseExpression, context: FileContext, chain: Sequence[ScopeNode]
) -> bool:
    found = context.names.lookup(func.value, chain) if isinstance(func, cst.Name) else None
    return found is not None and isinstance(chain[found[0]], cst.FunctionDef)


def has_items(iterable: cst.BaseExpression, context: FileContext) -> bool:
    """The iterable surely gives an item: a display or string literal that is not empty
    (`[1, 2]`, `(*(), *(1,))`, `{**{}, **{1: 2}}`, `"ab"`), or a counting call of the
    catalog (`range(3)`) whose literal bounds count at least one number."""
    if isinstance(iterable, cst.List | cst.Tuple | cst.Set):
        return any(
            not isinstance(element, cst.StarredElement) or has_items(element.value, context)
            for element in iterable.elements
        )
    if isinstance(iterable, cst.Dict):
        return any(
            isinstance(element, cst.DictElement) or has_items(element.value, context)
            for element in iterable.elements
        )
    if isinstance(iterable, cst.SimpleString | cst.ConcatenatedString):
        value = iterable.evaluated_value
        return value is not None and len(value) > 0
    if not isinstance(iterable, cst.Call) or not iterable.args:
        return False
    bounds = [_integer(arg.value) for arg in iterable.args if arg.keyword is None and not arg.star]
    numbers = [number for number in bounds if number is not None]
    if len(numbers) != len(iterable.args) or len(numbers) > 3 or numbers[2:] == [0]:
        return False
    return context.qualname(iterable.func) in catalog.COUNTING_CALLS and bool(range(*numbers))


def _integer(expr: cst.BaseExpression) -> int | None:
    """The value of an integer literal, negative ones included."""
    negative = isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus)
    if negative:
        assert isinstance(expr, cst.UnaryOperation)
        expr = expr.expression
    if not isinstance(expr, cst.Integer):
        return None
    value = expr.evaluated_value
    return -value if negative else value


def _local_function(
    func: cst.BaseExpression, context: FileContext, chain: Sequence[ScopeNode], awaited: bool
) -> cst.FunctionDef | None:
    """The `def` a plain name or a `self.method` denotes in this module, if just one (an
    `async def` where the call is awaited)."""
    if isinstance(func, cst.Name):
        found = context.names.lookup(func.value, chain)
        bindings = found[1] if found is not None else []
    elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        owner = context.bindings.class_of_receiver(func.value, chain)
        table = context.names.table(owner) if owner is not None else None
        bindings = table.bindings.get(func.attr.value, []) if table is not None else []
    else:
        return None
    function = bindings[0].node if len(bindings) == 1 else None
    # Calling an `async def` only makes a coroutine: nothing is raised until it is awaited.
    if not isinstance(function, cst.FunctionDef) or (
        function.asynchronous is not None and not awaited
    ):
        return None
    return function


class _Walker:
    def __init__(
        self,
        no_return: NoReturn | None,
        decide: Decide | None,
        reraises: Reraises | None,
        has_items: HasItems | None,
        yields: bool,
    ) -> None:
        self.no_return = no_return
        self.decide = decide
        self.reraises = reraises
        self.has_items = has_items
        self.yields = yields
        # How many `try` bodies with handlers enclose the statement: what it raises may be
        # caught there.
        self.guarded = 0
        # The names of the nested handlers being walked (None for `except X:` without one).
        self.handling: list[str | None] = []

    def block(self, body: Statements) -> Exits:
        found: set[str] = set()
        for statement in body:
            exits = self.statement(statement)
            found |= exits - _FALLS
            if FALLTHROUGH not in exits:
                return frozenset(found)  # the rest is unreachable
        found.add(FALLTHROUGH)
        return frozenset(found)

    def suite(self, suite: cst.BaseSuite | None) -> Exits:
        return _FALLS if suite is None else self.block(suite.body)

    def statement(self, node: cst.BaseStatement | cst.BaseSmallStatement) -> Exits:
        if isinstance(node, cst.SimpleStatementLine):
            return self.block(node.body)
        if isinstance(node, cst.Raise):
            return self._raise(node)
        if self.yields and _is_yield(node):
            return _YIELDS
        if isinstance(node, cst.Return):
            return frozenset({RETURN})
        if isinstance(node, cst.Break):
            return frozenset({BREAK})
        if isinstance(node, cst.Continue):
            return frozenset({CONTINUE})
        if isinstance(node, cst.Expr) and self._never_returns(node.value):
            return _NOTHING
        if isinstance(node, cst.If):
            known = self.decide(node.test) if self.decide is not None else None
            if known is None:
                return self.suite(node.body) | self._orelse(node.orelse)
            return self.suite(node.body) if known else self._orelse(node.orelse)
        if isinstance(node, cst.While):
            return self._loop(node.body, node.orelse, endless=_is_true(node.test))
        if isinstance(node, cst.For):
            once = self.has_items is not None and self.has_items(node.iter)
            return self._loop(node.body, node.orelse, endless=False, runs=once)
        if isinstance(node, cst.With):
            return self.suite(node.body)
        if isinstance(node, cst.Try | cst.TryStar):
            return self._try(node)
        if isinstance(node, cst.Match):
            return self._match(node)
        return _FALLS

    def _orelse(self, orelse: cst.If | cst.Else | None) -> Exits:
        if orelse is None:
            return _FALLS
        if isinstance(orelse, cst.If):
            return self.statement(orelse)
        return self.suite(orelse.body)

    def _loop(
        self, body: cst.BaseSuite, orelse: cst.Else | None, *, endless: bool, runs: bool = False
    ) -> Exits:
        """`runs`: the body surely runs once, so the loop ends by its condition only if an
        iteration can end normally."""
        inner = self.suite(body)
        exits = set(inner - _LOOP_EXITS)
        if BREAK in inner:
            exits.add(FALLTHROUGH)
        # A loop that may stop by its condition (or runs zero times) reaches `else`.
        repeats = FALLTHROUGH in inner or CONTINUE in inner
        if not endless and (repeats or not runs):
            exits |= self.suite(orelse.body) if orelse is not None else _FALLS
        return frozenset(exits)

    def _raise(self, node: cst.Raise) -> Exits:
        if self.reraises is None or self.guarded:
            return _NOTHING
        if self.handling:
            # `raise` or `raise err` in a nested `except ... as err`: what the nested code
            # raised goes on, as it would without that `try`.
            raised = node.exc
            if raised is None or (isinstance(raised, cst.Name) and raised.value in self.handling):
                return _NOTHING
        return _NOTHING if self.reraises(node) else _RAISES_OTHER

    def _try(self, node: cst.Try | cst.TryStar) -> Exits:
        guarded = bool(node.handlers)
        self.guarded += guarded
        body = self.suite(node.body)
        self.guarded -= guarded
        exits = set(body - _FALLS)
        if FALLTHROUGH in body:
            exits |= self.suite(node.orelse.body) if node.orelse is not None else _FALLS
        # Any statement of the body may raise, so every handler is reachable.
        for handler in node.handlers:
            self.handling.append(handler_name(handler))
            exits |= self.suite(handler.body)
            self.handling.pop()
        if node.finalbody is None:
            return frozenset(exits)
        final = self.suite(node.finalbody.body)
        if FALLTHROUGH not in final:
            return final  # `finally` that raises or returns overrides every path
        return frozenset(exits | (final - _FALLS))

    def _match(self, node: cst.Match) -> Exits:
        exits: set[str] = set()
        for case in node.cases:
            exits |= self.suite(case.body)
        last = node.cases[-1] if node.cases else None
        irrefutable = (
            last is not None
            and last.guard is None
            and isinstance(last.pattern, cst.MatchAs)
            and last.pattern.pattern is None
        )
        if not irrefutable:
            exits.add(FALLTHROUGH)
        return frozenset(exits)

    def _never_returns(self, value: cst.BaseExpression) -> bool:
        return self.no_return is not None and self.no_return(value)


def _is_yield(node: cst.BaseStatement | cst.BaseSmallStatement) -> bool:
    """`yield x` or `value = yield x` as a statement."""
    if isinstance(node, cst.Expr | cst.Assign | cst.AnnAssign | cst.AugAssign):
        return isinstance(node.value, cst.Yield)
    return False


def handler_name(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> str | None:
    """`err` of `except OSError as err:`, else None."""
    name = handler.name.name if handler.name is not None else None
    return name.value if isinstance(name, cst.Name) else None


def _is_true(test: cst.BaseExpression) -> bool:
    """`while True:` / `while 1:`, the loops that end only by break, return or raise."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.value not in ("0", "0x0", "0o0", "0b0")
