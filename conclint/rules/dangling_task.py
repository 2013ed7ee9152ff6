"""CCL101: a task whose only reference is dropped."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.scopes import dotted_name
from conclint.config import Settings
from conclint.rules.base import Rule


class DanglingTask(Rule):
    code = "CCL101"
    name = "dangling-task"
    summary = "A task is created and its only reference dropped"
    message = (
        "task from `{callee}(...)` is discarded: the loop keeps only a weak reference, so it "
        "can vanish mid-run and its exception is lost; keep it and await or cancel it"
    )
    needles = ("create_task", "ensure_future", "run_coroutine_threadsafe")
    tags = ("asyncio", "task")

    @classmethod
    def needles_for(cls, settings: Settings) -> tuple[str, ...]:
        extra = tuple(name.rpartition(".")[2] for name in settings.extra_spawners)
        return cls.needles + extra

    def __init__(self, context: object) -> None:
        super().__init__(context)  # type: ignore[arg-type]
        # id of function -> {local name: spawning call bound to it}.
        self._bound: dict[int, dict[str, cst.Call]] = {}
        # id of function -> names read anywhere in it or in functions nested in it.
        self._reads: dict[int, set[str]] = {}
        # Name nodes that are not reads: attribute names, keywords, assignment targets.
        self._not_reads: set[int] = set()

    def is_spawn(self, call: cst.Call) -> bool:
        callee = self.context.qualname(call.func)
        if callee in catalog.TASK_SPAWNERS or callee in self.context.settings.extra_spawners:
            return True
        func = call.func
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value == "create_task"
            and self.context.kind_of(func.value) == "asyncio.AbstractEventLoop"
        )

    def _report(self, call: cst.Call) -> None:
        self.report(call, callee=dotted_name(call.func) or "create_task")

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call) and self.is_spawn(node.value):
            self._report(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._not_reads.add(id(target.target))
        if len(node.targets) == 1:
            self._check_binding(node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._not_reads.add(id(node.target))
        if node.value is not None:
            self._check_binding(node.target, node.value)

    def _check_binding(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name) or not isinstance(value, cst.Call):
            return
        if not self.is_spawn(value):
            return
        if target.value == "_":
            self._report(value)
            return
        function = self.context.function
        if not isinstance(function, cst.FunctionDef):
            return  # a module or class attribute outlives the statement
        if target.value in self.context.names.table(function).declared_outer:
            return
        self._bound.setdefault(id(function), {}).setdefault(target.value, value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_reads.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_reads.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        function = self.context.function
        if function is not None and id(node) not in self._not_reads:
            self._reads.setdefault(id(function), set()).add(node.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave_function(original_node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._leave_function(original_node)

    def _leave_function(self, function: cst.FunctionDef | cst.Lambda) -> None:
        reads = self._reads.pop(id(function), set())
        for name, call in self._bound.pop(id(function), {}).items():
            if name not in reads:
                self._report(call)
        # Reads in a nested function keep the enclosing function's tasks alive too.
        chain = self.context.chain
        for outer in reversed(chain[:-1]):
            if isinstance(outer, cst.FunctionDef | cst.Lambda):
                self._reads.setdefault(id(outer), set()).update(reads)
                break
