"""CCL102: a coroutine that is created and never awaited, so its body never runs."""

from __future__ import annotations

import libcst as cst

from conclint import fixes
from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.coroutines import CoroutineFunctions
from conclint.analysis.discards import DISCARDED, TESTED, Discards
from conclint.analysis.scopes import dotted_name
from conclint.analysis.walk import descendants
from conclint.config import Settings
from conclint.prefilter import Source
from conclint.rules.base import Rule

AS_TEXT = "formatted as text"
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


class UnawaitedCoroutine(Rule):
    code = "CCL102"
    name = "unawaited-coroutine"
    summary = "A coroutine is created and never awaited, so its body never runs"
    message = "coroutine from `{callee}(...)` is {how}, so its body never runs; `await` it"
    # Every coroutine it knows comes from an `async def` here, a coroutine function of the
    # catalog (`asyncio.sleep`, `trio.sleep`) or a method of a kind that has some.
    needles = ("async", *catalog.words(catalog.ASYNCIO_COROUTINES))
    method_needles = catalog.method_needles(catalog.COROUTINE_METHODS)
    peers = ("ASYNC105",)
    tags = ("asyncio", "coroutine")
    uses = (Discards,)
    fixable = True

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        # A call of another module's coroutine function needs no `async` in this file.
        if source.may_call_project_coroutine:
            return True
        # The others are this file's `async def`s, or come from the coroutine modules (the
        # shipped ones and the user's), called by a name the file spells.
        if source.has_async_def:
            return True
        modules = catalog.COROUTINE_MODULES | settings.configured_modules()
        return source.imports_any(modules) and super().may_fire(source, settings)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.coroutines = CoroutineFunctions(context)
        self._reported: set[int] = set()
        # The blocks that must raise being visited (`with pytest.raises(TypeError):`), with
        # their function (ids): a call there fails before making a coroutine.
        self._expecting: list[tuple[int, int]] = []
        # The `if not inspect.iscoroutinefunction(self.close):` being visited: in its body,
        # calling `self.close` makes no coroutine (a sync twin's guard).
        self._sync_only: list[tuple[cst.If, str]] = []

    def discarded(self, call: cst.Call, how: str) -> None:
        self._check(call, how)

    def visit_With(self, node: cst.With) -> None:
        if any(
            isinstance(item.item, cst.Call)
            and self.context.qualname(item.item.func)
            in self.context.catalog.functions_with("expects-raise")
            for item in node.items
        ):
            self._expecting.append((id(node), id(self.context.function)))

    def leave_With(self, original_node: cst.With) -> None:
        if self._expecting and self._expecting[-1][0] == id(original_node):
            self._expecting.pop()

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if (
            isinstance(test, cst.UnaryOperation)
            and isinstance(test.operator, cst.Not)
            and isinstance(tested := test.expression, cst.Call)
            and len(tested.args) == 1
            and self.context.qualname(tested.func) in catalog.COROUTINE_FUNCTION_TESTS
            and (name := dotted_name(tested.args[0].value))
        ):
            self._sync_only.append((node, name))

    def leave_If(self, original_node: cst.If) -> None:
        if self._sync_only and self._sync_only[-1][0] is original_node:
            self._sync_only.pop()

    def _sync_only_here(self, call: cst.Call) -> bool:
        """`call` runs only where its callee is no coroutine function, as a test says."""
        name = dotted_name(call.func)
        return any(
            guarded == name and any(node is call for node in descendants(branch.body))
            for branch, guarded in self._sync_only
        )

    def _check(self, expr: cst.BaseExpression, how: str) -> None:
        if not isinstance(expr, cst.Call) or id(expr) in self._reported:
            return
        if self._expecting and self._expecting[-1][1] == id(self.context.function):
            return  # the test says the call raises: no coroutine is made
        if self._sync_only and self._sync_only_here(expr):
            return
        callee = self.coroutines.callee(expr)
        if callee is not None:
            self._reported.add(id(expr))
            autofix = self._await_fix(expr, callee) if how == DISCARDED else None
            self.report(expr, autofix, callee=dotted_name(expr.func) or callee, how=how)

    def _await_fix(self, call: cst.Call, callee: str) -> fixes.Proposal | None:
        """`await` before a call written as a statement of `async def`, when the coroutine
        function is certain: an `async def` of this module (a function or a method of its
        class) or one of the catalog's, called by its imported name. The coroutine
        methods of objects whose kind was inferred, and other modules' functions, are
        left alone."""
        if not self.context.in_async_function or callee in self.coroutines.external:
            return None
        func = call.func
        if isinstance(func, cst.Attribute):
            kind = self.context.kind_of(func.value)
            if kind is not None and callee == f"{kind}.{func.attr.value}":
                return None
        return fixes.Proposal("Add `await`", (fixes.Insert(call, "await "),))

    # Discards, truth tests and `with` come from `Discards`.

    # Text: a coroutine's repr ends up in the output instead of its result.

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        self._check(node.expression, AS_TEXT)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Modulo) and isinstance(node.left, _STRINGS):
            right = node.right
            values = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
            for value in values:
                self._check(value, AS_TEXT)

    def visit_Call(self, node: cst.Call) -> None:
        if not any(isinstance(arg.value, cst.Call) for arg in node.args):
            return  # the common case, decided without resolving anything
        how = self._use_of_arguments(node.func)
        if how is not None:
            for arg in node.args:
                self._check(arg.value, how)

    def _use_of_arguments(self, func: cst.BaseExpression) -> str | None:
        if isinstance(func, cst.Attribute):
            # `"...".format(x)`: a method of Python's own string literals, not of an API.
            if func.attr.value == "format" and isinstance(func.value, _STRINGS):
                return AS_TEXT
            if func.attr.value in catalog.LOGGER_METHODS and func.attr.value in (
                catalog.FORMATTING_METHODS.get(self.context.kind_of(func.value) or "", ())
            ):
                return AS_TEXT
        qualified = self.context.qualname(func)
        if qualified in catalog.TEXT_CALLS:
            return AS_TEXT
        return TESTED if qualified in catalog.TRUTH_CALLS else None
