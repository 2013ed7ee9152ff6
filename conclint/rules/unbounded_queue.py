"""CCL501: a queue or deque with no bound, filled by a loop that never runs out of items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.handoff import bind_arguments, find_handoff, own_function
from conclint.analysis.loops import LoopStack, LoopVisits, OpenLoop
from conclint.analysis.scopes import dotted_name
from conclint.config import Settings
from conclint.diagnostics import Severity
from conclint.rules.base import Finding, Rule

# Where a queue lives: ("name", id(scope), name), ("attr", id(class), attribute) or
# ("param", id(function), parameter).
Key = tuple[str, int, str]
# A queue constructor's bound: its keyword and position (None: it has no bound at all).
_Spec = tuple[str, int | None]
_MAX_HOPS = 3


@dataclass(frozen=True, slots=True)
class _Queue:
    call: cst.Call
    key: Key
    limit: str


class UnboundedQueue(LoopVisits, Rule):
    code = "CCL501"
    name = "unbounded-queue"
    summary = "A queue with no size limit is filled by an endless loop"
    message = (
        "`{queue}()` has no `{limit}` and {how}, so a slow consumer lets it grow until memory "
        "runs out; pass `{limit}=`"
    )
    needles = ("Queue", "deque")
    tags = ("asyncio", "queue", "memory")

    @classmethod
    def needles_for(cls, settings: Settings) -> tuple[str, ...]:
        extra = tuple(name.rpartition(".")[2] for name in settings.extra_queue_factories)
        return cls.needles + extra

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = LoopStack(context)
        self._queues: list[_Queue] = []
        self._bounded: set[Key] = set()  # attributes some assignment gives a bound or other value
        self._filled: dict[Key, str] = {}  # key -> how the message says it is filled
        self._in_loop: dict[int, list[tuple[Key, str, cst.Call]]] = {}  # endless loop -> fills
        self._taken: dict[int, set[Key]] = {}  # endless loop -> keys it also takes from
        self._checked: set[Key] = set()  # sizes compared by hand (`if len(buf) > N`)
        self._links: list[tuple[Key, Key]] = []  # (argument, parameter it is passed to)

    # Where a queue lives ---------------------------------------------------

    def _key(self, expr: cst.BaseExpression) -> Key | None:
        chain = self.context.chain
        if isinstance(expr, cst.Name):
            found = self.context.names.lookup(expr.value, chain)
            if found is None:
                return None
            scope = chain[found[0]]
            if isinstance(scope, cst.ClassDef):  # a class attribute, read as `self.x`
                return ("attr", id(scope), expr.value)
            params = all(binding.how == "param" for binding in found[1])
            return ("param" if params else "name", id(scope), expr.value)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self.context.bindings.class_of_receiver(expr.value, chain)
            return ("attr", id(owner), expr.attr.value) if owner is not None else None
        return None

    # Constructors ------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assigned(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value)

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(value, cst.Call):
            return
        spec = self._queue_spec(value)
        if spec is None:
            return
        key = self._key(target)
        if key is None:
            return
        limit = _missing_limit(value, spec)
        if limit is None:
            self._bounded.add(key)
        elif self._agrees(target, key):
            self._queues.append(_Queue(value, key, limit))

    def _queue_spec(self, call: cst.Call) -> _Spec | None:
        """The keyword and position of the bound of the queue `call` builds; None: no queue."""
        callee = self.context.qualname(call.func) or ""
        if callee in self.context.settings.extra_queue_factories:
            return ("maxsize", 0)
        if callee not in catalog.QUEUE_BOUNDS:
            return None
        return catalog.QUEUE_BOUNDS[callee] or ("maxsize", None)

    def _unbounded(self, value: cst.BaseExpression) -> str | None:
        """The missing bound's keyword when `value` builds an unbounded queue, else None."""
        if not isinstance(value, cst.Call):
            return None
        spec = self._queue_spec(value)
        return None if spec is None else _missing_limit(value, spec)

    def _agrees(self, target: cst.BaseExpression, key: Key) -> bool:
        """Every binding of the name (or attribute) holds an unbounded queue."""
        if key[0] == "attr":
            return self.context.kind_of(target) is not None
        found = self.context.names.lookup(key[2], self.context.chain)
        return found is not None and all(
            binding.how == "assign"
            and binding.index is None
            and binding.value is not None
            and self._unbounded(binding.value) is not None
            for binding in found[1]
        )

    # Fills and takes inside endless loops ------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in ("qsize", "full"):
                self._size_checked(func.value)
            elif method in catalog.FILL_METHODS or method in catalog.TAKE_METHODS:
                self._fill_or_take(node, func.value, method)
        self._link(node)

    def _fill_or_take(self, call: cst.Call, receiver: cst.BaseExpression, method: str) -> None:
        loop = self.loops.endless(outermost=True)
        key = self._key(receiver) if loop is not None else None
        if loop is None or key is None:
            return
        if method in catalog.TAKE_METHODS:
            self._taken.setdefault(id(loop.node), set()).add(key)
            return
        function = self.context.function
        where = "module code"
        if isinstance(function, cst.FunctionDef):
            where = f"`{function.name.value}()`"
        how = f"`{method}()` fills it in an endless loop in {where}"
        self.loops.remember(call)
        self._in_loop.setdefault(id(loop.node), []).append((key, how, call))

    def loop_done(self, loop: OpenLoop) -> None:
        taken = self._taken.pop(id(loop.node), set())
        for key, how, call in self._in_loop.pop(id(loop.node), []):
            # A work list the loop drains itself is no buffer; nor is a last item before `break`.
            if key not in taken and not self.loops.runs_once(call):
                self._filled.setdefault(key, how)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for operand in (node.left, *(target.comparator for target in node.comparisons)):
            if (
                isinstance(operand, cst.Call)
                and len(operand.args) == 1
                and self.context.qualname(operand.func) == "builtins.len"
            ):
                self._size_checked(operand.args[0].value)

    def _size_checked(self, receiver: cst.BaseExpression) -> None:
        key = self._key(receiver)
        if key is not None:
            self._checked.add(key)

    # Queues handed to the module's functions: `create_task(producer(q))`, `Thread(args=(q,))`

    def _link(self, call: cst.Call) -> None:
        if not call.args:
            return
        handoff = find_handoff(call, self.context)
        func = handoff.function if handoff is not None else call.func
        found = own_function(func, self.context, self.context.chain)
        if found is None:
            return
        if handoff is not None:
            positional: Sequence[cst.BaseExpression] = handoff.arguments
            keywords: list[tuple[str, cst.BaseExpression]] = []
        else:
            positional = []
            for arg in call.args:
                if arg.star:
                    break
                if arg.keyword is None:
                    positional.append(arg.value)
            keywords = [(arg.keyword.value, arg.value) for arg in call.args if arg.keyword]
        function = found[0]
        bound = isinstance(func, cst.Attribute)
        for parameter, value in bind_arguments(function, positional, keywords, bound=bound):
            key = self._key(value)
            if key is not None:
                self._links.append((key, ("param", id(function), parameter)))

    # Verdicts ------------------------------------------------------------------

    def leave_Module(self, original_node: cst.Module) -> None:
        filled = {key: how for key, how in self._filled.items() if key not in self._checked}
        for _ in range(_MAX_HOPS):
            for argument, parameter in self._links:
                if parameter in filled and argument not in self._checked:
                    filled.setdefault(argument, filled[parameter])
        strict = self.context.settings.unbounded_queue_strict
        for queue in self._queues:
            if queue.key in self._bounded:
                continue
            name = dotted_name(queue.call.func) or "queue"
            how = filled.get(queue.key)
            if how is not None:
                self.report(queue.call, queue=name, limit=queue.limit, how=how)
            elif strict and queue.key not in self._checked:
                how = "nothing bounds it (`unbounded-queue-strict`)"
                self._note(queue.call, queue=name, limit=queue.limit, how=how)

    def _note(self, node: cst.CSTNode, **fields: object) -> None:
        # Strict mode reports possible growth, not a seen one: a note, not a warning.
        message = self.message.format(**fields)
        self.findings.append(Finding(node, self.code, self.name, message, Severity.NOTE))


def _missing_limit(call: cst.Call, spec: _Spec) -> str | None:
    """The keyword of the bound the queue built by `call` lacks, or None when it has one."""
    keyword, position = spec
    if position is None:
        return keyword  # queue.SimpleQueue cannot be bounded at all
    if any(arg.star for arg in call.args):
        return None
    positional = [arg for arg in call.args if arg.keyword is None]
    given = [arg.value for arg in call.args if arg.keyword and arg.keyword.value == keyword]
    if position < len(positional):
        given.append(positional[position].value)
    return keyword if not given or _no_bound(given[0]) else None


def _no_bound(value: cst.BaseExpression) -> bool:
    """`0`, `-1` and `None` mean "no bound"; any other expression is taken as a real one."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        return isinstance(value.expression, cst.Integer)
    return isinstance(value, cst.Integer) and value.evaluated_value == 0
