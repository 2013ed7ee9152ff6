"""Shared trackers: analyses that follow the one traversal of a file for every rule.

A rule names the trackers it listens to (`Rule.uses`); the file's context makes
each tracker once (`FileContext.tracker`), and the engine walks the trackers
before the rules, so a tracker has seen a node before any rule visits it and
has taken its leave before any rule's leave. A tracker tells its listeners
what it finds through the methods its listener protocol names, so no rule
mixes an analysis into itself and nothing here knows the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Generic, TypeVar

import libcst as cst

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

L = TypeVar("L")


class Tracker(cst.BatchableCSTVisitor, Generic[L]):
    """One shared analysis of one file, with the listeners it tells."""

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.listeners: list[L] = []

    def subscribe(self, listener: L) -> None:
        self.listeners.append(listener)

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        return {name: getattr(self, name) for name in hook_names(type(self))}


@cache
def hook_names(visitor: type) -> tuple[str, ...]:
    """The `visit_`/`leave_` methods a visitor class defines (LibCST's own search runs
    on every instance; the names depend only on the class)."""
    return tuple(
        name
        for name in dir(visitor)
        if name.startswith(("visit_", "leave_"))
        and callable(getattr(visitor, name))
        and not getattr(getattr(visitor, name), "_is_no_op", False)
    )


class Tries(Tracker[object]):
    """The `try` statements enclosing the current node, innermost last (`open`): for the
    rules about handlers, which ask which `try` a handler belongs to."""

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.open: list[cst.Try | cst.TryStar] = []

    def visit_Try(self, node: cst.Try) -> None:
        self.open.append(node)

    def leave_Try(self, original_node: cst.Try) -> None:
        self.open.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self.open.append(node)

    def leave_TryStar(self, original_node: cst.TryStar) -> None:
        self.open.pop()
