"""Which async generators that only the project calls every use closes (for CCL207).

An async generator that yields inside `async with` keeps that block open while its
consumer runs; if the consumer stops early, the block's exit waits for the generator's
finaliser. Not when every consumer closes the generator itself: it iterates the call in
`async with aclosing(self._flow(request))`, or binds it to a local and awaits
`flow.aclose()` in a `finally` (a base class driving the flow its subclasses write), or
runs it to its end (`async for _ in self._flow(): pass`, which cannot stop early).

The index pass (`declared.py`) records, per module, each use of a name that is a private
async generator the module defines or the callee of a call the module closes so: `closed`
for a call so closed, `named` for any other mention (a def's own name is none; a local of
the same name is one). A use through the receiver of a method (`self._flow`) is marked
with the method's class (`named@Runner`): it calls that class's method, or its family's.
`ProjectTypes` adds up the uses of the modules where the generator may be called from: its
own, and for a method those of the classes above and below its class, leaving out the
uses marked with a class outside that family (a sync twin's method of the same name). A
private name is taken to stay in the modules of its class's family, as `task_tops.py`
takes it to stay in its module.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterator

from conclint.analysis.own_nodes import TRY_STATEMENTS, own_nodes
from conclint.analysis.signature import Signature
from conclint.analysis.task_tops import AT, SELF

CLOSED = "closed"
NAMED = "named"
# Between `closed` and the absolute name of a callee of the project's own that the call
# was handed to in `async with`: it closes the call if the project's name stands for one
# of the closers (`from app.compat import Closing`), which only the whole index knows.
CLOSED_BY = "~"
# A use as an argument of a call of the project's: `handed~callee#position`, where the
# callee's summary says whether it closes every call of what it is given there.
HANDED = "handed"
# Between a use and the class whose method's receiver it goes through.
THROUGH = "@"


Absolute = Callable[[ast.expr], "str | None"]


def generator_uses(
    tree: ast.Module,
    source: str,
    generators: Collection[str],
    closers: Collection[str],
    absolute: Absolute,
    package: str,
) -> dict[str, tuple[str, ...]]:
    """Name -> its uses in the module (`tree`, of `source`), for the private async
    generators it defines (`generators`) and the private callees of calls it closes;
    `closers` are the absolute names of `contextlib.aclosing` and its kin, which
    `absolute` resolves a name to; a name of the top-level `package` may stand for one."""
    # One walk of the module: its functions, and the names that may be uses.
    nodes = list(ast.walk(tree))
    functions = [node for node in nodes if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    closes = "async with" in source or "async for" in source
    closed = _closed_calls(functions, closers, absolute, package) if closes else []
    classes = _receivers(nodes)
    # Private names given to a call of the project (`self._drive(task, self._steps)`).
    handed = _handed(nodes, absolute, classes) if closes else {}
    names = {
        *generators,
        *(_name_of(call.func) for call, _ in closed),
        *(name for name, _ in handed.values()),
    } - {""}
    if not names:
        return {}
    closing = {id(call.func): use for call, use in closed}
    found: dict[str, list[str]] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in names:
            name = node.id
        elif isinstance(node, ast.Attribute) and node.attr in names:
            name = node.attr
        else:
            continue
        use = closing.get(id(node)) or handed.get(id(node), ("", NAMED))[1]
        through = classes.get(id(node.value)) if isinstance(node, ast.Attribute) else None
        found.setdefault(name, []).append(f"{use}{THROUGH}{through}" if through else use)
    return {name: tuple(uses) for name, uses in found.items()}


def _handed(
    nodes: list[ast.AST], absolute: Absolute, classes: dict[int, str]
) -> dict[int, tuple[str, str]]:
    """The private names given as a positional argument of a call of the project's
    (`self._drive(task, self._steps)`, `drive(_steps)`), by id of the mention, each with
    the name and its use: `handed~self._drive#1` (a method of the same instance) or
    `handed~app.flows.drive#0`."""
    found: dict[int, tuple[str, str]] = {}
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and id(func.value) in classes:
            callee: str | None = f"{SELF}.{func.attr}"
        else:
            callee = absolute(func)
        if callee is None:
            continue
        for position, arg in enumerate(node.args):
            name = arg.attr if isinstance(arg, ast.Attribute) else getattr(arg, "id", "")
            if name.startswith("_") and not name.startswith("__"):
                found[id(arg)] = (name, f"{HANDED}{CLOSED_BY}{callee}{AT}{position}")
    return found


def closed_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    params: Signature,
    closers: Collection[str],
    absolute: Absolute,
    package: str,
) -> tuple[str, ...]:
    """Where callers pass the parameters every call of which `function` closes, in its
    body or a function defined in it: `aclosing(make(ctx))` in `async with`, and no other
    mention of the name; the position, or `position~name` when the closer is the project's
    `name` (which may stand for `aclosing`)."""
    mentions: dict[str, int] = {}
    closed: dict[str, list[str]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in params.positional:
            mentions[node.id] = mentions.get(node.id, 0) + 1
        elif isinstance(node, ast.AsyncWith):
            for item in node.items:
                handed, use = _handed_to_closer(item.context_expr, closers, absolute, package)
                if isinstance(handed, ast.Call) and isinstance(handed.func, ast.Name):
                    closed.setdefault(handed.func.id, []).append(use)
    found = []
    for name, uses in closed.items():
        # Each mention is the callee of such a call, and all are closed alike.
        if len(uses) == mentions.get(name) and len(set(uses)) == 1:
            found.append(f"{params.positional.index(name)}{uses[0].removeprefix(CLOSED)}")
    return tuple(found)


def _receivers(nodes: list[ast.AST]) -> dict[int, str]:
    """The mentions of a method's receiver (`self`), each with the name of its class."""
    found: dict[int, str] = {}
    for node in nodes:
        if not isinstance(node, ast.ClassDef):
            continue
        for method in node.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            positional = [*method.args.posonlyargs, *method.args.args]
            if not positional or method.decorator_list:
                continue  # a static or class method, or one a decorator may rebind
            receiver = positional[0].arg
            for inner in ast.walk(method):
                if isinstance(inner, ast.Name) and inner.id == receiver:
                    found[id(inner)] = node.name
    return found


def _name_of(func: ast.expr) -> str:
    """The name a call calls (`_flow` of `self._flow(...)`), or "" for a special method."""
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return "" if name.startswith("__") else name


def _closed_calls(
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef],
    closers: Collection[str],
    absolute: Absolute,
    package: str,
) -> list[tuple[ast.Call, str]]:
    """The calls whose generator the function making them surely closes, each with its
    use: `closed`, or `closed~name` where it is handed to the project's `name`."""
    found: list[tuple[ast.Call, str]] = []
    for function in functions:
        bound: dict[str, list[ast.Call | None]] = {}
        closed_names: set[str] = set()
        for node in own_nodes(function.body):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    value = node.value if isinstance(node.value, ast.Call) else None
                    bound.setdefault(target.id, []).append(value)
            elif isinstance(node, ast.AsyncWith):
                for item in node.items:
                    handed, use = _handed_to_closer(item.context_expr, closers, absolute, package)
                    if isinstance(handed, ast.Call):
                        found.append((handed, use))
                    elif isinstance(handed, ast.Name) and use == CLOSED:
                        closed_names.add(handed.id)
            elif isinstance(node, TRY_STATEMENTS):
                closed_names.update(_acloses(node.finalbody))
            elif isinstance(node, ast.AsyncFor) and _does_nothing(node.body):
                # `async for _ in self._flow(): pass` runs it to its end: it cannot stop early.
                if isinstance(node.iter, ast.Call):
                    found.append((node.iter, CLOSED))
                elif isinstance(node.iter, ast.Name):
                    closed_names.add(node.iter.id)
        for name in closed_names:
            calls = bound.get(name, [])
            if len(calls) == 1 and (call := calls[0]) is not None:  # bound once, to the call
                found.append((call, CLOSED))
    return found


def _handed_to_closer(
    expr: ast.expr, closers: Collection[str], absolute: Absolute, package: str
) -> tuple[ast.expr | None, str]:
    """`x` of `aclosing(x)`, with its use: `closed`, or `closed~name` for `Closing(x)`
    where `Closing` is the project's `name`, which may stand for `aclosing`."""
    if not isinstance(expr, ast.Call) or len(expr.args) != 1 or expr.keywords:
        return None, NAMED
    name = absolute(expr.func)
    if name in closers:
        return expr.args[0], CLOSED
    if name is not None and name.partition(".")[0] == package:
        return expr.args[0], f"{CLOSED}{CLOSED_BY}{name}"
    return None, NAMED


def _does_nothing(statements: list[ast.stmt]) -> bool:
    """`pass` or `...` alone."""
    return all(
        isinstance(statement, ast.Pass)
        or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
        for statement in statements
    )


def _acloses(statements: list[ast.stmt]) -> Iterator[str]:
    """The locals a `finally` block closes as one of its statements (`await x.aclose()`),
    also inside a `with` block there (a span made current while closing)."""
    for statement in statements:
        if isinstance(statement, ast.With | ast.AsyncWith):
            yield from _acloses(statement.body)
        value = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(value, ast.Await) and isinstance(value.value, ast.Call):
            func = value.value.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "aclose"
                and isinstance(func.value, ast.Name)
            ):
                yield func.value.id


def closes_what_it_is_given(node: ast.ClassDef) -> bool:
    """A class made as a project's own `aclosing`: its `__init__` keeps its first argument
    (or that argument's iterator: `aiter(x)`, `x.__aiter__()`) on `self`, and its
    `__aexit__` closes what it kept (`await self._it.aclose()`, also got first by
    `getattr(self._it, "aclose", None)` or assigned to a local and awaited later)."""
    methods = {
        statement.name: statement
        for statement in node.body
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    init, leave = methods.get("__init__"), methods.get("__aexit__")
    if not isinstance(init, ast.FunctionDef) or not isinstance(leave, ast.AsyncFunctionDef):
        return False
    positional = [*init.args.posonlyargs, *init.args.args]
    if len(positional) < 2:
        return False
    receiver, given = positional[0].arg, positional[1].arg
    kept = {
        target.attr
        for statement in init.body
        if isinstance(statement, ast.Assign | ast.AnnAssign)
        and statement.value is not None
        and _iterator_of(statement.value) == given
        for target in (
            statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        )
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == receiver
    }
    exit_receiver = [*leave.args.posonlyargs, *leave.args.args][:1]
    if not kept or not exit_receiver:
        return False
    return any(
        _asks_aclose(inner, exit_receiver[0].arg, kept) for inner in ast.walk(leave)
    ) and any(isinstance(inner, ast.Await) for inner in ast.walk(leave))


def _iterator_of(value: ast.expr) -> str | None:
    """`x` of `x`, `aiter(x)` or `x.__aiter__()`."""
    if isinstance(value, ast.Call) and not value.keywords:
        func = value.func
        if isinstance(func, ast.Name) and func.id == "aiter" and len(value.args) == 1:
            value = value.args[0]
        elif isinstance(func, ast.Attribute) and func.attr == "__aiter__" and not value.args:
            value = func.value
    return value.id if isinstance(value, ast.Name) else None


def _asks_aclose(node: ast.AST, receiver: str, kept: set[str]) -> bool:
    """`self._it.aclose` or `getattr(self._it, "aclose", ...)`, of a kept attribute."""
    if isinstance(node, ast.Attribute) and node.attr == "aclose":
        holder = node.value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value == "aclose"
    ):
        holder = node.args[0]
    else:
        return False
    return (
        isinstance(holder, ast.Attribute)
        and holder.attr in kept
        and isinstance(holder.value, ast.Name)
        and holder.value.id == receiver
    )
