"""Startable functions: those a nursery's or task group's `start()` can run.

`start(fn)` passes `fn` a task status under a keyword (`task_status=`) and
waits until `fn` calls `started()` on it. A function is startable when it
takes that keyword (a parameter of that name that is not positional-only) or
has a parameter annotated with a task status class (`TaskStatus[int]`),
whatever its name.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.context import FileContext
from conclint.analysis.scopes import ScopeNode
from conclint.analysis.walk import descendants

_KEYWORDS = frozenset(catalog.STATUS_KEYWORDS.values())
# What an annotation naming a task status class spells (`TaskStatus`): the cheap test before
# the annotation is resolved.
_CLASS_WORDS = catalog.kind_words(catalog.STARTED_METHODS)


def status_parameter(
    context: FileContext, function: cst.FunctionDef, chain: Sequence[ScopeNode]
) -> str | None:
    """The name of `function`'s task status parameter, or None; `chain` is where it is
    defined (its annotations are resolved there)."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        annotation = param.annotation.annotation if param.annotation is not None else None
        if annotation is not None and _spells_status_class(annotation):
            kind = context.bindings.annotation_kind(annotation, chain)
            if kind in catalog.STARTED_METHODS:
                return param.name.value
    for param in (*params.params, *params.kwonly_params):
        if param.name.value in _KEYWORDS:
            return param.name.value
    return None


def _spells_status_class(annotation: cst.BaseExpression) -> bool:
    for node in (annotation, *descendants(annotation)):
        if isinstance(node, cst.Name) and node.value in _CLASS_WORDS:
            return True
        if isinstance(node, cst.SimpleString) and any(w in node.value for w in _CLASS_WORDS):
            return True
    return False
