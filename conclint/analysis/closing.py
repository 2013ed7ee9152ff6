"""Closes of queues, streams, channels and descriptors along paths (CCL301, CCL302).

`Closes` is the flow analysis both rules share: a path state is the set of
(receiver key, where it was closed) facts; an explicit close
(`q.shutdown()`, `await send.aclose()`, `os.close(fd)`) or the exit of an
`async with send:` block adds one, re-binding the name (`q = Queue()`,
`self._q = ...`, `for fd in fds:`) removes it. The receiver is known by its
dotted name (`jobs`, `self._jobs`) and must be of a closable kind
(`catalog.CLOSE_METHODS`): `other._jobs` is another object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from conclint.analysis import catalog, cfg, flow
from conclint.analysis.flow import FactAnalysis
from conclint.analysis.scopes import dotted_name

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

CLOSE = "close"
WITH_CLOSE = "with-close"
SEND = "send"
REBIND = "rebind"
# A test found it not closed on this path (`if not writer.is_closing():`).
OPEN = "open"

_CLOSE_NAMES = frozenset().union(*catalog.CLOSE_METHODS.values())
_SEND_NAMES = frozenset().union(*catalog.SEND_METHODS.values())
_FD_CLOSER_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.FD_CLOSERS)
_CLOSING_STATE_NAMES = frozenset().union(*catalog.CLOSING_STATE_METHODS.values())

# Where a receiver was closed: the close call, or the `with` statement that closed it.
Closed = tuple[str, cst.CSTNode]


@dataclass(frozen=True, slots=True)
class CloseOp:
    action: str
    key: str = ""
    kind: str = ""
    method: str = ""


def may_close_or_send(call: cst.Call) -> bool:
    """Cheap syntactic test: could this call close or send into a closable?"""
    func = call.func
    if isinstance(func, cst.Attribute):
        name = func.attr.value
        return name in _CLOSE_NAMES or name in _SEND_NAMES or name in _FD_CLOSER_NAMES
    return isinstance(func, cst.Name) and func.value in _FD_CLOSER_NAMES


class Closes(FactAnalysis[Closed, CloseOp]):
    key = "closes"

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self._kinds: dict[str, str | None] = {}
        self._ops: dict[int, CloseOp | None] = {}
        # Keys something closes: only re-binding one of them changes a state.
        self._closed: set[str] = set()

    def prepare(self, graph: cfg.Graph) -> None:
        for block in graph.blocks:
            for event in block.events:
                if event.kind in (cfg.CALL, cfg.LEAVE):
                    op = self._ops[id(event)] = self._close_or_send(event)
                    if op is not None and op.action != SEND:
                        self._closed.add(op.key)

    def classify(self, event: cfg.Event) -> CloseOp | None:
        if event.kind == cfg.ASSIGN:
            if event.targets and flow.touches(event.targets, self._closed):
                return CloseOp(REBIND)
            return None
        if event.kind == cfg.ASSUME and not event.truth and isinstance(event.node, cst.Call):
            return self._still_open(event.node)
        return self._ops.get(id(event))

    def _still_open(self, test: cst.Call) -> CloseOp | None:
        """`if not writer.is_closing():` taken: nothing closed the writer on this path."""
        func = test.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _CLOSING_STATE_NAMES:
            return None
        key = dotted_name(func.value)
        kind = self._kind(func.value, key) if key in self._closed else None
        if key is None or func.attr.value not in catalog.CLOSING_STATE_METHODS.get(kind or "", ()):
            return None
        return CloseOp(OPEN, key)

    def _close_or_send(self, event: cfg.Event) -> CloseOp | None:
        node = event.node
        if event.kind == cfg.CALL and isinstance(node, cst.Call):
            return self._call(node)
        if event.kind == cfg.LEAVE and isinstance(node, cst.WithItem):
            key = dotted_name(node.item)
            kind = self._kind(node.item, key) if key is not None else None
            if key is not None and kind in catalog.CLOSED_BY_WITH:
                return CloseOp(WITH_CLOSE, key, kind or "")
        return None

    def _call(self, call: cst.Call) -> CloseOp | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _CLOSE_NAMES | _SEND_NAMES:
            key = dotted_name(func.value)
            kind = self._kind(func.value, key) if key is not None else None
            method = func.attr.value
            if key is not None and kind is not None:
                if method in catalog.CLOSE_METHODS.get(kind, ()):
                    return CloseOp(CLOSE, key, kind, method)
                if method in catalog.SEND_METHODS.get(kind, ()):
                    return CloseOp(SEND, key, kind, method)
        closer = self.context.qualname(func) if call.args else None
        if closer is not None and closer in catalog.FD_CLOSERS:
            key = dotted_name(call.args[0].value)
            if key is not None:
                return CloseOp(CLOSE, key, catalog.FILE_DESCRIPTOR, closer.rpartition(".")[2])
        return None

    def _kind(self, receiver: cst.BaseExpression, key: str) -> str | None:
        # Kinds are flow-insensitive, so one answer per receiver and function.
        if key not in self._kinds:
            self._kinds[key] = self.context.kind_of(receiver)
        return self._kinds[key]

    def transfer(
        self, state: frozenset[Closed], event: cfg.Event, op: CloseOp
    ) -> frozenset[Closed]:
        if op.action == CLOSE:
            return state | {(op.key, event.node)}
        if op.action == WITH_CLOSE and event.owner is not None:
            return state | {(op.key, event.owner)}
        if op.action == REBIND and state:
            return frozenset(fact for fact in state if not cfg.rebinds(event.targets, fact[0]))
        if op.action == OPEN and state:
            return frozenset(fact for fact in state if fact[0] != op.key)
        return state


def after_close(
    context: FileContext, scope: cst.FunctionDef | cst.Module, action: str
) -> Iterator[tuple[cfg.Event, CloseOp, cst.CSTNode]]:
    """The `action` events (CLOSE, SEND) of `scope` that some path reaches after a close of
    the same object, with the first such close. The analysis runs once per scope and file."""
    result = flow.analyse(context, scope, Closes(context))
    for event, op, states in result.at_events():
        if op.action == action:
            first = first_close(context, states, op.key)
            if first is not None:
                yield event, op, first


def first_close(
    context: FileContext, states: Iterable[frozenset[Closed]], key: str
) -> cst.CSTNode | None:
    """The earliest place where `key` was closed on some path of `states`, if any."""
    places = {node for state in states for fact_key, node in state if fact_key == key}
    if not places:
        return None
    return min(places, key=lambda node: context.line_of(node))


def noun(kind: str) -> str:
    return catalog.CLOSABLE_NOUNS.get(kind, "object")


def verb(method: str) -> str:
    """How messages say a close by `method` left it: wording read off the method's name."""
    return "shut down" if method == "shutdown" else "closed"


def kind_verb(kind: str) -> str:
    """How messages say an object of `kind` was closed, when which close is not at hand."""
    verbs = {verb(method) for method in catalog.CLOSE_METHODS.get(kind, ())}
    return verbs.pop() if len(verbs) == 1 else "closed"


def describe_close(context: FileContext, place: cst.CSTNode, here: cst.CSTNode) -> str:
    """Where `place` closed it: `on line 31`, on leaving a `with` block, or a loop's last round."""
    line = context.line_of(place)
    if isinstance(place, cst.With):
        block = "async with" if place.asynchronous is not None else "with"
        return f"on leaving the `{block}` block of line {line}"
    if place is here:
        return f"on line {line} in an earlier iteration of the loop"
    return f"on line {line}"
