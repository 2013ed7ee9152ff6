"""A read-only traversal of LibCST trees that rebuilds nothing.

LibCST's own `visit` reconstructs and re-validates every node of the tree on the
way back up, even for visitors that change nothing, and calls the visitor for
every whitespace, comma, parenthesis and operator token. That costs several
times the parse. This walker visits the same nodes in the same order (each
class's field order is read from LibCST itself), calls the same
`visit_<Type>`, `visit_<Type>_<field>`, `leave_<Type>_<field>` and
`leave_<Type>` methods, and skips the fields that can only hold layout tokens,
which no analysis looks at. tests/analysis/test_walk.py compares both traversals.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import ForwardRef

import libcst as cst

Hook = Callable[[cst.CSTNode], object]

# Layout tokens: no rule visits them, so their fields are not entered.
TRIVIA: tuple[type[cst.CSTNode], ...] = (
    cst.BaseParenthesizableWhitespace,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.Dot,
    cst.Colon,
    cst.Semicolon,
    cst.AssignEqual,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.BaseAugOp,
    cst.Asynchronous,
)

# Per node class: the fields that can hold nodes worth visiting (a node, a sequence of
# nodes, None or MaybeSentinel), in LibCST's visiting order.
Layout = tuple[str, ...]
_LAYOUTS: dict[type[cst.CSTNode], Layout] = {}
_SEQUENCES = (tuple, list)


def layout(node: cst.CSTNode) -> Layout:
    """The visited fields of `node`'s class, in the order LibCST visits them.

    Each class's `_visit_and_replace_children` names every field it visits as a
    string constant, in visiting order; the code object keeps them in that order.
    """
    cls = type(node)
    found = _LAYOUTS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        constants = cls._visit_and_replace_children.__code__.co_consts
        found = tuple(
            name
            for name in constants
            if isinstance(name, str) and name in hints and _may_hold_content(hints[name])
        )
        _LAYOUTS[cls] = found
    return found


def _may_hold_content(hint: object) -> bool:
    """True for fields that can hold a node other than a layout token."""
    return any(not issubclass(each, TRIVIA) for each in _node_classes(hint))


def _node_classes(hint: object) -> Iterator[type[cst.CSTNode]]:
    if isinstance(hint, ForwardRef):
        hint = getattr(cst, hint.__forward_arg__)
    if typing.get_origin(hint) is typing.Literal:
        return
    if isinstance(hint, type):
        if issubclass(hint, cst.CSTNode):
            yield hint
        return
    for argument in typing.get_args(hint):
        yield from _node_classes(argument)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The direct children of `node` that are not layout tokens, in source order."""
    for name in layout(node):
        value = getattr(node, name)
        if type(value) in _SEQUENCES:
            yield from value
        elif value is not None and type(value) is not cst.MaybeSentinel:
            yield value


def suspends(node: cst.CSTNode) -> bool:
    """A point where a coroutine may suspend: `await`, `async for`, `async with`, or an
    async comprehension."""
    return isinstance(node, cst.Await) or (
        isinstance(node, cst.For | cst.With | cst.CompFor) and node.asynchronous is not None
    )


def descendants(
    root: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] = lambda node: False
) -> Iterator[cst.CSTNode]:
    """Every node below `root` (not layout tokens), depth first; the subtrees of nodes
    for which `prune` is true are not entered (the nodes themselves are yielded)."""
    stack = list(children(root))
    stack.reverse()
    while stack:
        node = stack.pop()
        yield node
        if not prune(node):
            below = list(children(node))
            below.reverse()
            stack.extend(below)


class Walker:
    """Calls the visitors' methods over one tree, as `visit_batched` would.

    `visitors` are objects with LibCST's `get_visitors()`; `around` maps node
    classes to (before, after) hooks that run before every visitor's
    `visit_<Type>` and after every `leave_<Type>`; `never_runs` names the field of an
    `if` statement that cannot run (`body` of `if False:`), which is not entered.
    """

    def __init__(
        self,
        visitors: Iterable[cst.BatchableCSTVisitor],
        around: Mapping[type[cst.CSTNode], tuple[Hook, Hook]] | None = None,
        never_runs: Callable[[cst.CSTNode], str | None] | None = None,
    ) -> None:
        self._methods: dict[str, list[Hook]] = {}
        for visitor in visitors:
            for name, method in visitor.get_visitors().items():
                self._methods.setdefault(name, []).append(method)
        self._around = around or {}
        self._never_runs = never_runs
        # Per node class: (visit hooks, fields with their hooks, leave hooks, the test of
        # the field that cannot run).
        self._plans: dict[type[cst.CSTNode], _Plan] = {}

    def walk(self, node: cst.CSTNode) -> None:
        plan = self._plans.get(type(node)) or self._plan(node)
        visit, fields, leave, never_runs = plan
        for hook in visit:
            hook(node)
        walk = self.walk
        dead = never_runs(node) if never_runs is not None else None
        for name, before, after in fields:
            if name == dead:
                continue
            for hook in before:
                hook(node)
            value = getattr(node, name)
            if type(value) in _SEQUENCES:
                for child in value:
                    walk(child)
            elif value is not None and type(value) is not cst.MaybeSentinel:
                walk(value)
            for hook in after:
                hook(node)
        for hook in leave:
            hook(node)

    def _plan(self, node: cst.CSTNode) -> _Plan:
        cls = type(node)
        kind = cls.__name__
        methods = self._methods
        before, after = self._around.get(cls, (None, None))
        visit = [before] if before else []
        visit += methods.get(f"visit_{kind}", [])
        leave = list(methods.get(f"leave_{kind}", []))
        leave += [after] if after else []
        fields = tuple(
            (
                name,
                tuple(methods.get(f"visit_{kind}_{name}", ())),
                tuple(methods.get(f"leave_{kind}_{name}", ())),
            )
            for name in layout(node)
        )
        never_runs = self._never_runs if cls is cst.If else None
        plan = self._plans[cls] = (tuple(visit), fields, tuple(leave), never_runs)
        return plan


_Plan = tuple[
    tuple[Hook, ...],
    tuple[tuple[str, tuple[Hook, ...], tuple[Hook, ...]], ...],
    tuple[Hook, ...],
    Callable[[cst.CSTNode], str | None] | None,
]


def is_scope(node: cst.CSTNode) -> bool:
    """A function, lambda or class: a scope of its own, which a walk of the statements of
    the scope around it does not enter."""
    return isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef)
