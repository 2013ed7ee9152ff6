"""CCL604: a coroutine calls a sync helper (a function or a method) that makes a blocking call.

Helpers of the file are followed in the file (the lint pass sees everything around each
call); helpers of other modules, and methods of objects whose class the project model
knows (`self.store.save()`, `client.fetch()` with `client: Client`, a base class's
method), through the index's blocking summaries (`blocking_summary.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog, switches
from conclint.analysis.blocking import (
    BlockingCall,
    BlockingCalls,
    Offloads,
    asks_not_to_block,
    may_block,
    runs_alone,
)
from conclint.analysis.callees import (
    Callee,
    module_functions,
    plain_decorators,
)
from conclint.analysis.context import FileContext
from conclint.analysis.declared import NONE
from conclint.analysis.scopes import ScopeNode, dotted_name, identifier
from conclint.analysis.walk import descendants, is_scope
from conclint.config import Settings
from conclint.prefilter import Source
from conclint.rules.base import Rule

# Helpers followed from the coroutine to the blocking call, the first one included.
_MAX_DEPTH = 3

# A call of a possible helper and the chain of scopes it is written in.
_Site = tuple[cst.Call, tuple[ScopeNode, ...]]


@dataclass(slots=True)
class _Summary:
    """What calling one sync `def` does: its first blocking call, or the helpers it calls."""

    blocking: str | None = None
    calls: list[_Site] = field(default_factory=list)
    generator: bool = False


class BlockingCallViaHelper(Rule):
    code = "CCL604"
    name = "blocking-call-via-helper"
    summary = "A coroutine calls a sync function or method that blocks the event loop"
    message = (
        "`{chain}` blocks the event loop; run `{helper}` with `await asyncio.to_thread(...)` "
        "or make it async"
    )
    needles = ("async",)
    async_only = True
    imports = catalog.BLOCKING_MODULES
    tags = ("asyncio", "blocking")
    uses = (BlockingCalls,)

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        # A helper imported from another linted module may block whatever this file imports.
        if source.project.blocking and source.has_async_def:
            return True
        return super().may_fire(source, settings) or may_block(source, settings)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Blocking calls in sync defs too: what makes a helper block.
        context.tracker(BlockingCalls).in_sync_functions_too()
        # Asked, not listened to (a listener held by what it holds would outlive the file).
        self.offloads = context.tracker(Offloads)
        # Every sync `def` of the file by id, summarised during the traversal.
        self._summaries: dict[int, _Summary] = {}
        # Calls of possible helpers made directly in an `async def`.
        self._from_async: list[_Site] = []
        # Chains already worked out, by (id of the def, helpers still to follow, the mark
        # of the call's literal arguments).
        self._chains: dict[tuple[int, int, str], list[str] | None] = {}
        # Calls (by id) whose result is awaited: what runs there returns an awaitable.
        self._awaited: set[int] = set()

    def blocking_call(self, node: cst.Call, found: BlockingCall) -> None:
        # Blocking calls directly in `async def` are CCL601's; here only sync defs count,
        # and each by its first blocking call, which the message names.
        summary = self._summaries.get(id(self.context.function))
        if summary is not None and summary.blocking is None:
            summary.blocking = found.shown

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            self._summaries[id(node)] = _Summary()

    def visit_Yield(self, node: cst.Yield) -> None:
        # Calling a generator function runs none of its body.
        summary = self._summaries.get(id(self.context.function))
        if summary is not None:
            summary.generator = True

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        function = self.context.function
        if self.offloads.open or not isinstance(function, cst.FunctionDef):
            return  # runs on a worker thread, in a lambda, or at import time
        summary = self._summaries.get(id(function))  # None in an `async def`
        if (summary is None or summary.blocking is None) and _may_be_helper(node.func):
            site = (node, tuple(self.context.chain))
            (summary.calls if summary is not None else self._from_async).append(site)

    def leave_Module(self, original_node: cst.Module) -> None:
        # Helpers may be defined after the coroutines that call them: resolve at the end.
        for call, chain in self._from_async:
            if id(call) in self._awaited and self._hands_back_awaitable(call, chain):
                continue
            links = self._via(call, chain, _MAX_DEPTH)
            if links is not None and not runs_alone(call, chain, self.context):
                self.report(call, chain=" -> ".join(links), helper=links[0].removesuffix("()"))

    def _hands_back_awaitable(self, call: cst.Call, chain: tuple[ScopeNode, ...]) -> bool:
        """`await helper()` where the sync `def` found for `helper` returns the coroutine
        of an `async def` it defines (one half of a sync and async pair: called from
        async code, it hands one back), or, found through the model (an annotation,
        which may be written for the sync twin of what runs), returns nothing, which no
        one awaits: what runs there is not that `def`."""
        callees = module_functions(call.func, self.context, chain)
        if callees:
            # The file's own defs are what runs: one that returns nothing fails when
            # awaited, after it blocked, which is still worth the report.
            return all(_returns_own_coroutine(function) for function, _ in callees)
        func = call.func
        facts = None
        imported = self.context.bindings.qualified(func, chain)
        if imported is not None:
            facts = self.context.model().function_facts(imported)
        elif isinstance(func, cst.Attribute):
            method = identifier(func.attr.value)
            owner = self._receiver_class(func.value, method, chain)
            found = self.context.model().method(owner, method) if owner is not None else None
            facts = found[1] if found is not None else None
        return facts is not None and not facts.is_async and facts.returns == (NONE,)

    def _via(self, call: cst.Call, chain: tuple[ScopeNode, ...], depth: int) -> list[str] | None:
        """`helper() -> ... -> blocking()` when every def `call` may run blocks within `depth`."""
        if asks_not_to_block(call):
            return None  # `self.take(block=False)`: the helper's own non-blocking form
        callees = module_functions(call.func, self.context, chain)
        if not callees:
            return self._via_project(call, chain, depth)
        given = _arguments(call)
        tails = [self._blocking_chain(function, scope, depth, given) for function, scope in callees]
        first = tails[0]
        if first is None or None in tails:
            return None
        return [f"{dotted_name(call.func)}()", *first]

    def _via_project(
        self, call: cst.Call, chain: tuple[ScopeNode, ...], depth: int
    ) -> list[str] | None:
        """A helper the project model knows: a function imported from another module, or
        a method of a project class called on an instance of it."""
        func = call.func
        # An import, or a class of this file (`Settings.from_base()`, inherited).
        imported = self.context.bindings.qualified(func, chain)
        if imported in self.context.catalog.functions_with("blocking"):
            return None  # a blocking call of the catalog (`os.makedirs`) is CCL601's finding
        found: Sequence[str] | None = None
        given = _arguments(call)
        if imported is not None:
            found = self.context.model().blocking_chain(imported, depth, given)
        if found is None and isinstance(func, cst.Attribute):
            method = identifier(func.attr.value)
            owner = self._receiver_class(func.value, method, chain)
            off = self._switched_off(func.value, owner, chain) if owner is not None else None
            callees = self._defined_here(owner, method) if owner is not None and not off else None
            if callees is not None:
                # A class of this file: its method is read with all the file shows.
                tails = [
                    self._blocking_chain(function, scope, depth, given)
                    for function, scope in callees
                ]
                found = tails[0] if tails and None not in tails else None
            elif owner is not None:
                # The model's chain, which knows what the instance holds None in.
                model = self.context.model()
                found = model.method_blocking_chain(owner, method, depth, off or frozenset(), given)
        if found is None:
            return None
        return [f"{_spelled(func)}()", *found]

    def _defined_here(self, owner: str, method: str) -> list[Callee] | None:
        """The `def`s of `method` when the file's own top-level class `owner` defines it
        (not inherits it); None otherwise."""
        module, _, name = owner.rpartition(".")
        if module != self.context.module_name:
            return None
        names = self.context.names
        found = names.table(self.context.module).bindings.get(name)
        if not found or len(found) != 1 or not isinstance(found[0].node, cst.ClassDef):
            return None
        node = found[0].node
        members = names.table(node).bindings.get(method)
        if not members or any(member.how != "def" for member in members):
            return None
        scope = self.context.bindings.chains.get(id(node), (self.context.module, node))
        return [(m.node, scope) for m in members if isinstance(m.node, cst.FunctionDef)]

    def _receiver_class(
        self, receiver: cst.BaseExpression, method: str, chain: tuple[ScopeNode, ...]
    ) -> str | None:
        """The project class of the object a method is called on, as the model knows it:
        `self` of a class that does not bind the method itself (a base class's), or an
        instance (`self.store`, `client: Client`, `Store()`)."""
        bindings = self.context.bindings
        if isinstance(receiver, cst.Name):
            owner = bindings.class_of_receiver(receiver, chain)
            if owner is not None:
                if method in self.context.names.table(owner).bindings:
                    return None  # the class's own, which the file shows (or replaces)
                if method in bindings.assigned_attributes(owner):
                    return None  # `self.method = ...` somewhere in the class
                return bindings.class_name(owner)
        return bindings.instance_of(receiver, chain)

    def _switched_off(
        self, receiver: cst.BaseExpression, kind: str, chain: tuple[ScopeNode, ...]
    ) -> frozenset[str]:
        """For `self.attr` or a module global, the attributes of the instance of `kind` it
        holds that hold None (`ProjectTypes.switched_off`)."""
        if isinstance(receiver, cst.Name):
            name = self.context.bindings.global_name(receiver, chain)
            return self.context.model().global_switched_off(name, kind) if name else frozenset()
        if not (isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name)):
            return frozenset()
        bindings = self.context.bindings
        node = bindings.class_of_receiver(receiver.value, chain)
        made_in = bindings.class_name(node) if node is not None else None
        if made_in is None:
            return frozenset()
        return self.context.model().switched_off(made_in, receiver.attr.value, kind)

    def _blocking_chain(
        self, function: cst.FunctionDef, scope: tuple[ScopeNode, ...], depth: int, given: str
    ) -> list[str] | None:
        """How calling `function` with arguments marked `given` (`switches.arguments`)
        reaches a blocking call, following at most `depth` helpers."""
        key = (id(function), depth, given)
        if key not in self._chains:
            found = self._summarise(function, scope, depth)
            if found is not None and given and self._switched_off_by(function, scope, given):
                found = None
            self._chains[key] = found
        return self._chains[key]

    def _switched_off_by(
        self, function: cst.FunctionDef, scope: tuple[ScopeNode, ...], given: str
    ) -> bool:
        """The index's summary of `function` (a module-level function or a method of a
        top-level class) blocks, but not with these arguments: every blocking path waits
        behind a test of a parameter that the call passes the other way (`if force_async:
        return ...` before `time.sleep()`)."""
        found = self._indexed(function, scope)
        if found is None:
            return False
        owner, name = found
        model = self.context.model()
        if owner is None:
            return (
                model.blocking_chain(name) is not None
                and model.blocking_chain(name, given=given) is None
            )
        return (
            model.method_blocking_chain(owner, name) is not None
            and model.method_blocking_chain(owner, name, given=given) is None
        )

    def _indexed(
        self, function: cst.FunctionDef, scope: tuple[ScopeNode, ...]
    ) -> tuple[str | None, str] | None:
        """How the index names `function`: (None, `module.function`) or (`module.Class`,
        `method`); None for a nested `def`."""
        module = self.context.module_name
        if module is None or len(scope) > 2:
            return None
        owner = scope[1] if len(scope) == 2 else None
        if isinstance(owner, cst.ClassDef):
            return f"{module}.{owner.name.value}", function.name.value
        if owner is not None:
            return None
        return None, f"{module}.{function.name.value}"

    def _summarise(
        self, function: cst.FunctionDef, scope: tuple[ScopeNode, ...], depth: int
    ) -> list[str] | None:
        summary = self._summaries.get(id(function))
        if (
            summary is None
            or summary.generator
            or not plain_decorators(function, scope, self.context)
        ):
            return None
        # A global filled on the first call, or `@functools.cache`: the index's summary
        # (`facts.memoised`) leaves out what runs only once.
        if _declares_global(function) or function.decorators:
            memoised = self._memoised_chain(function, scope, depth)
            if memoised is not None:
                return memoised or None
        if summary.blocking is not None:
            return [summary.blocking]
        # Depth falls by one per helper, so a cycle of helpers ends like any other chain.
        for call, chain in summary.calls if depth > 1 else ():
            found = self._via(call, chain, depth - 1)
            if found is not None:
                return found
        return None

    def _memoised_chain(
        self, function: cst.FunctionDef, scope: tuple[ScopeNode, ...], depth: int
    ) -> list[str] | None:
        """For a `def` that fills a module global on its first call, or runs its body once
        under a memoising decorator (`facts.memoised`), the index's chain, which leaves
        out what it calls only then (empty when it does not block); None for any other
        `def`."""
        found = self._indexed(function, scope)
        if found is None:
            return None
        owner, name = found
        model = self.context.model()
        if owner is not None:
            method = model.method(owner, name)
            if method is None or not method[1].memoised:
                return None
            chain = model.method_blocking_chain(owner, name, depth)
        else:
            facts = model.function_facts(name)
            if facts is None or not facts.memoised:
                return None
            chain = model.blocking_chain(name, depth)
        return list(chain or ())


def _declares_global(function: cst.FunctionDef) -> bool:
    """A `global` statement among the function's top-level statements."""
    return any(
        isinstance(statement, cst.SimpleStatementLine)
        and any(isinstance(part, cst.Global) for part in statement.body)
        for statement in function.body.body
    )


def _arguments(call: cst.Call) -> str:
    """The mark of the call's literal arguments (`switches.arguments`); "" when it unpacks
    any."""
    if any(arg.star for arg in call.args):
        return ""
    positional = [_truth(arg.value) for arg in call.args if arg.keyword is None]
    keywords = [(arg.keyword.value, _truth(arg.value)) for arg in call.args if arg.keyword]
    return switches.mark(positional, keywords)


def _truth(value: cst.BaseExpression) -> bool | None:
    """`switches.truth` of a literal of LibCST's tree."""
    if isinstance(value, cst.Name) and value.value in ("True", "False", "None"):
        return value.value == "True"
    if isinstance(value, cst.Integer | cst.Float):
        return bool(value.evaluated_value)
    if isinstance(value, cst.SimpleString) and not value.prefix.lower().count("b"):
        return bool(value.evaluated_value)
    return None


def _may_be_helper(func: cst.BaseExpression) -> bool:
    """`helper(...)`, `self.helper(...)`, `Class.helper(...)`, `self.store.save(...)`, ..."""
    return isinstance(func, cst.Name | cst.Attribute)


def _spelled(func: cst.BaseExpression) -> str:
    """How a message names what is called: `self.store.save`, `open_store().save`."""
    dotted = dotted_name(func)
    if dotted is not None or not isinstance(func, cst.Attribute):
        return dotted or ""
    receiver = func.value
    if isinstance(receiver, cst.Call):
        return f"{_spelled(receiver.func)}().{func.attr.value}"
    return func.attr.value


def _returns_own_coroutine(function: cst.FunctionDef) -> bool:
    """A `return` of the def's own body gives the call of an `async def` it defines."""
    own = list(descendants(function.body, prune=is_scope))
    defined = {
        node.name.value
        for node in own
        if isinstance(node, cst.FunctionDef) and node.asynchronous is not None
    }
    return any(
        isinstance(node, cst.Return)
        and isinstance(node.value, cst.Call)
        and isinstance(node.value.func, cst.Name)
        and node.value.func.value in defined
        for node in own
    )
