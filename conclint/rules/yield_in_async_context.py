"""CCL207: a generator that yields inside `with`/`async with`, leaving the block open."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.derived import derived_kind
from conclint.analysis.handoff import own_function
from conclint.analysis.timeouts import entered_kind, with_form
from conclint.analysis.uses import ARG, BIND, callee, uses_in
from conclint.analysis.walk import descendants, is_scope
from conclint.config import Settings
from conclint.prefilter import Source
from conclint.rules.base import Rule

# What stays entered across the `yield`, by kind, for messages.
_SCOPES = catalog.CANCEL_SCOPE_KINDS | catalog.TASK_GROUP_KINDS
_SCOPE_MODULES = catalog.kind_modules(_SCOPES)
SCOPE, HELD = "scope", "held"


@dataclass(slots=True)
class _Generator:
    """A function whose body is being visited, with the `with` blocks open in it."""

    node: cst.FunctionDef | cst.Lambda
    is_async: bool
    # Decorated to be run to its end by a context manager, a fixture or a channel.
    managed: bool
    # (statement, item, what it enters) per open block.
    blocks: list[tuple[cst.With, cst.WithItem, str | None]] = field(default_factory=list)


class YieldInAsyncContext(Rule):
    code = "CCL207"
    name = "yield-in-async-context"
    summary = "A generator yields inside `with`/`async with`: the block stays open for its consumer"
    message = "`yield` inside `{construct}` in {generator} `{function}()`: {problem}; {fix}"
    needles = ("yield",)
    peers = ("ASYNC101", "ASYNC119")
    tags = ("asyncio", "trio", "anyio", "generator")

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        # An async generator, or a sync one inside a cancel scope or task group (which
        # only the modules that make those have).
        if not super().may_fire(source, settings):
            return False
        return source.has_async_def or source.imports_any(
            _SCOPE_MODULES | settings.configured_modules()
        )

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._functions: list[_Generator] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        managed = (
            any(self._manages(decorator.decorator) for decorator in node.decorators)
            or self._wrapped(node)
            or self._handed_to_manager(node)
            or self._closed_by_consumers(node)
        )
        self._functions.append(_Generator(node, node.asynchronous is not None, managed))

    def _closed_by_consumers(self, node: cst.FunctionDef) -> bool:
        """An async generator that only the project calls (a private function, a method of
        a private class or a private method, a function nested in another) and that every
        call closes (`async with aclosing(self._flow(request))`, or `await flow.aclose()`
        in `finally`): its block is left when the consumer is done."""
        name = node.name.value
        module = self.context.module_name
        if node.asynchronous is None or module is None:
            return False
        model = self.context.model()
        chain = self.context.chain  # the module, maybe a class, then the function
        if any(isinstance(scope, cst.FunctionDef) for scope in chain[1:-1]):
            return model.closed_by_every_use(module, name)  # a nested one: its module's calls
        if len(chain) == 2:
            return name.startswith("_") and model.closed_by_every_use(module, name)
        owner = chain[1] if len(chain) == 3 else None
        if not isinstance(owner, cst.ClassDef):
            return False
        if not (name.startswith("_") or owner.name.value.startswith("_")):
            return False  # a public method of a public class: code outside may call it
        qualified = self.context.bindings.class_name(owner)
        return qualified is not None and model.closed_by_every_use(module, name, qualified)

    def _handed_to_manager(self, node: cst.FunctionDef) -> bool:
        """A module-level function that the module only names to give it to a call that
        runs generators to their end (`Depends(get_session)`)."""
        if len(self.context.chain) != 2:  # the module, then the function
            return False
        uses = [
            use
            for use in uses_in(self.context, self.context.module).of(node.name.value)
            if use.how != BIND
        ]
        return bool(uses) and all(
            use.how == ARG
            and use.call is not None
            and callee(self.context, use.call) in catalog.GENERATOR_MANAGERS
            for use in uses
        )

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._functions.append(_Generator(node, False, True))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._functions.pop()

    def _wrapped(self, node: cst.FunctionDef) -> bool:
        """A decorator that may hand the generator to machinery of its own (`@operator` of a
        streams library, a framework's route): who consumes it, and whether that closes
        it, is not known. Those that keep a generator function as it is
        (`@staticmethod`, `@abstractmethod`) do not count."""
        keeping = self.context.catalog.functions_with("keeps-coroutine")
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if self.context.names.resolve(expr, self.context.chain[:-1]) not in keeping:
                return True
        return False

    def _manages(self, decorator: cst.BaseExpression) -> bool:
        """`@asynccontextmanager`, `@pytest.fixture(scope="module")`, ... (resolved where the
        function is defined)."""
        if isinstance(decorator, cst.Call):
            decorator = decorator.func
        found = self.context.names.resolve(decorator, self.context.chain[:-1])
        return found in catalog.GENERATOR_MANAGERS

    def visit_With_body(self, node: cst.With) -> None:
        if self._functions:
            blocks = self._functions[-1].blocks
            for item in node.items:
                blocks.append((node, item, self._holds(node, item)))

    def _holds(self, node: cst.With, item: cst.WithItem) -> str | None:
        """SCOPE for a cancel scope or task group, HELD for anything else whose exit has
        work to do: an async context manager (its exit awaits) or an object the catalog
        knows (a file, a lock, a stream). A sync context manager it does not know is
        usually one that maps or suppresses exceptions, with nothing to clean up."""
        kind = entered_kind(item, self.context)
        if kind in _SCOPES:
            return SCOPE
        if self._holds_nothing(item):
            return None
        if node.asynchronous is not None or kind is not None:
            return HELD
        return None

    def _holds_nothing(self, item: cst.WithItem) -> bool:
        """An item that only closes a generator whose closing the generator being visited
        does not put off (`aclosing(...)` of the catalog's role `closes-on-exit`, or a
        project class made as one):
        - its own parameter (`aclosing(chunks)`, `aclosing(chunks.__aiter__())`), a stage
          of a pipeline whose block only closes its input, which closing this generator
          would close no sooner without it;
        - an async generator of the module with no `with` and no `try` in it
          (`aclosing(self._checks())`), whose closing runs nothing."""
        call = item.item
        if not (isinstance(call, cst.Call) and len(call.args) == 1):
            return False
        closer = self.context.bindings.qualified(call.func, self.context.chain)
        if closer is None or not self.context.model().closes_on_exit(closer):
            return False
        given = _iterated(call.args[0].value)
        if isinstance(given, cst.Name):
            params = self._functions[-1].node.params
            return any(
                param.name.value == given.value
                for param in (*params.posonly_params, *params.params, *params.kwonly_params)
            )
        found = (
            own_function(given.func, self.context, self.context.chain)
            if isinstance(given, cst.Call)
            else None
        )
        return (
            found is not None
            and found[0].asynchronous is not None
            and not any(
                isinstance(node, cst.With | cst.Try | cst.TryStar)
                for node in descendants(found[0].body, prune=is_scope)
            )
        )

    def _body_read_before(self, node: cst.With, item: cst.WithItem, target: cst.Yield) -> bool:
        """A simple statement that runs before the one holding `target`, at its level or in
        a block around it (`if resp.status != 200: text = await resp.text(); yield ...`),
        always awaits a read of the response's whole body (`await resp.json()`, a method
        of the catalog's role `reads-to-end`): its connection is back in the pool, and
        leaving the block has nothing left to do."""
        response = item.asname.name if item.asname is not None else None
        if not isinstance(response, cst.Name):
            return False
        kind = derived_kind(item.item, self.context.bindings, self.context.chain)
        readers = catalog.BODY_READERS.get(kind or "")
        if not readers:
            return False
        block: cst.BaseSuite | None = node.body
        while block is not None:
            holding = None
            for statement in _statements(block):
                if _holds(statement, target):
                    holding = statement
                    break
                if isinstance(statement, cst.SimpleStatementLine) and any(
                    _awaits_method(found, response.value, readers)
                    for found in descendants(statement, prune=_maybe_skipped)
                ):
                    return True
            # On into the block of the statement holding the yield that holds it.
            inner = _blocks(holding) if holding is not None else []
            block = next((b for b in inner if _holds(b, target)), None)
        return False

    def leave_With_body(self, node: cst.With) -> None:
        if self._functions:
            blocks = self._functions[-1].blocks
            while blocks and blocks[-1][0] is node:
                blocks.pop()

    def visit_Yield(self, node: cst.Yield) -> None:
        if not self._functions:
            return
        function = self._functions[-1]
        if function.managed or not function.blocks:
            return
        # A cancel scope or task group left open is the worse problem: name it first.
        scopes = [block for block in function.blocks if block[2] == SCOPE]
        held = [
            block
            for block in function.blocks
            if block[2] == HELD and not self._body_read_before(block[0], block[1], node)
        ]
        if scopes:
            statement, item, _ = scopes[-1]
            group = entered_kind(item, self.context) in catalog.TASK_GROUP_KINDS
            problem = (
                f"the {'task group' if group else 'scope'} stays entered while the consumer "
                "runs, so its cancellation lands in the consumer's code and errors cross into "
                "the wrong frame"
            )
            fix = "open it around the loop that consumes the items, or send them over a channel"
        elif function.is_async and held:
            statement, item, _ = held[-1]
            problem = (
                "the block stays open while the consumer runs, and if the consumer stops "
                "early its cleanup waits for garbage collection, or never runs"
            )
            fix = "make it an `@asynccontextmanager`, or iterate it in `async with aclosing(...)`"
        else:
            # A sync generator's `with` is closed by `close()` when the consumer drops it.
            return
        assert isinstance(function.node, cst.FunctionDef)
        self.report(
            node,
            construct=with_form(statement, item),
            generator="async generator" if function.is_async else "generator",
            function=function.node.name.value,
            problem=problem,
            fix=fix,
        )


def _iterated(given: cst.BaseExpression) -> cst.BaseExpression:
    """`chunks` of `chunks.__aiter__()`: an async generator's `__aiter__` returns itself."""
    if (
        isinstance(given, cst.Call)
        and not given.args
        and isinstance(given.func, cst.Attribute)
        and given.func.attr.value == "__aiter__"
    ):
        return given.func.value
    return given


def _statements(block: cst.BaseSuite) -> list[cst.CSTNode]:
    """The statements of a block, in order."""
    return list(block.body) if isinstance(block, cst.IndentedBlock) else [block]


def _awaits_method(node: cst.CSTNode, receiver: str, methods: frozenset[str]) -> bool:
    """`await receiver.m()` for one of `methods`."""
    if not isinstance(node, cst.Await) or not isinstance(node.expression, cst.Call):
        return False
    func = node.expression.func
    return (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == receiver
        and func.attr.value in methods
    )


def _holds(node: cst.CSTNode, target: cst.CSTNode) -> bool:
    return any(found is target for found in descendants(node, prune=is_scope))


def _maybe_skipped(node: cst.CSTNode) -> bool:
    """A part of a statement that may not run (`a if c else b`, `a or b`, a comprehension)
    or runs elsewhere (a nested function)."""
    return is_scope(node) or isinstance(
        node, cst.IfExp | cst.BooleanOperation | cst.ListComp | cst.SetComp | cst.DictComp
    )


def _blocks(statement: cst.CSTNode) -> list[cst.BaseSuite]:
    """The blocks that run after the start of a compound statement: an `if`'s or a loop's
    body and `else`, a `with`'s or a `try`'s body (not its handlers or `finally`, which
    may run without it)."""
    if isinstance(statement, cst.If):
        found = [statement.body]
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            return [*found, *_blocks(orelse)]
        return [*found, orelse.body] if orelse is not None else found
    if isinstance(statement, cst.For | cst.While):
        return [statement.body] + ([statement.orelse.body] if statement.orelse else [])
    if isinstance(statement, cst.With | cst.Try | cst.TryStar):
        return [statement.body]
    return []
