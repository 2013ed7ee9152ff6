"""CCL202: tasks that `asyncio.wait(...)` returned as pending, or that a loop over
`asyncio.as_completed(...)` left early did not wait for, dropped while they run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.coroutines import CoroutineFunctions
from conclint.analysis.exits import (
    BREAK,
    RAISE_OTHER,
    RETURN,
    always_raises,
    completions,
    never_returns,
)
from conclint.analysis.scopes import dotted_name, scope_body
from conclint.analysis.uses import (
    ARG,
    ATTR,
    BIND,
    COMPARE,
    METHOD,
    TEST,
    ScopeUses,
    Use,
    keyword,
    local_bindings,
    uses_in,
)
from conclint.catalog import top_modules
from conclint.catalog.schema import Argument
from conclint.rules.base import Rule

# Uses that only look at the pending set: its size, its truth, membership.
_LOOKS_ONLY = frozenset({BIND, TEST, COMPARE})
_LOOKING_CALLS = catalog.SIZE_CALLS | catalog.TRUTH_CALLS
_MAX_DEPTH = 2
# `return_when` values also spelled as strings (`return_when="FIRST_COMPLETED"`).
_EARLY_MODES = frozenset(catalog.WAIT_RETURN_EARLY.values())
# How a loop over `as_completed(...)` is left early, as the message names it; a `raise`
# counts when written in the loop, not an exception of an awaited task.
_EARLY_EXITS = ((RETURN, "return"), (BREAK, "break"), (RAISE_OTHER, "raise"))
_AS_DONE_NAMES = frozenset(catalog.words(catalog.AS_DONE_ITERATORS))
# The keywords that ask a wait to return early: the cheap test before resolving the callee.
_EARLY_KEYWORDS = frozenset(
    argument.keyword
    for arguments in catalog.PENDING_WAITS.values()
    for argument in arguments
    if argument is not None
)


class PendingNotCancelled(Rule):
    """`asyncio.wait` that can return early, or a loop over `asyncio.as_completed` left
    early, leaves tasks running that someone must cancel."""

    code = "CCL202"
    name = "pending-not-cancelled"
    summary = (
        "Tasks left pending by `asyncio.wait(...)` or an `as_completed(...)` loop are never "
        "cancelled or awaited"
    )
    message = (
        "`{call}(...)` {when} leaves tasks running that nothing cancels or awaits; cancel them"
    )
    # An early return is asked for by name (`FIRST_COMPLETED`) or with a timeout; a loop
    # over `as_completed` spells it.
    needles = (
        *catalog.words(catalog.WAIT_RETURN_EARLY),
        *sorted({timeout.keyword for timeout, _ in catalog.PENDING_WAITS.values() if timeout}),
        *sorted(_AS_DONE_NAMES),
    )
    imports = top_modules(catalog.PENDING_WAITS) | top_modules(catalog.AS_DONE_ITERATORS)
    tags = ("asyncio", "cancellation")

    def visit_For(self, node: cst.For) -> None:
        """`for fut in asyncio.as_completed(tasks):` with a `return`, `break` or `raise`."""
        call = node.iter
        if not isinstance(call, cst.Call) or not call.args:
            return
        func = call.func
        spelled = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
        if spelled not in _AS_DONE_NAMES:
            return  # the common case, decided without resolving anything
        callee = self.context.qualname(func)
        function = self.context.function
        if callee not in catalog.AS_DONE_ITERATORS or function is None:
            return
        exits = completions(node.body.body, reraises=lambda raised: False)
        way = next((word for exit_, word in _EARLY_EXITS if exit_ in exits), None)
        if way is None:
            return
        uses = uses_in(self.context, function)
        if self._tasks_dropped(call.args[0].value, call, uses, made_here=True):
            self.report(call, call=callee, when=f"left early by `{way}`")

    def visit_Expr(self, node: cst.Expr) -> None:
        call = _awaited_call(node.value)
        if call is not None:
            self._check(call, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        call = _awaited_call(node.value)
        if call is None or not isinstance(target, cst.Tuple) or len(target.elements) != 2:
            return
        pending = target.elements[1].value
        if isinstance(pending, cst.Name):
            self._check(call, None if pending.value == "_" else pending.value, node)

    def _check(self, call: cst.Call, pending: str | None, wait: cst.Assign | None = None) -> None:
        """`pending` is the local bound to the pending set; None when it is thrown away."""
        function = self.context.function
        if function is None:
            return
        # The keywords are the cheap test: most awaited calls have none of them.
        if not any(arg.keyword and arg.keyword.value in _EARLY_KEYWORDS for arg in call.args):
            return
        callee = self.context.qualname(call.func)
        arguments = catalog.PENDING_WAITS.get(callee or "")
        mode = self._early_return(call, *arguments) if arguments is not None else None
        if mode is None:
            return
        uses = uses_in(self.context, function)
        if pending is not None:
            if local_bindings(self.context, pending) is None:
                return  # a global or closure variable outlives the call
            if not all(self._only_looks(use_of) for use_of in uses.of(pending)):
                return
            if wait is not None and self._fails_unless_empty(wait, pending, function):
                return  # `assert not pending`: on the path that goes on, nothing is pending
        if call.args and not self._tasks_dropped(call.args[0].value, call, uses):
            return
        self.report(call, call=callee, when=f"with `{mode}`")

    def _early_return(
        self, call: cst.Call, timeout: Argument | None, when: Argument | None
    ) -> str | None:
        """`FIRST_COMPLETED`, `FIRST_EXCEPTION` or `timeout=`, given where the callee takes
        them; None when it waits for all."""
        value = _given(call, when)
        if value is not None:
            if isinstance(value, cst.SimpleString):
                literal = value.evaluated_value
                if literal in _EARLY_MODES:
                    return str(literal)
            mode = catalog.WAIT_RETURN_EARLY.get(self.context.qualname(value) or "")
            if mode is not None:
                return mode
        value = _given(call, timeout)
        unset = isinstance(value, cst.Name) and value.value == "None"
        if timeout is not None and value is not None and not unset:
            return f"{timeout.keyword}="
        return None

    def _fails_unless_empty(
        self, wait: cst.Assign, pending: str, function: cst.FunctionDef | cst.Lambda
    ) -> bool:
        """The statement right after the wait fails when `pending` holds a task:
        `assert not pending`, or `if pending:` whose block always raises."""
        after = _statement_after(scope_body(function), wait)
        if isinstance(after, cst.SimpleStatementLine):
            after = after.body[0]
        if isinstance(after, cst.Assert):
            return self._tests_empty(after.test, pending) is True
        if isinstance(after, cst.If) and self._tests_empty(after.test, pending) is False:
            return always_raises(after.body.body, lambda value: never_returns(value, self.context))
        return False

    def _tests_empty(self, test: cst.BaseExpression, pending: str) -> bool | None:
        """True when `test` holds exactly if the set `pending` is empty (`not pending`,
        `len(pending) == 0`), False when exactly if it is not (`pending`, `len(pending)`),
        None for anything else."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._tests_empty(test.expression, pending)
            return None if inner is None else not inner
        if self._is_pending(test, pending) or self._size_of(test, pending):
            return False
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        compared = test.comparisons[0]
        operands = (test.left, compared.comparator)
        sized = [operand for operand in operands if self._size_of(operand, pending)]
        zero = [o for o in operands if isinstance(o, cst.Integer) and o.evaluated_value == 0]
        if len(sized) != 1 or len(zero) != 1:
            return None
        operator = compared.operator
        if isinstance(operator, cst.Equal):
            return True
        if isinstance(operator, cst.NotEqual) or (
            isinstance(operator, cst.GreaterThan) and test.left is sized[0]
        ):
            return False
        return None

    def _is_pending(self, expr: cst.BaseExpression, pending: str) -> bool:
        return isinstance(expr, cst.Name) and expr.value == pending

    def _size_of(self, expr: cst.BaseExpression, pending: str) -> bool:
        """`len(pending)` or `bool(pending)`."""
        return (
            isinstance(expr, cst.Call)
            and len(expr.args) == 1
            and expr.args[0].keyword is None
            and not expr.args[0].star
            and self._is_pending(expr.args[0].value, pending)
            and self.context.qualname(expr.func) in _LOOKING_CALLS
        )

    def _only_looks(self, use: Use) -> bool:
        """The use reads the set's size or truth, nothing that would stop or reap the tasks."""
        if use.nested:
            return False
        if use.how in _LOOKS_ONLY:
            return True
        call = use.call
        return (
            use.how == ARG
            and call is not None
            and self.context.qualname(call.func) in _LOOKING_CALLS
        )

    def _tasks_dropped(
        self,
        tasks: cst.BaseExpression,
        wait: cst.Call,
        uses: ScopeUses,
        depth: int = 0,
        *,
        made_here: bool = False,
    ) -> bool:
        """Some task given to `wait` is reachable only through its result. `made_here`: the
        call makes tasks of the coroutines it is given, so those count too."""
        if isinstance(tasks, cst.List | cst.Set | cst.Tuple):
            return any(
                self._tasks_dropped(element.value, wait, uses, depth, made_here=made_here)
                for element in tasks.elements
            )
        if isinstance(tasks, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            return isinstance(tasks.elt, cst.Call) and self._new_task(tasks.elt, made_here)
        if isinstance(tasks, cst.Call):
            return self._new_task(tasks, made_here)
        if isinstance(tasks, cst.Name) and depth <= _MAX_DEPTH:
            return self._local_dropped(tasks.value, wait, uses, depth, made_here)
        return False  # an attribute or anything else may outlive the call

    def _new_task(self, call: cst.Call, made_here: bool) -> bool:
        """A task started by the call, or a coroutine the waiting call makes a task of."""
        if self.context.is_task_spawn(call):
            return True
        return made_here and CoroutineFunctions(self.context).callee(call) is not None

    def _local_dropped(
        self, name: str, wait: cst.Call, uses: ScopeUses, depth: int, made_here: bool
    ) -> bool:
        """A local task (or collection of tasks) that nothing but this `wait` sees again."""
        bindings = local_bindings(self.context, name)
        if not bindings or any(b.how != "assign" or b.value is None for b in bindings):
            return False  # a parameter, global or loop variable: owned elsewhere
        content = [binding.value for binding in bindings if binding.value is not None]
        for use in uses.of(name):
            if use.how == ARG and use.call is wait and not use.nested:
                continue
            if use.how in (METHOD, ATTR) and not use.nested:
                if use.attr in catalog.CANCEL_METHODS:
                    return False
                if use.attr in catalog.COLLECTION_FILLS and use.call is not None and use.call.args:
                    content.append(use.call.args[-1].value)
                continue  # also `task.add_done_callback(...)`, `task.result()`
            if not self._only_looks(use):
                return False
        return any(
            self._tasks_dropped(value, wait, uses, depth + 1, made_here=made_here)
            for value in content
        )


def _given(call: cst.Call, argument: Argument | None) -> cst.BaseExpression | None:
    """What `call` passes where the callee takes `argument`: by keyword, or by position."""
    if argument is None:
        return None
    found = keyword(call, argument.keyword)
    if found is not None:
        return found.value
    positional = [arg for arg in call.args if arg.keyword is None]
    if argument.position is None or any(arg.star for arg in positional[: argument.position + 1]):
        return None
    return positional[argument.position].value if argument.position < len(positional) else None


Block = Sequence[cst.BaseStatement | cst.BaseSmallStatement]


def _statement_after(body: Block, small: cst.BaseSmallStatement) -> cst.CSTNode | None:
    """The statement that runs right after `small` in its own block, wherever in `body`
    (nested blocks included, nested scopes not) it is; None at the end of its block."""
    found = _find(body, small)
    return found[0] if found else None


def _find(body: Block, small: cst.BaseSmallStatement) -> list[cst.CSTNode | None]:
    """[what follows `small` in its block, or None]; [] when `body` does not hold it."""
    for index, statement in enumerate(body):
        line = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
        position = next((i for i, one in enumerate(line) if one is small), None)
        if position is not None:
            rest = [*line[position + 1 :], *body[index + 1 : index + 2]]
            return [rest[0] if rest else None]
        for block in _blocks(statement):
            found = _find(block, small)
            if found:
                return found
    return []


def _blocks(statement: cst.CSTNode) -> Iterator[Block]:
    """The blocks of a compound statement, in source order; none for a nested scope."""
    if isinstance(statement, cst.If):
        yield statement.body.body
        if isinstance(statement.orelse, cst.If):
            yield [statement.orelse]
        elif statement.orelse is not None:
            yield statement.orelse.body.body
    elif isinstance(statement, cst.For | cst.While):
        yield statement.body.body
        if statement.orelse is not None:
            yield statement.orelse.body.body
    elif isinstance(statement, cst.With):
        yield statement.body.body
    elif isinstance(statement, cst.Try | cst.TryStar):
        yield statement.body.body
        for handler in statement.handlers:
            yield handler.body.body
        for tail in (statement.orelse, statement.finalbody):
            if tail is not None:
                yield tail.body.body
    elif isinstance(statement, cst.Match):
        for case in statement.cases:
            yield case.body.body


def _awaited_call(value: cst.BaseExpression) -> cst.Call | None:
    if isinstance(value, cst.Await) and isinstance(value.expression, cst.Call):
        return value.expression
    return None
