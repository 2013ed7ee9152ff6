"""CCL101: a task whose only reference is dropped."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.discards import DiscardedResults
from conclint.analysis.scopes import dotted_name
from conclint.config import Settings
from conclint.rules.base import Rule

_LOOP = "asyncio.AbstractEventLoop"


class DanglingTask(DiscardedResults, Rule):
    code = "CCL101"
    name = "dangling-task"
    summary = "A task is created and its only reference dropped"
    message = (
        "task from `{callee}(...)` is {how}: it can vanish mid-run and its exception is lost; "
        "keep a reference"
    )
    needles = ("create_task", "ensure_future", "run_coroutine_threadsafe")
    tags = ("asyncio", "task")

    @classmethod
    def needles_for(cls, settings: Settings) -> tuple[str, ...]:
        # A configured spawner is called by its last name, however it is imported.
        extra = tuple(name.rpartition(".")[2] for name in settings.extra_spawners)
        return cls.needles + extra

    def discarded(self, call: cst.Call, how: str) -> None:
        if self.is_spawn(call):
            self.report(call, callee=dotted_name(call.func) or "create_task", how=how)

    def is_spawn(self, call: cst.Call) -> bool:
        callee = self.context.qualname(call.func)
        if callee in catalog.TASK_SPAWNERS or callee in self.context.settings.extra_spawners:
            return True
        func = call.func
        # `loop.create_task`, but not `TaskGroup.create_task`, which keeps its tasks.
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value == "create_task"
            and self.context.kind_of(func.value) == _LOOP
        )
