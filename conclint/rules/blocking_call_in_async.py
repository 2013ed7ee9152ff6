"""CCL601: a blocking call made directly inside `async def`."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint import fixes
from conclint.analysis import catalog
from conclint.analysis.blocking import BlockingCall, BlockingCalls, may_block, runs_alone
from conclint.analysis.context import FileContext
from conclint.config import Settings
from conclint.prefilter import Source
from conclint.rules.base import Rule


@dataclass(frozen=True)
class _Awaitable:
    """A blocking call written as a statement that an awaited coroutine function of the
    catalog (`async-form`) can stand for: how each one would be spelled here (None: its
    module is not imported), and whether its module's name is free to be imported."""

    call: cst.Call
    found: BlockingCall
    spelled: dict[str, str | None]
    importable: dict[str, bool]


class BlockingCallInAsync(Rule):
    code = "CCL601"
    name = "blocking-call-in-async"
    summary = "A blocking call inside `async def` stalls every task on the event loop"
    message = "`{call}` blocks the event loop; {remedy}"
    needles = ("async",)
    async_only = True
    # A blocking call needs an import of one of these modules, or a builtin (`open`).
    imports = catalog.BLOCKING_MODULES
    peers = (
        "ASYNC200",
        "ASYNC210",
        "ASYNC211",
        "ASYNC212",
        "ASYNC220",
        "ASYNC221",
        "ASYNC222",
        "ASYNC230",
        "ASYNC231",
        "ASYNC232",
        "ASYNC240",
        "ASYNC250",
        "ASYNC251",
    )
    tags = ("asyncio", "blocking")
    fixable = True
    uses = (BlockingCalls,)

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        return super().may_fire(source, settings) or may_block(source, settings)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Calls that are whole statements (their value is not used): `await` can go before.
        self._statements: set[int] = set()
        # Top-level modules the file imports anywhere, and its own package (trio's own
        # modules run on trio): which framework it runs on.
        self._own = _top(context.module_name or "")
        self._imported: set[str] = {self._own} - {""}
        self._awaitable: list[_Awaitable] = []

    def visit_Expr(self, node: cst.Expr) -> None:
        self._statements.add(id(node.value))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._imported.add(_top(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not node.relative and node.module is not None:
            self._imported.add(_top(node.module))

    def blocking_call(self, node: cst.Call, found: BlockingCall) -> None:
        if not self.context.in_async_function:
            return  # a sync def's call, told for CCL604
        if runs_alone(node, self.context.chain, self.context):
            return
        awaitable = self._awaitable_form(node, found)
        if awaitable is None:
            self.report(node, call=found.shown, remedy=found.remedy)
        else:  # reported once the file's imports are known
            self._awaitable.append(awaitable)

    def leave_Module(self, original_node: cst.Module) -> None:
        for item in self._awaitable:
            autofix = self._await_fix(item, original_node)
            self.report(item.call, autofix, call=item.found.shown, remedy=item.found.remedy)

    def _awaitable_form(self, call: cst.Call, found: BlockingCall) -> _Awaitable | None:
        """The call, when it is a statement of one positional argument (the form every
        `async-form` takes alike) to a function with such forms."""
        func = call.func
        entry = self.context.catalog.functions.get(self.context.qualname(func) or "")
        if (
            entry is None
            or not entry.async_form
            or id(call) not in self._statements
            or len(call.args) != 1
            or call.args[0].keyword is not None
            or call.args[0].star
            or func.lpar
        ):
            return None
        names, chain = self.context.names, self.context.chain
        return _Awaitable(
            call,
            found,
            {target: _spelling(self.context, target) for target in entry.async_form},
            {target: names.lookup(_top(target), chain) is None for target in entry.async_form},
        )

    def _await_fix(self, item: _Awaitable, module: cst.Module) -> fixes.Proposal | None:
        """`await <async form>(x)` of the framework the file imports. Certain when it
        imports exactly one of them; when it imports none, the first (asyncio) is a guess
        whose import is added: an unsafe fix."""
        used = [target for target in item.spelled if _top(target) in self._imported]
        if len(used) > 1:
            return None
        target = used[0] if used else next(iter(item.spelled))
        spelled = item.spelled[target]
        edits: list[fixes.NodeEdit] = []
        if spelled is None and _top(target) == self._own:
            return None  # a package importing itself by name: an import cycle, maybe
        if spelled is None:
            added = fixes.add_import(module, f"import {_top(target)}")
            if added is None or not item.importable[target]:
                return None
            edits.append(added)
            spelled = target
        edits.append(fixes.Replace(item.call.func, f"await {spelled}"))
        return fixes.Proposal(f"Use `await {target}(...)`", tuple(edits), safe=bool(used))


def _top(name: cst.BaseExpression | str) -> str:
    if isinstance(name, cst.Attribute):
        return _top(name.value)
    if isinstance(name, cst.Name):
        return name.value
    return name.partition(".")[0] if isinstance(name, str) else ""


def _spelling(context: FileContext, target: str) -> str | None:
    """How the code at hand names `target` (`asyncio.sleep`) through the module's imports:
    `asyncio.sleep`, `aio.sleep` or `sleep`; None when no import binds it or its module."""
    module, _, attribute = target.rpartition(".")
    chain = context.chain
    for name, bindings in context.names.table(context.module).bindings.items():
        if not all(binding.how == "import" for binding in bindings):
            continue
        denoted = context.names.resolve_name(name, chain)
        if denoted == target:
            return name
        if denoted == module:
            return f"{name}.{attribute}"
    return None
