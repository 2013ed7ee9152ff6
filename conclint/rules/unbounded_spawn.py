"""CCL502: a task, thread or job started per item of an endless loop, with no limit."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.handoff import own_function, work_of
from conclint.analysis.limits import LimitedFunctions, is_size_comparison
from conclint.analysis.loops import Loops, OpenLoop
from conclint.analysis.scopes import dotted_name
from conclint.analysis.teardown import TEARDOWN_METHODS
from conclint.analysis.uses import ARG, AWAIT, Use, callee, uses_in
from conclint.analysis.walk import descendants
from conclint.rules.base import Rule

# The fact noted on a loop whose body limits or paces what it starts.
GUARD = "guard"
# Methods that start the object itself (`thread.start()`), and every method that starts
# work (`tg.create_task`): the cheap test before the receiver's kind is looked up.
_STARTS = frozenset().union(*catalog.START_METHODS.values())
_SPAWN_NAMES = _STARTS.union(*catalog.SPAWN_METHODS.values())
# Kind -> its methods that start work (`executor.submit`, `thread.start`).
_SPAWNING = {
    kind: catalog.SPAWN_METHODS.get(kind, frozenset())
    | catalog.START_METHODS.get(kind, frozenset())
    for kind in {*catalog.SPAWN_METHODS, *catalog.START_METHODS}
}
_WAITING_FILLS = frozenset().union(*catalog.WAITING_FILLS.values())
_WAITING_METHODS = frozenset().union(*catalog.WAITING_METHODS.values())
_PACING_METHODS = frozenset().union(*catalog.PACING_METHODS.values())


@dataclass(slots=True)
class _Spawn:
    call: cst.Call
    label: str
    handle: str | None  # the name the task/thread/future is kept in, if any
    # The object whose method the work is (`worker` of `create_task(worker.run())`).
    runs_on: str | None


class UnboundedSpawn(Rule):
    code = "CCL502"
    name = "unbounded-spawn"
    summary = "Work is started for every item of an endless loop with no limit on concurrency"
    message = (
        "`{spawn}(...)` {effect} on every turn of an endless loop and nothing limits {limit}; "
        "bound it with a semaphore, a bounded queue or a fixed set of workers"
    )
    # The task spawners, or a spawning method and what makes its thread, pool or loop.
    needles = catalog.TASK_SPAWN_WORDS
    method_needles = catalog.method_needles(_SPAWNING)
    imports = catalog.TASK_SPAWN_MODULES | catalog.kind_modules(_SPAWNING)
    tags = ("asyncio", "threading", "memory")
    options = (TEARDOWN_METHODS,)
    uses = (Loops,)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = context.tracker(Loops).stack
        self._spawns: dict[int, list[_Spawn]] = {}  # endless loop -> what it starts
        self._targets: dict[int, str] = {}  # call -> the name its result is assigned to
        self._withs: dict[int, int] = {}  # open `with` statement -> loops open around it
        self.limited = LimitedFunctions(context)
        self._awaited: set[int] = set()  # calls awaited where they are made

    # Spawns ------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        if not self.loops.open:
            return
        self._guard_call(node)
        loop = self.loops.endless()
        label = self._spawn_label(node) if loop is not None else None
        if loop is None or label is None or id(node) in self._awaited:
            return
        work = work_of(node, self.context)
        if self._limited_by_structure(node, loop, work):
            return
        handle = self._targets.get(id(node))
        func = node.func
        # `t.start()` starts the thread `t` itself: that is its handle.
        if isinstance(func, cst.Attribute) and func.attr.value in _STARTS:
            handle = dotted_name(func.value) or handle
        runs_on = dotted_name(work.value) if isinstance(work, cst.Attribute) else None
        self.loops.remember(node)
        self._spawns.setdefault(id(loop.node), []).append(_Spawn(node, label, handle, runs_on))

    def _spawn_label(self, call: cst.Call) -> str | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SPAWN_NAMES:
            method = func.attr.value
            kind = self.context.kind_of(func.value) or ""
            if method in catalog.START_METHODS.get(kind, ()):
                return _spelled(func)
            if method in catalog.SPAWN_METHODS.get(kind, ()):
                return _spelled(func)
        return _spelled(func) if self.context.is_task_spawn(call) else None

    def _limited_by_structure(
        self, call: cst.Call, loop: OpenLoop, work: cst.BaseExpression | None
    ) -> bool:
        """`async with TaskGroup() as tg:` inside the loop, or a limiter inside the work."""
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            found = self.context.names.lookup(func.value.value, self.context.chain)
            depth = self.loops.open.index(loop) + 1
            for binding in found[1] if found else ():
                if binding.how == "with" and self._withs.get(id(binding.node), -1) >= depth:
                    return True  # the block waits for its work before the loop goes on
        function = own_function(work, self.context, self.context.chain) if work else None
        return function is not None and self.limited.takes_limiter(*function)

    # Guards, noted on the loops around them ------------------------------------

    def _guard_call(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in catalog.ACQUIRE_METHODS:
                self.loops.note(GUARD)
            elif method in _WAITING_FILLS and method in catalog.WAITING_FILLS.get(
                self.context.kind_of(func.value) or "", ()
            ):
                self.loops.note(GUARD)  # a full queue makes the producer wait
            elif method in _PACING_METHODS and method in catalog.PACING_METHODS.get(
                self.context.kind_of(func.value) or "", ()
            ):
                self.loops.note(GUARD)  # `stop.wait(1.0)`: each turn waits, as a sleep does
            elif method in catalog.JOIN_METHODS and isinstance(func.value, cst.Call):
                self._awaited.add(id(func.value))  # `run_coroutine_threadsafe(...).result()`
            elif method in catalog.JOIN_METHODS and (joined := dotted_name(func.value)):
                self.loops.note(f"joined:{joined}")
            elif method in catalog.CANCEL_METHODS and (cancelled := dotted_name(func.value)):
                self.loops.note(f"joined:{cancelled}")  # each turn stops the work started
            elif method in _WAITING_METHODS and method in catalog.WAITING_METHODS.get(
                self.context.kind_of(func.value) or "", ()
            ):
                for arg in call.args:  # `loop.run_until_complete(task)`
                    if joined := dotted_name(arg.value):
                        self.loops.note(f"joined:{joined}")
                    self._awaited.add(id(arg.value))
        callee = self.context.qualname(func)
        if callee in catalog.WAITING_CALLS or callee in catalog.PACING_CALLS:
            self.loops.note(GUARD)
        elif self._caps_in_helper(func):
            # `while self._can_spawn():`, a cap kept by hand; `await self._take_slot()`,
            # a helper that takes a limiter.
            self.loops.note(GUARD)

    def _caps_in_helper(self, func: cst.BaseExpression) -> bool:
        """A function of the module that compares how many there are (`len(...) < N`), or
        that takes a semaphore or a capacity limiter in its own body."""
        own = own_function(func, self.context, self.context.chain)
        return own is not None and (
            self.limited.counts_running(own[0]) or self.limited.takes_limiter(*own)
        )

    def visit_Await(self, node: cst.Await) -> None:
        if not self.loops.open:
            return
        awaited = node.expression
        if (
            isinstance(awaited, cst.Call)
            and awaited.args
            and self.context.qualname(awaited.func) in catalog.AWAITABLE_WRAPPERS
        ):
            awaited = awaited.args[0].value  # `await asyncio.shield(task)` waits for `task`
        if isinstance(awaited, cst.Name | cst.Attribute) and (joined := dotted_name(awaited)):
            self.loops.note(f"joined:{joined}")  # `await task`, `await self._task`
        elif isinstance(awaited, cst.Call):
            func = awaited.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in self.context.settings.option(TEARDOWN_METHODS)
                and (owner := dotted_name(func.value))
            ):
                self.loops.note(f"ended:{owner}")  # `await worker.close()`
            # `await loop.run_in_executor(...)`, `await wait_for(create_task(...), 5)`: the
            # loop waits for the work before it goes on.
            self._awaited.add(id(awaited))
            self._awaited.update(id(arg.value) for arg in awaited.args)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        # `if len(self._tasks) >= LIMIT:` caps what runs at once by hand.
        if self.loops.open and is_size_comparison(node, self.context):
            self.loops.note(GUARD)

    def visit_With(self, node: cst.With) -> None:
        self._withs[id(node)] = len(self.loops.open)
        for item in node.items:
            if item.asname is not None:
                self._bound(item.asname.name)
        chain = self.context.chain
        if self.loops.open and any(self.limited.is_limiter(i.item, chain) for i in node.items):
            self.loops.note(GUARD)

    def leave_With(self, original_node: cst.With) -> None:
        self._withs.pop(id(original_node), None)

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[-1].target
        handle = dotted_name(target) if isinstance(target, cst.Name | cst.Attribute) else None
        if handle and isinstance(node.value, cst.Call):
            self._targets[id(node.value)] = handle
        for each in node.targets:
            self._bound(each.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bound(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bound(node.target)  # on the loops around it; a loop's own target in loop_done

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bound(node.target)

    def _bound(self, target: cst.BaseExpression) -> None:
        """`worker = ...` in a loop: `await worker.close()` may end another object than
        the one whose work was started."""
        if self.loops.open:
            for name in _targets(target):
                self.loops.note(f"bound:{name}")

    # Verdict -------------------------------------------------------------------

    def loop_done(self, loop: OpenLoop) -> None:
        spawns = self._spawns.pop(id(loop.node), [])
        if GUARD in loop.facts:
            return
        for spawn in spawns:
            if self.loops.runs_once(spawn.call):
                continue  # `create_task(...)` then `break`: started once, not per turn
            if spawn.handle is not None and f"joined:{spawn.handle}" in loop.facts:
                continue  # `await task` or `task.cancel()` before the next turn
            if self._ended(spawn, loop) or self._waited_after(spawn, loop):
                continue
            self.report(spawn.call, spawn=spawn.label, **_effect(spawn.call))

    def _waited_after(self, spawn: _Spawn, loop: OpenLoop) -> bool:
        """An `async for` over a source that may run out, whose tasks go into a local
        collection the function waits for after the loop (`tasks.append(create_task(job))`,
        then `await asyncio.gather(*tasks)`): the code expects the loop to end, and what
        it starts is as much as the source gives."""
        node = loop.node
        function = self.context.function
        if not (isinstance(node, cst.For) and node.asynchronous is not None) or function is None:
            return False
        uses = uses_in(self.context, function)
        how, outer = uses.of_call(spawn.call)
        if how != ARG or outer is None or not isinstance(outer.func, cst.Attribute):
            return False
        collection = outer.func.value
        if outer.func.attr.value not in catalog.COLLECTION_FILLS or not isinstance(
            collection, cst.Name
        ):
            return False
        inside = {id(child) for child in descendants(node)}
        return any(
            not use.nested and id(use.node) not in inside and _waits_for(use, self.context)
            for use in uses.of(collection.value)
        )

    def _ended(self, spawn: _Spawn, loop: OpenLoop) -> bool:
        """The loop awaits a teardown method (`close()`, `stop()`) of the object whose method
        the work is, and that name holds the same object on every turn: what was started
        before is ended before the loop goes on."""
        owner = spawn.runs_on
        if owner is None or f"ended:{owner}" not in loop.facts:
            return False
        parts = owner.split(".")
        prefixes = {".".join(parts[:end]) for end in range(1, len(parts) + 1)}
        own = set(_targets(loop.node.target)) if isinstance(loop.node, cst.For) else set()
        return not any(f"bound:{name}" in loop.facts or name in own for name in prefixes)


def _waits_for(use: Use, context: FileContext) -> bool:
    """The collection is awaited, or handed to a call that waits for what it holds
    (`asyncio.gather(*tasks)`, `asyncio.wait(tasks)`)."""
    if use.how == AWAIT:
        return True
    if use.how != ARG or use.call is None:
        return False
    name = callee(context, use.call)
    return name in catalog.WAITING_CALLS or name in catalog.REAPING_CALLS


def _targets(target: cst.BaseExpression) -> list[str]:
    """The dotted names an assignment target binds (`a`, `self.worker`, `a, *rest`)."""
    if isinstance(target, cst.Tuple | cst.List):
        return [name for element in target.elements for name in _targets(element.value)]
    name = dotted_name(target) if isinstance(target, cst.Name | cst.Attribute) else None
    return [name] if name else []


def _effect(call: cst.Call) -> dict[str, str]:
    """An executor caps how much runs at once; what grows then is its queue of waiting jobs."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in catalog.QUEUED_SPAWN_METHODS:
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
