"""The control-flow graph of one function (or module) body, as blocks of events.

`build(scope, lookup)` walks the statements of one scope directly (no LibCST
visitor, no nested def/class/lambda bodies) and turns them into basic blocks
of `Event`s in evaluation order:

- `CALL`: every call, after its callee and arguments; any call may raise, except
  logging calls (logging reports its own failures) and those the catalog says cannot
  (role `cannot-raise`: `len()`, `time.monotonic()`, `contextlib.suppress(...)`, and
  methods of a known kind such as `event.is_set()`, `loop.call_soon()`, `d.get()`).
- `RAISES`: other points where an exception can surface: `await` of something
  that is not a call, `yield`, the next item of a `for`, an `import`.
- `ASSIGN`: names and attributes re-bound (`targets`, dotted keys such as
  `q` or `self._q`), with the assigned `value` when there is one plain target.
- `ASSUME`: the branch taken on a test (`node`, with `not` peeled off) and
  its `truth`; `and`/`or` are split into one test per operand.
- `ENTER`/`LEAVE`: a `with` item entered, and left on every way out.
- `JUMP`: a `return`, `break` or `continue` statement (`how`), before it jumps.
- `LOOP_BACK`: the end of one iteration of a `for`/`while` (`node` = the loop).
- `EXIT`: the way out of the scope, `how` = "return" or "raise".

An exception raised at a `CALL`, `RAISES` or `ENTER` event leaves its block
through the block's `exc` edge: to the handlers of the enclosing `try`, into a
`finally`, or out of the scope. A cancellation surfaces only where the code
waits (an awaited call, `await`, `yield`, `async for`, `async with`), at a
`raise`, or from a call the catalog says raises one (`future.result()`): an
exception raised anywhere else (`len(x)`, `self.n -= size(msg)`) skips the
handlers that catch cancellation classes only (`except CancelledError`), and
its path into a `finally` carries the tag `FAIL` instead of `RAISE`. Only
those events raise: attribute access, subscripts and arithmetic are taken not
to. `except Exception` counts as catching everything: interrupts and
cancellation are not the failures of ordinary work; `with
contextlib.suppress(...)` swallows what it names. A call that never returns
ends its path there: `sys.exit()` as a `raise` would,
`os._exit()` without running any `finally`, and so does a call of a project
function that never returns (awaited, for a coroutine function), as the lookup
says.

A `finally` body and a `with` exit are built once. An edge into one pushes a
tag onto the path saying how it arrived (`NORMAL`, `RETURN`, `RAISE`,
`BREAK`, `CONTINUE`); the block after it is a *router* that pops the tag and
sends the path on accordingly. Edges out of a `finally` body by `return`,
`break`, `continue` or an exception pop the tag they abandon (a `return` in
`finally` discards the pending exception).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.emptiness import found_not_empty
from conclint.analysis.scopes import ScopeNode, dotted_name, scope_body
from conclint.analysis.walk import children

CALL = "call"
RAISES = "raises"
ASSIGN = "assign"
ASSUME = "assume"
ENTER = "enter"
LEAVE = "leave"
JUMP = "jump"
LOOP_BACK = "loop-back"
EXIT = "exit"

# How a path enters a `finally` (the tags), and how a scope is left.
NORMAL = "normal"
RETURN = "return"
RAISE = "raise"
BREAK = "break"
CONTINUE = "continue"
# An exception that is surely no cancellation, on its way out of a `finally`.
FAIL = "fail"

Loop = cst.For | cst.While
# What `Event.loops` holds: statement loops, and the clauses of comprehensions.
Repeating = cst.For | cst.While | cst.CompFor

_NO_RETURN_NAMES = frozenset(
    name.rpartition(".")[2] for name in catalog.NO_RETURN_CALLS | catalog.PROCESS_ENDING_CALLS
)
_NON_RAISING_NAMES = frozenset(name.rpartition(".")[2] for name in catalog.NON_RAISING_CALLS)
_NON_RAISING_METHOD_NAMES = frozenset().union(*catalog.NON_RAISING_METHODS.values())
_CONSTANTS = {"True": True, "False": False, "None": False}
_CANCELLATION_ONLY = catalog.CANCELLATION_EXCEPTIONS - catalog.CATCH_ALL_EXCEPTIONS


@dataclass(frozen=True, slots=True, eq=False)
class Event:
    """One step of evaluation; see the module docstring for the kinds."""

    kind: str
    node: cst.CSTNode
    # The loops (innermost last) that enclose the event in its scope: statement loops
    # and comprehension clauses.
    loops: tuple[Repeating, ...] = ()
    targets: tuple[str, ...] = ()
    value: cst.BaseExpression | None = None
    truth: bool = True
    how: str = ""
    # ENTER/LEAVE: the `with` statement of the item.
    owner: cst.CSTNode | None = None
    # Taken not to raise: logging, `suppress(...)`, or a call that ends the process.
    quiet: bool = False

    @property
    def raises(self) -> bool:
        """Can an exception surface here (before the event takes effect)?"""
        return self.kind in (CALL, RAISES, ENTER) and not self.quiet


class Edge(NamedTuple):
    """Where a path goes: `pops` tags dropped from it, then `push` added."""

    target: Block
    pops: int = 0
    push: str | None = None


@dataclass(eq=False)
class Block:
    """Events run in order; `exc` takes what any of them raises."""

    index: int
    events: list[Event] = field(default_factory=list)
    succ: list[Edge] = field(default_factory=list)
    exc: Edge | None = None
    # For the block after a `finally`/`with` exit: tag -> where paths with that tag go.
    router: dict[str, list[Edge]] | None = None


@dataclass(eq=False)
class Graph:
    """The blocks of one scope; `entry` first, the two exit blocks last."""

    scope: ScopeNode
    blocks: list[Block]
    entry: Block
    # Keys assigned a boolean constant, or tested more than once: worth tracking as flags.
    flag_keys: frozenset[str]


@dataclass(slots=True)
class _Frame:
    kind: str  # "loop", "try" (a region with handlers and/or a finally) or "finally"
    dispatch: Block | None = None
    # Where an exception that is no cancellation goes, when some handlers catch
    # cancellation classes only (it joins the other handlers).
    plain: Block | None = None
    final: Block | None = None
    brk: Block | None = None
    cont: Block | None = None


class Lookup(Protocol):
    """Name questions about the scope being built, answered by the caller."""

    def resolve(self, expr: cst.BaseExpression) -> str | None:
        """The canonical dotted name `expr` denotes (imports followed), or None."""

    def kind_of(self, expr: cst.BaseExpression) -> str | None:
        """The kind of object `expr` holds (`logging.Logger`, ...), or None."""

    def never_returns(self, value: cst.Call | cst.Await) -> bool:
        """Whether a call (or an awaited one) of a project function never returns."""

    def constructs_quietly(self, call: cst.Call) -> bool:
        """Whether a call makes an instance of a project class in a way that cannot raise."""


def build(scope: ScopeNode, lookup: Lookup) -> Graph:
    """The control-flow graph of `scope`'s own body."""
    return _Builder(scope, lookup).graph()


def rebinds(targets: Iterable[str], key: str) -> bool:
    """Does assigning `targets` (ASSIGN keys) re-bind `key`? `self` re-binds `self._q` too,
    `x` the flag of `x is None`, and either side the flag of a comparison (`mode is
    SHARED`)."""
    names = _compared(key) or (key.removesuffix(IS_NONE),)
    return any(
        name == target or name.startswith(target + ".") for target in targets for name in names
    )


# The flag of a name being None (`x is None`), beside the flag of its truth (`x`).
IS_NONE = " is None"
# How the flag of a comparison of two names (or a name and a literal) is written, by the
# operators that read it, and whether each is true when the flag is: `mode is SHARED`.
_COMPARISONS: dict[type[cst.BaseCompOp], tuple[str, bool]] = {
    cst.Is: (" is ", True),
    cst.IsNot: (" is ", False),
    cst.Equal: (" == ", True),
    cst.NotEqual: (" == ", False),
}


def _compared(key: str) -> tuple[str, ...]:
    """The two sides of a comparison's flag; empty for any other flag."""
    for spelled, _ in _COMPARISONS.values():
        left, found, right = key.partition(spelled)
        if found and right != "None":
            return (left, right)
    return ()


def _side(expr: cst.BaseExpression) -> str | None:
    """A side of a comparison a flag can stand for: a name, an attribute, or a literal
    number or string with no space in it."""
    if isinstance(expr, cst.Name | cst.Attribute):
        return dotted_name(expr)
    if isinstance(expr, cst.Integer | cst.SimpleString) and " " not in expr.value:
        return expr.value
    return None


def flag_test(test: cst.CSTNode) -> tuple[str, bool] | None:
    """The flag a test reads, and whether the test is true when the flag is: `x` and
    `self.x` (their truth), `x is None`, `x is not None` (the flag of `x is None`, read
    the other way round), and `a is b`, `a == b` and their negations (the flag of the
    comparison, whose sides nothing between two tests of it re-binds)."""
    if isinstance(test, cst.Name | cst.Attribute):
        key = dotted_name(test)
        return (key, True) if key is not None else None
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    (comparison,) = test.comparisons
    compared = comparison.comparator
    if not (isinstance(compared, cst.Name) and compared.value == "None"):
        found = _COMPARISONS.get(type(comparison.operator))
        left, right = _side(test.left), _side(compared)
        if found is None or left is None or right is None:
            return None
        return left + found[0] + right, found[1]
    key = dotted_name(test.left) if isinstance(test.left, cst.Name | cst.Attribute) else None
    if key is None or not isinstance(comparison.operator, cst.Is | cst.IsNot):
        return None
    return key + IS_NONE, isinstance(comparison.operator, cst.Is)


def literal_is_none(value: cst.CSTNode) -> bool | None:
    """Whether the literal `value` is None; None when it is no literal."""
    if isinstance(value, cst.Name):
        return value.value == "None" if value.value in _CONSTANTS else None
    if isinstance(value, cst.Integer | cst.Float | cst.SimpleString | cst.ConcatenatedString):
        return False
    return None


def constant_truth(expr: cst.CSTNode) -> bool | None:
    """`True`/`False`/`None`/an integer literal as a test: its truth value, else None."""
    if isinstance(expr, cst.Name):
        return _CONSTANTS.get(expr.value)
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value != 0
    return None


class _Builder:
    def __init__(self, scope: ScopeNode, lookup: Lookup) -> None:
        self.scope = scope
        self.lookup = lookup
        self.resolve = lookup.resolve
        self.blocks: list[Block] = []
        self.frames: list[_Frame] = []
        self.loops: list[Repeating] = []
        self.entry = self.current = self._new()
        self.exit_return = Block(-1, [Event(EXIT, scope, how=RETURN)])
        self.exit_raise = Block(-1, [Event(EXIT, scope, how=RAISE)])
        self.constant_keys: set[str] = set()
        self.tested: dict[str, int] = {}
        # Calls about to be awaited (by id), and how many frames have a `plain` dispatch.
        self.awaited: set[int] = set()
        self.plain_frames = 0
        # Objects (by spelling) that a test just found not empty, with no `await` since
        # (`while not q.empty(): q.get_nowait()`): taking one item cannot fail.
        self.not_empty: frozenset[str] = frozenset()

    def graph(self) -> Graph:
        self._statements(scope_body(self.scope))
        self._goto(self._jump(RETURN))
        blocks = _reverse_postorder(self.entry)
        # The exits last: every path reaches them, so they should be visited once, at the end.
        blocks = [b for b in blocks if b not in (self.exit_return, self.exit_raise)]
        blocks += [self.exit_return, self.exit_raise]
        for index, block in enumerate(blocks):
            block.index = index
        tested_twice = {key for key, count in self.tested.items() if count > 1}
        return Graph(self.scope, blocks, self.entry, frozenset(self.constant_keys | tested_twice))

    # Blocks and edges ----------------------------------------------------

    def _new(self) -> Block:
        block = Block(len(self.blocks))
        self.blocks.append(block)
        return block

    def _link(self, source: Block, target: Block) -> None:
        source.succ.append(Edge(target))

    def _start(self) -> Block:
        """A new block that the current one flows into, made current."""
        block = self._new()
        self._link(self.current, block)
        self.current = block
        return block

    def _join(self, *sources: Block) -> Block:
        block = self._new()
        for source in sources:
            self._link(source, block)
        return block

    def _goto(self, edge: Edge) -> None:
        """Leave the current block by `edge`; whatever follows is unreachable."""
        self.current.succ.append(edge)
        self.current = self._new()

    def _emit(self, event: Event, cancels: bool = True) -> None:
        """Add `event` to the current block; `cancels`: what it raises may be a
        cancellation (else it skips handlers of cancellation classes only)."""
        if event.raises:
            if self.current.exc is None:
                self.current.exc = self._jump(RAISE if cancels else FAIL)
            elif self.plain_frames:
                edge = self._jump(RAISE if cancels else FAIL)
                if edge != self.current.exc:
                    self._start().exc = edge  # another way out: another block
        self.current.events.append(event)

    def _jump(self, kind: str) -> Edge:
        """Where `return`/`raise`/`break`/`continue` from here goes first (`FAIL`: an
        exception that is no cancellation)."""
        if kind == FAIL and not self.plain_frames:
            kind = RAISE  # no handler tells the two apart
        pops = 0
        for frame in reversed(self.frames):
            if frame.kind == "finally":
                pops += 1  # leaving a finally body abandons the way it was entered
            elif frame.kind == "try":
                if kind in (RAISE, FAIL) and frame.dispatch is not None:
                    plain = frame.plain if kind == FAIL else None
                    return Edge(plain or frame.dispatch, pops)
                if frame.final is not None:
                    return Edge(frame.final, pops, kind)
            elif kind == BREAK and frame.brk is not None:
                return Edge(frame.brk, pops)
            elif kind == CONTINUE and frame.cont is not None:
                return Edge(frame.cont, pops)
        return Edge(self.exit_raise if kind in (RAISE, FAIL) else self.exit_return, pops)

    def _router(self, after: Block) -> dict[str, list[Edge]]:
        """Where each tag goes once a `finally`/`with` exit ends (frames as outside it)."""
        routes = {NORMAL: [Edge(after)], RETURN: [self._jump(RETURN)], RAISE: [self._jump(RAISE)]}
        routes[FAIL] = [self._jump(FAIL)]
        if any(frame.kind == "loop" for frame in self.frames):
            routes[BREAK] = [self._jump(BREAK)]
            routes[CONTINUE] = [self._jump(CONTINUE)]
        return routes

    # Statements ----------------------------------------------------------

    def _statements(self, body: Sequence[cst.BaseStatement | cst.BaseSmallStatement]) -> None:
        for statement in body:
            self._statement(statement)

    def _suite(self, suite: cst.BaseSuite) -> None:
        self._statements(suite.body)

    def _statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.For | cst.With) and node.asynchronous is not None:
            self.not_empty = frozenset()  # it waits: other tasks run
        if isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            self._statements(node.body)
        elif isinstance(node, cst.Expr):
            self._expr(node.value)
        elif isinstance(node, cst.Assign):
            self._expr(node.value)
            targets = [target.target for target in node.targets]
            self._assign(targets, node.value, node)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self._expr(node.value)
                self._assign([node.target], node.value, node)
        elif isinstance(node, cst.AugAssign):
            self._expr(node.value)
            self._assign([node.target], None, node)
        elif isinstance(node, cst.Del):
            self._assign([node.target], None, node)
        elif isinstance(node, cst.Return):
            if node.value is not None:
                self._expr(node.value)
            self._emit(Event(JUMP, node, tuple(self.loops), how=RETURN))
            self._goto(self._jump(RETURN))
        elif isinstance(node, cst.Raise):
            if node.exc is not None:
                self._expr(node.exc)
            if node.cause is not None:
                self._expr(node.cause.item)
            self._goto(self._jump(RAISE))
        elif isinstance(node, cst.Break | cst.Continue):
            how = BREAK if isinstance(node, cst.Break) else CONTINUE
            self._emit(Event(JUMP, node, tuple(self.loops), how=how))
            self._goto(self._jump(how))
        elif isinstance(node, cst.Assert):
            passed, failed = self._branch(node.test)
            self.current = failed
            if node.msg is not None:
                self._expr(node.msg)
            self._goto(self._jump(FAIL))
            self.current = passed
            # `assert q.qsize() == 1`: what it finds not empty stays so until an `await`.
            self.not_empty |= self._found_not_empty(node.test)
        elif isinstance(node, cst.Import | cst.ImportFrom):
            self._emit(Event(RAISES, node, tuple(self.loops)), cancels=False)
            self._emit(Event(ASSIGN, node, targets=tuple(_imported_names(node))))
        elif isinstance(node, cst.If):
            self._if(node)
        elif isinstance(node, cst.While):
            self._while(node)
        elif isinstance(node, cst.For):
            self._for(node)
        elif isinstance(node, cst.Try | cst.TryStar):
            self._try(node)
        elif isinstance(node, cst.With):
            self._with(node, 0)
        elif isinstance(node, cst.Match):
            self._match(node)
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            self._definition(node)

    def _definition(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        # The body is a scope of its own; decorators, defaults and bases run here.
        for decorator in node.decorators:
            self._expr(decorator.decorator)
        if isinstance(node, cst.FunctionDef):
            self._defaults(node.params)
        else:
            for arg in (*node.bases, *node.keywords):
                self._expr(arg.value)
        self._emit(Event(ASSIGN, node, targets=(node.name.value,)))

    def _defaults(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                self._expr(param.default)

    def _if(self, node: cst.If) -> None:
        taken, skipped = self._branch(node.test)
        self.current = taken
        self._guarded_suite(node.body, node.test)
        body_end = self.current
        self.current = skipped
        if isinstance(node.orelse, cst.If):
            self._if(node.orelse)
        elif node.orelse is not None:
            self._suite(node.orelse.body)
        self.current = self._join(body_end, self.current)

    def _guarded_suite(self, suite: cst.BaseSuite, test: cst.BaseExpression) -> None:
        """`suite`, run when `test` holds: what it finds not empty stays so until an
        `await` (or a take) in the suite."""
        outside = self.not_empty
        self.not_empty = outside | self._found_not_empty(test)
        self._suite(suite)
        self.not_empty = outside

    def _found_not_empty(self, test: cst.BaseExpression) -> frozenset[str]:
        """The queues `test`, when true, finds holding an item, of the kinds whose take
        fails when empty (`emptiness.py`)."""
        return frozenset(
            key
            for key, receiver in found_not_empty(test).items()
            if (self.lookup.kind_of(receiver) or "") in catalog.FAILING_WHEN_EMPTY
        )

    def _takes_from_not_empty(self, call: cst.Call) -> bool:
        """`q.get_nowait()` of a queue found not empty: it cannot fail, and `q` may be
        empty after it."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return False
        key = dotted_name(func.value)
        if key is None or key not in self.not_empty:
            return False
        kind = self.lookup.kind_of(func.value) or ""
        if func.attr.value not in catalog.FAILING_WHEN_EMPTY.get(kind, ()):
            return False
        self.not_empty -= {key}
        return True

    def _loop_body(self, node: Loop, after: Block, latch: Block) -> None:
        self.frames.append(_Frame("loop", brk=after, cont=latch))
        self.loops.append(node)
        if isinstance(node, cst.While):
            self._guarded_suite(node.body, node.test)
        else:
            self._suite(node.body)
        self.loops.pop()
        self.frames.pop()
        self._link(self.current, latch)

    def _latch(self, node: Loop, head: Block) -> Block:
        latch = self._new()
        latch.events.append(Event(LOOP_BACK, node, (*self.loops, node)))
        self._link(latch, head)
        return latch

    def _while(self, node: cst.While) -> None:
        head = self._start()
        taken, exhausted = self._branch(node.test)
        after = self._new()
        self.current = taken
        self._loop_body(node, after, self._latch(node, head))
        self._loop_else(node, exhausted, after)

    def _loop_else(self, node: Loop, exhausted: Block, after: Block) -> None:
        """The `else:` block runs when the loop ends without `break`, then joins `after`."""
        self.current = exhausted
        if node.orelse is not None:
            self._suite(node.orelse.body)
        self._link(self.current, after)
        self.current = after

    def _for(self, node: cst.For) -> None:
        self._expr(node.iter)
        head = self._start()
        # The iterator's next item; awaited in `async for`. A tuple or list written out
        # (`for x in (a, b):`) hands its items over without failing.
        written_out = isinstance(node.iter, cst.Tuple | cst.List) and not any(
            isinstance(element, cst.StarredElement) for element in node.iter.elements
        )
        if node.asynchronous is not None or not written_out:
            self._emit(
                Event(RAISES, node, tuple(self.loops)), cancels=node.asynchronous is not None
            )
        after = self._new()
        exhausted = self._new()
        self._link(head, exhausted)
        self._start()
        self.loops.append(node)
        self._assign([node.target], None, node)
        self.loops.pop()
        self._loop_body(node, after, self._latch(node, head))
        self._loop_else(node, exhausted, after)

    def _try(self, node: cst.Try | cst.TryStar) -> None:
        after = self._new()
        final: Block | None = None
        if node.finalbody is not None:
            final = self._new()
            self.frames.append(_Frame("try", final=final))
        dispatch: Block | None = None
        plain: Block | None = None
        if node.handlers:
            dispatch = self._new()
            if any(self._cancellation_only(handler.type) for handler in node.handlers):
                plain = self._new()
                self.plain_frames += 1
            self.frames.append(_Frame("try", dispatch=dispatch, plain=plain))
        self._start()
        self._suite(node.body)
        if dispatch is not None:
            self.frames.pop()
            self.plain_frames -= plain is not None
        done = Edge(final, 0, NORMAL) if final is not None else Edge(after)
        # `else` runs only when the body completed, outside its handlers' reach.
        self._start()
        if node.orelse is not None:
            self._suite(node.orelse.body)
        self._goto(done)
        if dispatch is not None:
            self._handlers(node, dispatch, plain, done)
        if final is not None and node.finalbody is not None:
            self.frames.pop()
            self.frames.append(_Frame("finally"))
            self.current = final
            self._suite(node.finalbody.body)
            self.frames.pop()
            router = self._start()
            router.router = self._router(after)
        self.current = after

    def _handlers(
        self, node: cst.Try | cst.TryStar, dispatch: Block, plain: Block | None, done: Edge
    ) -> None:
        """Each handler, entered from `dispatch`, and from `plain` (exceptions that are no
        cancellation) unless it catches cancellation classes only."""
        catches_all = False
        for handler in node.handlers:
            self.current = self._join(dispatch)
            if plain is not None and not self._cancellation_only(handler.type):
                self._link(plain, self.current)
            if handler.name is not None:
                self._assign([handler.name.name], None, handler)
            self._suite(handler.body)
            self._goto(done)
            catches_all = catches_all or self._catches_all(handler.type)
        if not catches_all:
            dispatch.succ.append(self._jump(RAISE))
            if plain is not None:
                plain.succ.append(self._jump(FAIL))

    def _cancellation_only(self, kind: cst.BaseExpression | None) -> bool:
        """`except CancelledError`, `except (CancelledError, trio.Cancelled)`: every class
        named is a cancellation class, and none catches everything."""
        if kind is None:
            return False
        classes = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        return all(
            self.lookup.kind_of(cls) == catalog.CANCELLED_CLASS_KIND
            or self.resolve(cls) in _CANCELLATION_ONLY
            for cls in classes
        )

    def _catches_all(self, kind: cst.BaseExpression | None) -> bool:
        if kind is None:
            return True
        if isinstance(kind, cst.Tuple):
            return any(self._catches_all(element.value) for element in kind.elements)
        return self.resolve(kind) in catalog.CATCH_ALL_EXCEPTIONS

    def _with(self, node: cst.With, position: int) -> None:
        if position == len(node.items):
            self._suite(node.body)
            return
        item = node.items[position]
        self._expr(item.item)
        how = "async with" if node.asynchronous is not None else "with"
        # Entering `suppress(...)` or `nullcontext()` cannot fail either.
        quiet = isinstance(item.item, cst.Call) and self._cannot_raise(item.item)
        entered = Event(ENTER, item, tuple(self.loops), how=how, owner=node, quiet=quiet)
        self._emit(entered, cancels=node.asynchronous is not None)
        if item.asname is not None:
            self._assign([item.asname.name], None, item)
        leave = self._new()
        self.frames.append(_Frame("try", final=leave))
        self._start()
        self._with(node, position + 1)
        self.frames.pop()
        self._goto(Edge(leave, 0, NORMAL))
        leave.events.append(Event(LEAVE, item, tuple(self.loops), how=how, owner=node))
        self.current = leave
        after = self._new()
        router = self._start()
        router.router = self._router(after)
        call = item.item
        if isinstance(call, cst.Call) and self.resolve(call.func) in catalog.SUPPRESSORS:
            # `suppress(Exception)` swallows everything; `suppress(KeyError)` only some.
            if any(self._catches_all(arg.value) for arg in call.args):
                router.router[RAISE] = []
                router.router[FAIL] = []
            router.router[RAISE].append(Edge(after))
            if not all(self._cancellation_only(arg.value) for arg in call.args):
                router.router[FAIL].append(Edge(after))
        self.current = after

    def _match(self, node: cst.Match) -> None:
        self._expr(node.subject)
        after = self._new()
        trying = self.current
        for case in node.cases:
            self.current = self._join(trying)
            names = tuple(_pattern_names(case.pattern))
            if names:
                self._emit(Event(ASSIGN, case, targets=names))
            no_match = self._join(trying)
            if case.guard is not None:
                taken, refused = self._branch(case.guard)
                self._link(refused, no_match)
                self.current = taken
            self._suite(case.body)
            self._link(self.current, after)
            if case.guard is None and _irrefutable(case.pattern):
                no_match.succ.clear()
                trying.succ.remove(next(e for e in trying.succ if e.target is no_match))
                trying = self._new()  # later cases are unreachable
                break
            trying = no_match
        self._link(trying, after)
        self.current = after

    # Assignments ---------------------------------------------------------

    def _assign(
        self,
        targets: Sequence[cst.BaseExpression],
        value: cst.BaseExpression | None,
        node: cst.CSTNode,
    ) -> None:
        keys: list[str] = []
        for target in targets:
            self._target(target, keys)
        plain = len(targets) == 1 and isinstance(targets[0], cst.Name | cst.Attribute)
        if plain and value is not None and constant_truth(value) is not None:
            self.constant_keys.update(keys)
        if plain and value is not None and literal_is_none(value) is not None:
            self.constant_keys.update(key + IS_NONE for key in keys)
        self._emit(Event(ASSIGN, node, tuple(self.loops), tuple(keys), value if plain else None))

    def _target(self, target: cst.BaseExpression, keys: list[str]) -> None:
        if isinstance(target, cst.Name):
            keys.append(target.value)
        elif isinstance(target, cst.Attribute):
            self._expr(target.value)
            key = dotted_name(target)
            if key is not None:
                keys.append(key)
        elif isinstance(target, cst.Subscript):
            self._expr(target.value)
            self._slices(target)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._target(element.value, keys)
        elif isinstance(target, cst.StarredElement):
            self._target(target.value, keys)

    # Expressions ---------------------------------------------------------

    def _branch(self, test: cst.BaseExpression) -> tuple[Block, Block]:
        """Evaluate `test`; the blocks where it held and where it did not."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            held, failed = self._branch(test.expression)
            return failed, held
        if isinstance(test, cst.BooleanOperation):
            left_held, left_failed = self._branch(test.left)
            if isinstance(test.operator, cst.And):
                self.current = left_held
                held, right_failed = self._branch(test.right)
                return held, self._join(left_failed, right_failed)
            self.current = left_failed
            right_held, failed = self._branch(test.right)
            return self._join(left_held, right_held), failed
        self._expr(test)
        flag = flag_test(test)
        if flag is not None:
            self.tested[flag[0]] = self.tested.get(flag[0], 0) + 1
        source = self.current
        held, failed = self._join(source), self._join(source)
        held.events.append(Event(ASSUME, test, tuple(self.loops), truth=True))
        failed.events.append(Event(ASSUME, test, tuple(self.loops), truth=False))
        return held, failed

    def _expr(self, expr: cst.BaseExpression) -> None:
        if isinstance(expr, cst.Name | cst.BaseNumber | cst.SimpleString | cst.Ellipsis):
            return
        if isinstance(expr, cst.Call):
            self._expr(expr.func)
            for arg in expr.args:
                self._expr(arg.value)
            ending = self._ending(expr)
            quiet = (
                ending == "process"
                or self._cannot_raise(expr)
                or (bool(self.not_empty) and self._takes_from_not_empty(expr))
                or self.lookup.constructs_quietly(expr)
            )
            cancels = id(expr) in self.awaited or self._raises_cancellation(expr)
            self._emit(Event(CALL, expr, tuple(self.loops), quiet=quiet), cancels)
            if ending == "process":
                self.current = self._new()
            elif ending == "raise" or self.lookup.never_returns(expr):
                self._goto(self._jump(RAISE))
        elif isinstance(expr, cst.Attribute):
            self._expr(expr.value)
        elif isinstance(expr, cst.Await):
            if isinstance(expr.expression, cst.Call):
                self.awaited.add(id(expr.expression))
            self._expr(expr.expression)
            self.not_empty = frozenset()  # other tasks ran meanwhile
            if not isinstance(expr.expression, cst.Call):  # an awaited call raised at the call
                self._emit(Event(RAISES, expr, tuple(self.loops)))
            elif self.lookup.never_returns(expr):
                self._goto(self._jump(RAISE))
        elif isinstance(expr, cst.Yield):
            if isinstance(expr.value, cst.From):
                self._expr(expr.value.item)
            elif expr.value is not None:
                self._expr(expr.value)
            self.not_empty = frozenset()
            self._emit(Event(RAISES, expr, tuple(self.loops)))
        elif isinstance(expr, cst.BooleanOperation):
            held, failed = self._branch(expr)
            self.current = self._join(held, failed)
        elif isinstance(expr, cst.IfExp):
            held, failed = self._branch(expr.test)
            self.current = held
            self._expr(expr.body)
            body_end = self.current
            self.current = failed
            self._expr(expr.orelse)
            self.current = self._join(body_end, self.current)
        elif isinstance(expr, cst.NamedExpr):
            self._expr(expr.value)
            self._assign([expr.target], expr.value, expr)
        elif isinstance(expr, cst.Lambda):
            self._defaults(expr.params)
        elif isinstance(expr, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp):
            self._expr(expr.for_in.iter)
            self._comprehension(expr, expr.for_in)
        elif isinstance(expr, cst.Subscript):
            self._expr(expr.value)
            self._slices(expr)
        elif isinstance(expr, cst.BinaryOperation):
            self._expr(expr.left)
            self._expr(expr.right)
        elif isinstance(expr, cst.UnaryOperation):
            self._expr(expr.expression)
        elif isinstance(expr, cst.Comparison):
            self._expr(expr.left)
            for comparison in expr.comparisons:
                self._expr(comparison.comparator)
        elif isinstance(expr, cst.Tuple | cst.List | cst.Set):
            for element in expr.elements:
                self._expr(element.value)
        elif isinstance(expr, cst.Dict):
            for entry in expr.elements:
                if isinstance(entry, cst.DictElement):
                    self._expr(entry.key)
                self._expr(entry.value)
        else:
            for child in _expression_children(expr):
                self._expr(child)

    def _raises_cancellation(self, call: cst.Call) -> bool:
        """`fut.result()`: a plain call that may raise a cancellation."""
        func = call.func
        return isinstance(func, cst.Attribute) and (
            func.attr.value in catalog.CANCELLATION_RAISING_METHODS
        )

    def _cannot_raise(self, call: cst.Call) -> bool:
        return cannot_raise(call, self.resolve, self.lookup.kind_of)

    def _ending(self, call: cst.Call) -> str | None:
        """How a call ends its path: by raising (`sys.exit()`), by ending the process
        (`os._exit()`: no `finally` runs), or not at all (None)."""
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
        if name not in _NO_RETURN_NAMES:
            return None
        callee = self.resolve(func)
        if callee in catalog.PROCESS_ENDING_CALLS:
            return "process"
        return "raise" if callee in catalog.NO_RETURN_CALLS else None

    def _slices(self, node: cst.Subscript) -> None:
        for element in node.slice:
            part = element.slice
            if isinstance(part, cst.Index):
                self._expr(part.value)
            elif isinstance(part, cst.Slice):
                for bound in (part.lower, part.upper, part.step):
                    if bound is not None:
                        self._expr(bound)

    def _comprehension(
        self,
        expr: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp,
        clause: cst.CompFor,
    ) -> None:
        """A comprehension clause as a loop (no LOOP_BACK: it is no statement loop)."""
        head = self._start()
        waits = clause.asynchronous is not None
        self._emit(Event(RAISES, clause, tuple(self.loops)), cancels=waits)
        after = self._join(head)
        self._start()
        self.loops.append(clause)
        self._assign([clause.target], None, clause)
        for condition in clause.ifs:
            held, failed = self._branch(condition.test)
            self._link(failed, head)
            self.current = held
        if clause.inner_for_in is not None:
            self._expr(clause.inner_for_in.iter)
            self._comprehension(expr, clause.inner_for_in)
        elif isinstance(expr, cst.DictComp):
            self._expr(expr.key)
            self._expr(expr.value)
        else:
            self._expr(expr.elt)
        self.loops.pop()
        self._link(self.current, head)
        self.current = after


def cannot_raise(
    call: cst.Call,
    resolve: Callable[[cst.BaseExpression], str | None],
    kind_of: Callable[[cst.BaseExpression], str | None],
) -> bool:
    """A call the catalog says cannot raise (role `cannot-raise`): a function (`len()`) or
    a method of a known kind (`logger.debug()`, `event.is_set()`); `resolve` and `kind_of`
    answer for the scope the call is in."""
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
    if isinstance(func, cst.Attribute) and name in _NON_RAISING_METHOD_NAMES:
        methods = catalog.NON_RAISING_METHODS.get(kind_of(func.value) or "")
        if methods is not None and name in methods:
            return True
    return name in _NON_RAISING_NAMES and resolve(func) in catalog.NON_RAISING_CALLS


def successors(block: Block) -> Iterator[Block]:
    """Every block `block` can pass paths to: normal, exceptional and routed edges."""
    for edge in block.succ:
        yield edge.target
    if block.exc is not None and any(event.raises for event in block.events):
        yield block.exc.target
    if block.router is not None:
        for edges in block.router.values():
            for edge in edges:
                yield edge.target


def _reverse_postorder(entry: Block) -> list[Block]:
    """Reachable blocks, each after all its predecessors except along back edges."""
    order: list[Block] = []
    seen = {id(entry)}
    stack: list[tuple[Block, Iterator[Block]]] = [(entry, successors(entry))]
    while stack:
        block, pending = stack[-1]
        for successor in pending:
            if id(successor) not in seen:
                seen.add(id(successor))
                stack.append((successor, successors(successor)))
                break
        else:
            stack.pop()
            order.append(block)
    order.reverse()
    return order


def _expression_children(expr: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Sub-expressions of the rarer node kinds (f-strings, slices, starred, ...)."""
    for child in children(expr):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, cst.FormattedStringExpression):
            yield child.expression
        elif isinstance(child, cst.Arg | cst.Element):
            yield child.value


def _imported_names(node: cst.Import | cst.ImportFrom) -> Iterator[str]:
    if isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            yield alias.asname.name.value
        else:
            name = dotted_name(alias.name)
            if name:
                yield name.split(".", 1)[0]


def _pattern_names(pattern: cst.MatchPattern) -> Iterator[str]:
    stack: list[cst.CSTNode] = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.MatchAs | cst.MatchStar) and node.name is not None:
            yield node.name.value
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            yield node.rest.value
        if isinstance(node, cst.MatchAs):
            if node.pattern is not None:
                stack.append(node.pattern)
        elif isinstance(node, cst.MatchOr):
            stack.extend(element.pattern for element in node.patterns)
        elif isinstance(node, cst.MatchSequence):
            stack.extend(
                element.value if isinstance(element, cst.MatchSequenceElement) else element
                for element in node.patterns
            )
        elif isinstance(node, cst.MatchMapping):
            stack.extend(element.pattern for element in node.elements)
        elif isinstance(node, cst.MatchClass):
            stack.extend(element.value for element in node.patterns)
            stack.extend(element.pattern for element in node.kwds)


def _irrefutable(pattern: cst.MatchPattern) -> bool:
    if isinstance(pattern, cst.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, cst.MatchOr):
        return any(_irrefutable(element.pattern) for element in pattern.patterns)
    return False
