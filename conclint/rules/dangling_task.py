"""CCL101: a task whose only reference is dropped."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.discards import DiscardedResults
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule


class DanglingTask(DiscardedResults, Rule):
    code = "CCL101"
    name = "dangling-task"
    summary = "A task is created and its only reference dropped"
    message = (
        "task from `{callee}(...)` is {how}: it can vanish mid-run and its exception is lost; "
        "keep a reference"
    )
    needles = catalog.TASK_SPAWN_WORDS
    imports = catalog.TASK_SPAWN_MODULES
    tags = ("asyncio", "task")

    def discarded(self, call: cst.Call, how: str) -> None:
        if self.context.is_task_spawn(call):
            func = call.func  # no dotted name: a spawn method of `get_loop().create_task`
            last = func.attr.value if isinstance(func, cst.Attribute) else ""
            self.report(call, callee=dotted_name(func) or last, how=how)
