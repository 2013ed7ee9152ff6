"""Per-file state shared by all rules: the scope chain and the shared analyses."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import libcst as cst
from libcst.metadata import CodeRange

from conclint.analysis import catalog as views
from conclint.analysis.bindings import Bindings
from conclint.analysis.names import NameResolver
from conclint.analysis.positions import Positions, positions_of
from conclint.analysis.project import ProjectIndex, facts_of, module_name, package_of
from conclint.analysis.scopes import ScopeNode
from conclint.analysis.tracking import Tracker
from conclint.analysis.types import ProjectTypes
from conclint.catalog import Catalog
from conclint.config import Settings

# The nodes that open a scope: the traversal calls `enter`/`leave` around each.
SCOPE_CLASSES: tuple[type[cst.CSTNode], ...] = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
T = TypeVar("T")
TrackerT = TypeVar("TrackerT", bound="Tracker[Any]")
# Method names that start a task on a loop (`loop.create_task`): the cheap test before the
# receiver's kind is looked up.
_TASK_SPAWN_NAMES = frozenset().union(*views.TASK_SPAWN_METHODS.values())


@dataclass
class FileContext:
    """Kept by the engine's before-visit/after-leave hooks, so that for every
    node a rule visits, `chain` is the module plus the classes, functions and
    lambdas that enclose it (outermost first)."""

    path: str
    module: cst.Module
    settings: Settings
    # What the other linted modules define (project mode); empty for a lone file.
    project: ProjectIndex = field(default_factory=ProjectIndex)
    chain: list[ScopeNode] = field(default_factory=list)
    # The text parsed: the index pass's facts of it, where the project has none.
    source: str = ""
    # What conclint knows under these settings: the shipped catalog and the user's entries.
    catalog: Catalog = field(init=False)
    names: NameResolver = field(init=False)
    bindings: Bindings = field(init=False)
    module_name: str | None = field(init=False)

    _memos: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    # The shared trackers the rules listen to, in the order they were first asked for.
    trackers: dict[type[Tracker[Any]], Tracker[Any]] = field(
        default_factory=dict, init=False, repr=False
    )
    # The project model (what the project's classes, functions and globals are), made when
    # first called.
    model: Callable[[], ProjectTypes] = field(init=False, repr=False)

    def memo(self, analysis: str, make: Callable[[], T]) -> T:
        """Per-file results of a shared analysis, made once and used by every rule that asks."""
        found = self._memos.get(analysis)
        if found is None:
            found = self._memos[analysis] = make()
        return cast(T, found)

    def tracker(self, kind: type[TrackerT]) -> TrackerT:
        """The file's one tracker of `kind`, made when first asked."""
        found = self.trackers.get(kind)
        if found is None:
            found = self.trackers[kind] = kind(self)
        return cast(TrackerT, found)

    def forget(self) -> None:
        """Drop the shared analyses' results. Some refer back to this context, which
        holds the syntax tree: without this, only the cyclic collector could free the
        tree, and it would first scan every node of it."""
        self._memos.clear()
        self.trackers.clear()

    def __post_init__(self) -> None:
        self.module_name = module_name(self.path)
        self.names = NameResolver(package_of(self.path, self.module_name), self.project.external)
        self.chain = [self.module]
        self.catalog = self.settings.catalog()
        self.model = _model_of(self.project, self.module_name, self.source, self.path, self.catalog)
        self.bindings = Bindings(
            self.names, self.catalog, self.module_name, self.model, self.module
        )

    def enter(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.ClassDef):
            self.bindings.chains[id(node)] = (*self.chain, node)
        self.chain.append(cast(ScopeNode, node))

    def leave(self, node: cst.CSTNode) -> None:
        self.chain.pop()

    # Questions rules ask -------------------------------------------------

    def positions(self) -> Positions:
        """Source ranges of every node. Costs a code generation: done once, when first asked
        (by a rule whose message names a second line, or by the engine for findings)."""
        return self.memo("positions", lambda: Positions(self.module))

    def positions_of(
        self, nodes: Collection[cst.CSTNode], source: str
    ) -> dict[cst.CSTNode, CodeRange]:
        """Ranges of a few nodes (the findings'): from the whole module's positions when a
        rule has asked for those already, else from the statements that hold the nodes."""
        everything = self._memos.get("positions")
        if everything is None:
            return positions_of(self.module, source, nodes)
        return {node: everything[node] for node in nodes}

    def is_task_spawn(self, call: cst.Call) -> bool:
        """A call that starts an asyncio task: `create_task`/`ensure_future`/
        `run_coroutine_threadsafe`, `loop.create_task` (not `TaskGroup.create_task`,
        which keeps its tasks), or a spawner of the user's catalog entries. Not
        `ensure_future(future)`: a spawner of role `keeps-futures` hands a future back as
        it is."""
        spawner = self.qualname(call.func)
        if spawner in self.catalog.functions_with("spawn"):
            first = call.args[0] if call.args else None
            return not (
                spawner in views.FUTURE_KEEPERS
                and first is not None
                and first.keyword is None
                and not first.star
                and self.kind_of(first.value) in views.FUTURE_KINDS
            )
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _TASK_SPAWN_NAMES:
            return False
        spawns = views.TASK_SPAWN_METHODS.get(self.kind_of(func.value) or "", frozenset())
        return func.attr.value in spawns

    def line_of(self, node: cst.CSTNode) -> int:
        """The 1-based line where `node` starts."""
        return self.positions()[node].start.line

    def qualname(self, expr: cst.BaseExpression) -> str | None:
        """Canonical dotted name of what `expr` denotes here (imports and aliases resolved)."""
        return self.names.resolve(expr, self.chain)

    def kind_of(self, expr: cst.BaseExpression) -> str | None:
        """Kind of object `expr` holds here (`asyncio.Queue`, `threading.Lock`, ...)."""
        return self.bindings.kind_of(expr, self.chain)

    @property
    def function(self) -> cst.FunctionDef | cst.Lambda | None:
        """The innermost function or lambda being visited."""
        for node in reversed(self.chain):
            if isinstance(node, cst.FunctionDef | cst.Lambda):
                return node
        return None

    @property
    def in_async_function(self) -> bool:
        """True directly inside `async def` (not in a nested sync def or lambda)."""
        function = self.function
        return isinstance(function, cst.FunctionDef) and function.asynchronous is not None

    def enclosing_class(self) -> cst.ClassDef | None:
        """The class whose method (or its nested function) is being visited."""
        for index in range(len(self.chain) - 1, 0, -1):
            if isinstance(self.chain[index], cst.FunctionDef) and isinstance(
                self.chain[index - 1], cst.ClassDef
            ):
                owner = self.chain[index - 1]
                assert isinstance(owner, cst.ClassDef)
                return owner
        return None


def _model_of(
    project: ProjectIndex, module: str | None, source: str, path: str, known: Catalog
) -> Callable[[], ProjectTypes]:
    """The project model, made when first asked. A file linted on its own (or one the
    index pass did not see) knows its own module. Holds nothing of the syntax tree."""

    @functools.cache
    def model() -> ProjectTypes:
        index = project
        if module is not None and module not in project.declared and source:
            index = project.with_module(module, facts_of(source, path, known))
        return index.types(known)

    return model
