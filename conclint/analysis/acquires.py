"""Locks that functions and classes take and give back: the "acquires and releases"
summaries of the project model, and the questions the lint pass asks of them.

Index pass (Python's `ast`, on every file). Of most functions only the top-level
statements are looked at; whole bodies only of those a decorator (a generator made a
context manager) or a name (`__enter__`, `__aenter__`) selects.

- `FunctionFacts.releases`: the locks a function gives back on every way out once it
  runs (and the queues it marks an item of done, `queue.task_done()`, for the pairing of
  takes): `lock.release()` among its top-level statements, or among those of the `finally`
  of a top-level `try`, with nothing before it that may return, raise, call, await,
  branch or loop (a worker spawned with the semaphore its spawner took: `try: ...
  finally: sem.release()`; a helper whose first statement gives it back).
- `FunctionFacts.holds`: of a generator made a context manager (the catalog's role
  `generator-context`: `@contextmanager`, `@asynccontextmanager`), the locks held while
  the `with` block runs: taken before its one `yield`, on the one path of statements to
  it (`with lock:`, `async with lock:`, or `lock.acquire()` with no arguments), and
  given back after it (by that `with`, a `finally`, or a statement after the `yield`).
  A branch that takes or gives back a lock on the way makes the answer unknown.
- `ClassFacts.holds`: the locks `__enter__` (`__aenter__`) takes among its top-level
  statements and keeps, which `__exit__` (`__aexit__`) of the same class releases.
- `ClassFacts.made`, `Declarations.made`: how attributes and module globals were made,
  one mark per call assigned to them: `zero` (a semaphore made with a starting count of
  0: it counts events), `bounded` (given its release bound, `max_value=`), `unbounded`
  (a queue made without a bound, or with one of 0 or less: `queue.Queue()`, whose `put()`
  never waits), `other`; a call of anything else, its literal arguments
  (`switches.arguments`). A private dataclass's fields are marked by the calls that
  make it (`dataclass_fields.py`).

A lock is named by a reference (`declared.Ref`):
- `attr:C:x`      the attribute `x` of the instance (`self.x` in a method of C);
- `global:m.N`    a module global, or a name the module imports;
- `param:i:name`  the argument of a call at position `i` ("*": keyword only), the receiver
  of a method not counted.
A lock of `ClassFacts.holds` may name a second reference after `|`: the parameter of
`__init__` stored in that attribute (`Guard(lock)` holds the `lock` it is given).

Lint pass: `held_by` (what a `with` item holds through these summaries), `target_of`
(the project function a call runs, and how its arguments map), `made_to_count`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol

import libcst as cst

from conclint.analysis import switches
from conclint.analysis.own_nodes import TRY_STATEMENTS, own_nodes
from conclint.analysis.scopes import dotted_name
from conclint.analysis.signature import KEYWORD, signature
from conclint.catalog import Catalog
from conclint.catalog.schema import Argument, Bound

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext
    from conclint.analysis.declared import ClassFacts, FunctionFacts, Ref

ATTRIBUTE = "attr"
GLOBAL = "global"
PARAMETER = "param"
ALTERNATIVE = "|"
# How a global or an attribute was made (`made`).
ZERO = "zero"
BOUNDED = "bounded"
UNBOUNDED = "unbounded"
OTHER = "other"
ENTRIES = (("__enter__", "__exit__"), ("__aenter__", "__aexit__"))
_METHOD_DECORATORS = frozenset({"staticmethod", "classmethod"})
Absolute = Callable[[ast.expr], "str | None"]


@dataclass(frozen=True)
class LockWords:
    """What the index pass asks the run's catalog about locks."""

    acquire: frozenset[str]
    release: frozenset[str]
    # Decorators that make a context manager of a generator.
    contexts: frozenset[str]
    # Constructor -> how to read what it makes.
    makers: Mapping[str, Making]


@dataclass(frozen=True)
class Making:
    """Where a constructor takes its starting count and its capacity (False: what it makes
    has none), and the keyword of its release bound."""

    count: Argument | None
    release_bound: str | None
    capacity: Bound | Literal[False] | None


@lru_cache(maxsize=16)
def lock_words(known: Catalog) -> LockWords:
    makers = {
        name: Making(kind.initial_count, kind.release_bound, kind.bound)
        for kind in known.kinds.values()
        if kind.initial_count is not None
        or kind.release_bound is not None
        or kind.bound is not None
        for name in (*kind.classes, *kind.factories)
    }
    return LockWords(
        known.methods_with("acquire"),
        # What a function gives back: a lock's slot, or a queue item it marks done.
        known.methods_with("release") | known.methods_with("task-done"),
        known.functions_with("generator-context"),
        makers,
    )


class Scanned(Protocol):
    """What the index pass's walk over a function's statements found (`declared._Body`)."""

    bound: dict[str, int]
    generator: bool


Function = ast.FunctionDef | ast.AsyncFunctionDef


# Index pass: functions ----------------------------------------------------------------


def summarised(
    facts: FunctionFacts,
    function: Function,
    body: Scanned,
    owner: str | None,
    decorators: Sequence[str],
    absolute: Absolute,
    module: str,
    words: LockWords,
) -> FunctionFacts:
    """`facts` with the locks the function releases, or holds as a context manager;
    `owner` is the class of a method, `decorators` the absolute names of its decorators."""
    if body.generator:
        if not decorators:
            return facts
        contexts = [name for name in decorators if name in words.contexts]
        others = [
            name
            for name in decorators
            if name not in words.contexts and name.rpartition(".")[2] not in _METHOD_DECORATORS
        ]
        if len(contexts) != 1 or others:
            return facts  # a plain generator, or one an unknown decorator wraps
        names = _Names(function, body, owner, decorators, absolute, module)
        holds = _Context(names, words).holds(function)
        return replace(facts, holds=holds) if holds else facts
    if facts.wrapped or not _may_release(function.body, words):
        return facts  # calling it may not run the body; most functions release nothing
    names = _Names(function, body, owner, decorators, absolute, module)
    releases = tuple(dict.fromkeys(_released(function.body, names, words)))
    return replace(facts, releases=releases) if releases else facts


class _Names:
    """Which lock a receiver expression of the function names (`Ref`), or "" if unknown."""

    def __init__(
        self,
        function: Function,
        body: Scanned,
        owner: str | None,
        decorators: Sequence[str],
        absolute: Absolute,
        module: str,
    ) -> None:
        self.owner = owner
        self.bound = body.bound
        self.absolute = absolute
        self.module = module
        static = any(name.rpartition(".")[2] == "staticmethod" for name in decorators)
        self.signature = signature(function, owner is not None, static)
        self.receiver = self.signature.receiver

    def ref(self, expr: ast.expr) -> Ref:
        if isinstance(expr, ast.Attribute):
            if (
                isinstance(expr.value, ast.Name)
                and expr.value.id == self.receiver
                and not self.bound.get(expr.value.id)
            ):
                return f"{ATTRIBUTE}:{self.owner}:{expr.attr}"
            return ""
        if not isinstance(expr, ast.Name) or self.bound.get(expr.id):
            return ""  # bound in the function: where from is not followed
        name = expr.id
        where = self.signature.where(name)
        if where is not None:
            return f"{PARAMETER}:{where}:{name}"
        if name in self.signature.names:
            return ""  # the receiver, `*args`, `**kwargs`
        return f"{GLOBAL}:{self.absolute(expr) or f'{self.module}.{name}'}"


def _call_on(expr: ast.expr, methods: frozenset[str]) -> ast.Call | None:
    """`x.m(...)` or `await x.m(...)` with `m` one of `methods`."""
    if isinstance(expr, ast.Await):
        expr = expr.value
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in methods
    ):
        return expr
    return None


def _statement_call(statement: ast.stmt, methods: frozenset[str]) -> ast.Call | None:
    return _call_on(statement.value, methods) if isinstance(statement, ast.Expr) else None


def _released(statements: list[ast.stmt], names: _Names, words: LockWords) -> Iterator[Ref]:
    """The locks a block gives back on every way out: released among its statements, or
    in the `finally` of a `try` among them, with no statement before that may jump."""
    for statement in statements:
        call = _statement_call(statement, words.release)
        if call is not None:
            assert isinstance(call.func, ast.Attribute)
            ref = names.ref(call.func.value)
            if ref:
                yield ref
            continue
        if isinstance(statement, TRY_STATEMENTS) and statement.finalbody:
            yield from _released(statement.finalbody, names, words)
        if not _goes_on(statement) or _may_raise(statement):
            return


def _may_release(statements: list[ast.stmt], words: LockWords) -> bool:
    """A release among the statements, or a `try` with a `finally` (the cheap test)."""
    for statement in statements:
        kind = type(statement)
        if kind is ast.Expr:
            if _statement_call(statement, words.release) is not None:
                return True
        elif kind in TRY_STATEMENTS and statement.finalbody:  # type: ignore[attr-defined]
            return True
    return False


# Statements that always go on to the next one (once they do not raise).
_SIMPLE = (
    ast.Expr,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.Pass,
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
    ast.Delete,
    ast.Assert,
)


def _goes_on(statement: ast.stmt) -> bool:
    """A simple statement that neither returns nor raises on purpose (a docstring, a call,
    an assignment), or a nested def or class."""
    return isinstance(statement, (*_SIMPLE, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


def _may_raise(statement: ast.stmt) -> bool:
    """A call or an `await` (which any exception, a cancellation, may interrupt) in a
    simple statement (nested defs run nothing)."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return False
    return any(isinstance(node, ast.Call | ast.Await) for node in ast.walk(statement))


class _Context:
    """The locks a generator context manager holds at its `yield`."""

    def __init__(self, names: _Names, words: LockWords) -> None:
        self.names = names
        self.words = words
        self.lock_methods = words.acquire | words.release

    def holds(self, function: Function) -> tuple[Ref, ...]:
        yields = [
            node for node in own_nodes(function.body) if isinstance(node, ast.Yield | ast.YieldFrom)
        ]
        if len(yields) != 1 or not isinstance(yields[0], ast.Yield):
            return ()
        path = _path_to(function.body, yields[0])
        if path is None:
            return ()
        held = self._walk(function.body, path, 0, {})
        return tuple(held) if held else ()

    def _walk(
        self,
        statements: list[ast.stmt],
        path: list[ast.stmt],
        depth: int,
        held: dict[Ref, bool],
    ) -> list[Ref] | None:
        """Follow `path` (the statements that hold the `yield`, outermost first) from
        `statements`, with `held` the locks taken so far (ref -> given back by a `with`
        or `finally` around the `yield`). The locks held at the `yield` and given back
        after it, or None when that is not certain."""
        held = dict(held)
        target = path[depth]
        index = statements.index(target)
        for statement in statements[:index]:
            acquired = _statement_call(statement, self.words.acquire)
            released = _statement_call(statement, self.words.release)
            if acquired is not None and not acquired.args and not acquired.keywords:
                assert isinstance(acquired.func, ast.Attribute)
                ref = self.names.ref(acquired.func.value)
                if ref:
                    held[ref] = False
            elif released is not None:
                assert isinstance(released.func, ast.Attribute)
                held.pop(self.names.ref(released.func.value), None)
            elif not _goes_on(statement):
                if isinstance(statement, ast.Return | ast.Raise):
                    return None  # the `yield` is not reached
                if self._touches_locks(statement):
                    return None  # taken or given back on some branch only
            elif acquired is None and self._touches_locks(statement):
                return None  # `ok = lock.acquire(False)`, a conditional acquire
        # Given back by a statement after the one that holds the `yield`.
        after = statements[index + 1 :]
        for statement in after:
            released = _statement_call(statement, self.words.release)
            if released is not None:
                assert isinstance(released.func, ast.Attribute)
                ref = self.names.ref(released.func.value)
                if ref in held:
                    held[ref] = True
            elif not _goes_on(statement):
                break
        if depth == len(path) - 1:
            return [ref for ref, given_back in held.items() if given_back]
        if isinstance(target, ast.With | ast.AsyncWith):
            for item in target.items:
                ref = self.names.ref(item.context_expr)
                if ref:
                    held[ref] = True
            inner = target.body
        elif isinstance(target, TRY_STATEMENTS) and _holds(target.body, path[depth + 1]):
            for ref in _released(target.finalbody, self.names, self.words):
                if ref in held:
                    held[ref] = True
            inner = target.body
        else:
            return None  # the `yield` sits in a branch, a loop or a handler
        return self._walk(inner, path, depth + 1, held)

    def _touches_locks(self, statement: ast.stmt) -> bool:
        return any(
            isinstance(node, ast.Attribute) and node.attr in self.lock_methods
            for node in own_nodes([statement])
        )


def _holds(statements: list[ast.stmt], statement: ast.stmt) -> bool:
    return any(each is statement for each in statements)


def _path_to(body: list[ast.stmt], target: ast.AST) -> list[ast.stmt] | None:
    """The statements that hold `target`, outermost first (each in a block of the one
    before it), ending with the one whose own expressions hold it."""
    for statement in body:
        if not _contains(statement, target):
            continue
        for field_name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for block in _blocks(getattr(statement, field_name, None) or []):
                inner = _path_to(block, target)
                if inner is not None:
                    return [statement, *inner]
        return [statement]
    return None


def _blocks(items: list[ast.AST]) -> Iterator[list[ast.stmt]]:
    """The statement lists of a block field: itself, or the bodies of handlers and cases."""
    if items and isinstance(items[0], ast.stmt):
        yield items  # type: ignore[misc]
        return
    for item in items:
        yield getattr(item, "body", [])


def _contains(statement: ast.stmt, target: ast.AST) -> bool:
    return any(node is target for node in own_nodes([statement]))


# Index pass: classes and how values were made ---------------------------------------------


def class_holds(
    node: ast.ClassDef,
    facts: ClassFacts,
    scan: Callable[[Function], Scanned],
    module: str,
    words: LockWords,
) -> tuple[Ref, ...]:
    """The locks an instance holds between entering it and leaving it (`ClassFacts.holds`);
    `scan` walks a method's statements as the index pass does."""
    if not any(enter in facts.methods for enter, _ in ENTRIES):
        return ()
    methods = {
        statement.name: statement
        for statement in node.body
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    owner = f"{module}.{node.name}"
    found: list[Ref] = []
    for enter, leave in ENTRIES:
        entered, left = facts.methods.get(enter), facts.methods.get(leave)
        if enter not in methods or entered is None or left is None or entered.wrapped:
            continue
        released = set(left.releases)
        for ref in _kept(methods[enter], scan, owner, words):
            if ref in released:
                found.append(_with_parameter(ref, methods.get("__init__"), facts, scan))
    return tuple(dict.fromkeys(found))


def _kept(
    method: Function, scan: Callable[[Function], Scanned], owner: str, words: LockWords
) -> list[Ref]:
    """The attributes of `self` an `__enter__` takes among its top-level statements, with
    no branch or return before, and does not give back anywhere in its body (where it is
    given back on failure only is not followed: such an entry makes no summary)."""
    receiver = signature(method, True, False).receiver
    if receiver is None:
        return []
    taken: list[Ref] = []
    statements = method.body
    for statement in statements:
        call = _statement_call(statement, words.acquire)
        if call is not None and not call.args and not call.keywords:
            assert isinstance(call.func, ast.Attribute)
            value = call.func.value
            if isinstance(value, ast.Name) and value.id == receiver:
                continue
            if (
                isinstance(value, ast.Attribute)
                and isinstance(value.value, ast.Name)
                and value.value.id == receiver
            ):
                taken.append(f"{ATTRIBUTE}:{owner}:{value.attr}")
        elif not _goes_on(statement):
            break  # a return, or a branch that may return before what follows
    if not taken or scan(method).bound.get(receiver):
        return []
    given_back = {
        f"{ATTRIBUTE}:{owner}:{node.func.value.attr}"
        for node in own_nodes(statements)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in words.release
        and isinstance(node.func.value, ast.Attribute)
        and isinstance(node.func.value.value, ast.Name)
        and node.func.value.value.id == receiver
    }
    return [ref for ref in taken if ref not in given_back]


def _with_parameter(
    ref: Ref, init: Function | None, facts: ClassFacts, scan: Callable[[Function], Scanned]
) -> Ref:
    """`attr:C:x|param:0:lock` when `__init__` stores its parameter `lock` in `self.x`,
    and nothing else assigns `x`."""
    attribute = ref.rpartition(":")[2]
    if init is None or len(facts.attributes.get(attribute, ())) != 1:
        return ref
    found = signature(init, True, False)
    receiver = found.receiver
    if receiver is None:
        return ref
    bound = scan(init).bound
    for statement in init.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.value, ast.Name)
        ):
            target, value = statement.targets[0], statement.value.id
            if (
                isinstance(target, ast.Attribute)
                and target.attr == attribute
                and isinstance(target.value, ast.Name)
                and target.value.id == receiver
                and (where := found.where(value)) is not None
                and not bound.get(value)
            ):
                return f"{ref}{ALTERNATIVE}{PARAMETER}:{where}:{value}"
    return ref


class Reader(Protocol):
    """What `note_made` asks of the index pass's reader of a module (`declared._Reader`)."""

    lock_words: LockWords

    def absolute(self, expr: ast.expr) -> str | None: ...


def note_made(
    table: dict[str, tuple[str, ...]], name: str, value: ast.expr | None, reader: Reader
) -> None:
    """Mark how `name` was made when it is assigned a call."""
    if not isinstance(value, ast.Call):
        return
    func = value.func.value if isinstance(value.func, ast.Subscript) else value.func
    how = reader.lock_words.makers.get(reader.absolute(func) or "")
    mark = OTHER
    if how is None:  # it may make an instance of the project: its literal arguments
        mark = switches.arguments(value) or OTHER
    else:
        bound = how.release_bound
        if bound is not None and any(keyword.arg == bound for keyword in value.keywords):
            mark = BOUNDED
        elif how.count is not None and _is_zero(_argument(value, how.count)):
            mark = ZERO
        elif how.capacity is False or (
            how.capacity is not None and _no_capacity(_argument(value, how.capacity))
        ):
            mark = UNBOUNDED
    table[name] = (*table.get(name, ()), mark)


def _argument(call: ast.Call, where: Argument | Bound) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == where.keyword:
            return keyword.value
    if where.position is not None and where.position < len(call.args):
        positional = call.args[: where.position + 1]
        if not any(isinstance(arg, ast.Starred) for arg in positional):
            return call.args[where.position]
    return None


def _is_zero(expr: ast.expr | None) -> bool:
    return (
        isinstance(expr, ast.Constant)
        and type(expr.value) is int  # not `False`
        and expr.value == 0
    )


def _no_capacity(expr: ast.expr | None) -> bool:
    """No capacity given, or one that means none: `None`, or an integer of 0 or less."""
    if expr is None:
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        expr = expr.operand  # `-1`: a negative maxsize is no bound either
        return isinstance(expr, ast.Constant) and type(expr.value) is int
    return isinstance(expr, ast.Constant) and (
        expr.value is None or (type(expr.value) is int and expr.value <= 0)
    )


def never_full(marks: tuple[str, ...]) -> bool:
    """Made only by calls that give it no capacity: a fill never waits for room."""
    return bool(marks) and all(mark == UNBOUNDED for mark in marks)


def may_be_full(marks: tuple[str, ...]) -> bool:
    """Made by some call that may give it a capacity: a fill may wait for room. Where no
    making is seen (a queue handed in), nothing shows a bound, and a queue has none
    unless it is given one."""
    return any(mark != UNBOUNDED for mark in marks)


def counts_events(marks: tuple[str, ...]) -> bool:
    """Made only by calls that start at zero or pass the release bound: a release past
    the acquires is how such a semaphore is meant to be used, or refused."""
    return bool(marks) and all(mark in (ZERO, BOUNDED) for mark in marks)


# Lint pass ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """The project function (or class) a call runs, and how to read its references."""

    facts: FunctionFacts | None
    # The project class of the receiver (`self`, an instance), or the class made.
    cls: str | None
    # What `attr:` references are attributes of (None: the instance the call makes).
    receiver: cst.BaseExpression | None
    # Whether `param:` references map to the call's arguments.
    maps: bool
    shown: str


def target_of(context: FileContext, func: cst.BaseExpression) -> Target | None:
    """What calling `func` runs, as far as the model is certain: a function of a module of
    the project, a method through `self` or an instance, or a project class."""
    bindings = context.bindings
    chain = context.chain
    model = context.model()
    shown = dotted_name(func) or "..."
    name = bindings.qualified(func, chain)
    if name is not None:
        if model.is_class(name):
            return Target(None, model.real_name(name), None, True, shown)
        facts = model.function_facts(name)
        if facts is None:
            return None
        # A method spelled through its class takes its receiver as an argument.
        maps = model.real_name(name).rpartition(".")[0] in model.modules
        return Target(facts, None, None, maps, shown)
    if not isinstance(func, cst.Attribute):
        return None
    cls = receiver_class(context, func.value)
    if cls is None:
        return None
    found = model.method(cls, func.attr.value)
    if found is None:
        return None
    return Target(found[1], cls, func.value, True, shown)


def receiver_class(context: FileContext, receiver: cst.BaseExpression) -> str | None:
    """The project class of `self`/`cls` in a method, or of an instance, by absolute name."""
    bindings = context.bindings
    if isinstance(receiver, cst.Name):
        owner = bindings.class_of_receiver(receiver, context.chain)
        if owner is not None:
            return bindings.class_name(owner)
    return bindings.instance_of(receiver, context.chain)


def argument(args: Sequence[cst.Arg], ref_position: str, name: str) -> cst.BaseExpression | None:
    """The argument a `param:` reference names among a call's `args`."""
    for arg in args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    if ref_position == KEYWORD:
        return None
    position = int(ref_position)
    positional = [arg for arg in args if arg.keyword is None]
    if any(arg.star for arg in positional[: position + 1]):
        return None  # `*args` hides which argument lands where
    return positional[position].value if position < len(positional) else None


@dataclass(frozen=True, slots=True)
class Held:
    """A lock a `with` item holds through a summary."""

    shown: str  # the lock as messages name it (`self._lock`, `LOCK`)
    kind: str | None
    through: str  # the call or object that takes it (`self._locked()`)


def held_by(context: FileContext, item: cst.BaseExpression) -> list[Held]:
    """The locks `with item:` (or `async with`) holds while its block runs, as the
    project's summaries say: `item` calls a generator context manager, makes an instance
    of a project class that takes a lock in `__enter__`, or is one."""
    model = context.model()
    if isinstance(item, cst.Call):
        target = target_of(context, item.func)
        if target is None:
            return []
        args: Sequence[cst.Arg] = item.args
        through = f"{target.shown}({'...' if item.args else ''})"
        if target.facts is not None:
            refs = target.facts.holds
        else:
            assert target.cls is not None
            refs = model.class_holds(target.cls)
    else:
        cls = receiver_class(context, item)
        if cls is None:
            return []
        target = Target(None, cls, item, False, dotted_name(item) or "...")
        args, through = (), target.shown
        refs = model.class_holds(cls)
    found = []
    for ref in refs:
        held = _resolve(context, ref, target, args, through)
        if held is not None:
            found.append(held)
    return found


def _resolve(
    context: FileContext, ref: Ref, target: Target, args: Sequence[cst.Arg], through: str
) -> Held | None:
    """The lock one reference names at the call: the argument it was given if it was
    given one (its kind when known), else the attribute or global."""
    model = context.model()
    shown_as: list[str] = []
    kinds: list[str] = []
    for alternative in ref.split(ALTERNATIVE):
        how, _, what = alternative.partition(":")
        shown: str | None = None
        kind: str | None = None
        if how == ATTRIBUTE:
            cls, _, attribute = what.rpartition(":")
            if target.receiver is not None:
                receiver = dotted_name(target.receiver)
                shown = f"{receiver}.{attribute}" if receiver else None
            elif target.facts is None:
                shown = f"{through}.{attribute}"
            kind = model.attribute_type(target.cls or cls, attribute)
        elif how == GLOBAL:
            shown = what.rpartition(".")[2]
            kind = model.global_type(what)
        elif how == PARAMETER and target.maps:
            position, _, name = what.partition(":")
            given = argument(args, position, name)
            if given is not None:
                shown = dotted_name(given) or name
                kind = context.kind_of(given)
        if shown is not None:
            shown_as.insert(0 if how == PARAMETER else len(shown_as), shown)
        if kind is not None:
            kinds.insert(0 if how == PARAMETER else len(kinds), kind)
    if not shown_as:
        return None
    return Held(shown_as[0], kinds[0] if kinds else None, through)


def made_to_count(context: FileContext, receiver: cst.BaseExpression) -> bool | None:
    """Whether the semaphore `receiver` holds was made to count events or with its release
    bound (every call it is given starts at zero or passes the bound); None when the model
    does not say how it was made (a local: the caller asks the module's bindings)."""
    marks = made(context, receiver)
    return None if marks is None else counts_events(marks)


def made(context: FileContext, receiver: cst.BaseExpression) -> tuple[str, ...] | None:
    """How the global or attribute `receiver` names was made, as the model says (`made`
    marks); None for a local, a parameter or what the model does not know."""
    model = context.model()
    bindings = context.bindings
    if isinstance(receiver, cst.Attribute):
        cls = receiver_class(context, receiver.value)
        if cls is not None:
            return model.attribute_made(cls, receiver.attr.value)
        name = bindings.qualified(receiver, context.chain)
        return model.global_made(name) if name else None
    if isinstance(receiver, cst.Name):
        found = context.names.lookup(receiver.value, context.chain)
        if found is None or found[0] != 0:
            return None  # a local or a parameter
        name = bindings.qualified(receiver, context.chain)
        if name is None and context.module_name is not None:
            name = f"{context.module_name}.{receiver.value}"
        return model.global_made(name) if name else None
    return None
