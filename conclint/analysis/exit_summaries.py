"""Which functions never return, and which raise again the cancellation they are given:
summaries the index pass reads from a function's statements (Python's `ast`).

- `annotated_no_return`: the return annotation says so (`-> NoReturn`, `-> Never`).
- `always_raises`: every path through the body ends in `raise`, or in a call the catalog
  says never returns (`sys.exit()`, `os._exit()`). A `raise` inside a `try` leads on to
  its handlers, one inside `with suppress(...)` to what follows the block.
- `ends_in`: when the other paths all end in a call instead, the last statement of each
  (`fail(msg)`, `errors.fail(msg)`, `self._fail(exc)`, `await self._abort()`), as
  references that `ProjectTypes.never_returns` follows once every module is indexed.
- `reraises`: the parameters such that, when one holds a cancellation, every path ends
  in raising again what is handled (`raise`, `raise exc`, `raise exc from err`) or in a
  call the catalog says never returns, with the tests `isinstance(exc, ...)` decided for
  a cancellation (`if isinstance(exc, Exception): return` is not taken for one).

Only statements are walked, never expressions, except the calls that end a path and the
tests of `if`; and only for functions whose last statement may end the path (a `return`
or an assignment there ends the question at once). A method that raises a placeholder
(`NotImplementedError`) or is abstract says nothing of its subclasses' methods: no summary.
A loop that never ends is no raise.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from conclint.analysis.own_nodes import TRY_STATEMENTS
from conclint.analysis.signature import signature
from conclint.catalog import Catalog

if TYPE_CHECKING:
    from conclint.analysis.declared import FunctionFacts

# How a path leaves a block: past its end, by `return` (or anything else after which the
# function goes on), by `break` or `continue`. Any other member is a reference to the call
# the path ends in (it falls through, unless that call never returns).
_FALL = "fall"
_OUT = "out"
_BREAK = "break"
_CONTINUE = "continue"
_PLAIN = frozenset({_FALL, _OUT, _BREAK, _CONTINUE})
_FALLS: frozenset[str] = frozenset({_FALL})
_NOTHING: frozenset[str] = frozenset()
# A reference that is awaited: `await:call:app.errors.fail`.
AWAITED = "await:"

# The last statements after which a function surely returns: it falls off its end.
_ENDS_AT_ONCE = (
    ast.Return,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.Pass,
    ast.Import,
    ast.ImportFrom,
    ast.Delete,
    ast.Global,
    ast.Nonlocal,
    ast.For,
    ast.AsyncFor,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assert,
)


@dataclass(frozen=True)
class ExitNames:
    """What the catalog says about ways out, by absolute name."""

    never_returns: frozenset[str]
    no_return_types: frozenset[str]
    suppressors: frozenset[str]
    placeholders: frozenset[str]
    # Classes a cancellation is an instance of (`BaseException` too), those that are
    # cancellations themselves (not `BaseException`), and those it never is (the other
    # builtin exceptions, the catalog's `not-cancellation` names).
    cancellation: frozenset[str]
    cancellation_only: frozenset[str]
    not_cancellation: frozenset[str]
    # Calls that give the running framework's cancellation class.
    cancellation_classes: frozenset[str]
    # Functions of the catalog, which are no functions of the project.
    known_functions: frozenset[str]
    # The last parts of `no_return_types`: what an annotation must spell to be one.
    no_return_words: frozenset[str]


@lru_cache(maxsize=16)
def exit_names(known: Catalog) -> ExitNames:
    classes = known.kinds_with("cancellation-class")
    return ExitNames(
        never_returns=known.functions_with("never-returns"),
        no_return_types=known.names_with("no-return-type"),
        suppressors=known.functions_with("suppresses"),
        placeholders=known.names_with("placeholder"),
        cancellation=known.names_with("cancellation"),
        cancellation_only=known.names_with("cancellation") - known.names_with("catch-all"),
        not_cancellation=not_cancellation(known),
        cancellation_classes=frozenset(
            name for name, kind in known.constructors.items() if kind in classes
        ),
        known_functions=frozenset(known.functions),
        no_return_words=frozenset(
            name.rpartition(".")[2] for name in known.names_with("no-return-type")
        ),
    )


def not_cancellation(known: Catalog) -> frozenset[str]:
    """Exception classes a cancellation is never an instance of: the builtin ones but
    `BaseException` (the cancellations derive from it alone), and those the catalog names."""
    builtin = frozenset(
        f"builtins.{name}"
        for name, value in vars(builtins).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value is not BaseException
    )
    return builtin | known.names_with("not-cancellation")


class Scanned(Protocol):
    """What the index pass's walk over a function's statements found (`declared._Body`)."""

    bound: dict[str, int]
    generator: bool


def summarised(
    facts: FunctionFacts,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    body: Scanned,
    owner: str | None,
    decorators: list[str],
    absolute: Callable[[ast.expr], str | None],
    names: ExitNames,
) -> FunctionFacts:
    """`facts` with the function's exits summarised (see the module docstring); `owner`
    is the class of a method, `decorators` the absolute names of its decorators."""
    if facts.wrapped or body.generator:
        return facts  # calling it may not run the body, or runs none of it at once
    last = function.body[-1]
    if _spelled(function.returns) in names.no_return_words:
        assert function.returns is not None
        if absolute(_annotation(function.returns)) in names.no_return_types:
            return replace(facts, annotated_no_return=True)
    if isinstance(last, _ENDS_AT_ONCE) or (
        isinstance(last, ast.Expr) and not isinstance(last.value, ast.Call | ast.Await)
    ):
        return facts
    kinds = {name.rpartition(".")[2] for name in decorators}
    if owner is not None and kinds - {"staticmethod", "classmethod"}:
        return facts  # abstract: left to the subclasses
    reader = _Reader(function, body, owner, "staticmethod" in kinds, absolute, names)
    exits = reader.block(function.body)
    if reader.placeholder:
        return facts
    if not exits:
        return replace(facts, always_raises=True)
    found = facts
    if not exits & _PLAIN:
        found = replace(found, ends_in=tuple(sorted(exits)))
    reraised = tuple(reader.reraised())
    return replace(found, reraises=reraised) if reraised else found


def _spelled(annotation: ast.expr | None) -> str | None:
    """The last name an annotation spells (`NoReturn` of `typing.NoReturn` or `"NoReturn"`)."""
    if isinstance(annotation, ast.Name):
        return annotation.id
    if isinstance(annotation, ast.Attribute):
        return annotation.attr
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.rpartition(".")[2]
    return None


def _annotation(expr: ast.expr) -> ast.expr:
    """A quoted annotation's expression (`"NoReturn"`), else the annotation itself."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        try:
            return ast.parse(expr.value, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return expr
    return expr


class _Reader:
    """Walks one function's statements; `assumed` is the parameter taken to hold a
    cancellation (the re-raise question), None for the question of raising at all."""

    def __init__(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        body: Scanned,
        owner: str | None,
        static: bool,
        absolute: Callable[[ast.expr], str | None],
        names: ExitNames,
    ) -> None:
        self.function = function
        self.bound = body.bound
        self.owner = owner
        self.absolute = absolute
        self.names = names
        # The receiver of a method, and the parameters as its callers pass them.
        found = signature(function, owner is not None, static)
        self.receiver = found.receiver
        self.parameters = {name: f"{index}:{name}" for index, name in enumerate(found.positional)}
        self.parameters.update((name, f":{name}") for name in found.keyword_only)
        self.local = {*found.positional, *found.keyword_only, *found.packed}
        self.assumed: str | None = None
        # Parameters an `if` tests with `isinstance(...)`: worth asking the re-raise question of.
        self.tested: set[str] = set()
        self.placeholder = False
        self.guarded = 0
        # The names of the handlers being walked (None for `except X:` without one).
        self.handling: list[str | None] = []

    def reraised(self) -> Iterator[str]:
        """The parameters (`position:name`) whose cancellation every path raises again."""
        for name in sorted(self.tested):
            if name in self.bound:
                continue  # rebound in the body: not what it was given
            self.assumed = name
            if not self.block(self.function.body):
                yield self.parameters[name]
        self.assumed = None

    # Statements ----------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> frozenset[str]:
        found: set[str] = set()
        last: frozenset[str] = _FALLS
        for statement in body:
            last = self.statement(statement)
            falls = _FALL in last or not last <= _PLAIN
            found |= last & {_OUT, _BREAK, _CONTINUE}
            if not falls:
                return frozenset(found)  # the rest is unreachable
        return frozenset(found | (last - {_OUT, _BREAK, _CONTINUE}))

    def statement(self, node: ast.stmt) -> frozenset[str]:
        kind = type(node)
        if kind is ast.Raise:
            return self._raise(node)  # type: ignore[arg-type]
        if kind is ast.Return:
            return frozenset({_OUT})
        if kind is ast.Break:
            return frozenset({_BREAK})
        if kind is ast.Continue:
            return frozenset({_CONTINUE})
        if kind is ast.Expr:
            return self._call(node.value)  # type: ignore[attr-defined]
        if kind is ast.If:
            return self._if(node)  # type: ignore[arg-type]
        if kind is ast.While:
            return self._while(node)  # type: ignore[arg-type]
        if kind is ast.With or kind is ast.AsyncWith:
            return self._with(node)  # type: ignore[arg-type]
        if kind in TRY_STATEMENTS:
            return self._try(node)  # type: ignore[arg-type]
        if kind is ast.Match:
            return self._match(node)  # type: ignore[arg-type]
        if kind is ast.For or kind is ast.AsyncFor:
            inner = _plain(self.block(node.body))  # type: ignore[attr-defined]
            return (inner - {_BREAK, _CONTINUE}) | _FALLS | _plain(self.block(node.orelse))  # type: ignore[attr-defined]
        return _FALLS

    def _raise(self, node: ast.Raise) -> frozenset[str]:
        raised = node.exc
        if raised is not None and self.owner is not None:
            spelled = raised.func if isinstance(raised, ast.Call) else raised
            if self.absolute(spelled) in self.names.placeholders:
                self.placeholder = True  # left for the subclasses to define
        if self.assumed is None or self.guarded:
            return _NOTHING
        if self.handling and (raised is None or any(_is_name(raised, h) for h in self.handling)):
            return _NOTHING  # a failure of the handling code goes on, as without the `try`
        return _NOTHING if self._raises_again(raised) else frozenset({_OUT})

    def _raises_again(self, raised: ast.expr | None) -> bool:
        """`raise`, `raise exc`, `raise exc.with_traceback(tb)`, or a new cancellation."""
        if raised is None:
            return True
        if isinstance(raised, ast.Call):
            func = raised.func
            if isinstance(func, ast.Attribute) and _is_name(func.value, self.assumed):
                return True
            raised = func
        if _is_name(raised, self.assumed):
            return True
        return self.absolute(raised) in self.names.cancellation_only

    def _call(self, value: ast.expr) -> frozenset[str]:
        """An expression statement: a call that never returns ends the path; one that may
        not, of a project function, is where the path ends if that one never returns."""
        awaited = isinstance(value, ast.Await)
        call = value.value if isinstance(value, ast.Await) else value
        if not isinstance(call, ast.Call):
            return _FALLS
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == self.receiver
            and self.receiver not in self.bound
        ):
            reference = f"method:{self.owner}:{func.attr}"
        else:
            root = func
            while isinstance(root, ast.Attribute):
                root = root.value
            if not isinstance(root, ast.Name) or root.id in self.local or root.id in self.bound:
                return _FALLS
            name = self.absolute(func)
            if name is None:
                return _FALLS
            if name in self.names.never_returns:
                return _NOTHING
            if name in self.names.known_functions or name.startswith("builtins."):
                return _FALLS
            reference = f"call:{name}"
        if self.assumed is not None:
            return _FALLS  # a re-raise is not followed into other functions
        return frozenset({AWAITED + reference if awaited else reference})

    def _if(self, node: ast.If) -> frozenset[str]:
        known = self._decided(node.test) if self.assumed is not None else None
        if self.assumed is None:
            self._note_tests(node.test)
        if known is True:
            return self.block(node.body)
        if known is False:
            return self.block(node.orelse) if node.orelse else _FALLS
        return self.block(node.body) | (self.block(node.orelse) if node.orelse else _FALLS)

    def _while(self, node: ast.While) -> frozenset[str]:
        inner = _plain(self.block(node.body))
        exits = set(inner - {_FALL, _BREAK, _CONTINUE})
        forever = isinstance(node.test, ast.Constant) and bool(node.test.value)
        if _BREAK in inner:
            exits.add(_FALL)
        if forever:
            if _FALL in inner or _CONTINUE in inner:
                exits.add(_OUT)  # it may loop for ever, which is no raise
        else:
            exits |= _FALLS | _plain(self.block(node.orelse))
        return frozenset(exits)

    def _with(self, node: ast.With | ast.AsyncWith) -> frozenset[str]:
        exits = self.block(node.body)
        for item in node.items:
            entered = item.context_expr
            if (
                isinstance(entered, ast.Call)
                and self.absolute(entered.func) in self.names.suppressors
            ):
                return exits | _FALLS  # what it swallows goes on after the block
        return exits

    def _try(self, node: ast.Try) -> frozenset[str]:
        guarded = bool(node.handlers)
        self.guarded += guarded
        body = self.block(node.body)
        self.guarded -= guarded
        if guarded:
            body = _plain(body)  # what the last call raises, a handler may take
        exits = set(body)
        if node.orelse and (_FALL in body or not body <= _PLAIN):
            exits = set(body & {_OUT, _BREAK, _CONTINUE}) | self.block(node.orelse)
        for handler in node.handlers:
            self.handling.append(handler.name)
            exits |= self.block(handler.body)
            self.handling.pop()
        if not node.finalbody:
            return frozenset(exits)
        final = _plain(self.block(node.finalbody))
        if _FALL not in final:
            return final  # a `finally` that raises or returns decides every path
        return frozenset(exits | (final - _FALLS))

    def _match(self, node: ast.Match) -> frozenset[str]:
        exits: set[str] = set()
        for case in node.cases:
            exits |= self.block(case.body)
        last = node.cases[-1] if node.cases else None
        if not (
            last is not None
            and last.guard is None
            and isinstance(last.pattern, ast.MatchAs)
            and last.pattern.pattern is None
        ):
            exits.add(_FALL)
        return frozenset(exits)

    # Tests about a cancellation ------------------------------------------------------

    def _note_tests(self, test: ast.expr) -> None:
        """Parameters that `isinstance(p, ...)` tests, within `not`, `and` and `or`."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self._note_tests(test.operand)
        elif isinstance(test, ast.BoolOp):
            for operand in test.values:
                self._note_tests(operand)
        elif (
            isinstance(test, ast.Call)
            and len(test.args) == 2
            and isinstance(test.args[0], ast.Name)
        ):
            tested = test.args[0].id
            if tested in self.parameters and self.absolute(test.func) == "builtins.isinstance":
                self.tested.add(tested)

    def _decided(self, test: ast.expr) -> bool | None:
        """The value of a test (or, for a class, whether a cancellation is an instance of
        it) when the assumed parameter holds a cancellation; None when unknown."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._decided(test.operand)
            return None if inner is None else not inner
        if isinstance(test, ast.BoolOp):
            stop = isinstance(test.op, ast.Or)  # `or` stops at True, `and` at False
            verdicts = [self._decided(operand) for operand in test.values]
            if stop in verdicts:
                return stop
            return None if None in verdicts else not stop
        if (
            isinstance(test, ast.Call)
            and len(test.args) == 2
            and _is_name(test.args[0], self.assumed)
            and self.absolute(test.func) == "builtins.isinstance"
        ):
            classes = test.args[1]
            elements = classes.elts if isinstance(classes, ast.Tuple) else [classes]
            verdicts = [self._is_cancellation_class(element) for element in elements]
            if True in verdicts:
                return True
            return False if verdicts and all(v is False for v in verdicts) else None
        return None

    def _is_cancellation_class(self, expr: ast.expr) -> bool | None:
        if isinstance(expr, ast.Call):
            made = self.absolute(expr.func)
            return True if made in self.names.cancellation_classes else None
        name = self.absolute(expr)
        if name is None:
            return None
        if name in self.names.cancellation:
            return True
        if name in self.names.not_cancellation:
            return False
        # A class of a library or of the project: a cancellation is none unless the
        # catalog says so. Another builtin name is no class to judge.
        return None if name.startswith("builtins.") else False


def _plain(exits: frozenset[str]) -> frozenset[str]:
    """The exits with each call a path ends in taken to return (the path falls on)."""
    if exits <= _PLAIN:
        return exits
    return (exits & _PLAIN) | _FALLS


def _is_name(expr: ast.expr | None, name: str | None) -> bool:
    return name is not None and isinstance(expr, ast.Name) and expr.id == name
