"""Whether the teardown methods of a class stop what it keeps on `self` (CCL103, CCL104,
CCL201), and whether a constructor takes ownership of an argument.

A class's teardown methods are those of the `teardown-methods` option (`close`, `stop`,
`shutdown`, `aclose`, `__exit__`, `__aexit__`), which the rules that ask declare, that it
defines or inherits from a project
class. What they stop comes from the project model (`lifecycle.py`'s summaries, asked
through `types.ProjectTypes`), so a base class in another module counts: `close()` calling
`self._cleanup()` or `super().close()` stops what those stop. Where the model cannot tell
(a base outside the project, `self` handed to a call, a subclass that stops the attribute
itself), the answer is unknown and nothing is reported, unless no method of the project
ever stops the attribute.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from conclint.analysis.context import FileContext
from conclint.analysis.lifecycle import CONSTRUCTOR
from conclint.analysis.scopes import dotted_name
from conclint.options import Option

TEARDOWN_METHODS = Option(
    "teardown-methods",
    "identifiers",
    ("close", "stop", "shutdown", "aclose", "__exit__", "__aexit__"),
    "methods that tear an object down: threads, executors and endless tasks it keeps on"
    " `self` must be stopped there (CCL103, CCL104, CCL201)",
)


@dataclass(frozen=True)
class Teardown:
    """The teardown methods of a class, and whether they stop one of its attributes:
    True, False, or None when that is unknown."""

    methods: tuple[str, ...]
    stops: bool | None

    def shown(self) -> str:
        """`close()`, or `close()` or `__exit__()`."""
        return " or ".join(f"`{method}()`" for method in self.methods)


def teardown_of(
    context: FileContext, owner: cst.ClassDef, attribute: str, stopped_elsewhere: bool
) -> Teardown | None:
    """The teardown of the class `owner` (of this module) for its `attribute`; None when it
    has no teardown method the project shows. `stopped_elsewhere`: some method of the module
    stops the attribute through `self` (wherever it is called from)."""
    name = context.bindings.class_name(owner)
    if name is None:
        return None  # a class nested in a function: not in the model
    model = context.model()
    names = context.settings.option(TEARDOWN_METHODS)
    methods, complete = model.teardowns(name, names)
    if not methods:
        return None
    if not stopped_elsewhere and not model.stopped_anywhere(name, attribute):
        return Teardown(methods, False)  # nothing ever stops it
    if not complete:
        return Teardown(methods, None)  # a base outside the project may call the method that does
    stops = model.stopped_by(name, methods, attribute)
    if stops is False and model.stopped_by(name, model.callbacks(name), attribute) is not False:
        return Teardown(methods, None)  # stopped in a callback, which may run on teardown
    if stops is False:
        # An instance may be of a derived class whose own teardown stops it.
        for derived in model.subclasses(name):
            their, known = model.teardowns(derived, names)
            if not known or model.stopped_by(derived, their, attribute) is not False:
                return Teardown(methods, None)
    return Teardown(methods, stops)


def owned_by_constructor(context: FileContext, call: cst.Call, value: cst.BaseExpression) -> bool:
    """`value` is an argument of `super().__init__(...)` or `Base.__init__(self, ...)` in a
    method of a project class, and that constructor may take ownership of it: it keeps it
    on `self` where a teardown method stops it, or the project cannot tell."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != CONSTRUCTOR:
        return False
    owner = context.enclosing_class()
    name = context.bindings.class_name(owner) if owner is not None else None
    if name is None:
        return False
    start: str | None = None
    arguments = list(call.args)
    if not _is_super(func.value):
        start = context.bindings.qualified(func.value, context.chain)
        if start is None or not arguments or dotted_name(arguments[0].value) is None:
            return False
        arguments = arguments[1:]  # `Base.__init__(self, ...)`
    argument: int | str | None = None
    for position, given in enumerate(arguments):
        if given.star:
            return True  # the positions after `*args` are not known
        if given.value is value:
            argument = given.keyword.value if given.keyword is not None else position
    if argument is None:
        return False
    names = context.settings.option(TEARDOWN_METHODS)
    return context.model().takes_ownership(name, argument, names, start) is not False


def _is_super(expr: cst.BaseExpression) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Name)
        and expr.func.value == "super"
    )
