"""How a block of statements can finish other than by raising.

`completions(body)` answers with the ways control can leave a block normally:
`"fallthrough"` (past its last statement), `"return"`, `"break"` and
`"continue"`. An empty answer means every path raises (or never ends), which
is what "this handler always re-raises" needs. The walk visits statements
only, never expressions, and does not enter nested functions or classes.
Callers may say which calls never return and which `if` tests they can
decide (True/False/None for unknown), so that impossible branches are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import scope_body

FALLTHROUGH = "fallthrough"
RETURN = "return"
BREAK = "break"
CONTINUE = "continue"

Exits = frozenset[str]
Statements = Sequence[cst.BaseStatement | cst.BaseSmallStatement]
# Says whether a call never returns normally (`sys.exit(...)`); the caller resolves names.
NoReturn = Callable[[cst.Call], bool]
# The value of an `if` test where the caller knows it, else None.
Decide = Callable[[cst.BaseExpression], bool | None]

_NOTHING: Exits = frozenset()
_FALLS: Exits = frozenset({FALLTHROUGH})


def completions(
    body: Statements, no_return: NoReturn | None = None, decide: Decide | None = None
) -> Exits:
    """The normal exits of `body`; empty when every path through it raises."""
    return _Walker(no_return, decide).block(body)


def always_raises(body: Statements, no_return: NoReturn | None = None) -> bool:
    return not completions(body, no_return)


def never_returns(call: cst.Call, context: FileContext) -> bool:
    """`sys.exit(...)`, or a function or method of this module that always raises."""
    if context.qualname(call.func) in catalog.NO_RETURN_CALLS:
        return True
    function = _local_function(call.func, context)
    if function is None:
        return False
    if function.returns is not None:
        returns = context.qualname(function.returns.annotation)
        if returns in catalog.NO_RETURN_TYPES:
            return True
    # One level only: the helper's own calls are not followed.
    return always_raises(scope_body(function))


def _local_function(func: cst.BaseExpression, context: FileContext) -> cst.FunctionDef | None:
    """The `def` a plain name or a `self.method` denotes in this module, if just one."""
    if isinstance(func, cst.Name):
        found = context.names.lookup(func.value, context.chain)
        bindings = found[1] if found is not None else []
    elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        owner = context.bindings.class_of_receiver(func.value, context.chain)
        table = context.names.table(owner) if owner is not None else None
        bindings = table.bindings.get(func.attr.value, []) if table is not None else []
    else:
        return None
    function = bindings[0].node if len(bindings) == 1 else None
    # Calling an `async def` only makes a coroutine: nothing is raised yet.
    if not isinstance(function, cst.FunctionDef) or function.asynchronous is not None:
        return None
    return function


class _Walker:
    def __init__(self, no_return: NoReturn | None, decide: Decide | None) -> None:
        self.no_return = no_return
        self.decide = decide

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
            return _NOTHING
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
            return self._loop(node.body, node.orelse, endless=False)
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

    def _loop(self, body: cst.BaseSuite, orelse: cst.Else | None, *, endless: bool) -> Exits:
        inner = self.suite(body)
        exits = {RETURN} & inner
        if BREAK in inner:
            exits.add(FALLTHROUGH)
        # A loop that may stop by its condition (or runs zero times) reaches `else`.
        if not endless:
            exits |= self.suite(orelse.body) if orelse is not None else _FALLS
        return frozenset(exits)

    def _try(self, node: cst.Try | cst.TryStar) -> Exits:
        body = self.suite(node.body)
        exits = set(body - _FALLS)
        if FALLTHROUGH in body:
            exits |= self.suite(node.orelse.body) if node.orelse is not None else _FALLS
        # Any statement of the body may raise, so every handler is reachable.
        for handler in node.handlers:
            exits |= self.suite(handler.body)
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
        return self.no_return is not None and isinstance(value, cst.Call) and self.no_return(value)


def _is_true(test: cst.BaseExpression) -> bool:
    """`while True:` / `while 1:`, the loops that end only by break, return or raise."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.value not in ("0", "0x0", "0o0", "0b0")
