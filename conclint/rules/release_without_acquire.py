"""CCL405: `Semaphore.release()` in a function that never acquires it (preview)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.pairing import receiver_key
from conclint.analysis.scopes import dotted_name
from conclint.catalog.schema import Argument
from conclint.rules.base import Rule

# Methods that release on behalf of an acquire made elsewhere, by design: a context
# manager's exit, and a wrapper's own release method.
_RELEASING_METHODS = frozenset({"__exit__", "__aexit__"}) | catalog.RELEASE_METHODS
_LOCK_METHODS = catalog.ACQUIRE_METHODS | catalog.RELEASE_METHODS


@dataclass
class _Frame:
    name: str
    acquired: set[str] = field(default_factory=set)
    releases: list[tuple[cst.Call, str, str]] = field(default_factory=list)  # call, key, kind


class ReleaseWithoutAcquire(Rule):
    code = "CCL405"
    name = "release-without-acquire"
    summary = "Semaphore.release() in a function that never acquires it"
    message = (
        "`{target}.{method}()` in a function that never acquires it: each extra release raises "
        "the limit for good; {fix}"
    )
    needles = catalog.kind_words(catalog.UNBOUNDED_SEMAPHORES)
    imports = catalog.kind_modules(catalog.UNBOUNDED_SEMAPHORES)
    preview = True
    tags = ("lock", "semaphore")

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._frames = [_Frame("")]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame(node.name.value))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame("<lambda>"))

    def visit_Call(self, node: cst.Call) -> None:
        found = receiver_key(node, _LOCK_METHODS)
        if found is None:
            return
        key, method = found
        frame = self._frames[-1]
        if method in catalog.ACQUIRE_METHODS:
            frame.acquired.add(key)
            return
        assert isinstance(node.func, cst.Attribute)
        receiver = node.func.value
        if frame.name in _RELEASING_METHODS:
            return
        kind = self.context.kind_of(receiver)
        if kind in catalog.UNBOUNDED_SEMAPHORES and not self._made_safe(receiver, kind):
            frame.releases.append((node, key, kind))

    def _made_safe(self, receiver: cst.BaseExpression, kind: str) -> bool:
        """`Semaphore(0)` counts events (one `release()` per item put), so it has no bound;
        `trio.Semaphore(n, max_value=n)` refuses a release past its bound. Of another
        object's semaphore (`pool._idle`) the project model knows the kind but not how it
        was made: its starting count is unknown, so it is not reported."""
        if not self._made_in_view(receiver):
            return True
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
        """A name or a `self.` attribute: what the bindings show being assigned to it."""
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
        pending = [release for release in frame.releases if release[1] not in frame.acquired]
        if self._frames:  # a callback nested in the function that acquires is its partner
            self._frames[-1].releases.extend(pending)
            return
        for call, key, kind in pending:
            assert isinstance(call.func, cst.Attribute)
            fix = catalog.BOUND_REMEDIES[kind]
            self.report(call, target=key, method=call.func.attr.value, fix=fix)


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
