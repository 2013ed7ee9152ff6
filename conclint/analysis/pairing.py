"""Operations that must pair along every path: queue `get`/`task_done`, lock `acquire`/`release`.

Two flow analyses over `flow.py`:

- `Takes` (CCL401, CCL402): per queue key, the items taken and not yet
  marked done on this path, oldest first (`get` adds, `task_done` settles
  the oldest), the last take settled when none is pending, and `many` once a
  path has taken more than it counts, after which it no longer judges that
  queue: more than a few takes, a take in a loop (or comprehension) that
  does not also call `task_done()` (a batch collected to be marked later), or
  a call given the queue itself, which may take or mark items of its own.
- `Locks` (CCL403): per lock key, the `acquire()` calls not yet released on
  this path. `if lock.acquire(timeout=1):` and `ok = lock.acquire(False)` ...
  `if not ok:` drop the acquire on the branch where it failed. A call that gives
  a held lock back through a project function's summary (`self._release()`,
  `tg.create_task(self._work(item))` where `_work` releases in `finally`;
  `handoff.released_by`) releases it too.

`unpaired` turns either result into the starts (takes, acquires) that some
path carries, still open, to an exit of the scope or to the end of an
iteration of a loop that pairs them inside, and says how (an exception, a
`continue`, `break` or early `return`, or a branch).

Receivers are known by their dotted name (`q`, `self._jobs`) and must be of a
known kind. `identity` says which object a receiver is for matches across
functions: an attribute of one class, a module global, or a local (which
may have come from anywhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import libcst as cst

from conclint.analysis import catalog, cfg
from conclint.analysis.flow import FactAnalysis, touches
from conclint.analysis.handoff import find_handoff, released_by
from conclint.analysis.scopes import dotted_name

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

TAKE = "take"
BATCH = "batch"  # a take that is not counted: the queue is no longer judged on this path
# `asyncio.wait_for(q.get(), 5)`: when it raises, the take it wraps took nothing.
WRAPPED = "wrapped"
DONE = "done"
ACQUIRE = "acquire"
RELEASE = "release"
REFUSED = "refused"
# A branch on which the lock's name holds None (`assert self._lock is not None` failing):
# no lock is held there under that name.
ABSENT = "absent"
ALIAS = "alias"
REBIND = "rebind"
# How a release was made: by a hand-off to a thread, a loop or a future's done callback.
HANDED = "handed"
# Events a rule looks at without a state change: the exits and jumps.
EXIT = "exit"
JUMP = "jump"
ENDINGS = frozenset({EXIT, JUMP})

S = TypeVar("S")

# How many pending takes of one queue a path counts before it stops judging.
_MAX_PENDING = 3
# Method names worth a kind lookup; the receiver's kind decides.
_QUEUE_METHODS = catalog.QUEUE_TAKES | catalog.TASK_DONE_METHODS
_LOCK_METHODS = catalog.ACQUIRE_METHODS | catalog.RELEASE_METHODS

# Why a take or an acquire can be left unpaired, most specific first.
REASONS = {
    cfg.CONTINUE: "when `continue` skips it",
    cfg.BREAK: "when `break` skips it",
    cfg.RETURN: "on an early `return`",
    cfg.RAISE: "when an exception escapes",
    "path": "on every path",
}


@dataclass(frozen=True, slots=True)
class PairOp:
    action: str
    key: str = ""
    kind: str = ""
    how: str = ""


def receiver_key(call: cst.Call, methods: Iterable[str]) -> tuple[str, str] | None:
    """(receiver key, method) when `call` is `<dotted>.<one of methods>(...)`."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in methods:
        key = dotted_name(func.value)
        if key is not None:
            return key, func.attr.value
    return None


class _KindedAnalysis:
    """Classifies calls of known methods on receivers of known kinds, one kind lookup per key."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self._kinds: dict[str, str | None] = {}
        # Names whose re-binding changes a state (set by `prepare`).
        self.tracked: set[str] = set()

    def kind(self, call: cst.Call, key: str) -> str | None:
        if key not in self._kinds:
            assert isinstance(call.func, cst.Attribute)
            self._kinds[key] = self.context.kind_of(call.func.value)
        return self._kinds[key]

    def marker(self, event: cfg.Event) -> PairOp | None:
        if event.kind == cfg.EXIT:
            return PairOp(EXIT, how=event.how)
        if event.kind == cfg.JUMP:
            return PairOp(JUMP, how=event.how)
        if event.kind == cfg.ASSIGN and event.targets and touches(event.targets, self.tracked):
            return PairOp(REBIND)
        return None


def _cancelled_on_timeout(event: cfg.Event, context: FileContext) -> cst.Call | None:
    """The call that the call of `event` cancels when it times out, its first argument
    (`asyncio.wait_for(q.get(), 5)`): raising, it leaves that call's work undone."""
    node = event.node
    if (
        event.kind == cfg.CALL
        and isinstance(node, cst.Call)
        and node.args
        and isinstance(inner := node.args[0].value, cst.Call)
        and context.qualname(node.func) in catalog.TIMEOUT_CANCELLERS
    ):
        return inner
    return None


# Queue items: (key, pending takes oldest first, many, the last take settled when none pends).
Item = tuple[str, tuple[cst.Call, ...], bool, "cst.Call | None"]


class Takes(_KindedAnalysis, FactAnalysis[Item, PairOp]):
    key = "takes"

    def prepare(self, graph: cfg.Graph) -> None:
        # The queues the scope takes from (key -> kind), whose items a call of the project
        # may mark done (`await self._process(item)`, marking it done in its `finally`).
        self._taken: dict[str, str] = {}
        # (key, loop) for every loop that marks items of that queue done.
        self._done_loops: set[tuple[str, int]] = set()
        events = [event for block in graph.blocks for event in block.events]
        for event in events:
            op = self._queue_call(event)
            if op is not None:
                self.tracked.add(op.key)
                if op.action == TAKE:
                    self._taken[op.key] = op.kind
        # Calls (by id) that cancel the take they wrap when they time out
        # (`wait_for(q.get(), 5)`): the take they wrap.
        self._wrapping: dict[int, cst.Call] = {}
        for event in events:
            inner = _cancelled_on_timeout(event, self.context)
            if inner is not None and (taken := self._queue_op(inner)) and taken.action == TAKE:
                self._wrapping[id(event.node)] = inner
        # Calls (by id) of project functions that mark an item done, asked once each.
        self._done_by: dict[int, PairOp] = {}
        for event in events:
            op = self._queue_call(event)
            if op is None and (handed := self._done_by_call(event)) is not None:
                op = self._done_by[id(event.node)] = handed
            if op is not None and op.action == DONE:
                self._done_loops.update((op.key, id(loop)) for loop in event.loops)

    def classify(self, event: cfg.Event) -> PairOp | None:
        if event.kind == cfg.CALL:
            op = self._queue_call(event)
            if op is not None and op.action == TAKE:
                # Counted only when each loop around it also marks items done.
                counted = all((op.key, id(loop)) in self._done_loops for loop in event.loops)
                return op if counted else PairOp(BATCH, op.key, op.kind)
            if id(event.node) in self._wrapping:
                return PairOp(WRAPPED)
            return op or self._done_by.get(id(event.node)) or self._handed_queue(event)
        return self.marker(event)

    def _handed_queue(self, event: cfg.Event) -> PairOp | None:
        """A call given a queue taken from here (`more = await take_batch(queue, 0.3)`): it
        may take items of its own, or mark them done, which no path here counts. A
        builtin (`len(queue)`, `print(queue)`) does neither."""
        node = event.node
        if not self._taken or not isinstance(node, cst.Call):
            return None
        for arg in node.args:
            key = dotted_name(arg.value)
            if key in self._taken:
                callee = self.context.qualname(node.func) or ""
                if callee.startswith("builtins."):
                    return None
                return PairOp(BATCH, key, self._taken[key])
        return None

    def _done_by_call(self, event: cfg.Event) -> PairOp | None:
        """A call of a project function that marks an item of a queue taken from here done
        on every path (its `releases` summary)."""
        node = event.node
        if event.kind != cfg.CALL or not self._taken or not isinstance(node, cst.Call):
            return None
        key = released_by(node, self.context, self._taken)
        return PairOp(DONE, key, self._taken[key]) if key is not None else None

    def _queue_call(self, event: cfg.Event) -> PairOp | None:
        node = event.node
        if event.kind != cfg.CALL or not isinstance(node, cst.Call):
            return None
        return self._queue_op(node)

    def _queue_op(self, node: cst.Call) -> PairOp | None:
        found = receiver_key(node, _QUEUE_METHODS)
        if found is None:
            return None
        key, method = found
        kind = self.kind(node, key)
        if kind not in catalog.TASK_DONE_QUEUES:
            return None
        return PairOp(DONE if method in catalog.TASK_DONE_METHODS else TAKE, key, kind)

    def transfer(self, state: frozenset[Item], event: cfg.Event, op: PairOp) -> frozenset[Item]:
        if op.action == TAKE:
            assert isinstance(event.node, cst.Call)
            return self._take(state, op.key, event.node)
        if op.action == BATCH:
            mine = {item for item in state if item[0] == op.key}
            return (state - mine) | {(op.key, (), True, None)}
        if op.action == DONE:
            if not any(item[0] == op.key for item in state):
                # Marked done before this path takes anything: it settles an item taken
                # elsewhere (a queue used as a semaphore), so its takes are not counted.
                return state | {(op.key, (), True, None)}
            return frozenset(_settle(item) if item[0] == op.key else item for item in state)
        if op.action == REBIND and state:
            return frozenset(item for item in state if not cfg.rebinds(event.targets, item[0]))
        return state

    def on_raise(self, state: frozenset[Item], event: cfg.Event, op: PairOp) -> frozenset[Item]:
        # A failed `get` took nothing, nor did one whose wrapper raised (`wait_for` timed
        # out and cancelled it); a `task_done` that raises has still been called.
        if op.action == WRAPPED:
            inner = self._wrapping[id(event.node)]
            return frozenset(
                (key, tuple(call for call in pending if call is not inner), many, settled)
                for key, pending, many, settled in state
            )
        return self.transfer(state, event, op) if op.action == DONE else state

    @staticmethod
    def _take(state: frozenset[Item], key: str, call: cst.Call) -> frozenset[Item]:
        mine = [item for item in state if item[0] == key]
        if not mine:
            return state | {(key, (call,), False, None)}
        taken = set()
        for _, pending, many, _settled in mine:
            if many or len(pending) >= _MAX_PENDING:
                taken.add((key, pending, True, None))
            else:
                taken.add((key, (*pending, call), False, None))
        return (state - set(mine)) | taken


def _settle(item: Item) -> Item:
    key, pending, many, _settled = item
    if many or not pending:
        return item
    return key, pending[1:], False, pending[0] if len(pending) == 1 else None


# Locks: ("held", key, acquire call) and ("alias", name, acquire call) for `ok = lock.acquire()`.
Held = tuple[str, str, cst.Call]
_HELD = "held"
_ALIAS = "alias"


class Locks(_KindedAnalysis, FactAnalysis[Held, PairOp]):
    key = "locks"

    def prepare(self, graph: cfg.Graph) -> None:
        # Names bound to an acquire's result (`ok = lock.acquire(False)`), and the locks
        # acquired in the scope (which a call may give back).
        self._acquired: set[str] = set()
        # Calls (by id) that cancel the acquire they wrap when they time out
        # (`wait_for(lock.acquire(), 5)`): the acquire they wrap.
        self._wrapping: dict[int, cst.Call] = {}
        for block in graph.blocks:
            for event in block.events:
                if event.kind == cfg.CALL and isinstance(event.node, cst.Call):
                    lock = self._lock_call(event.node)
                    if lock is not None and lock.action == ACQUIRE:
                        self._acquired.add(lock.key)
                    inner = _cancelled_on_timeout(event, self.context)
                    wrapped = self._lock_call(inner) if inner is not None else None
                    if inner is not None and wrapped is not None and wrapped.action == ACQUIRE:
                        self._wrapping[id(event.node)] = inner
                single = event.kind == cfg.ASSIGN and len(event.targets) == 1
                if single and self._acquires(event.value):
                    self.tracked.add(event.targets[0])

    def classify(self, event: cfg.Event) -> PairOp | None:
        node = event.node
        if event.kind == cfg.CALL and isinstance(node, cst.Call):
            if id(node) in self._wrapping:
                return PairOp(WRAPPED)
            found = self._lock_call(node)
            if found is None and self._acquired:
                given_back = released_by(node, self.context, self._acquired)
                if given_back is not None:
                    # Handed to a thread, a loop or a future's callback, it is given back
                    # there: from here on, not on this path's exits.
                    handed = find_handoff(node, self.context) is not None
                    return PairOp(RELEASE, given_back, how=HANDED if handed else "")
            return found
        if event.kind == cfg.ASSUME and (absent := _none_on_branch(event)) in self._acquired:
            return PairOp(ABSENT, absent)
        if event.kind == cfg.ASSUME and not event.truth:
            lock = self._lock_call(node) if isinstance(node, cst.Call) else None
            if lock is not None and lock.action == ACQUIRE:
                return PairOp(REFUSED)
            if isinstance(node, cst.Name):
                return PairOp(REFUSED, key=node.value)
            return None
        if event.kind == cfg.ASSIGN and len(event.targets) == 1 and self._acquires(event.value):
            return PairOp(ALIAS, key=event.targets[0])
        return self.marker(event)

    def _acquires(self, value: cst.BaseExpression | None) -> list[cst.Call]:
        """The acquire calls whose result `value` is: `lock.acquire(False)`, `await
        lock.acquire()`, `await asyncio.wait_for(lock.acquire(), 5)`, or each branch of
        `lock.acquire() if wait else lock.acquire(timeout=t)`."""
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.IfExp):
            branches = [self._acquires(value.body), self._acquires(value.orelse)]
            return branches[0] + branches[1] if all(branches) else []
        if not isinstance(value, cst.Call):
            return []
        value = self._wrapping.get(id(value), value)
        lock = self._lock_call(value)
        return [value] if lock is not None and lock.action == ACQUIRE else []

    def _lock_call(self, call: cst.Call) -> PairOp | None:
        found = receiver_key(call, _LOCK_METHODS)
        if found is None:
            return None
        key, method = found
        kind = self.kind(call, key)
        if kind not in catalog.LOCK_KINDS:
            return None
        return PairOp(ACQUIRE if method in catalog.ACQUIRE_METHODS else RELEASE, key, kind)

    def transfer(self, state: frozenset[Held], event: cfg.Event, op: PairOp) -> frozenset[Held]:
        action = op.action
        if action == ACQUIRE:
            assert isinstance(event.node, cst.Call)
            return state | {(_HELD, op.key, event.node)}
        if not state:
            return state
        if action in (RELEASE, ABSENT):
            return frozenset(fact for fact in state if fact[:2] != (_HELD, op.key))
        if action == REFUSED:
            if op.key:  # `if not ok:` after `ok = lock.acquire(...)`
                calls = {fact[2] for fact in state if fact[:2] == (_ALIAS, op.key)}
            else:
                calls = {event.node}  # type: ignore[arg-type]
            return frozenset(fact for fact in state if fact[0] != _HELD or fact[2] not in calls)
        if action in (ALIAS, REBIND):
            kept = frozenset(
                fact
                for fact in state
                if fact[0] != _ALIAS or not cfg.rebinds(event.targets, fact[1])
            )
            if action == ALIAS:
                return kept | {(_ALIAS, op.key, call) for call in self._acquires(event.value)}
            return kept
        return state

    def on_raise(self, state: frozenset[Held], event: cfg.Event, op: PairOp) -> frozenset[Held]:
        # A failed `acquire` holds nothing, nor does one whose wrapper raised (`wait_for`
        # timed out and cancelled it); a `release` that raises is no lock held either.
        if op.action == WRAPPED:
            inner = self._wrapping[id(event.node)]
            return frozenset(fact for fact in state if fact[0] != _HELD or fact[2] is not inner)
        return self.transfer(state, event, op) if op.action == RELEASE else state


def _none_on_branch(event: cfg.Event) -> str | None:
    """The name a branch of a test finds None (`x is None` taken, `x is not None` not)."""
    tested = cfg.flag_test(event.node)
    if tested is None or not tested[0].endswith(cfg.IS_NONE) or event.truth != tested[1]:
        return None
    return tested[0].removesuffix(cfg.IS_NONE)


def held_calls(state: frozenset[Held]) -> Iterator[tuple[str, cst.Call]]:
    """(lock key, acquire call) for each lock held in a `Locks` state."""
    for tag, key, call in state:
        if tag == _HELD:
            yield key, call


def pending_takes(state: frozenset[Item]) -> Iterator[tuple[str, cst.Call]]:
    """(queue key, take call) for each item still counted as pending in a `Takes` state."""
    for key, pending, many, _ in state:
        if not many:
            for take in pending:
                yield key, take


@dataclass
class Unpaired:
    """Starts (takes, acquires) of one scope that some path leaves unpaired, and why."""

    # The start call -> its key, its kind and the ways it was left unpaired (REASONS keys).
    found: dict[cst.Call, tuple[str, str, set[str]]] = field(default_factory=dict)
    # Keys whose end (task_done, release) the scope calls somewhere.
    ended: set[str] = field(default_factory=set)
    # Starts still pending on every path that returns: what the scope is there to take.
    kept_on_return: set[cst.Call] = field(default_factory=set)

    def reason(self, call: cst.Call) -> str:
        reasons = self.found[call][2]
        return next(text for how, text in REASONS.items() if how in reasons or how == "path")


def unpaired(
    events: Iterable[tuple[cfg.Event, PairOp, frozenset[S]]],
    start: str,
    end: str,
    pending: Callable[[S], Iterable[tuple[str, cst.Call]]],
) -> Unpaired:
    """The starts that reach the scope's exits, or themselves again in a loop that ends
    them inside, while still pending; `events` is a `FlowResult.at_events()`."""
    events = list(events)
    found = Unpaired()
    end_loops: set[tuple[str, int]] = set()
    starts: dict[cst.CSTNode, tuple[tuple[cfg.Repeating, ...], str]] = {}
    for event, op, _ in events:
        if op.action == end:
            if op.how != HANDED:  # a scope that only hands it over releases it elsewhere
                found.ended.add(op.key)
            end_loops.update((op.key, id(loop)) for loop in event.loops)
        elif op.action == start:
            starts[event.node] = (event.loops, op.kind)
    jumps: dict[cst.Call, set[str]] = {}
    returning: list[set[cst.Call]] = []  # the starts pending on each path that returns
    for event, op, states in events:
        if op.action == EXIT and op.how != cfg.RAISE:
            returning += [{call for _, call in pending(state)} for state in states]
        if op.action not in ENDINGS:
            continue
        for key, call in {open_ for state in states for open_ in pending(state)}:
            loops, kind = starts[call]
            if op.action == JUMP:
                # A `break` or `continue` of a loop inside the one that started it stays
                # on this turn of that loop: it explains nothing.
                left = event.loops[-1] if event.loops else None
                if left is None or any(left is loop for loop in loops):
                    jumps.setdefault(call, set()).add(op.how)
            elif op.action == EXIT:
                reason = cfg.RAISE if op.how == cfg.RAISE else "path"
                found.found.setdefault(call, (key, kind, set()))[2].add(reason)
    for event, op, states in events:
        # A start reached again while still pending from the last iteration of a loop that
        # ends it inside: that iteration left it unpaired. One given back before it comes
        # round again (release, wait, re-acquire) is not.
        if op.action != start or not isinstance(event.node, cst.Call):
            continue
        loops, kind = starts[event.node]
        if any((op.key, id(loop)) in end_loops for loop in loops) and any(
            call is event.node for state in states for _, call in pending(state)
        ):
            found.found.setdefault(event.node, (op.key, kind, set()))[2].add("path")
    if returning:
        found.kept_on_return = set.intersection(*returning)
    for call, (_, _, reasons) in found.found.items():
        # A jump explains a path that ends normally; one followed by the `finally` that
        # pairs it does not explain an exception escaping elsewhere.
        if "path" in reasons:
            reasons.update(jumps.get(call, ()))
    return found


def identity(context: FileContext, receiver: cst.BaseExpression) -> tuple[str, str]:
    """Which object a receiver is, for matching across functions: by class attribute
    (`self.x`, or `obj.x` of an instance of a project class: the class of the project's
    MRO that assigns `x`), module global, or ("local", name) for anything else."""
    if isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name):
        attribute = receiver.attr.value
        bindings = context.bindings
        owner = bindings.class_of_receiver(receiver.value, context.chain)
        cls = bindings.class_name(owner) if owner is not None else None
        if owner is not None and cls is None:
            return ("attribute", f"{id(owner)}.{attribute}")
        cls = cls or bindings.instance_of(receiver.value, context.chain)
        if cls is not None:
            return ("attribute", f"{context.model().attribute_home(cls, attribute)}.{attribute}")
    if isinstance(receiver, cst.Name):
        found = context.names.lookup(receiver.value, context.chain)
        if found is not None and found[0] == 0:
            return ("global", receiver.value)
    return ("local", dotted_name(receiver) or "")
