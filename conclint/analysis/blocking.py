"""Which calls block the calling thread, and which of their forms do not (CCL601, CCL604)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import libcst as cst

from conclint.analysis import acquires, catalog
from conclint.analysis.context import FileContext
from conclint.analysis.derived import derived_kind
from conclint.analysis.emptiness import guarded_takes
from conclint.analysis.scopes import ScopeNode, dotted_name
from conclint.analysis.tracking import Tracker
from conclint.analysis.uses import ARG, ITER, READ, STORE, callee, uses_in
from conclint.analysis.walk import descendants, is_scope, suspends
from conclint.catalog import Catalog, Method
from conclint.catalog.schema import Argument, Unless

if TYPE_CHECKING:
    from conclint.config import Settings
    from conclint.prefilter import Source

_OFFLOAD_NAMES = frozenset(
    name.rpartition(".")[2] for name in catalog.THREAD_OFFLOADS | catalog.THREAD_OFFLOAD_METHODS
)
# Last names of the calls that make a thread future awaitable (`asyncio.wrap_future`), and
# the methods that tell whether it is done: the cheap tests before an attribute is resolved.
_FUTURE_WRAPPER_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.FUTURE_WRAPPERS)
_DONE_NAMES: frozenset[str] = frozenset().union(*catalog.DONE_METHODS.values())
# Keywords that, literally false or zero, ask a call not to block (`block=False`, `timeout=0`).
_NON_BLOCKING_KEYWORDS = catalog.NON_BLOCKING_FLAGS | catalog.NON_BLOCKING_TIMEOUTS
# How many `g = f` assignments are followed back to the call that opened `f`.
_MAX_ALIASES = 2


@dataclass(frozen=True, slots=True)
class BlockingCall:
    """A blocking call: how to name it, what to use instead, and for a method its receiver."""

    shown: str
    remedy: str
    kind: str | None = None
    receiver: str | None = None


def blocking_call(
    node: cst.Call, context: FileContext, wrapper: str | None = None, *, follow: bool = True
) -> BlockingCall | None:
    """How `node` blocks, if it does in the form written (the user's catalog entries too).

    `wrapper` names the call `node` is written as an argument of (`trio.wrap_file`);
    `follow` false leaves out the question whether another call stands for this one."""
    func = node.func
    known = context.catalog
    function_names, method_names = _blocking_names(known)
    # A bare name may be an import alias (`from time import sleep as pause`), so resolve it.
    if isinstance(func, cst.Name) or (
        isinstance(func, cst.Attribute) and func.attr.value in function_names
    ):
        callee = context.qualname(func)
        entry = known.functions.get(callee or "")
        if callee is not None and entry is not None and "blocking" in entry.roles:
            if entry.unless is not None and _does_not_block(node, entry.unless, context, wrapper):
                return None
            if "lazy-iterator" in entry.roles and not _advanced_here(node, context):
                return None
            return BlockingCall(f"{callee.removeprefix('builtins.')}()", entry.remedy or "")
    # Where some kind's unlisted methods block too (`f.anything()`), the receiver decides.
    if isinstance(func, cst.Attribute) and (
        func.attr.value in method_names or catalog.UNLISTED_BLOCKING_KINDS
    ):
        return _blocking_method(node, func, context, wrapper, follow)
    return None


@functools.cache
def _blocking_names(known: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    """Last names of the blocking functions, and names of the blocking methods: the cheap
    test before a name is resolved. Once per catalog (per distinct user entries)."""
    functions = frozenset(name.rpartition(".")[2] for name in known.functions_with("blocking"))
    return functions, known.methods_with("blocking")


@functools.cache
def _wrapping_calls(known: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    """The calls a blocking call may be written inside and not block (`trio.wrap_file`),
    and their last names. Once per catalog."""
    unless = [entry.unless for entry in known.functions.values()]
    unless += [method.unless for kind in known.kinds.values() for method in kind.methods.values()]
    names = frozenset(name for found in unless if found is not None for name in found.inside)
    return names, frozenset(name.rpartition(".")[2] for name in names)


def _blocking_method(
    node: cst.Call,
    func: cst.Attribute,
    context: FileContext,
    wrapper: str | None = None,
    follow: bool = True,
) -> BlockingCall | None:
    receiver, attr = func.value, func.attr.value
    kind = derived_kind(receiver, context.bindings, context.chain)
    method = catalog.blocking_method(context.catalog, kind, attr)
    if kind is None or method is None:
        return None
    if _non_blocking_form(node, method):
        return None
    if attr in catalog.WAITING_FILLS.get(kind, ()) and not may_be_full(receiver, context):
        return None  # `put()` waits only for room, and an unbounded queue always has some
    if method.unless is not None and _does_not_block(node, method.unless, context, wrapper):
        return None
    if "lazy-iterator" in method.roles and not _advanced_here(node, context):
        return None
    if (
        follow
        and "opened" in context.catalog.kinds[kind].traits
        and _opened_here(receiver, context)
    ):
        return None  # `with open(p) as f: f.read()`: the `open` is the one finding
    spelled = dotted_name(receiver)
    shown = f"{spelled or kind}.{attr}()"
    return BlockingCall(shown, context.catalog.kinds[kind].remedy or "", kind, spelled)


def runs_alone(call: cst.Call, chain: Sequence[ScopeNode], context: FileContext) -> bool:
    """`call` is in the main coroutine of a new event loop, before it first suspends
    (`loop_mains.py`): nothing else runs on that loop yet, so blocking it stalls nothing.
    Such a coroutine function is one of the module's, or one defined in a function that
    names it only to hand it to such a runner (`async def _run(): ...`, then
    `asyncio.run(_run())`)."""
    function = chain[-1] if len(chain) >= 2 else None
    if not isinstance(function, cst.FunctionDef) or function.asynchronous is None:
        return False
    if len(chain) == 2:
        facts = context.model().function_facts(f"{context.module_name}.{function.name.value}")
        until = facts.alone_until if facts is not None else 0
    else:
        parent = chain[-2]
        until = 0
        if isinstance(parent, cst.FunctionDef) and _only_run_alone(function, parent, context):
            until = _alone_until(function, context)
    if not until:
        return False
    return context.positions_of([call], context.source)[call].start.line < until


def _only_run_alone(
    function: cst.FunctionDef, parent: cst.FunctionDef, context: FileContext
) -> bool:
    """`parent` names `function` only in its `def` and as what a runner of the catalog's role
    `runs-alone` is given (`asyncio.run(_run())`, `anyio.run(_run)`)."""
    name = function.name.value
    runners = context.catalog.functions_with("runs-alone")
    handed: set[int] = set()
    for node in descendants(parent.body, prune=is_scope):
        if isinstance(node, cst.Call) and node.args and context.qualname(node.func) in runners:
            given = node.args[0].value
            given = given.func if isinstance(given, cst.Call) else given
            if isinstance(given, cst.Name) and given.value == name:
                handed.add(id(given))
    uses = [
        node
        for node in descendants(parent.body, prune=is_scope)
        if isinstance(node, cst.Name) and node.value == name and node is not function.name
    ]
    return bool(uses) and all(id(node) in handed for node in uses)


def _alone_until(function: cst.FunctionDef, context: FileContext) -> int:
    """The first line of `function` that may run after it first suspends: its first
    `await`, `async for` or `async with`, or the start of a loop that holds one (its next
    pass runs after it); past its end when it never suspends."""
    for node in descendants(function.body, prune=is_scope):
        if suspends(node) or (
            isinstance(node, cst.For | cst.While)
            and any(suspends(inner) for inner in descendants(node, prune=is_scope))
        ):
            return context.positions_of([node], context.source)[node].start.line
    return context.positions_of([function], context.source)[function].end.line + 1


def never_full(receiver: cst.BaseExpression, context: FileContext) -> bool:
    """Was the queue made without a bound (`queue.Queue()`, `maxsize=0`)? The model says
    of a global or an attribute; of a name of this function, every value it is given."""
    marks = acquires.made(context, receiver)
    if marks is not None:
        return acquires.never_full(marks)
    values = context.bindings.values_of(receiver, context.chain)
    return bool(values) and all(
        isinstance(value, cst.Call) and _no_capacity(value, context) for value in values
    )


def may_be_full(receiver: cst.BaseExpression, context: FileContext) -> bool:
    """Was the queue made, somewhere this shows, by a call that may give it a capacity?
    The model says of a global or an attribute; of a name of this function, the values
    it is given by calls. A queue whose making is not seen (a parameter, an attribute set
    from one, a name given another name) shows no bound: a fill on it is not taken to
    wait."""
    marks = acquires.made(context, receiver)
    if marks is not None:
        return acquires.may_be_full(marks)
    values = context.bindings.values_of(receiver, context.chain)
    while any(isinstance(value, cst.IfExp) for value in values):  # `Q() if c else Q(n)`
        values = [
            part
            for value in values
            for part in ((value.body, value.orelse) if isinstance(value, cst.IfExp) else (value,))
        ]
    return any(isinstance(value, cst.Call) and not _no_capacity(value, context) for value in values)


def _no_capacity(call: cst.Call, context: FileContext) -> bool:
    """A queue's constructor called with no capacity, or one that means none (0 or less,
    None)."""
    func = call.func.value if isinstance(call.func, cst.Subscript) else call.func
    constructor = context.qualname(func)  # `queue.Queue[int]()` too
    if constructor not in catalog.QUEUE_BOUNDS:
        return False
    bound = catalog.QUEUE_BOUNDS[constructor]
    if bound is None:
        return True  # a kind that cannot be bounded
    keyword, position = bound
    for index, arg in enumerate(call.args):
        if arg.star:
            return False
        if (arg.keyword is None and index == position) or (
            arg.keyword is not None and arg.keyword.value == keyword
        ):
            value = arg.value
            if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
                return isinstance(value.expression, cst.Integer)
            if isinstance(value, cst.Integer):
                return value.evaluated_value <= 0
            return isinstance(value, cst.Name) and value.value == "None"
    return True


def _advanced_here(node: cst.Call, context: FileContext) -> bool:
    """The iterator `node` makes is advanced in this function: `for` over it, a call that
    iterates it (`list(os.walk(p))`), or the same through the name it is bound to. Handed
    on (returned, passed to `to_thread.run_sync(next, it)`, kept, read by a nested
    function that runs elsewhere) it blocks elsewhere."""
    scope = context.function or context.module
    uses = uses_in(context, scope)
    how, outer = uses.of_call(node)
    if how == STORE:
        key = uses.bound_to(node)
        return key is None or any(
            _advances(use.how, use.call, context) for use in uses.of(key) if not use.nested
        )
    return _advances(how, outer, context)


def _advances(how: str, outer: cst.Call | None, context: FileContext) -> bool:
    if how in (ITER, READ):
        return True
    iterating = context.catalog.functions_with("iterates")
    return how == ARG and outer is not None and callee(context, outer) in iterating


def _opened_here(receiver: cst.BaseExpression, context: FileContext, depth: int = 0) -> bool:
    """Was the object made by a blocking call that is reported: `open(p).read()`, or `f`
    bound only to such calls in this function (`with open(p) as f`, `f = open(p)`, `f, g =
    open(p), open(q)`, and `g = f` after it)?"""
    if isinstance(receiver, cst.Call):
        return blocking_call(receiver, context, follow=False) is not None
    if not isinstance(receiver, cst.Name) or depth > _MAX_ALIASES:
        return False
    found = context.names.lookup(receiver.value, context.chain)
    if found is None or context.chain[found[0]] is not context.function:
        return False
    values = [
        context.bindings.bound_value(b) if b.how in ("assign", "with") else None for b in found[1]
    ]
    return all(value is not None and _opened_here(value, context, depth + 1) for value in values)


def _does_not_block(
    node: cst.Call, unless: Unless, context: FileContext, wrapper: str | None
) -> bool:
    """The call is in one of the forms `unless` describes (see `schema.Unless`)."""
    if wrapper is not None and wrapper in unless.inside:
        return True
    if unless.made_with is not None and isinstance(node.func, cst.Attribute):
        return _made_with(node.func.value, unless.made_with, unless.names, context)
    value = _argument_value(node, unless.argument) if unless.argument is not None else None
    return value is not None and _names_one_of(value, unless.names, context)


def _made_with(
    receiver: cst.BaseExpression,
    argument: Argument,
    names: frozenset[str],
    context: FileContext,
) -> bool:
    """Every call that made `receiver` (a name or `self.` attribute) passes one of `names`
    as `argument` (`socket.socket(AF_INET, SOCK_DGRAM)`)."""
    values = context.bindings.values_of(receiver, context.chain)
    return bool(values) and all(
        isinstance(value, cst.Call)
        and (passed := _argument_value(value, argument)) is not None
        and _names_one_of(passed, names, context)
        for value in values
    )


def _argument_value(node: cst.Call, argument: Argument) -> cst.BaseExpression | None:
    """What the call passes as `argument`, by keyword or position (None: not passed, or
    not to be told after a `*args`)."""
    position, counted = 0, True
    for arg in node.args:
        if arg.keyword is not None:
            if arg.keyword.value == argument.keyword:
                return arg.value
        elif arg.star:
            counted = False
        else:
            if counted and position == argument.position:
                return arg.value
            position += 1
    return None


def _names_one_of(
    value: cst.BaseExpression, names: frozenset[str], context: FileContext, depth: int = 0
) -> bool:
    """`value` names one of `names`, also as part of `a | b`, as the function of a call
    (`io.BytesIO(data)`), or through a local name assigned such a value."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BinaryOperation):
            stack += (node.left, node.right)
        elif isinstance(node, cst.Call):
            stack.append(node.func)
        elif isinstance(node, cst.Name | cst.Attribute):
            if context.qualname(node) in names:
                return True
            if isinstance(node, cst.Name) and depth == 0:  # one assignment is followed
                values = context.bindings.flag_values(node, context.chain)
                if values and all(
                    v is not None and _names_one_of(v, names, context, 1) for v in values
                ):
                    return True
    return False


def is_thread_offload(node: cst.Call, context: FileContext) -> bool:
    """`asyncio.to_thread(...)`, `loop.run_in_executor(...)`, ...: arguments run on a thread."""
    func = node.func
    if isinstance(func, cst.Attribute):
        short = func.attr.value
    elif isinstance(func, cst.Name):
        short = func.value
    else:
        return False
    if short not in _OFFLOAD_NAMES:
        return False
    if short in catalog.THREAD_OFFLOAD_METHODS and isinstance(func, cst.Attribute):
        return True
    return context.qualname(func) in catalog.THREAD_OFFLOADS


def done_checks(test: cst.BaseExpression) -> list[tuple[str, str]]:
    """(spelling of `x`, method) of the `x.done()` calls of a condition (`and`/`or`/`not`
    followed): the calls of a method some kind's `is-done` role names."""
    found: list[tuple[str, str]] = []
    stack: list[cst.BaseExpression] = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BooleanOperation):
            stack += (node.left, node.right)
        elif isinstance(node, cst.UnaryOperation):
            stack.append(node.expression)
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _DONE_NAMES
        ):
            found.append((dotted_name(node.func.value) or "", node.func.attr.value))
    return found


def literal_off(value: cst.BaseExpression | None) -> bool:
    """A literal `False`, `0` or `0.0`."""
    if isinstance(value, cst.Name):
        return value.value == "False"
    if isinstance(value, cst.Integer):
        return not value.value.strip("0_xXoObB")
    if isinstance(value, cst.Float):
        return float(value.value) == 0
    return False


def asks_not_to_block(node: cst.Call) -> bool:
    """A call that passes `block=False`, `blocking=False`, `wait=False` or `timeout=0`: a
    keyword with which some blocking method of the catalog returns at once."""
    return any(
        arg.keyword is not None
        and arg.keyword.value in _NON_BLOCKING_KEYWORDS
        and literal_off(arg.value)
        for arg in node.args
    )


def _non_blocking_form(node: cst.Call, method: Method) -> bool:
    """`acquire(False)`, `get(block=False)`, `wait(timeout=0)`, `shutdown(wait=False)`: the
    method's own block flag false or its own timeout zero, by keyword or position."""
    return any(
        argument is not None and literal_off(_argument_value(node, argument))
        for argument in (method.block, method.timeout)
    )


def may_block(source: Source, settings: Settings) -> bool:
    """The pre-filter's second way in for the blocking rules: a builtin that blocks
    (`open`) needs no import, so a file with `async def` that spells one may hold one."""
    if not source.has_async_def:
        return False
    added = catalog.words(_builtins(settings.catalog().added_functions_with("blocking")))
    return source.has_any((*catalog.BLOCKING_BUILTINS, *added))


class Offloads(Tracker[object]):
    """The calls being visited whose arguments run on a worker thread
    (`asyncio.to_thread(...)`, `loop.run_in_executor(...)`), innermost last (`open`)."""

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.open: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if is_thread_offload(node, self.context):
            self.open.append(node)

    def leave_Call(self, original_node: cst.Call) -> None:
        if self.open and self.open[-1] is original_node:
            self.open.pop()


class BlockingListener(Protocol):
    def blocking_call(self, node: cst.Call, found: BlockingCall) -> None: ...


class BlockingCalls(Tracker[BlockingListener]):
    """The calls directly in `async def` (and, when a listener asks, in sync functions)
    that block the thread they run on, given the code around them; each is told to the
    listeners (`blocking_call(call, found)`).

    A call is not told when it does not block: when it is in the arguments of a thread
    offload, in a non-blocking form, a socket call the code expects not to block
    (`setblocking(False)` above, a `try` that handles `BlockingIOError`), or the result
    of a future known to be done. Lambdas, and sync defs unless asked for, are not
    scanned.
    """

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.offloads = context.tracker(Offloads)
        # `if`/ternary nodes whose test calls `x.done()`, with the (receiver, method) so guarded.
        self._done_guards: list[tuple[cst.CSTNode, frozenset[tuple[str, str]]]] = []
        # Sockets (by spelling) switched to non-blocking mode somewhere above.
        self._non_blocking_sockets: set[str] = set()
        # (function id, spelling) of futures already waited for by `asyncio.wrap_future(f)`.
        self._wrapped: set[tuple[int, str]] = set()
        # `try` statements with an `except BlockingIOError` (a `would-block` name) being visited.
        self._would_block: list[cst.Try] = []
        # Arguments (by id) of the calls some blocking calls may be written inside, with
        # the name of that call (`trio.wrap_file(os.fdopen(fd))`).
        self._inside: dict[int, str] = {}
        # Takes (by id) that find their queue holding an item (`emptiness.py`):
        # `while not q.empty(): items.append(q.get())`.
        self._not_empty_takes: set[int] = set()
        # Calls (by id) whose result is awaited.
        self._awaited: set[int] = set()
        self._sync_too = False

    def in_sync_functions_too(self) -> None:
        self._sync_too = True

    def _scans(self) -> bool:
        function = self.context.function
        return isinstance(function, cst.FunctionDef) and (
            self._sync_too or function.asynchronous is not None
        )

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        found = self._how_blocks(node)
        if found is not None:
            for listener in self.listeners:
                listener.blocking_call(node, found)

    def _how_blocks(self, node: cst.Call) -> BlockingCall | None:
        func = node.func
        first = node.args[0].value if node.args else None
        if isinstance(func, cst.Attribute) and func.attr.value in catalog.NON_BLOCKING_SWITCHES:
            if literal_off(first):
                self._non_blocking_sockets.add(dotted_name(func.value) or "")
            return None
        if self.offloads.open or not self._scans():
            return None
        # A bare name may be an import alias (`from asyncio import wrap_future as wait`).
        if (
            isinstance(func, cst.Name)
            or (isinstance(func, cst.Attribute) and func.attr.value in _FUTURE_WRAPPER_NAMES)
        ) and self.context.qualname(func) in catalog.FUTURE_WRAPPERS:
            self._wrapped.add((id(self.context.function), dotted_name(first) or ""))
            return None
        wrapping, short_names = _wrapping_calls(self.context.catalog)
        if isinstance(func, cst.Name | cst.Attribute) and _last_name(func) in short_names:
            wrapper = self.context.qualname(func)
            if wrapper in wrapping:
                self._inside.update((id(arg.value), wrapper) for arg in node.args)
        if id(node) in self._not_empty_takes:
            return None
        found = blocking_call(node, self.context, self._inside.get(id(node)))
        if found is None or self._exempt(found.kind, found.receiver):
            return None
        if found.kind is not None and id(node) in self._awaited:
            return None  # `await self.queue.get()`: the object is not of that kind here
        return found

    def _exempt(self, kind: str | None, receiver: str | None) -> bool:
        """What the code around the call shows: the socket or the future cannot block here."""
        if kind is not None and "non-blocking-mode" in self.context.catalog.kinds[kind].traits:
            return receiver in self._non_blocking_sockets or bool(self._would_block)
        done = catalog.DONE_METHODS.get(kind or "")
        if done:
            guarded = any(
                (receiver, method) in checks for _, checks in self._done_guards for method in done
            )
            return guarded or (id(self.context.function), receiver) in self._wrapped
        return False

    def visit_Try(self, node: cst.Try) -> None:
        if not self._scans():
            return
        for handler in node.handlers:
            caught = handler.type
            kinds = (
                [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
            )
            if any(
                k is not None and self.context.qualname(k) in catalog.WOULD_BLOCK for k in kinds
            ):
                self._would_block.append(node)
                return

    def leave_Try(self, original_node: cst.Try) -> None:
        if self._would_block and self._would_block[-1] is original_node:
            self._would_block.pop()

    # `if fut.done(): fut.result()` and `fut.result() if fut.done() else None` do not block.

    def visit_If(self, node: cst.If) -> None:
        self._push_guard(node, node.test)
        self._note_takes(node)

    def visit_While(self, node: cst.While) -> None:
        self._note_takes(node)

    def _note_takes(self, node: cst.If | cst.While) -> None:
        if self._scans():
            self._not_empty_takes.update(id(take) for take in guarded_takes(node))

    def leave_If(self, original_node: cst.If) -> None:
        self._pop_guard(original_node)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._push_guard(node, node.test)

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self._pop_guard(original_node)

    def _push_guard(self, node: cst.CSTNode, test: cst.BaseExpression) -> None:
        if self._scans():
            checks = frozenset(done_checks(test))
            if checks:
                self._done_guards.append((node, checks))

    def _pop_guard(self, node: cst.CSTNode) -> None:
        if self._done_guards and self._done_guards[-1][0] is node:
            self._done_guards.pop()


def _last_name(func: cst.Name | cst.Attribute) -> str:
    return func.value if isinstance(func, cst.Name) else func.attr.value


def _builtins(names: frozenset[str]) -> list[str]:
    return [name for name in names if name.startswith("builtins.")]
