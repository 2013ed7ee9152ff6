"""CCL101: a task whose only reference is dropped."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.blocking import never_full
from conclint.analysis.coroutines import never_suspends
from conclint.analysis.discards import AS_CONTEXT, IN_GENERATOR, Discards
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

_LOST = "it can vanish mid-run and its exception is lost; keep a reference"
_COROUTINE_PARAMS = frozenset({"coro", "coro_or_future"})
_NEVER_RUN = "nothing runs the generator, so the task never starts; keep the tasks in a list"


class DanglingTask(Rule):
    code = "CCL101"
    name = "dangling-task"
    summary = "A task is created and its only reference dropped"
    message = "task from `{callee}(...)` is {how}: {consequence}"
    needles = catalog.TASK_SPAWN_WORDS
    imports = catalog.TASK_SPAWN_MODULES
    peers = ("ASYNC300", "RUF006")
    tags = ("asyncio", "task")
    uses = (Discards,)

    def discarded(self, call: cst.Call, how: str) -> None:
        if not self.context.is_task_spawn(call):
            return
        func = call.func
        if how == AS_CONTEXT and self.context.qualname(func) in self._configured():
            return  # what a spawner of the user's own returns may be a context manager
        last = func.attr.value if isinstance(func, cst.Attribute) else ""
        # No dotted name: a spawn method of `get_loop().create_task`.
        consequence = _NEVER_RUN if IN_GENERATOR in how else _LOST
        if consequence == _LOST and self._loses_nothing(call):
            return
        self.report(call, callee=dotted_name(func) or last, how=how, consequence=consequence)

    def _loses_nothing(self, call: cst.Call) -> bool:
        """The task runs a coroutine function of the project that never suspends
        (`create_task(self._post(message))` where `_post` awaits nothing): it ends in its
        first step, so nothing can collect it mid-run; or it only sleeps
        (`run_coroutine_threadsafe(asyncio.sleep(0), loop)`, a wake-up): it can fail
        in no way, and collected, it leaves nothing undone."""
        # The coroutine: the first positional argument, or the one named as the spawners
        # name their first parameter (`run_coroutine_threadsafe(coro=..., loop=...)`).
        first = None
        for arg in call.args:
            if arg.star:
                break  # `*args`: what it unpacks is not known
            if arg.keyword is None or arg.keyword.value in _COROUTINE_PARAMS:
                first = arg.value
                break
        if not isinstance(first, cst.Call):
            return False
        func = first.func
        if self.context.qualname(func) in catalog.ASYNC_SLEEPS:
            return True
        if isinstance(func, cst.Attribute) and self._fills_unbounded(func):
            return True
        return never_suspends(first, self.context)

    def _fills_unbounded(self, func: cst.Attribute) -> bool:
        """`queue.put(item)` of a queue made without a bound: it has room at once, so the
        task ends in its first step and nothing can fail."""
        kind = self.context.kind_of(func.value) or ""
        return func.attr.value in catalog.WAITING_FILLS.get(kind, ()) and never_full(
            func.value, self.context
        )

    def _configured(self) -> frozenset[str]:
        """The spawners of the user's catalog entries, not shipped ones."""
        return self.context.catalog.functions_with("spawn") - catalog.TASK_SPAWNERS
