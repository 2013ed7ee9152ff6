"""CCL406: a lock made in the `with` statement that enters it, which no one else can take."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

_TAILS = frozenset(catalog.words(catalog.LOCK_CLASSES))


class UselessLock(Rule):
    code = "CCL406"
    name = "useless-lock"
    summary = "A lock is made in the `with` statement that takes it, so it guards nothing"
    message = (
        "`{with_} {call}:` takes a new lock that no other thread or task can see: it guards "
        "nothing; make it once, where the code that shares the data can reach it (an "
        "attribute or a global), and take that one"
    )
    needles = catalog.words(catalog.LOCK_CLASSES)
    imports = catalog.kind_modules(catalog.LOCK_KINDS)
    peers = ("PLW2101",)
    tags = ("lock",)

    def visit_With(self, node: cst.With) -> None:
        form = "with" if node.asynchronous is None else "async with"
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value not in _TAILS:
                continue
            kind = catalog.LOCK_CLASSES.get(self.context.qualname(func) or "")
            if kind is None or (kind in catalog.WRAPPING_LOCK_KINDS and call.args):
                continue  # `Condition(self._lock)` takes that lock
            shown = f"{dotted_name(func)}({'...' if call.args else ''})"
            self.report(item, with_=form, call=shown)
