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

CLOSED = "closed"
NAMED = "named"
# Between a use and the class whose method's receiver it goes through.
THROUGH = "@"


Absolute = Callable[[ast.expr], "str | None"]


def generator_uses(
    tree: ast.Module,
    source: str,
    generators: Collection[str],
    closers: Collection[str],
    absolute: Absolute,
) -> dict[str, tuple[str, ...]]:
    """Name -> its uses in the module (`tree`, of `source`), for the private async
    generators it defines (`generators`) and the private callees of calls it closes;
    `closers` are the absolute names of `contextlib.aclosing` and its kin, which
    `absolute` resolves a name to."""
    # One walk of the module: its functions, and the names that may be uses.
    nodes = list(ast.walk(tree))
    functions = [node for node in nodes if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    closes = "aclos" in source or "async for" in source
    closed = _closed_calls(functions, closers, absolute) if closes else []
    names = {*generators, *(_name_of(call.func) for call in closed)} - {""}
    if not names:
        return {}
    closing = {id(call.func) for call in closed}
    classes = _receivers(nodes)
    found: dict[str, list[str]] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in names:
            name = node.id
        elif isinstance(node, ast.Attribute) and node.attr in names:
            name = node.attr
        else:
            continue
        use = CLOSED if id(node) in closing else NAMED
        through = classes.get(id(node.value)) if isinstance(node, ast.Attribute) else None
        found.setdefault(name, []).append(f"{use}{THROUGH}{through}" if through else use)
    return {name: tuple(uses) for name, uses in found.items()}


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
) -> list[ast.Call]:
    """The calls whose generator the function making them surely closes."""
    found: list[ast.Call] = []
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
                    handed = _handed_to_closer(item.context_expr, closers, absolute)
                    if isinstance(handed, ast.Call):
                        found.append(handed)
                    elif isinstance(handed, ast.Name):
                        closed_names.add(handed.id)
            elif isinstance(node, TRY_STATEMENTS):
                closed_names.update(_acloses(node.finalbody))
            elif isinstance(node, ast.AsyncFor) and _does_nothing(node.body):
                # `async for _ in self._flow(): pass` runs it to its end: it cannot stop early.
                if isinstance(node.iter, ast.Call):
                    found.append(node.iter)
                elif isinstance(node.iter, ast.Name):
                    closed_names.add(node.iter.id)
        for name in closed_names:
            calls = bound.get(name, [])
            if len(calls) == 1 and (call := calls[0]) is not None:  # bound once, to the call
                found.append(call)
    return found


def _handed_to_closer(
    expr: ast.expr, closers: Collection[str], absolute: Absolute
) -> ast.expr | None:
    """`x` of `aclosing(x)`."""
    if not isinstance(expr, ast.Call) or len(expr.args) != 1 or expr.keywords:
        return None
    return expr.args[0] if absolute(expr.func) in closers else None


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
