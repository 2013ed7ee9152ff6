"""Where a value lives, so that its constructor, its uses and its hand-overs can be matched.

A place is a hashable key: `("name", id(scope), name)` for a local or global
variable, `("attr", id(class), name)` for an attribute of the instances of a
class of the module (also a class attribute read through `self.`), and
`("param", id(function), name)` for a parameter. `place_of(expr, context)`
answers for the expression at the current point of the traversal.

`argument_flows(call, context)` says which places flow into which parameters
of the module's own functions through one call: a direct call
(`producer(q)`, also inside `create_task(producer(q))`), or a hand-over
(`Thread(target=producer, args=(q,))`, `executor.submit(producer, q)`).
`spread` then carries a fact about parameters back to the arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import libcst as cst

from conclint.analysis.context import FileContext
from conclint.analysis.handoff import bind_arguments, find_handoff, own_function

Place = tuple[str, int, str]
Flow = tuple[Place, Place]  # (the argument's place, the parameter it is passed to)
_Fact = TypeVar("_Fact")


def place_of(expr: cst.BaseExpression, context: FileContext) -> Place | None:
    chain = context.chain
    if isinstance(expr, cst.Name):
        found = context.names.lookup(expr.value, chain)
        if found is None:
            return None
        scope = chain[found[0]]
        if isinstance(scope, cst.ClassDef):  # a class attribute, read as `self.x` elsewhere
            return ("attr", id(scope), expr.value)
        params = all(binding.how == "param" for binding in found[1])
        return ("param" if params else "name", id(scope), expr.value)
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
        owner = context.bindings.class_of_receiver(expr.value, chain)
        return ("attr", id(owner), expr.attr.value) if owner is not None else None
    return None


def argument_flows(call: cst.Call, context: FileContext) -> list[Flow]:
    if not call.args:
        return []
    handoff = find_handoff(call, context)
    func = handoff.function if handoff is not None else call.func
    found = own_function(func, context, context.chain)
    if found is None:
        return []
    keywords: list[tuple[str, cst.BaseExpression]] = []
    if handoff is not None:
        positional: Sequence[cst.BaseExpression] = handoff.arguments
    else:
        positional = []
        for arg in call.args:
            if arg.star:
                break  # `*args` hides where the rest lands
            if arg.keyword is None:
                positional.append(arg.value)
        keywords = [(arg.keyword.value, arg.value) for arg in call.args if arg.keyword]
    function = found[0]
    bound = isinstance(func, cst.Attribute)  # `self.method`: the first parameter is `self`
    flows = []
    for parameter, value in bind_arguments(function, positional, keywords, bound=bound):
        place = place_of(value, context)
        if place is not None:
            flows.append((place, ("param", id(function), parameter)))
    return flows


def spread(
    facts: Mapping[Place, _Fact], flows: Iterable[Flow], *, hops: int = 3
) -> dict[Place, _Fact]:
    """`facts` about parameters, also for the places passed to them (up to `hops` calls deep)."""
    found = dict(facts)
    flows = list(flows)
    for _ in range(hops):
        for argument, parameter in flows:
            if parameter in found and argument not in found:
                found[argument] = found[parameter]
    return found
