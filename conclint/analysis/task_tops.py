"""Which coroutine functions of the project run only as the top of an asyncio task that
the project spawns (`self._reader = asyncio.create_task(self._read_loop())`).

Ending such a coroutine on its own cancellation is how its owner stops the task, so CCL203
asks the model about them. Private names (`_read_loop`) count, and public methods that their
own module spawns (`self._task = loop.create_task(self.run_asgi(app))`); a public function of
a module may be awaited by code outside the project, where its cancellation must go on.

The index pass (`declared.py`) gives each function and method of a module:
- `spawns`: the coroutine functions whose call it hands straight to a spawner of the
  catalog's role `ends-on-cancel` (`asyncio.create_task(...)`, `loop.create_task(...)`,
  `asyncio.ensure_future(...)`), as references: `app.jobs._run` (a function, or a method
  spelled through its class), `_read_loop@self` (a method of the instance's own class),
  `_pump@attr:app.c.Client:_conn` (a method of what an expression holds: `Ref`s of
  `declared.py`). A reference is marked `?` first when the module also names the function
  otherwise (not only in defs and in such spawns);
  A private function handed to another function of the project (`util.create_task(
  self._run())`, `self.start_background_task(self._run)`) is a spawn through it:
  `_run@self~app.util.create_task#0`, `_run@self~start_background_task@self#0()`, which
  counts only if that function is a spawner (below);
- `spawns_argument`: of a function that hands what it is given to such a spawner, where
  it takes it: "0" for the coroutine it is given first (`create_task(coro)`), "0()" for
  the function it calls (`ensure_future(target(*args))`); the receiver of a method is
  not counted;
- `never_suspends`: a coroutine function whose body spells no `await` and no `async`
  as words (`async for`, `async with`, even in a comment; not `asyncio.`; a stub,
  `...`, is no answer): a task of it ends in its first step;
- `awaits`: of one where a few lines spell them, and whose only suspensions are
  `await`s of calls, those calls, as `blocking_summary` references: the model follows
  them (`ProjectTypes.never_suspends`);
- `only_spawned` (a coroutine function with a private name, or a coroutine method its
  module spawns straight): its module names it only in its `def`s and in spawns of the
  kinds above.

The module's text is searched once for the spawners' names, private names handed to a
call, and the candidates' names; expressions are walked only in the functions whose lines
hold one of the first two. A name in a
comment, a docstring or among other words of a string is not counted; a string that is the
name alone is (`getattr(self, "_run")` may call it), unless it is a task's name or the
message of a call that only formats it (`log.exception("_run")`). A module that neither defines nor
spawns a function but names it is not seen: a private name is taken to stay in its module
and the modules that spawn it.

`Tops` answers for the model (`ProjectTypes.task_top`).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

from conclint.analysis.lines import line_breaks, lines_of
from conclint.analysis.names import dunder
from conclint.analysis.own_nodes import own_nodes
from conclint.analysis.signature import signature
from conclint.catalog import Catalog

if TYPE_CHECKING:
    from conclint.analysis.declared import Declarations, FunctionFacts, _Body, _Reader
    from conclint.analysis.types import ProjectTypes

SELF = "self"
# A spawn through a function of the project that may be a spawner: `ref~helper#0` (the
# call of `ref` is its argument 0) or `ref~helper#0()` (`ref` itself, which it calls).
VIA = "~"
AT = "#"
CALLED = "()"
# The keywords asyncio's spawners take the coroutine as (`create_task(coro=...)`).
SPAWNED_KEYWORDS = ("coro", "coro_or_future")
# Marks a spawn whose module also names the function otherwise.
ALSO_NAMED = "?"
# How deep a statement's expression is looked into (`self._tasks.add(create_task(f()))`).
_DEPTH = 4
_TRIPLE_QUOTES = re.compile(r'"""|\'\'\'')
_SUSPENDS = re.compile(r"\b(?:await|async)\b")
# At most this many lines that spell `await` or `async` for a coroutine function's awaits
# to be read (`awaits`): a short function that only awaits helpers that never suspend.
_FEW_AWAITS = 3
_PRIVATE_ASYNC_DEF = re.compile(r"async\s+def\s+(_[^\W_]\w*)")
# A string given as a task's or thread's name (`create_task(self.run(), name="run")`), or
# compared with one (`task.get_name() == "run"`): no call of the function.
_TASK_NAME = re.compile(r"(?:\bname\s*=|[=!]=)\s*[\"']\Z")
# The name whose attribute the text just before a match spells (`utils.` of `utils._run`).
_OWNER = re.compile(r"(?<![\w.])(\w+)\.\Z")


def private(name: str) -> bool:
    """`_read_loop`, `__pump`: not `__aenter__`, whose callers are Python's."""
    return name.startswith("_") and not dunder(name)


def internal(module: str) -> bool:
    """A module of a private package, or private itself (`app._core.running`): its public
    functions are the project's own, unless another module imports them."""
    return any(private(part) for part in module.split("."))


class Finder:
    """The spawns of one module's functions and the names of its candidates, from its text."""

    def __init__(self, source: str, known: Catalog) -> None:
        self.source = source
        self.known = known
        self.placeholders = known.names_with("placeholder")
        self.functions = known.functions_with("ends-on-cancel")
        self.methods = known.methods_with("ends-on-cancel")
        self.each = known.functions_with("ends-on-cancel-each")
        # A string given first to a call that only formats it (`log.exception("_run")`): a
        # message, no call of the function.
        formatting = {name.rpartition(".")[2] for name in known.functions_with("formats")}
        formatting |= set(known.methods_with("formats"))
        self.message = re.compile(rf"\b(?:{_alternatives(formatting)})\s*\(\s*[\"']\Z")
        words = {name.rpartition(".")[2] for name in self.functions | self.each}
        words |= set(self.methods)
        pattern = _alternatives(words) if words else None
        offsets: list[int] = []
        if pattern is not None and any(word in source for word in words):
            offsets = [m.start() for m in re.finditer(pattern, source)]
        # A private coroutine function of the module handed to another call
        # (`create_task(self._run())`, `self.start_background_task(self._run)`): maybe to
        # a spawner of the project's own.
        privates = set(_PRIVATE_ASYNC_DEF.findall(source)) if "async" in source else set()
        if privates:
            passed = re.compile(rf"[(,]\s*(?:\w+\.)*{_alternatives(privates)}\s*[(),]")
            offsets += [m.start() for m in passed.finditer(source)]
        self.lines = lines_of(source, iter(sorted(offsets)))
        # The lines that spell `await` or `async` (in code, a comment or a string): a
        # coroutine function whose body holds none never suspends.
        self.suspending = (
            lines_of(source, (m.start() for m in _SUSPENDS.finditer(source)))
            if "async" in source
            else []
        )
        # Callee name -> how many spawns of the module name it.
        self.spawned: dict[str, int] = {}

    def summarised(
        self,
        facts: FunctionFacts,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        owner: str | None,
        body: _Body,
        reader: _Reader,
    ) -> FunctionFacts:
        """`facts` with the spawns the function's own statements make, and whether it is a
        coroutine function that never suspends."""
        if facts.coroutine and not _stub(function, self.placeholders, reader):
            since = bisect.bisect_left(self.suspending, function.body[0].lineno)
            until = bisect.bisect_right(self.suspending, function.end_lineno or function.lineno)
            if since == until:
                facts = replace(facts, never_suspends=True)
            elif until - since <= _FEW_AWAITS:
                # Few lines spell it: the calls it awaits, if that is all and they are known
                # (where the text spells it only otherwise, a comment or a string, the
                # text's answer stands).
                awaited = _awaited_calls(function, owner, body, reader, self.known)
                if awaited:
                    facts = replace(facts, awaits=awaited)
        start = bisect.bisect_left(self.lines, function.lineno)
        end = function.end_lineno or function.lineno
        if start == len(self.lines) or self.lines[start] > end:
            return facts
        receiver = signature(function, owner is not None, reader.is_static(function)).receiver
        calls = [call for value in _values(body) for call in _calls(value, _DEPTH)]
        # `await asyncio.gather(self._a(), self._b())`: awaited, each is still a task's top.
        calls += [
            call
            for value in _values(body)
            if isinstance(value, ast.Await)
            and isinstance(call := value.value, ast.Call)
            and reader.absolute(call.func) in self.each
        ]
        # Spawns in a function defined here (`async def consume(m): ensure_future(...)`):
        # the nested function runs only as this one has it run.
        calls += [
            call
            for inner in ast.walk(function)
            if inner is not function and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)
            for statement in inner.body
            if isinstance(statement, ast.Expr | ast.Assign | ast.AnnAssign)
            and statement.value is not None
            for call in _calls(statement.value, _DEPTH)
            if self._spawned(call, reader)
        ]
        found: list[str] = []
        handed: list[str] = []
        local: dict[str, str] | None = None
        nested: dict[str, dict[str, str]] | None = None

        def target(func: ast.expr, public_ok: bool = False) -> str | None:
            """The reference of the private function `func` names (or with `public_ok`, the
            function or method, public or private, it names), as spawns name it."""
            nonlocal local
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not (private(name) or (public_ok and name and not dunder(name))):
                return None
            ref = reader.absolute(func)
            public_function = not private(name) and isinstance(func, ast.Name)
            if public_function and (ref is None or ref.rpartition(".")[0] != reader.module):
                return None  # a public function of another module: its own API
            if ref is None and isinstance(func, ast.Attribute):
                if isinstance(func.value, ast.Name) and func.value.id == receiver:
                    ref = f"{name}@{SELF}"
                else:
                    if local is None:
                        local = reader.locals(function, owner, body)
                    held = reader.value(func.value, local, owner)
                    ref = f"{name}@{held}" if held and not held.startswith("self:") else None
            if ref is not None:
                self.spawned[name] = self.spawned.get(name, 0) + 1
            return ref

        for call in calls:
            spawned = self._spawned(call, reader)
            for first in spawned:
                if isinstance(first, ast.Name):
                    first = _bound_call(first.id, body) or first  # `coro = self._run()`
                if isinstance(first, ast.Call) and (ref := target(first.func, True)) is not None:
                    found.append(ref)
                handed.extend(_argument_spawned(first, function, owner, reader))
            if spawned:
                continue
            if not any(_private_callee(arg) for arg in call.args):
                continue
            if isinstance(call.func, ast.Name):
                if nested is None:
                    nested = self._nested_spawners(function, receiver, reader)
                if call.func.id in nested:
                    # A spawner defined in the function itself: a spawn as its body makes it.
                    takes = nested[call.func.id]
                    for position, arg in enumerate(call.args):
                        called = isinstance(arg, ast.Call)
                        func = arg.func if isinstance(arg, ast.Call) else arg
                        through = takes.get(f"{position}{'' if called else CALLED}")
                        if through is not None and (ref := target(func, not through)):
                            found.append(ref + through)
                    continue
            helper = self._helper(call, receiver, reader)
            for position, arg in enumerate(call.args):
                if helper is None or isinstance(arg, ast.Starred):
                    break
                if not _private_callee(arg):
                    continue
                called = isinstance(arg, ast.Call)
                how = f"{position}{'' if called else CALLED}"
                func = arg.func if isinstance(arg, ast.Call) else arg
                if (ref := target(func)) is not None:
                    found.append(f"{ref}{VIA}{helper}{AT}{how}")
        if found:
            facts = replace(facts, spawns=tuple(found))
        if handed:
            facts = replace(facts, spawns_argument=tuple(dict.fromkeys(handed)))
        return facts

    def _nested_spawners(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        receiver: str | None,
        reader: _Reader,
    ) -> dict[str, dict[str, str]]:
        """The functions defined in `function` that hand what they are given to a spawner:
        name -> where they take it ("0", "0()") -> how a spawn through them is written
        after the function's reference: "" for asyncio's spawner (`def start(coro):
        loop.create_task(coro)`), `~helper#1` for a function of the project they hand it
        to as its argument 1, which must be a spawner."""
        found: dict[str, dict[str, str]] = {}
        for node in ast.walk(function):
            if node is function or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            takes = found.setdefault(node.name, {})
            params = signature(node, False, False).positional
            for call in ast.walk(node):
                if not isinstance(call, ast.Call):
                    continue
                if spawned := self._spawned(call, reader):
                    for first in spawned:
                        handed = _argument_spawned(first, node, None, reader)
                        takes.update(dict.fromkeys(handed, ""))
                    continue
                helper = self._helper(call, receiver, reader)
                for position, arg in enumerate(call.args):
                    if helper is not None and isinstance(arg, ast.Name) and arg.id in params:
                        at = params.index(arg.id)
                        for form in ("", CALLED):
                            takes[f"{at}{form}"] = f"{VIA}{helper}{AT}{position}{form}"
        return {name: takes for name, takes in found.items() if takes}

    def _helper(self, call: ast.Call, receiver: str | None, reader: _Reader) -> str | None:
        """How a spawn names the callee of `call`, which may be a spawner of the project's:
        a function (`app.util.create_task`) or a method of the instance's own class
        (`start_background_task@self`)."""
        func = call.func
        name = reader.absolute(func)
        if name is not None:
            return name
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == receiver
        ):
            return f"{func.attr}@{SELF}"
        return None

    def _spawned(self, call: ast.Call, reader: _Reader) -> list[ast.expr]:
        """`F(...)` of `asyncio.create_task(F(...))` or `loop.create_task(F(...))` (or
        `coro` of `create_task(coro)`): what an asyncio task spawner is handed; also
        through a call that calls the spawner it is given with the arguments that follow
        (`contextvars.Context().run(loop.create_task, F(...))`, `functools.partial(...)`);
        each of `asyncio.gather(F(), G())`; both of `create_task(F() if c else G())`."""
        return [branch for spawned in self._handed(call, reader) for branch in _branches(spawned)]

    def _handed(self, call: ast.Call, reader: _Reader) -> list[ast.expr]:
        args = call.args
        if reader.absolute(call.func) in self.each:
            return [arg for arg in args if not isinstance(arg, ast.Starred)]
        if not self._spawner(call.func, reader):
            if len(args) < 2 or isinstance(args[0], ast.Call) or not self._spawner(args[0], reader):
                return []
            args = args[1:]
        elif not args:  # `asyncio.create_task(coro=F(...))`
            named = (k.value for k in call.keywords if k.arg in SPAWNED_KEYWORDS)
            return [found] if (found := next(named, None)) is not None else []
        if isinstance(args[0], ast.Starred):
            return []
        return [args[0]]

    def _spawner(self, func: ast.expr, reader: _Reader) -> bool:
        name = reader.absolute(func)
        if name is not None:
            return name in self.functions
        return isinstance(func, ast.Attribute) and func.attr in self.methods

    def noted(self, declared: Declarations, tree: ast.Module) -> Declarations:
        """`declared` (of `tree`) with `only_spawned` set on the private coroutine functions
        its module names only in defs, imports and spawns, and the spawns of names it also
        names otherwise marked."""
        defined = {
            name
            for functions in _function_tables(declared)
            for name, facts in functions.items()
            if _coroutine(facts) and private(name)
        }
        # A public coroutine function or method the module spawns straight.
        defined |= {
            name
            for functions in _function_tables(declared)
            for name, facts in functions.items()
            if _coroutine(facts) and name in self.spawned and not dunder(name)
        }
        candidates = defined | set(self.spawned)
        if not candidates:
            return declared
        from conclint.analysis.declared import top_level  # which imports this module

        import_nodes = [
            node for node in top_level(tree.body) if isinstance(node, ast.Import | ast.ImportFrom)
        ]
        imports = [(node.lineno, node.end_lineno or node.lineno) for node in import_nodes]
        # Names bound by imports: `connect_utils._cancel(...)` is another module's.
        imported = {
            (alias.asname or alias.name).partition(".")[0]
            for node in import_nodes
            for alias in node.names
        }
        # Classes that define a candidate's name as a plain method: `self.name` there is
        # their own (a sync twin's `Thread(target=self._run)`), not the coroutine function.
        plain_members = [
            (node.lineno, node.end_lineno or node.lineno, plain)
            for node in top_level(tree.body)
            if isinstance(node, ast.ClassDef)
            and (members := declared.classes.get(node.name)) is not None
            and (plain := {n for n, m in members.methods.items() if not m.is_async} & candidates)
        ]
        named = self._named_otherwise(candidates, imports, imported, plain_members)
        for functions in _function_tables(declared):
            for name, facts in list(functions.items()):
                changed = facts
                if name in defined and name not in named:
                    changed = replace(changed, only_spawned=True)
                if facts.spawns and named:
                    spawns = tuple(
                        ALSO_NAMED + ref if _named(ref) in named else ref for ref in facts.spawns
                    )
                    changed = replace(changed, spawns=spawns)
                if changed is not facts:
                    functions[name] = changed
        return declared

    def _named_otherwise(
        self,
        candidates: set[str],
        imports: list[tuple[int, int]],
        imported: set[str],
        plain_members: list[tuple[int, int, set[str]]],
    ) -> set[str]:
        """The candidates the module's code names other than in defs, top-level imports
        (lines, first and last), attributes of what those import (`utils._run`), counted
        spawns and `self.name` in a class (lines, first and last) defining that name as a
        plain method."""
        source = self.source
        quotes = [m.start() for m in _TRIPLE_QUOTES.finditer(source)]
        pattern = _alternatives(candidates)
        counts: dict[str, int] = {}
        line, last = 1, 0
        for match in re.finditer(pattern, source):
            at = match.start()
            line += line_breaks(source, last, at)
            last = at
            if any(first <= line <= end for first, end in imports):
                continue
            if bisect.bisect_left(quotes, at) % 2 or _in_comment(source, at):
                continue  # inside a docstring, or a comment
            name = match.group(1)
            if (
                _in_text(source, at, len(name))
                or _TASK_NAME.search(source, max(0, at - 12), at)
                or self.message.search(source, max(0, at - 40), at)
            ):
                continue  # a word of a message (`"_run can only be called..."`), a task's name
            if re.search(r"\bdef\s+$", source[max(0, at - 12) : at]):
                continue  # its own `def`
            owner = _OWNER.search(source, max(0, at - 80), at)
            if owner is not None and owner.group(1) in imported:
                continue  # an attribute of an imported module or class
            if (
                owner is not None
                and owner.group(1) == SELF
                and any(
                    first <= line <= end and name in plain for first, end, plain in plain_members
                )
            ):
                continue  # the class's own plain method of that name
            counts[name] = counts.get(name, 0) + 1
        return {name for name, count in counts.items() if count > self.spawned.get(name, 0)}


def _stub(
    function: ast.FunctionDef | ast.AsyncFunctionDef, placeholders: frozenset[str], reader: _Reader
) -> bool:
    """A body that only says what implementations do (`...`, or raising one of the
    catalog's `placeholders`, `NotImplementedError`, after a docstring): a protocol's or
    an abstract method, which may suspend in each."""
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1:
        return False
    only = body[0]
    if isinstance(only, ast.Expr):
        return isinstance(only.value, ast.Constant) and only.value.value is Ellipsis
    if isinstance(only, ast.Raise) and only.exc is not None:
        raised = only.exc.func if isinstance(only.exc, ast.Call) else only.exc
        return reader.absolute(raised) in placeholders
    return False


def _awaited_calls(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    owner: str | None,
    body: _Body,
    reader: _Reader,
    known: Catalog,
) -> tuple[str, ...] | None:
    """The calls a coroutine function awaits, as references, when awaiting them is the
    only way it suspends (no `async for`, `async with`, nor `await` of a value): empty
    when it awaits nothing; None when it may suspend otherwise, or a callee is not known."""
    from conclint.analysis.blocking_summary import Calls  # which imports `declared`

    calls = Calls(function, owner, body, reader, known)
    found: list[str] = []
    for node in own_nodes(function.body):
        if isinstance(node, ast.AsyncFor | ast.AsyncWith) or (
            isinstance(node, ast.comprehension) and node.is_async
        ):
            return None
        if isinstance(node, ast.Await):
            ref = calls.callee(node.value) if isinstance(node.value, ast.Call) else None
            if ref is None:
                return None
            found.append(ref)
    return tuple(dict.fromkeys(found))


def _alternatives(names: set[str]) -> str:
    """A pattern matching any of `names` as a whole word, as its group 1."""
    return r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b"


def _in_comment(source: str, at: int) -> bool:
    """A `#` before `at` on its line, outside quotes (as far as counting them tells)."""
    start = source.rfind("\n", 0, at) + 1
    before = source[start:at]
    hash_at = before.find("#")
    while hash_at != -1:
        head = before[:hash_at]
        if head.count('"') % 2 == 0 and head.count("'") % 2 == 0:
            return True
        hash_at = before.find("#", hash_at + 1)
    return False


def _in_text(source: str, at: int, size: int) -> bool:
    """The name at `at` is inside a one-line string, with other text: not the string
    that is the name alone (`getattr(self, "_run")`)."""
    start = source.rfind("\n", 0, at) + 1
    before = source[start:at]
    for quote in "\"'":
        if before.count(quote) % 2:
            return source[at - 1 : at + size + 1] != quote + source[at : at + size] + quote
    return False


def _private_callee(arg: ast.expr) -> bool:
    """`self._run()`, `_run()`, `self._run`, `_run`: a private function, or its call."""
    func = arg.func if isinstance(arg, ast.Call) else arg
    if isinstance(func, ast.Attribute):
        return private(func.attr)
    return isinstance(func, ast.Name) and private(func.id)


def _coroutine(facts: FunctionFacts) -> bool:
    """A coroutine function, or an `async def` under a decorator of the project's
    (`@log_errors`): a spawn of its call shows it still gives a coroutine, and its body
    runs in that task."""
    return facts.coroutine or (facts.is_async and facts.wrapped)


def _named(ref: str) -> str:
    """The function's own name in a spawn reference."""
    return ref.partition(VIA)[0].partition("@")[0].rpartition(".")[2]


def _argument_spawned(
    handed: ast.expr,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    owner: str | None,
    reader: _Reader,
) -> list[str]:
    """Where `function` takes what it hands to a spawner: `["0"]` for `create_task(coro)`
    with `coro` its first parameter (the receiver of a method not counted), `["0()"]` for
    `ensure_future(target(*args))`; empty when it is no parameter."""
    called = isinstance(handed, ast.Call)
    name = handed.func if isinstance(handed, ast.Call) else handed
    if not isinstance(name, ast.Name):
        return []
    params = signature(function, owner is not None, reader.is_static(function)).positional
    if name.id not in params:
        return []
    return [f"{params.index(name.id)}{CALLED if called else ''}"]


def _bound_call(name: str, body: _Body) -> ast.Call | None:
    """The call a local is bound to, when the function binds it once, to a call."""
    if body.bound.get(name) != 1:
        return None
    for assignment in body.assignments:
        if (
            isinstance(assignment, ast.Assign)
            and len(assignment.targets) == 1
            and isinstance(assignment.targets[0], ast.Name)
            and assignment.targets[0].id == name
            and isinstance(assignment.value, ast.Call)
        ):
            return assignment.value
    return None


def _branches(expr: ast.expr) -> list[ast.expr]:
    """The values a conditional expression may have (`F() if c else G()`: both)."""
    if isinstance(expr, ast.IfExp):
        return [*_branches(expr.body), *_branches(expr.orelse)]
    return [expr]


def _function_tables(declared: Declarations) -> Iterator[dict[str, FunctionFacts]]:
    yield declared.functions
    for facts in declared.classes.values():
        yield facts.methods


def _values(body: _Body) -> Iterator[ast.expr]:
    """The expressions the function's statements evaluate at their top."""
    for statement in body.effects:
        if isinstance(statement, ast.Expr):
            yield statement.value
    for assignment in body.assignments:
        if assignment.value is not None:
            yield assignment.value
    for returned in body.returns:
        if returned.value is not None:
            yield returned.value


def _calls(expr: ast.expr, depth: int) -> Iterator[ast.Call]:
    """The calls in `expr`, a few levels deep: receivers, arguments, awaited values,
    elements and comprehensions."""
    if depth <= 0:
        return
    if isinstance(expr, ast.Call):
        yield expr
        if isinstance(expr.func, ast.Attribute):
            yield from _calls(expr.func.value, depth - 1)
        for arg in expr.args:
            yield from _calls(arg.value if isinstance(arg, ast.Starred) else arg, depth - 1)
        for keyword in expr.keywords:
            yield from _calls(keyword.value, depth - 1)
    elif isinstance(expr, ast.Await) and not isinstance(expr.value, ast.Call):
        yield from _calls(expr.value, depth)  # `await create_task(f())` waits for `f()`
    elif isinstance(expr, ast.Await):
        call = expr.value
        assert isinstance(call, ast.Call)
        for arg in call.args:
            yield from _calls(arg.value if isinstance(arg, ast.Starred) else arg, depth - 1)
    elif isinstance(expr, ast.Tuple | ast.List | ast.Set):
        for element in expr.elts:
            yield from _calls(element, depth - 1)
    elif isinstance(expr, ast.ListComp | ast.SetComp | ast.GeneratorExp):
        yield from _calls(expr.elt, depth - 1)


# The model's answer --------------------------------------------------------------------


class Tops:
    """Which coroutine functions of the project are only ever the top of a task it
    spawns (made when first asked, from every module's spawns)."""

    def __init__(self, types: ProjectTypes) -> None:
        self.types = types
        # Name -> (reference, class of the spawning method or None) of its spawns, and of
        # those whose module also names the function otherwise.
        self.spawns: dict[str, list[tuple[str, str | None]]] = {}
        self.also_named: dict[str, list[tuple[str, str | None]]] = {}
        # Name -> the spawns through a function of the project that may be a spawner:
        # (reference, class of the spawning method or None, that function, the argument).
        self.via: dict[str, list[tuple[str, str | None, str, str]]] = {}
        for module, declared in types.modules.items():
            tables: list[tuple[str | None, dict[str, FunctionFacts]]] = [(None, declared.functions)]
            tables += [(f"{module}.{name}", c.methods) for name, c in declared.classes.items()]
            for owner, functions in tables:
                for facts in functions.values():
                    for ref in facts.spawns:
                        table = self.spawns
                        if ref.startswith(ALSO_NAMED):
                            ref, table = ref[len(ALSO_NAMED) :], self.also_named
                        ref, _, through = ref.partition(VIA)
                        if through and table is self.spawns:
                            helper, _, argument = through.rpartition(AT)
                            entry = (ref, owner, helper, argument)
                            self.via.setdefault(_named(ref), []).append(entry)
                        else:
                            table.setdefault(_named(ref), []).append((ref, owner))

    def is_top(self, name: str, owner: str | None) -> bool:
        """`name` is a function's absolute name (`app.jobs._run`), or with `owner` (a class's
        absolute name) the name of one of its methods."""
        local = name.rpartition(".")[2]
        if owner is not None and dunder(local):
            return False
        if owner is None and not (private(local) or self._internal(name)):
            return False
        if owner is None:
            facts = self.types.function_facts(name)
        else:
            found = self.types.class_facts(owner)
            facts = found.methods.get(local) if found is not None else None
        if facts is None or not _coroutine(facts) or not facts.only_spawned:
            return False
        named = self.also_named.get(local, ())
        if any(self._runs(ref, spawner, name, owner) for ref, spawner in named):
            return False
        # Handed to functions of the project: each must be a spawner, or it is named otherwise.
        via = [entry for entry in self.via.get(local, ()) if self._runs(*entry[:2], name, owner)]
        if not all(
            self._spawns_argument(helper, argument, spawner) for _, spawner, helper, argument in via
        ):
            return False
        spawns = self.spawns.get(local, ())
        return bool(via) or any(self._runs(ref, spawner, name, owner) for ref, spawner in spawns)

    def _internal(self, function: str) -> bool:
        """A public function of a private package's module that no module imports."""
        real = self.types.real_name(function)
        outline = self.types.outline
        return (
            internal(real.rpartition(".")[0])
            and outline is not None
            and real not in outline.imported_internals
            and function not in outline.imported_internals
        )

    def _spawns_argument(self, helper: str, argument: str, spawner: str | None) -> bool:
        """The project function `helper` (`start@self`: a method of the spawning class
        `spawner`) hands that argument to an asyncio task spawner."""
        function, _, held = helper.partition("@")
        if not held:
            facts = self.types.function_facts(function)
        else:
            found = self.types.method(spawner, function) if spawner is not None else None
            facts = found[1] if found is not None else None
        return facts is not None and argument in facts.spawns_argument

    def _runs(self, ref: str, spawner: str | None, name: str, owner: str | None) -> bool:
        """The spawn `ref` (made in a method of `spawner`) may run the function."""
        local, _, held = ref.partition("@")
        if not held:
            if owner is None:
                return self.types.real_name(local) == self.types.real_name(name)
            return self.types.real_name(local) == f"{self.types.real_name(owner)}.{name}"
        if owner is None:
            return False
        receiver = spawner if held == SELF else self.types.resolve(held)
        return receiver is not None and self._related(receiver, owner)

    def _related(self, receiver: str, owner: str) -> bool:
        """A method of `owner` may run for an instance known to be a `receiver`: one is the
        other's class or base, or both are bases of a class of the project (a mixin that
        defines the coroutine beside the base that spawns it)."""
        if not self.types.is_class(receiver):
            return False
        receiver, owner = self.types.real_name(receiver), self.types.real_name(owner)
        return any({receiver, owner} <= bases for bases in self._mros)

    @cached_property
    def _mros(self) -> list[set[str]]:
        """The classes in the MRO of each class of the project, itself included."""
        return [
            {cls for cls, _ in self.types.mro(f"{module}.{name}")}
            for module, declared in self.types.modules.items()
            for name in declared.classes
        ]
