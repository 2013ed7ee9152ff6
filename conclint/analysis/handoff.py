"""Calls that hand a callable over to run elsewhere, and functions that return callables.

`find_handoff(call, context)` recognises `Thread(target=f, args=(x,))`,
`executor.submit(f, x)`, `loop.run_in_executor(None, f, x)`,
`asyncio.to_thread(f, x)` and their kin (`catalog.HANDOFF_*`): which
expression is handed over and which arguments it will be called with.

`work_of(call, context)` names what a spawn runs.

`released_by(call, context, keys)` says which of the locks a function holds a call
gives back through the project's summaries (`acquires.py`): it runs a function that
releases it on every path, or hands it one, to a task or a thread.

`CallableResults(context).may_return_callable(function, chain)` says whether
a `def` of the module might return something callable (a nested def, a
lambda, `functools.partial(...)`, a bound method, a parameter, ...). Only a
function that plainly returns data (or nothing, or a coroutine or generator)
answers False, so a rule that needs "returns no callable" never guesses.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import libcst as cst

from conclint.analysis import acquires, catalog
from conclint.analysis.context import FileContext
from conclint.analysis.coroutines import CoroutineFunctions
from conclint.analysis.derived import derived_kind
from conclint.analysis.scopes import Binding, ScopeNode, dotted_name, iter_statements, scope_body

_MAX_DEPTH = 3
# Plain values and operators that never evaluate to a callable.
_DATA = (
    cst.BaseNumber,
    cst.BaseString,
    cst.List,
    cst.Tuple,
    cst.Set,
    cst.Dict,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.Comparison,
    cst.BinaryOperation,
    cst.UnaryOperation,
    cst.Await,
)
_CONSTANTS = frozenset({"None", "True", "False"})
_FUNCTION_TAILS = frozenset(name.rpartition(".")[2] for name in catalog.HANDOFF_FUNCTIONS)
_METHODS = frozenset(name for methods in catalog.HANDOFF_METHODS.values() for name in methods)
_START_NAMES = frozenset().union(*catalog.START_METHODS.values())


@dataclass(frozen=True, slots=True)
class Handoff:
    """One call that hands `function` over, to be called later with `arguments`."""

    function: cst.BaseExpression
    arguments: tuple[cst.BaseExpression, ...]


def find_handoff(call: cst.Call, context: FileContext) -> Handoff | None:
    """The callable `call` hands to a thread, process or loop, or None."""
    func = call.func
    spec = None
    # An attribute's last name filters first (resolving kinds costs more); a bare name may
    # be an alias (`from threading import Thread as T`), so it is always resolved.
    attribute = func.attr.value if isinstance(func, cst.Attribute) else None
    if attribute is None or attribute in _FUNCTION_TAILS:
        spec = catalog.HANDOFF_FUNCTIONS.get(context.qualname(func) or "")
    if spec is None and isinstance(func, cst.Attribute) and attribute in _METHODS:
        # `future = pool.submit(...)` then `future.add_done_callback(f)`: what a method gives.
        kind = derived_kind(func.value, context.bindings, context.chain)
        methods = catalog.HANDOFF_METHODS.get(kind or "")
        spec = methods.get(func.attr.value) if methods else None
    if spec is None:
        return None
    position, keyword, passed = spec
    function = _argument(call.args, position, keyword)
    if function is None:
        return None
    values: list[cst.BaseExpression] = []
    if passed == catalog.HANDOFF_REST:
        for arg in call.args[position + 1 :]:
            if arg.star:
                break  # `*args` hides which argument lands where
            if arg.keyword is None:
                values.append(arg.value)
    elif passed is not None:
        packed = _argument(call.args, passed, "args")
        for element in packed.elements if isinstance(packed, cst.Tuple | cst.List) else ():
            if not isinstance(element, cst.Element):
                break
            values.append(element.value)
    return Handoff(function, tuple(values))


def work_of(call: cst.Call, context: FileContext) -> cst.BaseExpression | None:
    """What a spawn runs: `work` of `create_task(work(x))`, `submit(work, x)`, and of
    `Thread(target=work).start()` (also through the name the thread is bound to)."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _START_NAMES:
        started = func.value
        if isinstance(started, cst.Name):
            found = context.names.lookup(started.value, context.chain)
            values = [binding.value for binding in found[1]] if found else []
            started = values[0] if len(values) == 1 and values[0] is not None else started
        call = started if isinstance(started, cst.Call) else call
    handoff = find_handoff(call, context)
    work = handoff.function if handoff is not None else None
    if work is None and call.args and call.args[0].keyword is None:
        work = call.args[0].value
    return work.func if isinstance(work, cst.Call) else work


def released_by(call: cst.Call, context: FileContext, keys: Collection[str]) -> str | None:
    """The one of `keys` (locks held here, by dotted name) that `call` gives back: it
    calls a project function that releases it on every path (`self._release_slot()`,
    `give_back(sem)`; `create_task(self._work(item))` hands the coroutine on), or hands a
    thread, a loop or a future one (`Thread(target=work, args=(sem,))`,
    `future.add_done_callback(lambda _: sem.release())`)."""
    handoff = find_handoff(call, context)
    func: cst.BaseExpression = call.func
    args: Sequence[cst.Arg] = call.args
    if handoff is not None:
        handed = [cst.Arg(value) for value in handoff.arguments]
        called = _called_by(handoff.function, handed, context)
        if called is not None:
            func, args = called
            # `add_done_callback(lambda _: sem.release())`: the handed callable gives it back.
            if isinstance(func, cst.Attribute) and func.attr.value in catalog.RELEASE_METHODS:
                released = dotted_name(func.value)
                return released if released in keys else None
    closure = _closure_releases(func, context)
    if closure:
        return next((key for key in keys if key in closure), None)
    target = acquires.target_of(context, func)
    if target is None or target.facts is None or not target.facts.releases:
        return None
    for ref in target.facts.releases:
        how, _, what = ref.partition(":")
        key: str | None = None
        if how == acquires.ATTRIBUTE and target.receiver is not None:
            receiver = dotted_name(target.receiver)
            key = f"{receiver}.{what.rpartition(':')[2]}" if receiver else None
        elif how == acquires.PARAMETER and target.maps:
            position, _, name = what.partition(":")
            given = acquires.argument(args, position, name)
            key = dotted_name(given) if given is not None else None
        elif how == acquires.GLOBAL:
            key = next((each for each in keys if _global_named(context, each) == what), None)
        if key in keys:
            return key
    return None


def _closure_releases(func: cst.BaseExpression, context: FileContext) -> set[str]:
    """What a function defined in the one being visited gives back on every path, of the
    names it shares with it (`async def _run(batch): try: ... finally: sem.release()`):
    a release as its first statement, or in the `finally` of the `try` that ends it."""
    if not isinstance(func, cst.Name):
        return set()
    found = context.names.lookup(func.value, context.chain)
    if found is None or found[0] == 0 or len(found[1]) != 1:
        return set()
    node = found[1][0].node
    if not isinstance(node, cst.FunctionDef) or node.decorators:
        return set()
    body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
    released: list[cst.CSTNode] = list(body[:1])
    last = body[-1] if body else None
    if isinstance(last, cst.Try) and last.finalbody is not None:
        released += last.finalbody.body.body
    own = context.names.table(node).bindings
    names = set()
    for statement in released:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            call = small.value if isinstance(small, cst.Expr) else None
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in catalog.RELEASE_METHODS
                and (name := dotted_name(call.func.value))
                and name.partition(".")[0] not in own
            ):
                names.add(name)
    return names


def _called_by(
    func: cst.BaseExpression, args: Sequence[cst.Arg], context: FileContext
) -> tuple[cst.BaseExpression, Sequence[cst.Arg]] | None:
    """The function a handed-over callable calls, and with what arguments: `work` itself,
    that of `lambda: work(lock)` (unless an argument is the lambda's own parameter) and of
    `functools.partial(work, lock)`. None for a call (`submit(work())`: its value)."""
    if isinstance(func, cst.Lambda):
        if not isinstance(func.body, cst.Call):
            return None
        own = {param.name.value for param in (*func.params.params, *func.params.kwonly_params)}
        if any((dotted_name(arg.value) or "").partition(".")[0] in own for arg in func.body.args):
            return None
        return func.body.func, func.body.args
    if not isinstance(func, cst.Call):
        return func, args
    if (
        func.args
        and func.args[0].keyword is None
        and not func.args[0].star
        and context.qualname(func.func) in catalog.PARTIAL_CALLS
    ):
        return func.args[0].value, [*func.args[1:], *args]
    return None


def _global_named(context: FileContext, key: str) -> str | None:
    """The absolute name of the module global a key spells (`LOCK`, `locks.LOCK`)."""
    found = context.names.lookup(key.partition(".")[0], context.chain)
    if found is None or found[0] != 0:
        return None
    if "." not in key and all(binding.how == "assign" for binding in found[1]):
        return f"{context.module_name}.{key}" if context.module_name else None
    expr: cst.BaseExpression = cst.Name(key.partition(".")[0])
    for part in key.split(".")[1:]:
        expr = cst.Attribute(expr, cst.Name(part))
    return context.qualname(expr)


def _argument(
    args: Sequence[cst.Arg], position: int, keyword: str | None
) -> cst.BaseExpression | None:
    for arg in args:
        if keyword is not None and arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in args if arg.keyword is None]
    if any(arg.star for arg in positional[: position + 1]):
        return None  # `*args` hides which argument lands where
    return positional[position].value if position < len(positional) else None


class CallableResults:
    """Answers "can this function of the module return a callable?", cached per function."""

    def __init__(self, context: FileContext, coroutines: CoroutineFunctions) -> None:
        self.context = context
        self.coroutines = coroutines
        self._known: dict[int, bool] = {}

    def may_return_callable(
        self, function: cst.FunctionDef, chain: Sequence[ScopeNode], _depth: int = 0
    ) -> bool:
        """`chain` ends with the scope that holds `function` (not with `function` itself)."""
        known = self._known.get(id(function))
        if known is not None:
            return known
        if _depth > _MAX_DEPTH:
            return True
        self._known[id(function)] = True  # recursion guard: assume the worst meanwhile
        inner = (*chain, function)
        if function.asynchronous is not None or self.coroutines.is_generator(function):
            # A coroutine or generator object, whatever the body returns.
            answer = not self._plain_decorators(function, chain)
        else:
            answer = not self._plain_decorators(function, chain) or any(
                self._may_be_callable(statement.value, inner, _depth)
                for statement in iter_statements(scope_body(function))
                if isinstance(statement, cst.Return) and statement.value is not None
            )
        self._known[id(function)] = answer
        return answer

    def _plain_decorators(self, function: cst.FunctionDef, chain: Sequence[ScopeNode]) -> bool:
        for decorator in function.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if self.context.names.resolve(expr, chain) not in catalog.PLAIN_DECORATORS:
                return False
        return True

    def _may_be_callable(
        self, expr: cst.BaseExpression, chain: Sequence[ScopeNode], depth: int
    ) -> bool:
        if isinstance(expr, _DATA):
            return False
        if isinstance(expr, cst.IfExp):
            return self._may_be_callable(expr.body, chain, depth) or self._may_be_callable(
                expr.orelse, chain, depth
            )
        if isinstance(expr, cst.BooleanOperation):
            return self._may_be_callable(expr.left, chain, depth) or self._may_be_callable(
                expr.right, chain, depth
            )
        if isinstance(expr, cst.Name):
            return self._name_may_be_callable(expr.value, chain, depth)
        if isinstance(expr, cst.Attribute):
            # `resp.content` of a local result is data; `self._run` or `module.func` may be code.
            receiver = expr.value
            return not isinstance(receiver, cst.Call) and not self._holds_result(receiver, chain)
        if isinstance(expr, cst.Call):
            return self._call_may_return_callable(expr, chain, depth)
        return True  # lambdas, subscripts and anything unforeseen

    def _name_may_be_callable(self, name: str, chain: Sequence[ScopeNode], depth: int) -> bool:
        if name in _CONSTANTS:
            return False
        found = self.context.names.lookup(name, chain)
        if found is None or depth >= _MAX_DEPTH:
            return True  # builtins are mostly callables; undefined names are unknown
        index, bindings = found
        scope = chain[: index + 1]
        return any(
            binding.how != "assign"
            or binding.value is None
            or binding.index is not None
            or self._may_be_callable(binding.value, scope, depth + 1)
            for binding in bindings
        )

    def _holds_result(self, receiver: cst.BaseExpression, chain: Sequence[ScopeNode]) -> bool:
        """A local name bound only to results of calls (`resp = session.get(url)`)."""
        if not isinstance(receiver, cst.Name):
            return False
        found = self.context.names.lookup(receiver.value, chain)
        if found is None or not isinstance(chain[found[0]], cst.FunctionDef):
            return False
        return all(
            binding.how == "assign" and isinstance(binding.value, cst.Call | cst.Await)
            for binding in found[1]
        )

    def _call_may_return_callable(
        self, call: cst.Call, chain: Sequence[ScopeNode], depth: int
    ) -> bool:
        func = call.func
        # A container lookup may hand back a stored callable (`HANDLERS.get(kind)`).
        if isinstance(func, cst.Attribute) and func.attr.value in catalog.LOOKUP_METHODS:
            return True
        function = own_function(func, self.context, chain)
        if function is not None:
            return self.may_return_callable(*function, depth + 1)
        qualified = self.context.names.resolve(func, chain)
        if qualified is not None:
            return qualified in catalog.CALLABLE_FACTORIES
        # A method of some object gives data; a call of a parameter or unknown name may not.
        return isinstance(func, cst.Name)


def own_function(
    func: cst.BaseExpression, context: FileContext, chain: Sequence[ScopeNode]
) -> tuple[cst.FunctionDef, Sequence[ScopeNode]] | None:
    """The module's `def` that `func` names (`worker`, `self.run`) and the chain holding it."""
    if isinstance(func, cst.Name):
        found = context.names.lookup(func.value, chain)
        if found is None:
            return None
        index, bindings = found
        return _single_def(bindings, chain[: index + 1])
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        owner = context.bindings.class_of_receiver(func.value, chain)
        if owner is None or func.attr.value in context.bindings.assigned_attributes(owner):
            return None
        bindings = context.names.table(owner).bindings.get(func.attr.value, [])
        return _single_def(bindings, context.bindings.chains.get(id(owner), (owner,)))
    return None


def _single_def(
    bindings: Sequence[Binding], chain: Sequence[ScopeNode]
) -> tuple[cst.FunctionDef, Sequence[ScopeNode]] | None:
    if len(bindings) != 1 or bindings[0].how != "def":
        return None
    node = bindings[0].node
    return (node, chain) if isinstance(node, cst.FunctionDef) else None


def bind_arguments(
    function: cst.FunctionDef,
    positional: Sequence[cst.BaseExpression],
    keywords: Sequence[tuple[str, cst.BaseExpression]] = (),
    *,
    bound: bool = False,
) -> list[tuple[str, cst.BaseExpression]]:
    """Which parameter of `function` receives each argument (`bound`: called as a method)."""
    params = [*function.params.posonly_params, *function.params.params]
    if bound:
        params = params[1:]
    names = {param.name.value for param in (*params, *function.params.kwonly_params)}
    pairs = [(param.name.value, value) for param, value in zip(params, positional, strict=False)]
    pairs.extend((keyword, value) for keyword, value in keywords if keyword in names)
    return pairs
