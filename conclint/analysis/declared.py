"""What a module declares, for the project model: its classes, functions and globals.

Read from Python's `ast` in the index pass (no LibCST: this runs on every file), with
names resolved through the module's top-level imports (those under `if TYPE_CHECKING:`
too) and defs. Nothing here knows other modules: where a value comes from is kept as
a reference (`Ref`) that `types.ProjectTypes` resolves once every module is indexed.

A `Ref` is a short string, plain data for the cache:
- `type:X`   an object of type X (an annotation, `X | None` and `Optional[X]` included);
- `call:X`   what calling X gives (a class: an instance; a function: what it returns);
- `attr:C:a` the attribute `a` of instances of class C (`return self._lock`);
- `none`     `None`, which agrees with any other answer.
An expression none of these describe has no reference: what holds it is unknown.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

from conclint.analysis import (
    acquires,
    blocking_summary,
    catalog,
    dataclass_fields,
    exit_summaries,
    lifecycle,
    switches,
    task_tops,
)
from conclint.analysis.catalog import SHIPPED
from conclint.analysis.generator_uses import (
    closed_parameters,
    closes_what_it_is_given,
    generator_uses,
)
from conclint.analysis.names import canonical, dunder
from conclint.analysis.own_nodes import TRY_STATEMENTS, own_nodes
from conclint.analysis.signature import signature
from conclint.catalog import Catalog

Ref = str
NONE: Ref = "none"
UNKNOWN: Ref = ""

# Decorators that turn a method into an attribute read: its returns are the attribute's.
_PROPERTY_DECORATORS = frozenset({"property", "cached_property"})
_METHOD_DECORATORS = frozenset({"staticmethod", "classmethod", "abstractmethod"})
_BUILTINS = frozenset(dir(builtins))
_ACCESSORS = frozenset({"setter", "getter", "deleter"})


@dataclass(frozen=True, slots=True)
class FunctionFacts:
    """A function or method as its callers see it."""

    is_async: bool = False
    # An async def that is no generator and whose decorators keep it a coroutine function.
    coroutine: bool = False
    # A decorator conclint does not know: calling the name may run anything.
    wrapped: bool = False
    # What calling it returns (sync functions only: an `async def` returns a coroutine):
    # the return annotation, or every `return` of the body; empty when unknown.
    returns: tuple[Ref, ...] = ()
    # An async generator's loops (async generators only), one entry each: what a `for`
    # iterates (the absolute name of the callable or name, "-" for anything else), "" for
    # a `while` or an `async for` (which may never run out).
    loops: tuple[str, ...] = ()
    # Methods: what they do to the attributes of `self`, and what a constructor keeps of
    # its arguments (`lifecycle.py`).
    stops: tuple[str, ...] = ()
    # The attributes of `self` it cancels itself (`self._task.cancel()`).
    cancels: tuple[str, ...] = ()
    calls_self: tuple[str, ...] = ()
    keeps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # How it may end (`exit_summaries.py`): annotated `NoReturn`/`Never`; every path raises;
    # the calls the other paths end in (it never returns when none of those does); the
    # parameters (`position:name`) whose cancellation every path raises again.
    annotated_no_return: bool = False
    always_raises: bool = False
    ends_in: tuple[Ref, ...] = ()
    reraises: tuple[str, ...] = ()
    # Plain sync defs (`blocking_summary.py`): the blocking call it makes itself, or the
    # calls that may run other code of the project.
    blocking_call: tuple[str, ...] = ()
    helper_calls: tuple[str, ...] = ()
    # For each of those calls, the mark of its arguments (`switches.arguments`; "" when
    # unknown) and the tests it waits behind (`Calls.guard`; "" for none).
    helper_arguments: tuple[str, ...] = ()
    helper_guards: tuple[str, ...] = ()
    # The tests the blocking call waits behind (`if self.log_file:`, `if local_path is not
    # None:`): an instance holding None in that attribute, or a call leaving that parameter
    # false, does not make it.
    blocking_guard: tuple[str, ...] = ()
    # Where callers pass a function whose every call it closes in `async with`
    # (`aclosing(make(ctx))`, also in a function it defines): the parameter's position, or
    # `1~app.compat.Closing` where the closer is the project's name (`generator_uses.py`).
    closes_calls_of: tuple[str, ...] = ()
    # Calls it makes only while a module global it fills is empty were left out of those:
    # they block once, on its first call.
    memoised: bool = False
    # Locks (`acquires.py`): given back on every path; held in the `with` block of a
    # generator context manager.
    releases: tuple[Ref, ...] = ()
    holds: tuple[Ref, ...] = ()
    # Task tops (`task_tops.py`): the coroutine functions it hands straight to an asyncio
    # task spawner; its module names it (private, a coroutine function) only in defs and
    # such spawns.
    spawns: tuple[str, ...] = ()
    only_spawned: bool = False
    # A coroutine function whose body never awaits (`task_tops.py`: spells no `await`,
    # `async for` or `async with`): a task of it runs to its end in its first step.
    never_suspends: bool = False
    # A coroutine function that suspends only at `await`s of calls (`task_tops.py`): those
    # calls, as `blocking_summary` references (`playing@self.metadata`): when none of them
    # suspends, neither does it. Empty when it may suspend otherwise.
    awaits: tuple[str, ...] = ()
    # A spawner of the project's (`task_tops.py`): where it takes what it hands to an
    # asyncio task spawner ("0": the coroutine at argument 0, "0()": the callable it calls).
    spawns_argument: tuple[str, ...] = ()
    # It reads or undoes the running task's cancellation (`task.cancelling()`,
    # `task.uncancel()`): a handler that asks it reasons about whose cancellation it caught.
    reads_cancel_state: bool = False
    # An `__init__` that only stores its parameters and constants on the instance.
    stores_only: bool = False
    # A coroutine function run only as the main coroutine of a new event loop
    # (`loop_mains.py`): the first line of its body that may run after it suspends (0: none
    # such). Before it, nothing else runs on that loop.
    alone_until: int = 0


@dataclass(frozen=True)
class ClassFacts:
    # Absolute names of the bases, in order; "" for a base that is no plain name.
    bases: tuple[str, ...] = ()
    methods: dict[str, FunctionFacts] = field(default_factory=dict)
    # Attribute -> every value or annotation it is given (class body, `self.x = ...` in
    # methods, properties); an unknown value makes the whole attribute unknown ("").
    attributes: dict[str, tuple[Ref, ...]] = field(default_factory=dict)
    # Locks an instance holds from `__enter__` to `__exit__`; how each call assigned to an
    # attribute made it (`acquires.py`).
    holds: tuple[Ref, ...] = ()
    made: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Attributes `__init__` gives a value only when an argument is true (`switches.py`).
    switches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Its `__aexit__` closes what `__init__` kept of its first argument: a project's own
    # `aclosing` (`generator_uses.closes_what_it_is_given`).
    closes_given: bool = False


@dataclass(frozen=True)
class Declarations:
    """Top-level classes, functions and globals of one module, by local name."""

    classes: dict[str, ClassFacts] = field(default_factory=dict)
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    globals: dict[str, tuple[Ref, ...]] = field(default_factory=dict)
    # Global -> how each call assigned to it made it (`acquires.note_made`).
    made: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Private async generators -> each use of the name, closed or not (`generator_uses.py`).
    generators: dict[str, tuple[str, ...]] = field(default_factory=dict)


def declarations(
    tree: ast.Module,
    module: str,
    names: dict[str, str],
    typing_forms: tuple[Collection[str], Collection[str]],
    keeping_decorators: Collection[str],
    lines: list[str],
    known: Catalog = SHIPPED,
    blocking: blocking_summary.Summariser | None = None,
    spawns: task_tops.Finder | None = None,
) -> Declarations:
    """The declarations of `tree` (module `module`; `lines` of its source, or none where
    it holds no `yield` and no `:=`); `names` maps the module's top-level names to
    absolute ones, `typing_forms` are the annotations that wrap one type (`Optional`)
    and that join several (`Union`), as absolute names; `known` is the run's catalog."""
    reader = _Reader(module, names, typing_forms, keeping_decorators, lines)
    reader.exit_names = exit_summaries.exit_names(known)
    reader.lock_words = acquires.lock_words(known)
    reader.field_roles = (
        known.functions_with("generates-init"),
        known.functions_with("declares-field"),
    )
    reader.blocking = blocking
    reader.spawns = spawns
    found = Declarations()
    # Classes whose generated `__init__` keeps each argument in its field (`@dataclass`).
    dataclasses: dict[str, ast.ClassDef] = {}
    for statement in top_level(tree.body):
        if isinstance(statement, ast.ClassDef):
            by_init = dataclass_fields.generated(statement, reader, reader.field_roles[0])
            found.classes[statement.name] = reader.class_facts(statement, by_init)
            if by_init:
                dataclasses[statement.name] = statement
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            found.functions[statement.name] = reader.function_facts(statement)
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            for target, ref in reader.assigned(statement, {}):
                if isinstance(target, ast.Name):
                    _add(found.globals, target.id, ref)
                    acquires.note_made(found.made, target.id, statement.value, reader)
    for name in reader.rebound_globals & found.globals.keys():
        _add(found.globals, name, UNKNOWN)  # `global x` then `x = ...` in a function
    if any(name.startswith("_") for name in dataclasses):
        made = {name: found.classes[name].made for name in dataclasses}
        dataclass_fields.note_constructions(tree, dataclasses, made, reader, reader.field_roles[1])
    return found


def with_generator_uses(
    declared: Declarations, tree: ast.Module, source: str, reader: _Reader, known: Catalog
) -> Declarations:
    """`declared` with the uses of its private async generators and of the generators its
    functions close, and where its functions close every call of what they are given
    (`closes_calls_of`; `generator_uses.py`)."""
    defined = {
        name
        for functions in (declared.functions, *(c.methods for c in declared.classes.values()))
        for name, facts in functions.items()
        if facts.is_async and not facts.coroutine and name.startswith("_") and not dunder(name)
    }
    if not defined and "async with" not in source:
        return declared
    closers = known.functions_with("closes-on-exit")
    package = reader.module.partition(".")[0]
    found = generator_uses(tree, source, defined, closers, reader.absolute, package)
    if "async with" in source:
        for table, member, method in _defs(declared, tree):
            params = signature(member, method, reader.is_static(member))
            closed = closed_parameters(member, params, closers, reader.absolute, package)
            if closed:
                table[member.name] = replace(table[member.name], closes_calls_of=closed)
    return replace(declared, generators=found) if found else declared


def _defs(
    declared: Declarations, tree: ast.Module
) -> Iterator[tuple[dict[str, FunctionFacts], ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """The module's functions and methods that `declared` has facts of: the table holding
    them, the `def`, and whether it is a method."""
    for node in top_level(tree.body):
        method = isinstance(node, ast.ClassDef)
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        table = (
            declared.classes[node.name].methods
            if isinstance(node, ast.ClassDef) and node.name in declared.classes
            else declared.functions
        )
        for member in members:
            if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and member.name in table:
                yield table, member, method


def with_cancel_state_readers(
    declared: Declarations, tree: ast.Module, source: str, reader: _Reader, known: Catalog
) -> Declarations:
    """`declared` with `reads_cancel_state` set on the functions and methods whose own code
    calls a method of the catalog's role `cancel-state` (`current.cancelling()`), also got
    by name (`getattr(current, "cancelling", ...)()`)."""
    methods = known.methods_with("cancel-state")
    if not any(method in source for method in methods):
        return declared
    getters = known.functions_with("gets-attribute")
    for table, member, _ in _defs(declared, tree):
        if any(
            isinstance(call, ast.Call) and _reads_method(call, methods, getters, reader)
            for call in own_nodes(member.body)
        ):
            table[member.name] = replace(table[member.name], reads_cancel_state=True)
    return declared


def _reads_method(
    call: ast.Call, methods: frozenset[str], getters: frozenset[str], reader: _Reader
) -> bool:
    """`x.cancelling()`, or `getattr(x, "cancelling", ...)`: one of `methods`, called or
    got by name (by one of the `getters`)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in methods
    return (
        reader.absolute(func) in getters
        and len(call.args) >= 2
        and isinstance(name := call.args[1], ast.Constant)
        and name.value in methods
    )


def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module statements, and those of top-level `if`/`try` blocks (`if TYPE_CHECKING:`,
    `try: import x except ImportError`), where a definition may also sit."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield from top_level(statement.body)
            yield from top_level(statement.orelse)
        elif isinstance(statement, ast.Try):
            yield from top_level(statement.body)
            for handler in statement.handlers:
                yield from top_level(handler.body)
            yield from top_level(statement.orelse)
        else:
            yield statement


def _add(table: dict[str, tuple[Ref, ...]], name: str, ref: Ref) -> None:
    table[name] = (*table.get(name, ()), ref)


def name_reader(module: str, names: dict[str, str]) -> _Reader:
    """What a pass over a module's tree after the declarations needs: absolute names."""
    return _Reader(module, names, ((), ()), (), [])


class _Reader:
    def __init__(
        self,
        module: str,
        names: dict[str, str],
        typing_forms: tuple[Collection[str], Collection[str]],
        keeping_decorators: Collection[str],
        lines: list[str],
    ) -> None:
        self.module = module
        self.names = names
        self.wrappers, self.unions = typing_forms
        self.keeping = keeping_decorators
        self.lines = lines
        # Module globals that some function rebinds (`global x`).
        self.rebound_globals: set[str] = set()
        self.exit_names = exit_summaries.exit_names(SHIPPED)
        self.lock_words = acquires.lock_words(SHIPPED)
        # Class decorators that generate an `__init__` keeping each argument in its field,
        # and the calls that declare a field (`dataclass_fields.py`).
        self.field_roles: tuple[Collection[str], Collection[str]] = ((), ())
        self.blocking: blocking_summary.Summariser | None = None
        self.spawns: task_tops.Finder | None = None

    # Names and annotations -------------------------------------------------------

    def absolute(self, expr: ast.expr) -> str | None:
        """The absolute dotted name `expr` spells through the module's top-level names."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        base = self.names.get(expr.id)
        if base is None and expr.id in _BUILTINS:
            base = f"builtins.{expr.id}"
        return canonical(".".join([base, *reversed(parts)])) if base else None

    def annotation(self, expr: ast.expr | None) -> Ref:
        if expr is None:
            return UNKNOWN
        if isinstance(expr, ast.Constant):
            if expr.value is None:
                return NONE
            if isinstance(expr.value, str):
                try:
                    return self.annotation(ast.parse(expr.value, mode="eval").body)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    return UNKNOWN
            return UNKNOWN
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            return self._union([expr.left, expr.right])
        if isinstance(expr, ast.Subscript):
            outer = self.absolute(expr.value)
            inner = expr.slice
            elements = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
            if outer in self.unions:
                return self._union(elements)
            if outer in self.wrappers:
                return self.annotation(elements[0])
            expr = expr.value  # `asyncio.Queue[int]`: a queue
        name = self.absolute(expr)
        return f"type:{name}" if name else UNKNOWN

    def _union(self, members: list[ast.expr]) -> Ref:
        """`X | None`: X. A union of two types may hold either: unknown."""
        refs = {self.annotation(member) for member in members} - {NONE}
        return refs.pop() if len(refs) == 1 else UNKNOWN

    # Values --------------------------------------------------------------------------

    def value(self, expr: ast.expr | None, local: dict[str, Ref], owner: str | None) -> Ref:
        """What `expr` evaluates to; `local` gives the function's names whose values are
        known (annotated parameters), `owner` the class whose method this is."""
        if expr is None:
            return UNKNOWN
        if isinstance(expr, ast.Constant) and expr.value is None:
            return NONE
        if isinstance(expr, ast.Call):
            func = expr.func.value if isinstance(expr.func, ast.Subscript) else expr.func
            name = self.absolute(func)
            return f"call:{name}" if name else UNKNOWN
        if isinstance(expr, ast.Name):
            return local.get(expr.id, UNKNOWN)
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and owner is not None
            and local.get(expr.value.id) == f"self:{owner}"
        ):
            return f"attr:{owner}:{expr.attr}"
        return UNKNOWN

    def assigned(
        self, statement: ast.Assign | ast.AnnAssign, local: dict[str, Ref], owner: str | None = None
    ) -> Iterator[tuple[ast.expr, Ref]]:
        """Each single target of an assignment with what it is given (a tuple target's
        names are left out: they are given parts of the value)."""
        if isinstance(statement, ast.AnnAssign):
            annotated = self.annotation(statement.annotation)
            given = annotated if annotated else self.value(statement.value, local, owner)
            yield statement.target, given
            return
        ref = self.value(statement.value, local, owner)
        for target in statement.targets:
            if isinstance(target, ast.Name | ast.Attribute):
                yield target, ref

    # Functions and classes -------------------------------------------------------

    def function_facts(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        owner: str | None = None,
        body: _Body | None = None,
    ) -> FunctionFacts:
        body = body or self.scan(function)
        is_async = isinstance(function, ast.AsyncFunctionDef)
        decorators = [self._decorator(d) for d in function.decorator_list]
        wrapped = any(
            name not in self.keeping and name.rpartition(".")[2] not in _METHOD_DECORATORS
            for name in decorators
        )
        coroutine = is_async and not body.generator and not wrapped
        returns: tuple[Ref, ...] = ()
        if isinstance(function, ast.FunctionDef) and not body.generator and not wrapped:
            returns = self._returns(function, owner, body)
        loops: tuple[str, ...] = ()
        if is_async and body.generator and not wrapped:
            loops = tuple(self._iterated(loop) for loop in body.loops)
        facts = FunctionFacts(is_async, coroutine, wrapped, returns, loops)
        if owner is not None and function.name == "__init__" and not decorators:
            facts = replace(facts, stores_only=_stores_only(function, self.absolute))
        facts = exit_summaries.summarised(
            facts, function, body, owner, decorators, self.absolute, self.exit_names
        )
        if self.blocking is not None:
            facts = self.blocking.summarised(facts, function, owner, body, self)
        facts = acquires.summarised(
            facts, function, body, owner, decorators, self.absolute, self.module, self.lock_words
        )
        if self.spawns is not None:
            facts = self.spawns.summarised(facts, function, owner, body, self)
        return facts

    def _iterated(self, loop: ast.stmt) -> str:
        """What a loop of an async generator runs over (see `FunctionFacts.loops`)."""
        if not isinstance(loop, ast.For):
            return ""
        source = loop.iter.func if isinstance(loop.iter, ast.Call) else loop.iter
        return self.absolute(source) or "-"

    def scan(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> _Body:
        """One walk over the function's own statements. Expressions are entered only
        where the function's text holds a `yield` or a `:=`, which they alone can hold."""
        end = function.end_lineno or function.lineno
        text = "\n".join(self.lines[function.lineno - 1 : end]) if self.lines else ""
        body = _scan(function, "yield" in text, ":=" in text)
        self.rebound_globals |= body.globals
        return body

    def _decorator(self, decorator: ast.expr) -> str:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return self.absolute(target) or ""

    def _returns(
        self, function: ast.FunctionDef, owner: str | None, body: _Body
    ) -> tuple[Ref, ...]:
        if function.returns is not None:
            annotated = self.annotation(function.returns)
            return (annotated,) if annotated else ()
        named = any(isinstance(node.value, ast.Name | ast.Attribute) for node in body.returns)
        local = self.locals(function, owner, body) if named else {}
        found = []
        for node in body.returns:
            ref = self.value(node.value, local, owner) if node.value is not None else NONE
            if not ref:
                return ()
            found.append(ref)
        return tuple(found) or (NONE,)

    def locals(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, owner: str | None, body: _Body
    ) -> dict[str, Ref]:
        """The function's names whose value is known wherever they are read: annotated
        parameters, the receiver of a method, and names assigned once from a known
        value and bound nowhere else."""
        local: dict[str, Ref] = {}
        found = signature(function, owner is not None, self.is_static(function))
        for name, annotation in found.annotations.items():
            ref = self.annotation(annotation)
            if ref:
                local[name] = ref
        if found.receiver is not None:
            local[found.receiver] = f"self:{owner}"
        for name in found.names:
            if body.bound.get(name):
                local.pop(name, None)  # rebound in the body: not what it was given
        for node in body.assignments:
            if isinstance(node, ast.AugAssign):
                continue
            for target, ref in self.assigned(node, local, owner):
                if isinstance(target, ast.Name) and ref and body.bound.get(target.id) == 1:
                    local.setdefault(target.id, ref)
        return local

    def _is_object(self, base: ast.expr) -> bool:
        """`object` as a base adds nothing to the MRO that the project would not know."""
        return isinstance(base, ast.Name) and base.id == "object" and base.id not in self.names

    def is_static(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return any(
            self._decorator(d).rpartition(".")[2] == "staticmethod" for d in function.decorator_list
        )

    def class_facts(self, node: ast.ClassDef, fields_by_init: bool = False) -> ClassFacts:
        """What the class `node` declares; `fields_by_init`: a dataclass, whose class-level
        values are its fields' defaults."""
        owner = f"{self.module}.{node.name}"
        bases = tuple(
            self.absolute(base.value if isinstance(base, ast.Subscript) else base) or ""
            for base in node.bases
            if not self._is_object(base)
        )
        found = ClassFacts(bases)
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                body = self.scan(statement)
                self._self_assignments(statement, owner, found, body)
                if _is_accessor(statement):
                    continue  # `@x.setter`: the property `x` is the getter's
                decorators = {
                    self._decorator(d).rpartition(".")[2] for d in statement.decorator_list
                }
                if decorators & _PROPERTY_DECORATORS:
                    # Read as an attribute: its value is what the getter returns.
                    plain = isinstance(statement, ast.FunctionDef) and not body.generator
                    returns: tuple[Ref, ...] = ()
                    if plain and len(statement.decorator_list) == 1:  # a getter, nothing else
                        assert isinstance(statement, ast.FunctionDef)
                        returns = self._returns(statement, owner, body)
                    for ref in returns or (UNKNOWN,):
                        _add(found.attributes, statement.name, ref)
                else:
                    facts = self.function_facts(statement, owner, body)
                    found.methods[statement.name] = lifecycle.summarised(
                        facts, statement, body, self.absolute, _plain_scan
                    )
            elif isinstance(statement, ast.Assign | ast.AnnAssign):
                for target, ref in self.assigned(statement, {}, owner):
                    if isinstance(target, ast.Name):
                        _add(found.attributes, target.id, ref)
                        if not fields_by_init:  # a dataclass's: a default, not what it holds
                            acquires.note_made(found.made, target.id, statement.value, self)
        holds = acquires.class_holds(node, found, _plain_scan, self.module, self.lock_words)
        # A switch counts only where `__init__`'s assignment is all the class gives it.
        kept = {a: s for a, s in found.switches.items() if len(found.attributes[a]) == 1}
        closes_given = closes_what_it_is_given(node)
        return replace(found, holds=holds, switches=kept, closes_given=closes_given)

    def _self_assignments(
        self,
        method: ast.FunctionDef | ast.AsyncFunctionDef,
        owner: str,
        found: ClassFacts,
        body: _Body,
    ) -> None:
        """`self.x = value` and `self.x: T = value` anywhere in the method's own body."""
        receiver = signature(method, True, self.is_static(method)).receiver
        if receiver is None or not any(
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == receiver
            for node in body.assignments
            for target in _flat(node.targets if isinstance(node, ast.Assign) else [node.target])
        ):
            return
        local = self.locals(method, owner, body)
        receiver = f"self:{owner}"
        for node in body.assignments:
            targets: list[ast.expr] = (
                node.targets if isinstance(node, ast.Assign) else [node.target]
            )
            for target in _flat(targets):
                if not (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and local.get(target.value.id) == receiver
                ):
                    continue
                if isinstance(node, ast.AugAssign) or target not in targets:
                    ref = UNKNOWN  # `self.n += 1`, `self.a, self.b = ...`
                elif isinstance(node, ast.AnnAssign):
                    ref = self.annotation(node.annotation) or self.value(node.value, local, owner)
                else:
                    ref = self.value(node.value, local, owner)
                _add(found.attributes, target.attr, ref)
                if target in targets and not isinstance(node, ast.AugAssign):
                    acquires.note_made(found.made, target.attr, node.value, self)
                    if method.name == "__init__":
                        switch = switches.switched(method, node.value, body.bound)
                        if switch:
                            found.switches[target.attr] = switch


def _stores_only(
    function: ast.FunctionDef | ast.AsyncFunctionDef, absolute: Callable[[ast.expr], str | None]
) -> bool:
    """Its body only gives attributes of its receiver its parameters, constants, empty
    containers, sums of those, calls of the catalog that cannot raise or make an object of
    a kind without arguments (`self.label = label`, `self.items = []`, `self.deadline =
    time.monotonic() + seconds`, `self.stopped = threading.Event()`): running it cannot
    raise. `absolute` reads the module's names."""
    params = function.args
    named = [*params.posonlyargs, *params.args, *params.kwonlyargs]
    if not named or params.vararg or params.kwarg:
        return False
    receiver, given = named[0].arg, {param.arg for param in named[1:]}
    for statement in function.body:
        if isinstance(statement, ast.Pass) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            continue  # `pass`, the docstring
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            return False
        if not (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == receiver
            and _plain_value(value, given, absolute)
        ):
            return False
    return True


def _plain_value(
    value: ast.expr, given: set[str], absolute: Callable[[ast.expr], str | None]
) -> bool:
    """What `_stores_only` lets an attribute be given: evaluating it cannot raise."""
    if isinstance(value, ast.Name):
        return value.id in given
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return not value.elts
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, ast.BinOp):  # arithmetic is taken not to raise, as in the flow
        return _plain_value(value.left, given, absolute) and _plain_value(
            value.right, given, absolute
        )
    if isinstance(value, ast.Call):
        name = absolute(value.func) or ""
        return (
            not value.args
            and not value.keywords
            and (name in catalog.NON_RAISING_CALLS or name in SHIPPED.constructors)
        )
    return isinstance(value, ast.Constant)


def _is_accessor(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(decorator, ast.Attribute) and decorator.attr in _ACCESSORS
        for decorator in function.decorator_list
    )


def _flat(targets: list[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            yield from _flat(list(target.elts))
        elif isinstance(target, ast.Starred):
            yield from _flat([target.value])
        else:
            yield target


@dataclass(slots=True)
class _Body:
    """What one walk over a function's own body found."""

    returns: list[ast.Return] = field(default_factory=list)
    assignments: list[ast.Assign | ast.AnnAssign | ast.AugAssign] = field(default_factory=list)
    loops: list[ast.stmt] = field(default_factory=list)
    # Expression statements, `with` and `if` statements and nested defs (for `lifecycle.py`
    # and `blocking_summary.py`).
    effects: list[ast.stmt] = field(default_factory=list)
    # Name -> how many statements bind it (a name bound in ways not followed counts twice).
    bound: dict[str, int] = field(default_factory=dict)
    generator: bool = False
    # Names declared `global` (the function may rebind the module's).
    globals: set[str] = field(default_factory=set)

    def bind(self, name: str, times: int = 1) -> None:
        self.bound[name] = self.bound.get(name, 0) + times


def _scan(
    function: ast.FunctionDef | ast.AsyncFunctionDef, may_yield: bool, may_walrus: bool
) -> _Body:
    found = _Body()
    stack: list[ast.stmt] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Return:
            found.returns.append(node)  # type: ignore[arg-type]
        elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
            found.assignments.append(node)  # type: ignore[arg-type]
            targets = node.targets if kind is ast.Assign else [node.target]  # type: ignore[attr-defined]
            for target in _flat(targets):
                if isinstance(target, ast.Name):
                    found.bind(target.id)
        elif kind is ast.Expr:
            found.effects.append(node)
        elif kind in _NESTED:
            found.bind(node.name)  # type: ignore[attr-defined]
            found.effects.append(node)
        elif kind is ast.Import or kind is ast.ImportFrom:
            for alias in node.names:  # type: ignore[attr-defined]
                found.bind((alias.asname or alias.name).partition(".")[0])
        elif kind is ast.Global or kind is ast.Nonlocal or kind is ast.Delete:
            for name in _names_in(node):
                found.bind(name, 2)  # bound elsewhere too, or in ways not followed
            if kind is ast.Global:
                found.globals.update(node.names)  # type: ignore[attr-defined]
        elif kind is ast.Match:
            for case in node.cases:  # type: ignore[attr-defined]
                for name in _names_in(case.pattern):
                    found.bind(name, 2)
                stack.extend(reversed(case.body))
        elif kind in _COMPOUND:  # the other simple statements bind nothing followed here
            if kind in _LOOPS:
                found.loops.append(node)
            elif kind is ast.With or kind is ast.AsyncWith or kind is ast.If:
                found.effects.append(node)
            for target in _flat(_bound_by(node)):
                if isinstance(target, ast.Name):
                    found.bind(target.id)
            for field_name in _BLOCKS:
                block = getattr(node, field_name, None)
                if block:
                    stack.extend(reversed(block))
            for handler in getattr(node, "handlers", ()):
                if handler.name:
                    found.bind(handler.name)
                stack.extend(reversed(handler.body))
    if may_yield or may_walrus:
        for inner in own_nodes(function.body):
            if isinstance(inner, ast.Yield | ast.YieldFrom):
                found.generator = True
            elif isinstance(inner, ast.NamedExpr) and isinstance(inner.target, ast.Name):
                found.bind(inner.target.id, 2)
    return found


def _plain_scan(function: ast.FunctionDef | ast.AsyncFunctionDef) -> _Body:
    """The statements of a def nested in a method (its yields and walruses left out)."""
    return _scan(function, False, False)


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_COMPOUND = frozenset(
    {ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, *TRY_STATEMENTS}
)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_BLOCKS = ("body", "orelse", "finalbody")


def _bound_by(statement: ast.AST) -> list[ast.expr]:
    """The targets a `for` or `with` statement binds."""
    if isinstance(statement, ast.For | ast.AsyncFor):
        return [statement.target]
    if isinstance(statement, ast.With | ast.AsyncWith):
        return [item.optional_vars for item in statement.items if item.optional_vars is not None]
    return []


def _names_in(node: ast.AST) -> Iterator[str]:
    """Every name a target, a `global`/`del` statement or a `match` pattern binds."""
    if isinstance(node, ast.Global | ast.Nonlocal):
        yield from node.names
        return
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            yield inner.id
        elif isinstance(inner, ast.MatchAs | ast.MatchStar) and inner.name:
            yield inner.name
        elif isinstance(inner, ast.MatchMapping) and inner.rest:
            yield inner.rest


# As JSON, for the cache (which checks every value it reads back) --------------------


def to_json(found: Declarations) -> dict[str, object]:
    return {
        "classes": {
            name: {
                "bases": facts.bases,
                "methods": {m: _facts_json(f) for m, f in facts.methods.items()},
                "attributes": facts.attributes,
                **_facts_json(facts, skip=("bases", "methods", "attributes")),
            }
            for name, facts in found.classes.items()
        },
        "functions": {name: _facts_json(f) for name, f in found.functions.items()},
        "globals": found.globals,
        "made": found.made,
        "generators": found.generators,
    }


def _facts_json(facts: FunctionFacts | ClassFacts, skip: tuple[str, ...] = ()) -> dict[str, object]:
    """The fields of `facts` that differ from their defaults (most are defaults)."""
    empty = type(facts)()
    return {
        item.name: getattr(facts, item.name)
        for item in fields(facts)
        if item.name not in skip and getattr(facts, item.name) != getattr(empty, item.name)
    }


def from_json(raw: object) -> Declarations:
    """Declarations from `to_json`'s form; TypeError when it is not that form."""
    table = _table(raw)
    classes = {name: _class_from_json(value) for name, value in _table(table["classes"]).items()}
    functions = {
        name: _facts_from_json(FunctionFacts, value)
        for name, value in _table(table["functions"]).items()
    }
    made = _refs_table(table.get("made", {}))
    generators = _refs_table(table.get("generators", {}))
    return Declarations(classes, functions, _refs_table(table["globals"]), made, generators)


def _class_from_json(raw: object) -> ClassFacts:
    table = dict(_table(raw))
    methods = {
        name: _facts_from_json(FunctionFacts, value)
        for name, value in _table(table.pop("methods")).items()
    }
    attributes = _refs_table(table.pop("attributes"))
    bases = _strings(table.pop("bases"))
    return replace(
        _facts_from_json(ClassFacts, table), bases=bases, methods=methods, attributes=attributes
    )


F = TypeVar("F", FunctionFacts, ClassFacts)


def _facts_from_json(kind: type[F], raw: object) -> F:
    """Facts of `kind` from `_facts_json`'s form: each field is a flag, a number, a tuple of
    strings, or a table of those; a key that is no field, or a value of another shape, is
    refused."""
    table = _table(raw)
    empty = kind()
    given: dict[str, object] = {}
    for name, value in table.items():
        if name not in _FIELDS[kind]:
            raise TypeError(f"unknown field {name!r}")
        default = getattr(empty, name)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise TypeError(f"{name} is a flag")
            given[name] = value
        elif isinstance(default, int):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} is a number")
            given[name] = value
        elif isinstance(default, tuple):
            given[name] = _strings(value)
        else:
            given[name] = _refs_table(value)
    return kind(**given)  # type: ignore[arg-type]


_FIELDS: dict[type, frozenset[str]] = {
    kind: frozenset(item.name for item in fields(kind)) for kind in (FunctionFacts, ClassFacts)
}


def _table(raw: object) -> dict[str, object]:
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        raise TypeError("expected an object")
    return raw


def _refs_table(raw: object) -> dict[str, tuple[Ref, ...]]:
    return {name: _strings(value) for name, value in _table(raw).items()}


def _strings(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise TypeError("expected a list of strings")
    return tuple(raw)
