"""Class lifecycle, for the project model: what each method does to the objects an
instance keeps on `self`, and which arguments a constructor keeps.

Read in the index pass from the statements the declarations' scan of a method has
collected already (its expression statements, `with` and `for` statements, assignments
and returns), each looked at a few levels deep: no walk of its own over the method.

A method's summary (fields of `FunctionFacts`):
- `stops`: the attributes of `self` it stops, joins, shuts down, cancels, awaits, enters
  with `with`, passes to a call, returns or copies into a name (after which someone else
  may stop them), directly or through a loop over a collection attribute; "*" when it
  may reach any attribute (`self` handed to a call). A method of `self` handed to a call
  (`loop.call_soon(self._stop)`) is listed too: the callee may run it;
- `cancels`: the attributes of `self` it cancels itself (`self._task.cancel()`), for a
  cancel-then-reap through a method (CCL203);
- `calls_self`: the methods it calls on `self` ("m"), on `super()` ("^m"), or on a named
  class with `self` ("app.base.Base^m");
- `keeps` (constructors only): "position:parameter" ("*:name" for keyword-only ones) ->
  where the argument goes: attributes of `self`, "^i"/"^name" for the position or
  keyword it is given to `super().__init__` ("app.base.Base^i" for `Base.__init__`),
  "?" when it is also handed to something else (which may own it).

Which of these methods tear an instance down is the configuration's, asked when linting
(`types.ProjectTypes.teardowns` and `stopped_by`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from conclint.analysis import catalog
from conclint.analysis.signature import signature

if TYPE_CHECKING:
    from conclint.analysis.declared import FunctionFacts, _Body

    Scan = Callable[[ast.FunctionDef | ast.AsyncFunctionDef], _Body]
    Absolute = Callable[[ast.expr], str | None]

# Methods that end a thread, a pool, a process or a task, whatever its kind: the catalog's
# joins, shutdowns and cancels.
STOP_METHODS = frozenset().union(
    *catalog.JOINS.values(),
    catalog.EXECUTOR_SHUTDOWN_METHODS,
    catalog.CANCEL_METHODS,
    *catalog.CLEANUP_METHODS.values(),
)
ANY = "*"
_BUILTINS = "builtins"
SUPER = "^"
ELSEWHERE = "?"
CONSTRUCTOR = "__init__"
# How deep an expression statement is looked into (`await asyncio.gather(*(t for ...))`).
_DEPTH = 3
_SEQUENCES = frozenset({ast.Tuple, ast.List, ast.Set})
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.GeneratorExp})


def summarised(
    facts: FunctionFacts,
    method: ast.FunctionDef | ast.AsyncFunctionDef,
    body: _Body,
    absolute: Absolute,
    scan: Scan,
) -> FunctionFacts:
    """`facts` of a method, with what it does to the attributes of `self`; `absolute`
    names what an expression spells through the module's imports, `scan` collects the
    statements of a function nested in the method (a callback that may stop something)."""
    receiver = signature(method, True, _is_static(method)).receiver
    if receiver is None:
        return facts
    reader = _Effects(receiver, absolute)
    reader.read(body, scan)
    keeps = {}
    if method.name == CONSTRUCTOR:
        keeps = _kept_arguments(method, body, receiver, absolute, reader.stopped_names)
    if not reader.stops and not reader.calls and not keeps:
        return facts
    return replace(
        facts,
        stops=tuple(sorted(reader.stops)),
        cancels=tuple(sorted(reader.cancels)),
        calls_self=tuple(sorted(reader.calls)),
        keeps=keeps,
    )


def _is_static(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(decorator, ast.Name) and decorator.id == "staticmethod"
        for decorator in method.decorator_list
    )


class _Effects:
    """What one method does to `self`'s attributes, statement by statement."""

    def __init__(self, receiver: str, absolute: Absolute) -> None:
        self.receiver = receiver
        self.absolute = absolute
        self.stops: set[str] = set()
        self.cancels: set[str] = set()
        self.calls: set[str] = set()
        # Local names stopped or handed on, and the loops that bind names from attributes:
        # (the attributes iterated, the names bound).
        self.stopped_names: set[str] = set()
        self.loops: list[tuple[frozenset[str], frozenset[str]]] = []

    def read(self, body: _Body, scan: Scan, nested: int = 2) -> None:
        for statement in body.effects:
            kind = type(statement)
            if kind is ast.Expr:
                self.visit(statement.value, _DEPTH, False)  # type: ignore[attr-defined]
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in statement.items:  # type: ignore[attr-defined]
                    self.visit(item.context_expr, _DEPTH, True)
            elif (kind is ast.FunctionDef or kind is ast.AsyncFunctionDef) and nested:
                # A callback the method may hand on.
                self.read(scan(statement), scan, nested - 1)  # type: ignore[arg-type]
        for returned in body.returns:
            if returned.value is not None:
                self.visit(returned.value, _DEPTH, True)
        for assignment in body.assignments:
            if assignment.value is not None:
                self.assigned(assignment.value, _DEPTH)
        for loop in body.loops:
            if isinstance(loop, ast.For | ast.AsyncFor):
                self.iterated(loop.iter, frozenset(_names(loop.target)))
        for attributes, targets in self.loops:
            if not self.stopped_names.isdisjoint(targets):
                self.stops.update(attributes)

    def assigned(self, value: ast.expr, depth: int) -> None:
        """`value` is assigned: a copy of an attribute (`task = self._task`) may be stopped
        under another name; a name kept (`self._pool = pool or default`) is not handed on."""
        kind = type(value)
        if kind is ast.Name or not depth:
            return
        if kind is ast.Tuple or kind is ast.List:
            for element in value.elts:  # type: ignore[attr-defined]
                self.assigned(element, depth - 1)
        elif kind is ast.BoolOp:
            for element in value.values:  # type: ignore[attr-defined]
                self.assigned(element, depth - 1)
        elif kind is ast.IfExp:
            self.assigned(value.body, depth - 1)  # type: ignore[attr-defined]
            self.assigned(value.orelse, depth - 1)  # type: ignore[attr-defined]
        else:
            self.visit(value, depth, True)

    def attribute(self, expr: ast.expr) -> str | None:
        """`x` for `self.x`."""
        if (
            type(expr) is ast.Attribute
            and type(expr.value) is ast.Name
            and expr.value.id == self.receiver
        ):
            return expr.attr
        return None

    def reads_only(self, func: ast.expr) -> bool:
        """`isinstance(self, ...)`, `len(self._x)`: a builtin, which does not hand `self` on
        unless it may reach attributes by name (`getattr`)."""
        named = self.absolute(func)
        return (
            named is not None
            and named.partition(".")[0] == _BUILTINS
            and named not in catalog.CALLABLE_FACTORIES
        )

    def is_receiver(self, expr: ast.expr) -> bool:
        return isinstance(expr, ast.Name) and expr.id == self.receiver

    def held(self, expr: ast.expr) -> str | None:
        """The attribute whose element `expr` is: `self.x`, `self.x[key]`, `self.x.pop()`."""
        for _ in range(3):
            found = self.attribute(expr)
            if found is not None:
                return found
            if isinstance(expr, ast.Subscript):
                expr = expr.value
            elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
                expr = expr.func.value
            else:
                return None
        return None

    def visit(self, expr: ast.expr, depth: int, given: bool) -> None:
        """An expression evaluated for its effect, or (`given`) handed on: an argument,
        awaited, returned, assigned or entered."""
        kind = type(expr)
        if kind is ast.Call:
            if depth:
                self.call(expr, depth)  # type: ignore[arg-type]
        elif kind is ast.Attribute:
            if given:
                found = self.attribute(expr)
                if found is not None:
                    self.stops.add(found)  # or a bound method, which the callee may call
        elif kind is ast.Name:
            if given and expr.id == self.receiver:  # type: ignore[attr-defined]
                self.stops.add(ANY)
            elif given:
                self.stopped_names.add(expr.id)  # type: ignore[attr-defined]
        elif kind is ast.Await:
            if depth:
                self.visit(expr.value, depth - 1, True)  # type: ignore[attr-defined]
        elif kind is ast.Starred:
            self.visit(expr.value, depth, given)  # type: ignore[attr-defined]
        elif depth and kind in _SEQUENCES:
            if given:
                for element in expr.elts:  # type: ignore[attr-defined]
                    self.visit(element, depth - 1, True)
        elif depth and kind in _COMPREHENSIONS:
            for generator in expr.generators:  # type: ignore[attr-defined]
                self.iterated(generator.iter, frozenset(_names(generator.target)))
            self.visit(expr.elt, depth - 1, given)  # type: ignore[attr-defined]
        elif depth and kind is ast.BoolOp:
            for value in expr.values:  # type: ignore[attr-defined]
                self.visit(value, depth - 1, given)
        elif depth and kind is ast.IfExp:
            self.visit(expr.body, depth - 1, given)  # type: ignore[attr-defined]
            self.visit(expr.orelse, depth - 1, given)  # type: ignore[attr-defined]
        elif depth and kind is ast.Lambda:
            self.visit(expr.body, depth - 1, False)  # type: ignore[attr-defined]

    def call(self, call: ast.Call, depth: int) -> None:
        func = call.func
        arguments = call.args
        if type(func) is ast.Attribute:
            receiver = func.value
            method = func.attr
            if type(receiver) is ast.Name:
                named = self.absolute(receiver) if _passes_receiver(call, self.receiver) else None
                if receiver.id == self.receiver:
                    self.calls.add(method)  # self.m()
                elif named is not None:
                    self.calls.add(f"{named}{SUPER}{method}")  # Base.close(self)
                    if method == CONSTRUCTOR:
                        return  # what it keeps of its arguments is `keeps`
                    arguments = arguments[1:]  # `self` is the receiver, not handed on
                elif method in STOP_METHODS:
                    self.stopped_names.add(receiver.id)  # a loop's `t.cancel()`
            elif _is_super(receiver):
                self.calls.add(SUPER + method)  # super().m()
                if method == CONSTRUCTOR:
                    return
            elif method in STOP_METHODS and (held := self.held(receiver)) is not None:
                self.stops.add(held)  # self.x.join(), self.x[k].cancel()
                if method in catalog.CANCEL_METHODS and self.attribute(receiver) == held:
                    self.cancels.add(held)  # self.x.cancel()
            else:
                self.visit(receiver, depth - 1, False)  # self.x.pop().join() is above
            if method in catalog.LOGGER_METHODS:
                return  # `log.info("closing %s", self)` reads it
        elif type(func) is ast.Name:
            if func.id == "super":
                return
            receiver_given = any(self.is_receiver(arg) for arg in arguments)
            if receiver_given and self.reads_only(func):
                arguments = [arg for arg in arguments if not self.is_receiver(arg)]
        else:
            self.visit(func, depth - 1, False)
        for argument in arguments:
            self.visit(argument, depth - 1, True)
        for keyword in call.keywords:
            self.visit(keyword.value, depth - 1, True)

    def iterated(self, source: ast.expr, targets: frozenset[str]) -> None:
        """A loop over `self.x` (`.values()`, `list(self.x)`, `(self.a, self.b)`): its
        attributes are stopped when what the loop binds is."""
        if isinstance(source, ast.Call) and len(source.args) == 1 and not source.keywords:
            source = source.args[0]  # list(self.x), sorted(self.x)
        elif (
            isinstance(source, ast.Call)
            and not source.args
            and isinstance(source.func, ast.Attribute)
        ):
            source = source.func.value  # self.x.values(), self.x.copy()
        if isinstance(source, ast.Tuple | ast.List | ast.Set):
            found = [self.attribute(element) for element in source.elts]
            attributes = frozenset(name for name in found if name is not None)
        else:
            held = self.attribute(source)
            attributes = frozenset([held] if held is not None else [])
        if attributes and targets:
            self.loops.append((attributes, targets))


def _names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _names(element)
    elif isinstance(target, ast.Starred):
        yield from _names(target.value)


def _is_super(expr: ast.expr) -> bool:
    return (
        isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super"
    )


def _passes_receiver(call: ast.Call, receiver: str) -> bool:
    """`self` is the first argument (`Base.close(self)`)."""
    first = call.args[0] if call.args else None
    return isinstance(first, ast.Name) and first.id == receiver


# Constructors ---------------------------------------------------------------------------


def _kept_arguments(
    method: ast.FunctionDef | ast.AsyncFunctionDef,
    body: _Body,
    receiver: str,
    absolute: Absolute,
    handed_on: set[str],
) -> dict[str, tuple[str, ...]]:
    """Where `__init__` keeps each of its parameters: `self.x = p` (or `p or default`,
    `p if ... else default`), `super().__init__(p)`, `Base.__init__(self, p)`; and "?" for
    those it also hands on otherwise (`handed_on`: passed to a call, copied, returned)."""
    found = signature(method, True, False)
    keys = {
        name: f"{found.where(name)}:{name}" for name in (*found.positional, *found.keyword_only)
    }
    kept: dict[str, list[str]] = {}
    for assignment in body.assignments:
        if not isinstance(assignment, ast.Assign) or assignment.value is None:
            continue
        for target in assignment.targets:
            pairs = (
                zip(target.elts, assignment.value.elts, strict=False)
                if isinstance(target, ast.Tuple) and isinstance(assignment.value, ast.Tuple)
                else [(target, assignment.value)]
            )
            for single, value in pairs:
                if not (
                    isinstance(single, ast.Attribute)
                    and isinstance(single.value, ast.Name)
                    and single.value.id == receiver
                ):
                    continue
                for name in _parameter_given(value, keys):
                    kept.setdefault(keys[name], []).append(single.attr)
    for statement in body.effects:
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
            continue
        call = statement.value
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != CONSTRUCTOR:
            continue
        named = absolute(func.value)
        if _is_super(func.value):
            prefix, given = SUPER, list(call.args)
        elif named is not None and _passes_receiver(call, receiver):
            prefix, given = f"{named}{SUPER}", list(call.args[1:])
        else:
            continue
        for position, argument in enumerate(given):
            if isinstance(argument, ast.Starred):
                break  # the positions after it are not known
            if isinstance(argument, ast.Name) and argument.id in keys:
                kept.setdefault(keys[argument.id], []).append(f"{prefix}{position}")
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg is not None and isinstance(value, ast.Name) and value.id in keys:
                kept.setdefault(keys[value.id], []).append(f"{prefix}{keyword.arg}")
    for name in handed_on:
        if name in keys and keys[name] in kept:
            kept[keys[name]].append(ELSEWHERE)
    return {key: tuple(where) for key, where in kept.items()}


def _parameter_given(value: ast.expr, parameters: dict[str, str]) -> Iterator[str]:
    """The parameter a stored value is, when given: `p`, `p or default`, `p if c else d`."""
    if isinstance(value, ast.Name) and value.id in parameters:
        yield value.id
    elif isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
        yield from _parameter_given(value.values[0], parameters)
    elif isinstance(value, ast.IfExp):
        yield from _parameter_given(value.body, parameters)
        yield from _parameter_given(value.orelse, parameters)
