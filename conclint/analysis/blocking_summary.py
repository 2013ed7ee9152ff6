"""Which sync functions and methods of the project block the thread that calls them.

The index pass (`declared.py`) asks `Summariser.summarised` once per `def`, with the
statements its `_scan` found. A plain sync `def` (no generator; every decorator one that
keeps calling it running its body) gets:

- `blocking_call`: the first call of its own body to a function of the catalog that blocks
  whatever its arguments (`open()`, `time.sleep()`), as a message shows it;
- `helper_calls`: otherwise, the calls it makes that may run more of the project or
  block, as references the model resolves once every module is indexed: `app.io.read`
  (a function, or a method spelled through its class), `save@self` (a method of the
  instance's own class), `join@self.thread` (of what an attribute holds),
  `save@type:app.db.Store` and `save@call:app.db.open_store` (of an annotated or
  constructed receiver); `~` before the method marks a call with a literally false or
  zero positional argument (`lock.acquire(False)`), maybe a non-blocking form.

The index pass runs on every file, so expressions are walked only in the `def`s whose
text spells a blocking call the module can name (`time.sleep(`, `sleep(`, `open(`: one
search of the module's text finds the lines). Elsewhere only the calls the statements
show at their top count (`self.store.save(x)`, `data = self._load(p)`, `return read(p)`,
`with self.connect():`, `for x in self._list():`, `if not self.exists(p):`, `while`
conditions, joined by `and`/`or`), with the calls they make of their receivers and
arguments. Calls in the arguments of a thread offload
(`loop.run_in_executor(None, self._read)`) run on another thread and are left out, as are
those that pass `block=False`-style flags.

`Chains` answers for the model (`ProjectTypes.blocking_chain`): how calling a function,
or a method on an instance of a class, reaches a blocking call (one of those functions,
or a blocking method of an object of a known kind: `Thread.join()`, `Queue.get()`),
through at most three functions. A method is looked up along the project's MRO of the
class the receiver is known to be, and so are the methods it calls on `self`: where the
receiver is known to be of a subclass that overrides one with a method that does not
block (or an `async def`), the subclass's version is what runs. A base outside the
project, or an attribute of the method's name, makes the answer unknown.
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from conclint.analysis import catalog, switches
from conclint.analysis.emptiness import guarded_takes_ast
from conclint.analysis.lines import line_breaks
from conclint.analysis.names import canonical, dunder
from conclint.analysis.own_nodes import own_nodes
from conclint.analysis.signature import signature
from conclint.catalog import Catalog
from conclint.catalog.schema import Argument

if TYPE_CHECKING:
    from conclint.analysis.declared import FunctionFacts
    from conclint.analysis.types import ProjectTypes

# Functions followed from the caller's helper to the blocking call, that helper included.
MAX_HELPERS = 3
# The instance whose methods run (its class), with its attributes that hold None.
_Instance = tuple[str, frozenset[str]] | None

_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins"}
# Calls whose arguments run on a worker thread, by last name (`ast` resolves no imports).
_OFFLOADS = frozenset(
    name.rpartition(".")[2] for name in catalog.THREAD_OFFLOADS | catalog.THREAD_OFFLOAD_METHODS
)
# Keywords that, literally false or zero, ask a call not to block (`block=False`).
_NON_BLOCKING_KEYWORDS = catalog.NON_BLOCKING_FLAGS | catalog.NON_BLOCKING_TIMEOUTS
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_TAKES = catalog.TAKE_METHODS
# The receiver of a method's calls on its own instance, in `helper_calls`.
SELF = "self"
# Marks a method call with a literally false or zero positional argument in `helper_calls`.
OFF = "~"
# Joins the parts of a parameter's switch in a guard (`local_path:*:off`).
_GUARD = ":"
# Joins the guards of one call, each of which, false, keeps the call from running.
_GUARDS = "|"


@lru_cache(maxsize=16)
def index_blocking(known: Catalog) -> frozenset[str]:
    """The functions of `known` that block: what the index pass looks for (the kinds of
    objects, whose methods may block, are the model's to tell). One that does not block in
    some forms (`unless`) counts where its call leaves out the argument that tells
    (`_leaves_out`), unless a call around it may tell instead (`trio.wrap_file(...)`)."""
    return frozenset(
        name
        for name in known.functions_with("blocking")
        if (unless := known.functions[name].unless) is None
        or (unless.argument is not None and not unless.inside)
    )


def _leaves_out(call: ast.Call, argument: Argument) -> bool:
    """`call` passes nothing as `argument`, by position or keyword, nor unpacks anything."""
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        return False
    if any(keyword.arg in (None, argument.keyword) for keyword in call.keywords):
        return False
    return argument.position is None or len(call.args) <= argument.position


@lru_cache(maxsize=16)
def _spellings(known: Catalog) -> dict[str, tuple[str, ...]]:
    """Each dotted prefix of a blocking function -> the rest of its names after it
    (`os` -> `path.exists`, ...; the whole name -> "")."""
    found: dict[str, list[str]] = {}
    for name in index_blocking(known):
        parts = name.split(".")
        for cut in range(1, len(parts) + 1):
            found.setdefault(".".join(parts[:cut]), []).append(".".join(parts[cut:]))
    return {prefix: tuple(rests) for prefix, rests in found.items()}


class Reader(Protocol):
    """What `declared._Reader` tells of the module's names and a function's values."""

    def absolute(self, expr: ast.expr) -> str | None: ...

    def value(self, expr: ast.expr | None, local: dict[str, str], owner: str | None) -> str: ...

    # `body` is what `declared._scan` gave for `function` (the same object as `Scanned`).
    def locals(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, owner: str | None, body: Any
    ) -> dict[str, str]: ...


class Scanned(Protocol):
    """What `declared._scan` found in a function's statements."""

    bound: dict[str, int]
    generator: bool
    returns: list[ast.Return]
    assignments: list[ast.Assign | ast.AnnAssign | ast.AugAssign]
    loops: list[ast.stmt]
    effects: list[ast.stmt]


class Summariser:
    """Summarises the `def`s of one module (`source`, whose top-level names are `names`)."""

    def __init__(self, source: str, names: Mapping[str, str], known: Catalog) -> None:
        self.blocking = index_blocking(known)
        self.source = source
        self.names = names
        self.known = known
        self._lines: list[int] | None = None
        # Module-level functions summarised: one defined twice (`if sys.platform ...:`)
        # may be either, so it gets no summary.
        self._seen: set[str] = set()

    def summarised(
        self,
        facts: FunctionFacts,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        owner: str | None,
        body: Scanned,
        reader: Reader,
    ) -> FunctionFacts:
        if owner is None:
            twice = function.name in self._seen
            self._seen.add(function.name)
            if twice:
                return replace(facts, blocking_call=(), helper_calls=())
        name = function.name
        if not isinstance(function, ast.FunctionDef) or body.generator:
            return facts
        if dunder(name):
            return facts  # run by the language (`with`, operators), or constructors: not followed
        if function.decorator_list and not all(
            _decorator(d, reader) in catalog.PLAIN_DECORATORS for d in function.decorator_list
        ):
            return facts  # calling it may run something else
        if _memoised_once(function, reader):
            return replace(facts, memoised=True)
        found = _statement_calls(body)
        lines = self._blocking_lines(function)
        if lines:  # the first blocking call in source order decides
            seen = {id(call) for call in found}
            found += [call for call in _calls_on(function.body, lines) if id(call) not in seen]
            found.sort(key=_position)
        if found and "global" in self.source and (misses := _cache_misses(function)):
            found = [call for call in found if not any(a <= call.lineno <= b for a, b in misses)]
            facts = replace(facts, memoised=True)
        if any(type(c.func) is ast.Attribute and c.func.attr in _TAKES for c in found):
            found = _without_guarded_takes(found, body)
        if not found:
            return facts
        calls = Calls(function, owner, body, reader, self.known)
        # In source order, the first call of each helper with each mark of its arguments
        # and each test it waits behind.
        entries: dict[tuple[str, str, str], tuple[int, int]] = {}
        for call in found:
            callee = calls.callee(call)
            if callee is None:
                continue
            if callee in self.blocking:
                unless = self.known.functions[callee].unless
                told = unless.argument if unless is not None else None
                if told is not None and not _leaves_out(call, told):
                    continue  # maybe the form that does not block
                shown = (f"{callee.removeprefix('builtins.')}()",)
                guard = calls.guard(call)
                if not guard:
                    return replace(facts, blocking_call=shown, blocking_guard=())
                if not facts.blocking_call:  # the first one waiting behind a test
                    facts = replace(facts, blocking_call=shown, blocking_guard=(guard,))
                continue
            if "@" not in callee and callee.partition(".")[0] in _STDLIB:
                continue  # no helper of the project
            if "@" in callee and _literal_off_argument(call):
                callee = f"{OFF}{callee}"  # `lock.acquire(False)`: maybe its non-blocking form
            if not _asks_not_to_block(call):
                at = _position(call)
                key = (callee, switches.arguments(call) or "", calls.guard(call))
                entries[key] = min(at, entries.get(key, at))
        if not entries:
            return facts
        ordered = sorted(entries, key=entries.__getitem__)
        return replace(
            facts,
            helper_calls=tuple(callee for callee, _, _ in ordered),
            helper_arguments=tuple(given for _, given, _ in ordered),
            helper_guards=tuple(guard for _, _, guard in ordered),
        )

    def _blocking_lines(self, function: ast.FunctionDef) -> list[int]:
        """The lines of `function` that spell a blocking call the module can name."""
        lines = self._lines
        if lines is None:
            lines = self._lines = _spelled_lines(self.source, self.names, self.known)
        first = bisect.bisect_left(lines, function.lineno)
        last = bisect.bisect_right(lines, function.end_lineno or function.lineno)
        return lines[first:last]


def _spelled_lines(source: str, names: Mapping[str, str], known: Catalog) -> list[int]:
    """The lines of a module that spell a call of a blocking function it can name
    (`time.sleep(`, `sleep(` after `from time import sleep`, `open(`), sorted: a superset,
    strings and comments included."""
    spellings = _spellings(known)
    tops = _blocking_packages(known)
    offsets: list[int] = []
    for local, target in names.items():
        if target.partition(".")[0] not in tops:
            continue
        for prefix in {target, canonical(target)}:
            rests = spellings.get(prefix)
            if rests is None:
                continue
            if "" in rests:
                offsets += _bare_calls(source, local)
            pattern = _rest_pattern(known, prefix)
            if pattern is not None:
                dotted = f"{local}."
                at = source.find(dotted)
                while at >= 0:
                    if _starts_name(source, at) and pattern.match(source, at + len(dotted)):
                        offsets.append(at)
                    at = source.find(dotted, at + len(dotted))
    for name in _builtin_blocking(known):
        offsets += _bare_calls(source, name)
    if not offsets:
        return []
    offsets.sort()
    lines, line, previous = [], 1, 0
    for offset in offsets:
        line += line_breaks(source, previous, offset)
        previous = offset
        lines.append(line)
    return lines


def _bare_calls(source: str, name: str) -> list[int]:
    """Where `name(` is spelled as a name of its own (not `x.name(`, not `other_name(`)."""
    found = []
    needle = f"{name}("
    at = source.find(needle)
    while at >= 0:
        if _starts_name(source, at):
            found.append(at)
        at = source.find(needle, at + len(needle))
    return found


def _starts_name(source: str, at: int) -> bool:
    before = source[at - 1] if at else " "
    return not (before.isalnum() or before in "_.")


@lru_cache(maxsize=16)
def _blocking_packages(known: Catalog) -> frozenset[str]:
    return frozenset(name.partition(".")[0] for name in index_blocking(known))


@lru_cache(maxsize=1024)
def _rest_pattern(known: Catalog, prefix: str) -> re.Pattern[str] | None:
    """What may follow `prefix.` in a call of one of its blocking functions."""
    rests = sorted((rest for rest in _spellings(known)[prefix] if rest), key=len, reverse=True)
    if not rests:
        return None
    return re.compile("(?:" + "|".join(re.escape(rest) for rest in rests) + r")\s*\(")


@lru_cache(maxsize=16)
def _builtin_blocking(known: Catalog) -> tuple[str, ...]:
    """The blocking builtins (`open`), which need no import."""
    return tuple(
        sorted(
            name.removeprefix("builtins.")
            for name in index_blocking(known)
            if "." not in name[9:] and name.startswith("builtins.")
        )
    )


class Calls:
    """What the calls of one function call, as `helper_calls` references (or the absolute
    name of a function, which may be one of the catalog's blocking ones)."""

    def __init__(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        owner: str | None,
        body: Scanned,
        reader: Reader,
        known: Catalog,
    ) -> None:
        self.function = function
        self.known = known
        self.owner = owner
        self.bound = body.bound
        self.body = body
        self.reader = reader
        static = owner is not None and any(
            _decorator(d, reader).endswith("staticmethod") for d in function.decorator_list
        )
        found = self.signature = signature(function, owner is not None, static)
        self.params = found.names
        self.annotated = set(found.annotations)
        # The instance (or class) a method is called on: its first parameter, not rebound.
        receiver = found.receiver
        self.receiver = receiver if receiver is not None and not self.bound.get(receiver) else None
        self._locals: dict[str, str] | None = None
        # (first line, last line, guard) of the `if` blocks that test a guard (`guard`).
        self._guards: list[tuple[int, int, str]] | None = None

    def local(self, name: str) -> bool:
        return name in self.params or name in self.bound

    def guard(self, call: ast.Call) -> str:
        """What an `if` around `call` needs true (`if self.log_file:`, `if local_path is not
        None and ...:`): `.log_file` for an attribute of the instance, the switch of a
        parameter (`switches.switch_of`) joined by `:`, or "". After a top-level `if p:`
        (or `if not p:`) that always leaves the function, the call needs `p` false (true):
        the switch prefixed by `switches.NEEDS_FALSE` (or the plain switch). Several such
        tests are joined by `|`: any of them false keeps the call from running."""
        if self._guards is None:
            self._guards = [
                (first, last, guard)
                for statement in self.body.effects
                if type(statement) is ast.If
                and (guard := self._guard_of(statement.test))
                and (first := statement.body[0].lineno)
                and (last := statement.body[-1].end_lineno or statement.body[-1].lineno)
            ]
            self._guards += self._early_exits()
        line = call.lineno
        return _GUARDS.join(guard for first, last, guard in self._guards if first <= line <= last)

    def _guard_of(self, test: ast.expr) -> str:
        for tested in _tested(test):
            root, _, name = tested.partition(".")
            if name and root == self.receiver:
                return f".{name}"
            if not name and (switch := self._switch(root)):
                return switch
        return ""

    def _switch(self, name: str) -> str:
        """The switch of parameter `name`, joined by `:`; "" when it is rebound or no
        parameter a call can name."""
        if name not in self.params or self.bound.get(name):
            return ""
        return _GUARD.join(switches.switch_of(self.function, name, self.signature))

    def _early_exits(self) -> list[tuple[int, int, str]]:
        """(first line, last line, guard) of what runs only when an `if` test is false,
        where a parameter's literal value makes it true (`if p:`, `if not p:`, `if p or
        ...:`): its `else`, and what follows it when its block returns (or raises, outside
        a `with`, which might suppress it). The `if` is a statement of the function's body,
        or of a `with` block there, which the function runs in order. The guard is the
        parameter's switch, prefixed by `switches.NEEDS_FALSE` where it is `p` true that
        makes the test true."""
        found = []
        end = self.function.end_lineno or self.function.lineno
        for statement, in_with in _in_order(self.function.body):
            if type(statement) is not ast.If:
                continue
            leaves = (ast.Return,) if in_with else (ast.Return, ast.Raise)
            if type(statement.body[-1]) in leaves:
                last = statement.body[-1]
                region = ((last.end_lineno or last.lineno) + 1, end)
            elif statement.orelse:
                last = statement.orelse[-1]
                region = (statement.orelse[0].lineno, last.end_lineno or last.lineno)
            else:
                continue
            for name, value in _making_true(statement.test):
                if switch := self._switch(name):
                    found.append((*region, f"{switches.NEEDS_FALSE}{switch}" if value else switch))
        return found

    def callee(self, call: ast.Call) -> str | None:
        func = call.func
        if type(func) is ast.Name:
            # A function imported or defined at the top level, or a builtin.
            return None if self.local(func.id) else self.reader.absolute(func)
        if type(func) is not ast.Attribute:
            return None
        value = func.value
        if type(value) is ast.Name:
            name = value.id
            if name == self.receiver:
                return f"{func.attr}@{SELF}"
            if not self.local(name):
                return self.reader.absolute(func)  # `db.read()`, `Store.load()`
            ref = self._local_ref(name)
            return f"{func.attr}@{ref}" if ref else None
        root = value
        while type(root) is ast.Attribute:
            root = root.value
        if isinstance(root, ast.Name):
            if not self.local(root.id):
                return self.reader.absolute(func)  # `os.path.exists()`, `app.db.read()`
            if (
                root.id == self.receiver
                and isinstance(value, ast.Attribute)
                and value.value is root
            ):
                return f"{func.attr}@{SELF}.{value.attr}"  # `self.store.save()`
            return None
        if type(value) is ast.Call:
            ref = self._constructed(value)
            return f"{func.attr}@{ref}" if ref else None
        return None

    def _local_ref(self, name: str) -> str | None:
        """What an annotated parameter, or a name assigned once, holds, if it may be an
        object of the project."""
        bound = self.bound.get(name, 0)
        if bound > 1 or (not bound and name not in self.annotated):
            return None
        if self._locals is None:
            self._locals = self.reader.locals(self.function, self.owner, self.body)
        return self._useful(self._locals.get(name, ""))

    def _constructed(self, call: ast.Call) -> str | None:
        """`Store()`, `open_store()`: what calling a name of the module gives."""
        root = call.func
        while isinstance(root, ast.Attribute | ast.Subscript):
            root = root.value
        if not isinstance(root, ast.Name) or self.local(root.id):
            return None
        return self._useful(self.reader.value(call, {}, self.owner))

    def _useful(self, ref: str) -> str | None:
        """`ref` when what it holds may have methods that block: an annotation or a call of
        a name outside the standard library, or one of the catalog's kinds."""
        how, _, name = ref.partition(":")
        if how == "type":
            kind = name in self.known.annotation_kinds
        elif how == "call":
            kind = name in self.known.constructors
        else:
            return None
        return ref if kind or name.partition(".")[0] not in _STDLIB else None


def _in_order(body: list[ast.stmt], in_with: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """The statements of `body`, and of the `with` blocks among them, each with whether it
    is inside a `with`."""
    for statement in body:
        yield statement, in_with
        if type(statement) is ast.With:
            yield from _in_order(statement.body, True)


def _making_true(test: ast.expr) -> Iterator[tuple[str, bool]]:
    """(name, truth) for each name whose truth alone makes `test` true: `p` and `p is not
    None` (true), `not p` (false), and those of each side of an `or`. (Not `p is None`: a
    literal false argument other than None fails it.)"""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        for value in test.values:
            yield from _making_true(value)
        return
    truth = True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, truth = test.operand, False
    test = _not_none(test)
    if isinstance(test, ast.Name):
        yield test.id, truth


def _not_none(test: ast.expr) -> ast.expr:
    """`x` of `x is not None`, which holds when `x` is true (for a test of truth); `test`
    itself otherwise."""
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return test.left
    return test


def _tested(test: ast.expr) -> Iterator[str]:
    """The names and attributes of names (`self.log_file`) a test holds only when they are
    true: `x`, `x is not None`, or either joined to others by `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        for value in test.values:
            yield from _tested(value)
        return
    test = _not_none(test)
    if isinstance(test, ast.Name):
        yield test.id
    elif isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name):
        yield f"{test.value.id}.{test.attr}"


def _memoised_once(function: ast.FunctionDef, reader: Reader) -> bool:
    """A function of no parameters (a class method of none but its class) under a
    memoising decorator (`@functools.cache`): its body runs once, so calling it blocks at
    most once, on the first call."""
    arguments = function.args
    decorators = {_decorator(d, reader) for d in function.decorator_list}
    receivers = 0 if decorators.isdisjoint(catalog.CLASS_BINDERS) else 1
    if len(arguments.posonlyargs) + len(arguments.args) > receivers or arguments.kwonlyargs:
        return False
    if arguments.vararg or arguments.kwarg:
        return False
    return not decorators.isdisjoint(catalog.MEMOISERS)


def _decorator(decorator: ast.expr, reader: Reader) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return reader.absolute(target) or ""


def _literal_off_argument(call: ast.Call) -> bool:
    """A positional argument that is literally false or zero (`acquire(False)`, `wait(0)`)."""
    return any(
        isinstance(arg, ast.Constant)
        and isinstance(arg.value, bool | int | float)
        and arg.value == 0
        for arg in call.args
    )


def _asks_not_to_block(call: ast.Call) -> bool:
    """`block=False`, `blocking=False`, `wait=False`, `timeout=0` at the call."""
    for keyword in call.keywords:
        value = keyword.value
        if (
            keyword.arg in _NON_BLOCKING_KEYWORDS
            and isinstance(value, ast.Constant)
            and isinstance(value.value, bool | int | float)
            and value.value == 0
        ):
            return True
    return False


def _last_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _calls_on(statements: list[ast.stmt], lines: list[int]) -> list[ast.Call]:
    """The calls of the statements that span one of `lines`, walked whole (nested defs,
    classes and lambdas left out), but those in the arguments of a thread offload."""
    found: list[ast.Call] = []
    for statement in statements:
        first = bisect.bisect_left(lines, statement.lineno)
        if first == len(lines) or lines[first] > (statement.end_lineno or statement.lineno):
            continue
        if isinstance(statement, _SCOPES):
            continue
        blocks = [
            value
            for name in _BLOCKS
            if isinstance(value := getattr(statement, name, None), list) and value
        ]
        if not blocks:
            found += _calls_in(statement)
            continue
        # A compound statement: the expressions of its header, then its blocks.
        for part in ast.iter_child_nodes(statement):
            if isinstance(part, ast.stmt):
                continue
            if isinstance(part, _WITH_PARTS):
                found += _calls_in_parts(part)
                found += _calls_on(part.body, lines)
            else:
                found += _calls_in(part)
        for block in blocks:
            found += _calls_on(block, lines)
    return found


# Statement blocks, and the parts of a statement that hold a header and a block.
_BLOCKS = ("body", "orelse", "finalbody")
_WITH_PARTS = (ast.ExceptHandler, ast.match_case)


def _calls_in_parts(part: ast.ExceptHandler | ast.match_case) -> list[ast.Call]:
    found: list[ast.Call] = []
    for child in ast.iter_child_nodes(part):
        if not isinstance(child, ast.stmt):
            found += _calls_in(child)
    return found


def _calls_in(node: ast.AST) -> list[ast.Call]:
    """Every call in `node` in source order, but in nested scopes and offloaded arguments."""
    found: list[ast.Call] = []
    stack: list[tuple[ast.AST, bool]] = [(node, False)]
    while stack:
        node, offloaded = stack.pop()
        if isinstance(node, _SCOPES):
            continue
        children = [(child, offloaded) for child in ast.iter_child_nodes(node)]
        if type(node) is ast.Call:
            if not offloaded:
                found.append(node)
            func = node.func
            if _last_name(func) in _OFFLOADS:
                children = [(child, child is not func) for child, _ in children]
        stack.extend(reversed(children))
    return found


def _cache_misses(function: ast.FunctionDef) -> list[tuple[int, int]]:
    """The lines (first, last) of `function` that run only when a module global it fills is
    not filled yet: after `if _options: return _options`, or in `if _options is None:
    _options = ...`, where the function declares `global _options` and assigns it there.
    A call in them blocks once, on the first call of the function, not on every call."""
    # Its top-level `global` statements, as the lint pass reads them (`_declares_global`).
    declared = {
        name
        for statement in function.body
        if isinstance(statement, ast.Global)
        for name in statement.names
    }
    if not declared:
        return []
    # A local copy read in the test: `options = _options` then `if options: return options`.
    copies: dict[str, str] = {}
    misses: list[tuple[int, int]] = []
    end = function.end_lineno or function.lineno
    for statement in _guarding_statements(function.body):
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(target := statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Name)
            and statement.value.id in declared
        ):
            copies[target.id] = statement.value.id
            continue
        if not isinstance(statement, ast.If):
            continue
        tested = {
            copies.get(node.id, node.id)
            for node in ast.walk(statement.test)
            if isinstance(node, ast.Name)
        } & declared
        if not tested:
            continue
        after = (statement.end_lineno or statement.lineno) + 1
        body = statement.body
        if len(body) == 1 and isinstance(body[0], ast.Return) and not statement.orelse:
            if _assigns(function.body, tested, after):
                misses.append((after, end))  # the rest runs on a miss
        elif _assigns(body, tested, 0):
            misses.append((body[0].lineno, body[-1].end_lineno or body[-1].lineno))
    return misses


def _guarding_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The function's top-level statements, and those of `with` blocks among them (a
    lock taken around the test and the fill)."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.With):
            yield from _guarding_statements(statement.body)


def _assigns(body: list[ast.stmt], names: set[str], since: int) -> bool:
    """One of `names` is assigned in `body` at or after line `since`."""
    return any(
        isinstance(node, ast.Name)
        and isinstance(node.ctx, ast.Store)
        and node.id in names
        and node.lineno >= since
        for node in own_nodes(body)
    )


def _position(call: ast.Call) -> tuple[int, int]:
    return call.lineno, call.col_offset


def _without_guarded_takes(found: list[ast.Call], body: Scanned) -> list[ast.Call]:
    """`found` but the takes that find their queue holding an item (`emptiness.py`)."""
    guarded = {
        id(take)
        for statement in (*body.loops, *body.effects)
        for take in guarded_takes_ast(statement)
    }
    return [call for call in found if id(call) not in guarded]


def _statement_calls(body: Scanned) -> list[ast.Call]:
    """The calls at the top of the function's statements, and those of their receivers and
    arguments (`self.store.save(self._encode(x))`)."""
    call_type = ast.Call
    stack: list[ast.expr] = []
    for statement in body.effects:
        if type(statement) is ast.Expr:
            stack.append(statement.value)
        elif type(statement) is ast.If:
            stack.append(statement.test)
        elif type(statement) is ast.With or type(statement) is ast.AsyncWith:
            stack += [item.context_expr for item in statement.items]
    for statement in body.assignments:
        if type(statement.value) is call_type:
            stack.append(statement.value)
    for returned in body.returns:
        if type(returned.value) is call_type:
            stack.append(returned.value)
    for loop in body.loops:
        if type(loop) is ast.For:
            stack.append(loop.iter)
        elif type(loop) is ast.While:
            stack.append(loop.test)
    found: list[ast.Call] = []
    while stack:
        call = stack.pop()
        if type(call) is not call_type:
            if type(call) is ast.BoolOp:  # `if self.ready() and not self.closed():`
                stack += call.values
            elif type(call) is ast.UnaryOp:
                stack.append(call.operand)
            continue
        found.append(call)
        func = call.func
        receiver = func
        while type(receiver) is ast.Attribute:
            receiver = receiver.value
        if receiver is not func:
            stack.append(receiver)
        if (func.attr if type(func) is ast.Attribute else getattr(func, "id", "")) in _OFFLOADS:
            continue  # its arguments run on a worker thread
        stack += call.args
        if call.keywords:
            stack += [keyword.value for keyword in call.keywords]
    return found


def direct(
    tables: Collection[tuple[str, Mapping[str, FunctionFacts]]],
) -> tuple[tuple[str, str], ...]:
    """(local name, blocking call) of the functions of `tables` ((prefix, functions by
    name)) that make a blocking call themselves."""
    return tuple(
        (f"{prefix}{name}", facts.blocking_call[0])
        for prefix, table in tables
        for name, facts in table.items()
        if facts.blocking_call
    )


class Chains:
    """How calling a project function or method reaches a blocking call, across modules."""

    def __init__(self, types: ProjectTypes) -> None:
        self.types = types
        self._found: dict[tuple[str, _Instance, int, str], tuple[str, ...] | None] = {}

    def of_function(
        self, name: str, depth: int = MAX_HELPERS, given: str = ""
    ) -> tuple[str, ...] | None:
        """The chain after calling `name` (`("read()", "open()")`), for a module-level
        function or a method spelled through its class (`app.db.Store.load`), with the
        arguments whose mark (`switches.arguments`) is `given` ("": unknown)."""
        types = self.types
        real = types.real_name(name)
        module, _, local = real.rpartition(".")
        declared = types.modules.get(module)
        if declared is not None:
            facts = declared.functions.get(local)
            return self._chain(real, facts, None, depth, given) if facts is not None else None
        owner, _, method = real.rpartition(".")
        # Called through its class, its receiver is an argument: what it is given is unread.
        return self.of_method(owner, method, depth) if types.is_class(owner) else None

    def of_method(
        self,
        owner: str,
        method: str,
        depth: int = MAX_HELPERS,
        off: frozenset[str] = frozenset(),
        given: str = "",
    ) -> tuple[str, ...] | None:
        """The chain after calling `method` on an instance of the project class `owner`
        whose attributes `off` hold None: the method its MRO finds, and the methods that
        one calls on `self` as `owner`'s MRO finds them (a subclass's own versions count
        where the instance is known to be of that subclass). `given` is the mark of the
        call's arguments (`switches.arguments`), as for `of_function`."""
        found = self.types.method(owner, method)
        if found is None:
            return None
        return self._chain(f"{found[0]}.{method}", found[1], (owner, off), depth, given)

    def _chain(
        self, name: str, facts: FunctionFacts, instance: _Instance, depth: int, given: str
    ) -> tuple[str, ...] | None:
        if facts.blocking_call and not any(
            _left_out(guard, instance, given) for guard in facts.blocking_guard
        ):
            return facts.blocking_call
        if depth < 2 or not facts.helper_calls:
            return None
        key = (name, instance, depth, given)
        if key in self._found:
            return self._found[key]
        found = None
        calls = zip(facts.helper_calls, facts.helper_arguments, facts.helper_guards, strict=True)
        for entry, passed, guard in calls:
            if guard and _left_out(guard, instance, given):
                continue
            found = self._link(entry, instance, depth - 1, passed)
            if found is not None:
                break
        self._found[key] = found
        return found

    def _link(
        self, entry: str, instance: _Instance, depth: int, given: str
    ) -> tuple[str, ...] | None:
        """The chain through one of a function's calls, that call first."""
        method, at, receiver = entry.partition("@")
        off = method.startswith(OFF)
        method = method.removeprefix(OFF)
        types = self.types
        if not at:
            tail = self.of_function(entry, depth, given)
            if tail is None:
                return None
            real = types.real_name(entry)
            module, _, shown = real.rpartition(".")
            if module not in types.modules:  # `Class.method`
                shown = ".".join(real.split(".")[-2:])
            return (f"{shown}()", *tail)
        owner_of_self, none_in = instance or (None, frozenset())
        attribute = receiver.partition(".")[2].partition(".")[0]
        if receiver.startswith(f"{SELF}.") and attribute in none_in:
            return None  # an attribute this instance holds None in: the call never runs
        owner = types.receiver_type(receiver, owner_of_self)
        if owner in types.known.kinds:
            if off or types.fills_with_room(owner, method, receiver, owner_of_self):
                return None
            return _kind_blocks(types.known, owner, method)
        if owner is None or not types.is_class(owner):
            return None
        kept = none_in if receiver == SELF else frozenset()
        if owner_of_self is not None and receiver == f"{SELF}.{attribute}":
            kept = types.switched_off(owner_of_self, attribute, owner)
        tail = self.of_method(owner, method, depth, kept, given)
        found = types.method(owner, method)
        if tail is None or found is None:
            return None
        return (f"{found[0].rpartition('.')[2]}.{method}()", *tail)  # the class defining it


def _left_out(guards: str, instance: _Instance, given: str) -> bool:
    """A test a call waits behind (`Calls.guard`) is false for this call of its function:
    an attribute the instance holds None in, or a parameter the call leaves false
    (`switches.is_off`), or true where the call needs it false (`switches.is_on`)."""
    return any(_guard_false(guard, instance, given) for guard in guards.split(_GUARDS))


def _guard_false(guard: str, instance: _Instance, given: str) -> bool:
    if guard.startswith("."):
        return instance is not None and guard[1:] in instance[1]
    if guard.startswith(switches.NEEDS_FALSE):
        return switches.is_on(tuple(guard[1:].split(_GUARD)), (given,))
    return switches.is_off(tuple(guard.split(_GUARD)), (given,))


def _kind_blocks(known: Catalog, kind: str, method: str) -> tuple[str, ...] | None:
    """`(Thread.join(),)` when calling `method` on an object of the catalog's `kind` blocks
    whatever the code around it: not a socket (which the code may have made non-blocking),
    a future (whose result may be asked for once it is done), or a method with forms of
    its own that do not block."""
    described = known.kinds[kind]
    entry = catalog.blocking_method(known, kind, method)
    if (
        entry is None
        or entry.unless is not None
        or "non-blocking-mode" in described.traits
        or kind in catalog.DONE_METHODS
    ):
        return None
    return (f"{kind.rpartition('.')[2]}.{method}()",)
