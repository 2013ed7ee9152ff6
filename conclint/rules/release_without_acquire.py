"""CCL405: `Semaphore.release()` in a function that never acquires it (preview)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog, cfg, pairing
from conclint.analysis.acquires import made_to_count
from conclint.analysis.context import FileContext
from conclint.analysis.flow import analyse
from conclint.analysis.handoff import bind_arguments, find_handoff, own_function
from conclint.analysis.pairing import receiver_key
from conclint.analysis.scopes import dotted_name
from conclint.analysis.tracking import MarkedScopes
from conclint.catalog.schema import Argument
from conclint.rules.base import Rule

# Methods that release on behalf of an acquire made elsewhere, by design: a context
# manager's exit, and a wrapper's own release method.
_RELEASING_METHODS = frozenset({"__exit__", "__aexit__"}) | catalog.RELEASE_METHODS
_LOCK_METHODS = catalog.ACQUIRE_METHODS | catalog.RELEASE_METHODS
# Identities (`pairing.identity`) that name one object wherever the module spells them.
_SHARED = ("attribute", "global")


@dataclass
class _Release:
    call: cst.Call
    key: str
    kind: str
    identity: tuple[str, str]
    function: int  # id of the function (or lambda) that releases


@dataclass
class _Frame:
    node: int
    name: str
    acquired: set[str] = field(default_factory=set)
    # Keys this function takes with an explicit `acquire()` call: what it may hand over.
    taken: set[str] = field(default_factory=set)
    releases: list[_Release] = field(default_factory=list)


class ReleaseWithoutAcquire(Rule):
    code = "CCL405"
    uses = (MarkedScopes,)
    name = "release-without-acquire"
    summary = "Semaphore.release() in a function that never acquires it"
    message = (
        "`{target}.{method}()` in a function that never acquires it: each extra release raises "
        "the limit for good; {fix}"
    )
    # A semaphore made here, annotated, or given by a module of the project, released.
    method_needles = catalog.method_needles(
        dict.fromkeys(catalog.UNBOUNDED_SEMAPHORES, catalog.RELEASE_METHODS)
    )
    imports = catalog.kind_modules(catalog.UNBOUNDED_SEMAPHORES)
    preview = True
    tags = ("lock", "semaphore")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._frames = [_Frame(id(context.module), "")]
        # Attributes and globals that some function acquires and still holds when it
        # returns: a split acquire/release API (`receive()` takes a slot, `ack()` gives it
        # back), whose releases pair with that acquire.
        self._kept: set[tuple[str, str]] = set()
        # (function, key): a function handed a semaphore its caller took, as an argument
        # (`create_task(work(sem, item))`, `Thread(target=self._run, args=(sem,))`), or
        # through `self`/a global when the caller runs or spawns it.
        self._handed: set[tuple[int, str]] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame(id(node), node.name.value))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame(id(node), "<lambda>"))

    def visit_Call(self, node: cst.Call) -> None:
        found = receiver_key(node, _LOCK_METHODS)
        frame = self._frames[-1]
        if found is None:
            if frame.taken:
                self._note_handoff(node, frame.taken)
            return
        key, method = found
        if method in catalog.ACQUIRE_METHODS:
            frame.acquired.add(key)
            frame.taken.add(key)
            self.context.tracker(MarkedScopes).mark(self)
            return
        assert isinstance(node.func, cst.Attribute)
        receiver = node.func.value
        if frame.name in _RELEASING_METHODS:
            return
        kind = self.context.kind_of(receiver)
        if kind in catalog.UNBOUNDED_SEMAPHORES and not self._made_safe(receiver, kind):
            identity = pairing.identity(self.context, receiver)
            frame.releases.append(_Release(node, key, kind, identity, frame.node))

    def _note_handoff(self, call: cst.Call, taken: set[str]) -> None:
        """A call that runs or hands over a function of the module while this one holds
        a semaphore it took: the function's releases of it pair with that acquire."""
        handoff = find_handoff(call, self.context)
        if handoff is not None and not isinstance(handoff.function, cst.Call):
            func = handoff.function
            positional = list(handoff.arguments)
            keywords: list[tuple[str, cst.BaseExpression]] = []
        else:
            func = call.func
            positional = []
            for arg in call.args:
                if arg.star:
                    break  # `*args` hides which argument lands where
                if arg.keyword is None:
                    positional.append(arg.value)
            keywords = [(a.keyword.value, a.value) for a in call.args if a.keyword is not None]
        found = own_function(func, self.context, self.context.chain)
        if found is None:
            return
        function = found[0]
        method = isinstance(func, cst.Attribute)
        for param, value in bind_arguments(function, positional, keywords, bound=method):
            if dotted_name(value) in taken:
                self._handed.add((id(function), param))
        receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else None
        for key in taken:
            first = key.partition(".")[0]
            shared = pairing.identity(self.context, cst.Name(first))[0] == "global"
            if first == receiver or ("." not in key and shared):
                self._handed.add((id(function), key))

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        """Attributes and globals this function acquires and keeps on some way out."""
        result = analyse(self.context, scope, pairing.Locks(self.context))
        found = pairing.unpaired(
            result.at_events(), pairing.ACQUIRE, pairing.RELEASE, pairing.held_calls
        )
        for call, (_key, _kind, reasons) in found.found.items():
            if reasons - {cfg.RAISE}:
                assert isinstance(call.func, cst.Attribute)
                identity = pairing.identity(self.context, call.func.value)
                if identity[0] in _SHARED:
                    self._kept.add(identity)

    def _made_safe(self, receiver: cst.BaseExpression, kind: str) -> bool:
        """`Semaphore(0)` counts events (one `release()` per item put), so it has no bound;
        `trio.Semaphore(n, max_value=n)` refuses a release past its bound. How a global
        or an attribute was made the project model says; of another object's semaphore
        (`pool._idle`) the rule does not judge."""
        if not self._made_in_view(receiver):
            return True
        counted = made_to_count(self.context, receiver)
        if counted is not None:
            return counted
        made = [
            value
            for value in self.context.bindings.values_of(receiver, self.context.chain)
            if isinstance(value, cst.Call)
        ]
        bound = catalog.RELEASE_BOUNDS.get(kind)
        count = catalog.INITIAL_COUNTS.get(kind)
        return bool(made) and all(
            _starts_at_zero(call, count) or _passes(call, bound) for call in made
        )

    def _made_in_view(self, receiver: cst.BaseExpression) -> bool:
        """A name or a `self.` attribute: what the code shows being assigned to it."""
        if isinstance(receiver, cst.Name):
            return True
        owner = receiver.value if isinstance(receiver, cst.Attribute) else None
        return isinstance(owner, cst.Name) and (
            self.context.bindings.class_of_receiver(owner, self.context.chain) is not None
        )

    def visit_WithItem(self, node: cst.WithItem) -> None:
        key = dotted_name(node.item)
        if key is not None:
            self._frames[-1].acquired.add(key)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._close_frame()

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._close_frame()

    def leave_Module(self, original_node: cst.Module) -> None:
        self._close_frame()

    def _close_frame(self) -> None:
        frame = self._frames.pop()
        pending = [release for release in frame.releases if release.key not in frame.acquired]
        if self._frames:  # a callback nested in the function that acquires is its partner
            self._frames[-1].releases.extend(pending)
            return
        for release in pending:
            if release.identity in self._kept or self._was_handed(release):
                continue
            call = release.call
            assert isinstance(call.func, cst.Attribute)
            fix = catalog.BOUND_REMEDIES[release.kind]
            self.report(call, target=release.key, method=call.func.attr.value, fix=fix)

    def _was_handed(self, release: _Release) -> bool:
        first = release.key.partition(".")[0]
        return (release.function, release.key) in self._handed or (
            release.function,
            first,
        ) in self._handed


def _passes(call: cst.Call, keyword: str | None) -> bool:
    return keyword is not None and any(
        arg.keyword is not None and arg.keyword.value == keyword for arg in call.args
    )


def _starts_at_zero(call: cst.Call, count: Argument | None) -> bool:
    """The constructor call passes a literal 0 where it takes its starting count."""
    if count is None:
        return False
    for position, arg in enumerate(call.args):
        if (arg.keyword is None and position == count.position) or (
            arg.keyword is not None and arg.keyword.value == count.keyword
        ):
            return isinstance(arg.value, cst.Integer) and arg.value.evaluated_value == 0
    return False
