"""CCL502: a task, thread or job started per item of an endless loop, with no limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.handoff import find_handoff, own_function
from conclint.analysis.loops import LoopStack, LoopVisits, OpenLoop
from conclint.analysis.scopes import ScopeNode, iter_statements, scope_body
from conclint.config import Settings
from conclint.rules.base import Rule

# The fact noted on a loop whose body limits or paces what it starts.
GUARD = "guard"
# Spawns that queue work for a pool of workers rather than start it.
_QUEUED = frozenset({"submit", "run_in_executor", "apply_async"})
_SPAWN_NAMES = frozenset(
    {"start", *(name for names in catalog.SPAWN_METHODS.values() for name in names)}
)


@dataclass(slots=True)
class _Spawn:
    call: cst.Call
    label: str
    handle: str | None  # the name the task/thread/future is kept in, if any


class UnboundedSpawn(LoopVisits, Rule):
    code = "CCL502"
    name = "unbounded-spawn"
    summary = "Work is started for every item of an endless loop with no limit on concurrency"
    message = (
        "`{spawn}(...)` {effect} on every turn of an endless loop and nothing limits {limit}; "
        "bound it with a semaphore, a bounded queue or a fixed set of workers"
    )
    needles = (
        "create_task",
        "ensure_future",
        "run_coroutine_threadsafe",
        "start",
        "submit",
        "run_in_executor",
        "apply_async",
    )
    tags = ("asyncio", "threading", "memory")

    @classmethod
    def needles_for(cls, settings: Settings) -> tuple[str, ...]:
        return cls.needles + tuple(name.rpartition(".")[2] for name in settings.extra_spawners)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = LoopStack(context)
        self._spawns: dict[int, list[_Spawn]] = {}  # endless loop -> what it starts
        self._targets: dict[int, str] = {}  # call -> the name its result is assigned to
        self._withs: dict[int, int] = {}  # open `with` statement -> loops open around it
        self._limited: dict[int, bool] = {}  # function -> takes a limiter in its own body

    # Spawns ------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        if not self.loops.open:
            return
        self._guard_call(node)
        loop = self.loops.endless()
        label = self._spawn_label(node) if loop is not None else None
        if loop is None or label is None or self._limited_by_structure(node, loop):
            return
        handle = self._targets.get(id(node))
        func = node.func
        if label.endswith(".start") and isinstance(func, cst.Attribute):
            handle = func.value.value if isinstance(func.value, cst.Name) else handle
        self.loops.remember(node)
        self._spawns.setdefault(id(loop.node), []).append(_Spawn(node, label, handle))

    def _spawn_label(self, call: cst.Call) -> str | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SPAWN_NAMES:
            method = func.attr.value
            kind = self.context.kind_of(func.value)
            if method == "start" and kind in catalog.STARTED_KINDS:
                return _spelled(func)
            if kind is not None and method in catalog.SPAWN_METHODS.get(kind, ()):
                return _spelled(func)
        callee = self.context.qualname(func)
        if callee in catalog.TASK_SPAWNERS or callee in self.context.settings.extra_spawners:
            return _spelled(func)
        return None

    def _limited_by_structure(self, call: cst.Call, loop: OpenLoop) -> bool:
        """`async with TaskGroup() as tg:` inside the loop, or a limiter inside the work."""
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            found = self.context.names.lookup(func.value.value, self.context.chain)
            depth = self.loops.open.index(loop) + 1
            for binding in found[1] if found else ():
                if binding.how == "with" and self._withs.get(id(binding.node), -1) >= depth:
                    return True  # the block waits for its work before the loop goes on
        work = self._work_of(call)
        if isinstance(work, cst.Call):
            work = work.func
        function = own_function(work, self.context, self.context.chain) if work else None
        return function is not None and self._takes_limiter(*function)

    def _work_of(self, call: cst.Call) -> cst.BaseExpression | None:
        """What a spawn runs: `work(x)` of `create_task(work(x))`, or the callable handed over."""
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "start":
            started = func.value  # `Thread(target=work)` itself, or the name bound to it
            if isinstance(started, cst.Name):
                found = self.context.names.lookup(started.value, self.context.chain)
                values = [binding.value for binding in found[1]] if found else []
                started = values[0] if len(values) == 1 and values[0] is not None else started
            call = started if isinstance(started, cst.Call) else call
        handoff = find_handoff(call, self.context)
        if handoff is not None:
            return handoff.function
        return call.args[0].value if call.args and call.args[0].keyword is None else None

    def _takes_limiter(self, function: cst.FunctionDef, chain: Sequence[ScopeNode]) -> bool:
        known = self._limited.get(id(function))
        if known is None:
            inner = (*chain, function)
            known = self._limited[id(function)] = any(
                _limits(statement, self.context, inner)
                for statement in iter_statements(scope_body(function))
            )
        return known

    # Guards, noted on the loops around them ------------------------------------

    def _guard_call(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "acquire":
                self.loops.note(GUARD)
            elif method == "put" and self.context.kind_of(func.value) in catalog.BLOCKING_PUT_KINDS:
                self.loops.note(GUARD)  # a full queue makes the producer wait
            elif method in ("join", "result") and isinstance(func.value, cst.Name):
                self.loops.note(f"joined:{func.value.value}")
        callee = self.context.qualname(func)
        if callee in catalog.WAITING_CALLS or callee in catalog.PACING_CALLS:
            self.loops.note(GUARD)

    def visit_Await(self, node: cst.Await) -> None:
        if self.loops.open and isinstance(node.expression, cst.Name):
            self.loops.note(f"joined:{node.expression.value}")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        # `if len(self._tasks) >= LIMIT:` caps what runs at once by hand.
        if self.loops.open and any(
            isinstance(operand, cst.Call) and self.context.qualname(operand.func) == "builtins.len"
            for operand in (node.left, *(target.comparator for target in node.comparisons))
        ):
            self.loops.note(GUARD)

    def visit_With(self, node: cst.With) -> None:
        self._withs[id(node)] = len(self.loops.open)
        if self.loops.open and any(
            self.context.kind_of(item.item) in catalog.LIMITER_KINDS for item in node.items
        ):
            self.loops.note(GUARD)

    def leave_With(self, original_node: cst.With) -> None:
        self._withs.pop(id(original_node), None)

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[-1].target
        if isinstance(target, cst.Name) and isinstance(node.value, cst.Call):
            self._targets[id(node.value)] = target.value

    # Verdict -------------------------------------------------------------------

    def loop_done(self, loop: OpenLoop) -> None:
        spawns = self._spawns.pop(id(loop.node), [])
        if GUARD in loop.facts:
            return
        for spawn in spawns:
            if self.loops.runs_once(spawn.call):
                continue  # `create_task(...)` then `break`: started once, not per turn
            if spawn.handle is None or f"joined:{spawn.handle}" not in loop.facts:
                self.report(spawn.call, spawn=spawn.label, **_effect(spawn.call))


def _effect(call: cst.Call) -> dict[str, str]:
    """An executor caps how much runs at once; what grows then is its queue of waiting jobs."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _QUEUED:
        return {"effect": "queues a job", "limit": "the executor's backlog"}
    return {"effect": "starts work", "limit": "how much runs at once"}


def _spelled(func: cst.BaseExpression) -> str:
    """How the message shows the spawning callee: `tg.create_task`, `Thread(...).start`."""
    if isinstance(func, cst.Attribute):
        owner = func.value
        prefix = owner.value if isinstance(owner, cst.Name) else None
        if isinstance(owner, cst.Call):
            prefix = f"{_spelled(owner.func)}(...)"
        elif isinstance(owner, cst.Attribute):
            prefix = _spelled(owner)
        return f"{prefix}.{func.attr.value}" if prefix else func.attr.value
    return func.value if isinstance(func, cst.Name) else "spawn"


def _limits(statement: cst.CSTNode, context: FileContext, chain: Sequence[ScopeNode]) -> bool:
    """`async with sem:` or `await sem.acquire()` as a statement of the work's own body."""
    if isinstance(statement, cst.With):
        return any(
            context.bindings.kind_of(item.item, chain) in catalog.LIMITER_KINDS
            for item in statement.items
        )
    if isinstance(statement, cst.Expr):
        value = statement.value
        value = value.expression if isinstance(value, cst.Await) else value
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "acquire"
        )
    return False
