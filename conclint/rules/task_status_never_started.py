"""CCL109: a startable function that can return, or run forever, without `started()`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from conclint.analysis import catalog, cfg
from conclint.analysis.context import FileContext
from conclint.analysis.flow import FactAnalysis, analyse
from conclint.analysis.loops import is_forever
from conclint.analysis.scopes import iter_statements, scope_body
from conclint.analysis.startable import status_parameter
from conclint.analysis.tracking import MarkedScopes
from conclint.analysis.walk import children
from conclint.rules.base import Rule

_STARTED = frozenset().union(*catalog.STARTED_METHODS.values())
_START = "start"
_EXIT = "exit"
_MAY_RAISE = "may-raise"
_RAISED = "raised"
# Where a name is handed on: passed to a call, or stored.
_CARRIERS = (cst.Call, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr)
_Carrier = cst.Call | cst.Assign | cst.AnnAssign | cst.AugAssign | cst.NamedExpr


class TaskStatusNeverStarted(Rule):
    code = "CCL109"
    uses = (MarkedScopes,)
    name = "task-status-never-started"
    summary = "A startable function can return without calling `task_status.started()`"
    message = (
        "`{function}()` takes `{status}` but {how}: `{start}({function})` then {then}; call "
        "`{status}.started()` once it is ready, on every path"
    )
    # A startable function spells its status parameter or the class annotating it.
    needles = tuple(sorted({*catalog.STATUS_KEYWORDS.values()})) + catalog.kind_words(
        catalog.STARTED_METHODS
    )
    async_only = True
    peers = ("ASYNC128",)
    tags = ("trio", "anyio")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._status: dict[int, str] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None or _is_stub(node):
            return
        status = status_parameter(self.context, node, self.context.chain[:-1])
        if status is not None:
            self._status[id(node)] = status
            self.context.tracker(MarkedScopes).mark(self)

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        status = self._status.get(id(scope))
        if status is None or not isinstance(scope, cst.FunctionDef):
            return
        uses = _Uses(status)
        for statement in scope_body(scope):
            uses.walk(statement, nested=False)
        if uses.in_nested:
            return  # a nested function reports the start, maybe through a call not seen here
        result = analyse(self.context, scope, _Started(uses.own))
        returns_unstarted = any(
            op == _EXIT and any(not state & {_START, _RAISED} for state in states)
            for _, op, states in result.at_events()
        )
        never = not uses.own
        if returns_unstarted:
            how = "never calls" if never else "can return without calling"
            then = "raises RuntimeError when it returns"
        elif never and result.graph is not None and _loops_forever(scope):
            how, then = "never calls", "waits for it forever"
        else:
            return
        self.report(
            scope,
            function=scope.name.value,
            status=status,
            how=f"{how} `{status}.started()`",
            start=_start_call(),
            then=then,
        )


def _start_call() -> str:
    """`nursery.start`: how messages name the call that waits for the start."""
    return f"nursery.{min(min(m) for m in catalog.START_WAITING_METHODS.values())}"


class _Started(FactAnalysis[str, str]):
    """Whether the status has been reported (or handed on) on the path so far, and whether
    the path went through an exception (a handler that returns after a failure is not
    what this rule is about)."""

    key = "task-status-started"

    def __init__(self, starts: set[int]) -> None:
        self.starts = starts

    def classify(self, event: cfg.Event) -> str | None:
        if event.kind == cfg.EXIT and event.how == cfg.RETURN:
            return _EXIT
        if event.kind in (cfg.CALL, cfg.ASSIGN) and id(event.node) in self.starts:
            return _START
        return _MAY_RAISE if event.raises else None

    def transfer(self, state: frozenset[str], event: cfg.Event, op: str) -> frozenset[str]:
        return state | {_START} if op == _START else state

    def on_raise(self, state: frozenset[str], event: cfg.Event, op: str) -> frozenset[str]:
        return state | {_RAISED}


class _Uses:
    """Where a function reports its start: `status.started(...)` calls, and the calls and
    assignments that hand the status on (`serve(task_status=task_status)`, `ts = ...`),
    in its own code (`own`, by id) or in a nested function that sees the same name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.own: set[int] = set()
        self.in_nested = False

    def walk(self, node: cst.CSTNode, *, nested: bool, carrier: _Carrier | None = None) -> None:
        if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            shadowed = not isinstance(node, cst.ClassDef) and self.name in _parameter_names(
                node.params
            )
            if not shadowed:
                for child in children(node):
                    self.walk(child, nested=True)
            return
        if isinstance(node, cst.Name):
            if node.value == self.name and carrier is not None:
                self._found(carrier, nested)
            return
        if isinstance(node, cst.Call) and self._reports_start(node):
            self._found(node, nested)
        if isinstance(node, _CARRIERS):
            carrier = node
        for child in _expression_children(node):
            self.walk(child, nested=nested, carrier=carrier)

    def _reports_start(self, call: cst.Call) -> bool:
        func = call.func
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in _STARTED
            and isinstance(func.value, cst.Name)
            and func.value.value == self.name
        )

    def _found(self, carrier: _Carrier, nested: bool) -> None:
        if nested:
            self.in_nested = True
        else:
            self.own.add(id(carrier))


def _expression_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The children of `node` that may use the status as a value: not the names of
    attributes (`self.task_status`), keywords (`f(task_status=...)`) or assigned targets."""
    if isinstance(node, cst.Attribute):
        if not isinstance(node.value, cst.Name):
            yield node.value
        return
    if isinstance(node, cst.Arg):
        yield node.value
        return
    if isinstance(node, cst.Assign | cst.AnnAssign | cst.AugAssign | cst.NamedExpr):
        if node.value is not None:
            yield node.value
        return
    yield from children(node)


def _parameter_names(params: cst.Parameters) -> set[str]:
    found = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.add(star.name.value)
    return found


def _is_stub(function: cst.FunctionDef) -> bool:
    """`...`, `pass`, a docstring or `raise NotImplementedError`: an overload, a protocol's
    or an abstract method, which a real implementation overrides."""
    for statement in scope_body(function):
        for small in _smalls(statement):
            if isinstance(small, cst.Pass | cst.Raise):
                continue
            if isinstance(small, cst.Expr) and isinstance(
                small.value, cst.Ellipsis | cst.SimpleString | cst.ConcatenatedString
            ):
                continue
            return False
    return True


def _smalls(statement: cst.CSTNode) -> Sequence[cst.CSTNode]:
    if isinstance(statement, cst.SimpleStatementLine):
        return statement.body
    return [statement]


def _loops_forever(function: cst.FunctionDef) -> bool:
    """A `while True:` in the function's own code: it may never return."""
    return any(
        isinstance(statement, cst.While) and is_forever(statement.test)
        for statement in iter_statements(scope_body(function))
    )
