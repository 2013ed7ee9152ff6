"""The walker visits exactly what LibCST's own traversal visits, in the same order,
minus layout tokens (whitespace, commas, parentheses, operators)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import libcst as cst
import pytest

from conclint import registry
from conclint.analysis.tracking import hook_names
from conclint.analysis.walk import TRIVIA, Walker, children, descendants, layout
from tests.conftest import fixture_files

Event = tuple[str, str, int]

EVERY_SYNTAX = """
import a.b as c, d
from .. import (e as f, g,)
from h import *
@deco(1, *args, k=2, **kw)
async def fn(x: int = 1, /, y=2, *rest, z: "T" = 3, **more) -> list[int]:
    global q
    async with a as (b, c), d:
        async for i, *j in k[1:2, ::3]:
            await x; yield y; yield from z
    try:
        pass
    except* (E1, E2) as e:
        raise X from e
    finally:
        del a[0], b.c
    while not a and b or -c:
        break
    else:
        continue
    lambda p, *, q=1: (p if q else -p) @ q
    return {k: v async for k, v in x if k}, [*a], {*b}, {**c}, (d, e), f"{x!r:>{w}}"
class C(B, metaclass=M):
    x: int = 1
    y += 2
    (z := 3)
    assert a, "m"
    match p:
        case [1, *rest] | {"k": v, **kw} | Point(x=0) as pt if pt:
            pass
        case _:
            nonlocal_ = ...
def gen[T](a: T) -> T: ...
type Alias = int
if a: pass
elif b: pass
else: pass
with open(x) as f: print(f, sep=b"")
"""


class _Everything(cst.BatchableCSTVisitor):
    """Records every visit/leave and visit/leave-of-field call it receives."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        methods: dict[str, Callable[[cst.CSTNode], None]] = {}
        for cls in _node_classes():
            kind = cls.__name__
            methods[f"visit_{kind}"] = self._recorder("visit", None)
            methods[f"leave_{kind}"] = self._recorder("leave", None)
            for field in cls.__dataclass_fields__:
                methods[f"visit_{kind}_{field}"] = self._recorder("visit", field)
                methods[f"leave_{kind}_{field}"] = self._recorder("leave", field)
        return methods

    def _recorder(self, what: str, field: str | None) -> Callable[[cst.CSTNode], None]:
        def record(node: cst.CSTNode) -> None:
            if field is None or _present(node, field):
                self.events.append((what, f"{type(node).__name__}.{field or ''}", id(node)))

        return record


class _LibcstOrder(cst.CSTVisitor):
    """What LibCST's own traversal visits, outside layout tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, TRIVIA):
            return False
        self.events.append(("visit", f"{type(node).__name__}.", id(node)))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if not isinstance(original_node, TRIVIA):
            self.events.append(("leave", f"{type(original_node).__name__}.", id(original_node)))

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute in layout(node) and _present(node, attribute):
            self.events.append(("visit", f"{type(node).__name__}.{attribute}", id(node)))

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        if attribute in layout(original_node) and _present(original_node, attribute):
            kind = type(original_node).__name__
            self.events.append(("leave", f"{kind}.{attribute}", id(original_node)))


def _present(node: cst.CSTNode, field: str) -> bool:
    # LibCST calls the hooks of an absent optional field for most node kinds, but not
    # for all (an f-string's format spec); no rule hooks an optional field.
    return getattr(node, field) not in (None, cst.MaybeSentinel.DEFAULT)


def _node_classes() -> list[type[cst.CSTNode]]:
    found = []
    stack: list[type[cst.CSTNode]] = [cst.CSTNode]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _both_orders(source: str) -> tuple[list[Event], list[Event]]:
    module = cst.parse_module(source)
    ours: list[Event] = []
    Walker([_Everything(ours)]).walk(module)
    theirs = _LibcstOrder()
    module.visit(theirs)
    return ours, theirs.events


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: path.name)
def test_same_visits_as_libcst_on_fixtures(path: Path) -> None:
    ours, theirs = _both_orders(path.read_text(encoding="utf-8"))
    assert ours == theirs


def test_same_visits_as_libcst_on_every_kind_of_syntax() -> None:
    ours, theirs = _both_orders(EVERY_SYNTAX)
    assert ours == theirs
    kinds = {kind.split(".")[0] for _, kind, _ in ours}
    assert {"MatchOr", "TypeAlias", "TypeParam", "ExceptStarHandler", "FormattedString"} <= kinds


def test_layout_tokens_are_never_entered() -> None:
    module = cst.parse_module(EVERY_SYNTAX)
    assert not any(isinstance(node, TRIVIA) for node in descendants(module))


def test_children_and_pruned_descendants() -> None:
    module = cst.parse_module("def f():\n    g(1)\nh = 2\n")
    assert [type(node).__name__ for node in children(module)] == [
        "FunctionDef",
        "SimpleStatementLine",
    ]
    pruned = [
        type(node).__name__
        for node in descendants(module, prune=lambda node: isinstance(node, cst.FunctionDef))
    ]
    assert pruned == [
        "FunctionDef",
        "SimpleStatementLine",
        "Assign",
        "AssignTarget",
        "Name",
        "Integer",
    ]


def test_no_rule_visits_a_layout_token() -> None:
    trivia_names = {cls.__name__ for cls in _node_classes() if issubclass(cls, TRIVIA)}
    for rule in registry.RULES:
        for name in hook_names(rule):
            assert name.split("_")[1] not in trivia_names, f"{rule.code}: {name}"
