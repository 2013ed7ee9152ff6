"""CCL501: a queue or deque with no bound, filled by a loop that never runs out of items."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.loops import Loops, OpenLoop
from conclint.analysis.places import Flow, Place, argument_flows, place_of, spread
from conclint.analysis.scopes import dotted_name
from conclint.catalog import top_modules
from conclint.diagnostics import Severity
from conclint.options import Option
from conclint.rules.base import Finding, Rule

# What a queue built without a bound lacks, as the message says it: the bound (`maxsize`)
# and what to do about it.
_Missing = tuple[str, str]
_BOUNDED: _Missing = ("", "")


STRICT = Option(
    "unbounded-queue-strict",
    "bool",
    False,
    "CCL501 also reports unbounded queues not filled by an endless loop (as notes)",
)


@dataclass(frozen=True, slots=True)
class _Queue:
    call: cst.Call
    place: Place
    missing: _Missing


class UnboundedQueue(Rule):
    code = "CCL501"
    name = "unbounded-queue"
    summary = "A queue with no size limit is filled by an endless loop"
    message = (
        "`{queue}()` has no {limit} and {how}, so a slow consumer lets it grow until memory "
        "runs out; {fix}"
    )
    needles = catalog.words(catalog.QUEUE_BOUNDS)
    imports = top_modules(catalog.QUEUE_BOUNDS)
    tags = ("asyncio", "queue", "memory")
    options = (STRICT,)
    uses = (Loops,)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = context.tracker(Loops).stack
        self._queues: list[_Queue] = []
        self._bounded: set[Place] = set()  # places some assignment gives a bounded queue
        self._filled: dict[Place, str] = {}  # place -> how the message says it is filled
        self._in_loop: dict[int, list[tuple[Place, str, cst.Call]]] = {}  # endless loop -> fills
        self._taken: dict[int, set[Place]] = {}  # endless loop -> places it also takes from
        self._checked: set[Place] = set()  # sizes compared by hand (`if len(buf) > N`)
        self._flows: list[Flow] = []  # queues handed to the module's functions

    # Constructors ------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assigned(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value)

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        missing = self._missing_limit(value) if isinstance(value, cst.Call) else None
        place = place_of(target, self.context) if missing is not None else None
        if missing is None or place is None or not isinstance(value, cst.Call):
            return
        if missing == _BOUNDED:
            self._bounded.add(place)
        elif self._agrees(target, place):
            self._queues.append(_Queue(value, place, missing))

    def _missing_limit(self, value: cst.BaseExpression) -> _Missing | None:
        """What a queue built by `value` lacks, `_BOUNDED` when it has a bound, None when
        `value` builds no queue (configured factories build `queue.Queue`s)."""
        if not isinstance(value, cst.Call):
            return None
        kind = self.context.bindings.constructors.get(self.context.qualname(value.func) or "")
        if kind not in catalog.KIND_BOUNDS:
            return None
        bound = catalog.KIND_BOUNDS[kind]
        if bound is None:  # `queue.SimpleQueue` cannot be bounded at all
            return "bound", catalog.BOUND_REMEDIES[kind]
        keyword, position = bound
        if any(arg.star for arg in value.args):
            return _BOUNDED  # `Queue(*args)` may well pass one
        positional = [arg for arg in value.args if arg.keyword is None]
        given = [arg.value for arg in value.args if arg.keyword and arg.keyword.value == keyword]
        if position < len(positional):
            given.append(positional[position].value)
        if given and not _no_bound(given[0]):
            return _BOUNDED
        return f"`{keyword}`", f"pass `{keyword}=`"

    def _agrees(self, target: cst.BaseExpression, place: Place) -> bool:
        """Every binding of the name (or attribute) holds an unbounded queue."""
        if place[0] == "attr":
            return self.context.kind_of(target) is not None
        found = self.context.names.lookup(place[2], self.context.chain)
        return found is not None and all(
            binding.how == "assign"
            and binding.index is None
            and binding.value is not None
            and self._missing_limit(binding.value) not in (None, _BOUNDED)
            for binding in found[1]
        )

    # Fills and takes inside endless loops, size checks, hand-overs --------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in catalog.SIZE_METHODS:
                self._size_checked(func.value)
            elif method in catalog.FILL_METHODS or method in catalog.TAKE_METHODS:
                self._fill_or_take(node, func.value, method)
        self._flows.extend(argument_flows(node, self.context))

    def _fill_or_take(self, call: cst.Call, receiver: cst.BaseExpression, method: str) -> None:
        if method in catalog.TAKE_METHODS:
            # Taken from in a loop: filling it in that loop (or one inside) drains a work list.
            loops = self.loops.here()
            taken = place_of(receiver, self.context) if loops else None
            if taken is not None:
                for open_loop in loops:
                    self._taken.setdefault(id(open_loop.node), set()).add(taken)
            return
        loop = self.loops.endless(outermost=True)
        place = place_of(receiver, self.context) if loop is not None else None
        if loop is None or place is None:
            return
        function = self.context.function
        where = "module code"
        if isinstance(function, cst.FunctionDef):
            where = f"`{function.name.value}()`"
        how = f"`{method}()` fills it in an endless loop in {where}"
        self.loops.remember(call)
        self._in_loop.setdefault(id(loop.node), []).append((place, how, call))

    def loop_done(self, loop: OpenLoop) -> None:
        taken = self._taken.pop(id(loop.node), set())
        # The loops around it that take from it: `while todo: item = todo.popleft()`.
        for outer in self.loops.here():
            taken |= self._taken.get(id(outer.node), set())
        for place, how, call in self._in_loop.pop(id(loop.node), []):
            # A work list a loop drains itself is no buffer; nor is a last item before `break`.
            if place not in taken and not self.loops.runs_once(call):
                self._filled.setdefault(place, how)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for operand in (node.left, *(target.comparator for target in node.comparisons)):
            if (
                isinstance(operand, cst.Call)
                and len(operand.args) == 1
                and self.context.qualname(operand.func) in catalog.SIZE_CALLS
            ):
                self._size_checked(operand.args[0].value)

    def _size_checked(self, receiver: cst.BaseExpression) -> None:
        place = place_of(receiver, self.context)
        if place is not None:
            self._checked.add(place)

    # Verdicts ------------------------------------------------------------------

    def leave_Module(self, original_node: cst.Module) -> None:
        # A size check in the producer bounds every queue handed to it.
        unchecked = {p: how for p, how in self._filled.items() if p not in self._checked}
        filled = spread(unchecked, self._flows)
        strict = self.context.settings.option(STRICT)
        for queue in self._queues:
            if queue.place in self._bounded or queue.place in self._checked:
                continue
            name = dotted_name(queue.call.func) or "queue"
            how = filled.get(queue.place)
            limit, fix = queue.missing
            if how is not None:
                self.report(queue.call, queue=name, limit=limit, how=how, fix=fix)
            elif strict:
                how = "nothing bounds it (`unbounded-queue-strict`)"
                self._note(queue.call, queue=name, limit=limit, how=how, fix=fix)

    def _note(self, node: cst.CSTNode, **fields: object) -> None:
        # Strict mode reports possible growth, not a seen one: a note, not a warning.
        message = self.message.format(**fields)
        self.findings.append(Finding(node, self.code, self.name, message, Severity.NOTE))


def _no_bound(value: cst.BaseExpression) -> bool:
    """`0`, `-1` and `None` mean "no bound"; any other expression is taken as a real one."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        return isinstance(value.expression, cst.Integer)
    return isinstance(value, cst.Integer) and value.evaluated_value == 0
