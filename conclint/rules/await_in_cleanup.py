"""CCL206: an unshielded await in cleanup code that trio and anyio cancel at once."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.cancellation import caught_cancellation
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import dotted_name
from conclint.analysis.timeouts import SHIELD_FLAGS, entered_kind, is_false, shielded
from conclint.analysis.tracking import Tries
from conclint.analysis.walk import descendants
from conclint.rules.base import Rule

Handler = cst.ExceptHandler | cst.ExceptStarHandler
# The `if` branches around a statement, outermost first: (id of the `if`, 0 body / 1 else).
Branches = tuple[tuple[int, int], ...]
# The method Python calls when an `async with` block ends.
_AEXIT = "__aexit__"
# The keywords and attributes that shield a cancel scope (`shield=True`).
_FIX = "shield it with a timeout: `with move_on_after(seconds, shield=True):`"


@dataclass(slots=True)
class _Shield:
    """A context manager entered inside the region: a cancel scope that shields its block
    once it has `shield=True` or gets `.shield = True`."""

    node: cst.With
    name: str | None  # what `as` binds it to
    shielded: bool


@dataclass(slots=True)
class _Region:
    """Cleanup being visited: a `finally` block, an `except` clause or `__aexit__`.

    `critical` regions run while the task may be cancelled (a `finally`, a handler of the
    cancellation, `__aexit__`); in others (`except ValueError:`) an await only loses the
    exception being handled, which matters when the handler re-raises it afterwards."""

    node: cst.CSTNode
    scope: int
    critical: bool
    clause: str  # `finally:`, `except BaseException:`; the line is added when reporting
    shields: list[_Shield] = field(default_factory=list)
    # `scope.shield = True` on a scope entered around the region: the rest of it is shielded.
    outer_shield: bool = False
    entered: set[str] = field(default_factory=set)  # names `with ... as` bound in the region
    caught_as: str | None = None  # `except ValueError as exc:` binds `exc`
    # Awaits of a non-critical handler, reported once a re-raise follows them: (node, what,
    # the `if` branches it sits in).
    pending: list[tuple[cst.CSTNode, str, Branches]] = field(default_factory=list)


class AwaitInCleanup(Rule):
    code = "CCL206"
    name = "await-in-cleanup"
    summary = "An await in `finally`, a cancellation handler or `__aexit__` is cancelled at once"
    message = "`{what}` in {where} {problem}; {fix}"
    # The await must sit in `async def` of a file importing trio or anyio.
    needles = ("async",)
    imports = catalog.LEVEL_CANCELLATION_MODULES
    async_only = True
    preview = True
    peers = ("ASYNC102", "ASYNC120")
    tags = ("trio", "anyio", "cancellation")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._regions: list[_Region] = []
        # The enclosing `try` statements, innermost last (shared with other rules).
        self._tries = context.tracker(Tries).open
        self._branches: list[tuple[int, int]] = []
        # Findings per `async def`, kept until it is known which library its code uses, and
        # those of the functions that run on trio or anyio if the file uses one of them.
        self._found: dict[int, list[tuple[cst.CSTNode, dict[str, str]]]] = {}
        self._ready: list[tuple[cst.CSTNode, dict[str, str]]] = []
        self._level = False  # the file imports trio or anyio

    def _here(self) -> int:
        return id(self.context.chain[-1])

    def _innermost(self) -> _Region | None:
        if self._regions and self._regions[-1].scope == self._here():
            return self._regions[-1]
        return None

    def _open(self, node: cst.CSTNode, critical: bool, clause: str) -> None:
        self._regions.append(_Region(node, self._here(), critical, clause))

    def _where(self, region: _Region) -> str:
        if isinstance(region.node, cst.FunctionDef):
            return f"`{region.clause}`"
        return f"`{region.clause}` (line {self.context.line_of(region.node)})"

    def _close(self, node: cst.CSTNode) -> None:
        if self._regions and self._regions[-1].node is node:
            self._regions.pop()

    # Regions ------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is not None and node.name.value == _AEXIT:
            self._open(node, True, _AEXIT)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._close(original_node)
        found = self._found.pop(id(original_node), [])
        if found and not self._edge_cancelled(original_node):
            self._ready.extend(found)

    # Which library the file runs on: it imports trio or anyio (anywhere), or is part of one.

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._note_import(dotted_name(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not node.relative and node.module is not None:
            self._note_import(dotted_name(node.module))

    def _note_import(self, module: str | None) -> None:
        if (module or "").partition(".")[0] in catalog.LEVEL_CANCELLATION_MODULES:
            self._level = True

    def leave_Module(self, original_node: cst.Module) -> None:
        own = (self.context.module_name or "").partition(".")[0]
        if self._level or own in catalog.LEVEL_CANCELLATION_MODULES:
            for node, fields in self._ready:
                self.report(node, **fields)

    def _edge_cancelled(self, function: cst.FunctionDef) -> bool:
        """The function's code names asyncio's API and not trio's or anyio's: in a file that
        uses both, it runs on asyncio, which cancels once."""
        modules: set[str] = set()
        for node in descendants(function):
            if isinstance(node, cst.Name):
                found = self.context.names.resolve_name(node.value, self.context.chain)
                modules.add((found or "").partition(".")[0])
        return bool(modules & catalog.EDGE_CANCELLATION_MODULES) and not (
            modules & catalog.LEVEL_CANCELLATION_MODULES
        )

    def _note(self, node: cst.CSTNode, what: str, region: _Region, problem: str) -> None:
        fields = {"what": what, "where": self._where(region), "problem": problem, "fix": _FIX}
        function = self.context.function
        self._found.setdefault(id(function), []).append((node, fields))

    def visit_Finally(self, node: cst.Finally) -> None:
        if self.context.in_async_function:
            self._open(node, True, "finally:")

    def leave_Finally(self, original_node: cst.Finally) -> None:
        self._close(original_node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._enter_handler(node)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._close(original_node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._enter_handler(node)

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        self._close(original_node)

    def _enter_handler(self, node: Handler) -> None:
        if not self.context.in_async_function or not self._tries:
            return
        inner = self._innermost()
        if inner is not None and inner.critical:
            return  # cleanup inside cleanup is still cleanup
        caught = caught_cancellation(node.type, self.context)
        critical = caught is not None and not self._caught_before(node)
        star = "*" if isinstance(node, cst.ExceptStarHandler) else ""
        spelled = dotted_name(node.type) if node.type is not None else None
        if spelled is None and node.type is not None:
            spelled = caught  # `except anyio.get_cancelled_exc_class():`
        clause = f"except{star} {spelled}:" if spelled else f"except{star}:"
        self._open(node, critical, clause)
        if isinstance(node.name, cst.AsName) and isinstance(node.name.name, cst.Name):
            self._regions[-1].caught_as = node.name.name.value

    def _caught_before(self, node: Handler) -> bool:
        """An earlier clause of the same `try` takes the cancellation first."""
        for sibling in self._tries[-1].handlers:
            if sibling is node:
                return False
            if caught_cancellation(sibling.type, self.context) is not None:
                return True
        return False

    # Shields ----------------------------------------------------------------------------

    def visit_With(self, node: cst.With) -> None:
        region = self._innermost()
        if region is None:
            return
        kinds = [entered_kind(item, self.context) for item in node.items]
        # Entering a task group does not wait; entering another async context manager does.
        if node.asynchronous is not None and any(
            kind not in catalog.TASK_GROUP_KINDS for kind in kinds
        ):
            self._suspends(node, "async with", region)
        for item in node.items:
            name = _bound_name(item)
            region.shields.append(_Shield(node, name, shielded(item)))
            if name is not None:
                region.entered.add(name)

    def leave_With(self, original_node: cst.With) -> None:
        region = self._innermost()
        if region is not None:
            region.shields = [s for s in region.shields if s.node is not original_node]

    def visit_Assign(self, node: cst.Assign) -> None:
        """`scope.shield = True`, `nursery.cancel_scope.shield = True`: on a scope entered in
        the region, or on one around it (which then shields the rest of the region)."""
        region = self._innermost()
        if region is None or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, cst.Attribute) or target.attr.value not in SHIELD_FLAGS:
            return
        owner = dotted_name(target.value) or ""
        shielded = not is_false(node.value)
        for shield in reversed(region.shields):
            if shield.name is not None and (
                owner == shield.name or owner.startswith(f"{shield.name}.")
            ):
                shield.shielded = shielded
                return
        if owner.partition(".")[0] not in region.entered:  # not a scope the region has left
            region.outer_shield = shielded

    # Suspension points ------------------------------------------------------------------

    def visit_Await(self, node: cst.Await) -> None:
        region = self._innermost()
        if region is not None and not self._safe(node.expression):
            self._suspends(node, "await", region)

    def visit_For(self, node: cst.For) -> None:
        region = self._innermost()
        if region is not None and node.asynchronous is not None:
            self._suspends(node, "async for", region)

    # Which awaits of a handler a re-raise follows: not those of the other branch of an
    # `if`, nor those after which the handler returns.

    def visit_If_body(self, node: cst.If) -> None:
        self._branches.append((id(node), 0))

    def leave_If_body(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self._branches.append((id(node), 1))

    def leave_If_orelse(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_Return(self, node: cst.Return) -> None:
        region = self._innermost()
        if region is not None and region.pending:
            here = tuple(self._branches)
            region.pending = [p for p in region.pending if p[2][: len(here)] != here]

    def visit_Raise(self, node: cst.Raise) -> None:
        region = self._innermost()
        if region is None or region.critical or not _reraises(node, region.caught_as):
            return
        here = tuple(self._branches)
        problem = (
            "runs before the `raise`: if it is cancelled, the cancellation replaces the "
            "exception being handled, which is lost"
        )
        for suspended, what, branches in region.pending:
            if _may_precede(branches, here):
                self._note(suspended, what, region, problem)
        region.pending = [p for p in region.pending if not _may_precede(p[2], here)]

    def _suspends(self, node: cst.CSTNode, what: str, region: _Region) -> None:
        if region.outer_shield or any(shield.shielded for shield in region.shields):
            return
        if not region.critical:
            region.pending.append((node, what, tuple(self._branches)))
            return
        problem = (
            "is cancelled at once when the task is being cancelled, so the cleanup after it "
            "never runs"
        )
        self._note(node, what, region, problem)

    def _safe(self, awaited: cst.BaseExpression) -> bool:
        """Calls meant for cleanup under cancellation: `x.aclose()`, `aclose_forcefully(x)`,
        and handing the exit on to another context manager (`await cm.__aexit__(...)`), which
        is what `async with` does."""
        if not isinstance(awaited, cst.Call):
            return False
        func = awaited.func
        if isinstance(func, cst.Attribute) and func.attr.value == _AEXIT:
            return True
        if isinstance(func, cst.Attribute) and func.attr.value in catalog.SAFE_IN_CLEANUP_METHODS:
            return not awaited.args
        return self.context.qualname(func) in catalog.SAFE_IN_CLEANUP_CALLS


def _reraises(node: cst.Raise, caught_as: str | None) -> bool:
    """`raise`, `raise exc` or `raise Other(...) from exc`: the handled exception goes on."""
    if node.exc is None:
        return True
    if caught_as is None:
        return False
    cause = node.cause.item if node.cause is not None else None
    return any(isinstance(e, cst.Name) and e.value == caught_as for e in (node.exc, cause))


def _may_precede(earlier: Branches, later: Branches) -> bool:
    """Code in the `earlier` branches can run before code in the `later` ones: they do not
    sit in different branches of one `if`."""
    for first, second in zip(earlier, later, strict=False):
        if first != second:
            return first[0] != second[0]
    return True


def _bound_name(item: cst.WithItem) -> str | None:
    return dotted_name(item.asname.name) if item.asname is not None else None
