"""Which coroutine functions of a module run only as the main coroutine of a new event loop
(`asyncio.run(_main())`, `anyio.run(_main)`), and up to which line they run alone there.

A runner of the catalog's role `runs-alone` makes a loop and runs the coroutine as its first
task: until that coroutine first suspends, nothing else runs on the loop, so a blocking call
there stalls no other work (CCL601 and CCL604 leave it). A function counts when its module
names it only in its `def` and as what such runners are given, and no other module can run
it otherwise: its name is private, its module is a private package's, or it is the
`__main__` module's.

`alone_until` is the first line that may run after a suspension: the first `await`, `async
for` or `async with` of the body (nested defs left out), or where a loop that holds one
starts (its next pass runs after it).
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TYPE_CHECKING

from conclint.analysis.declared import top_level
from conclint.analysis.task_tops import internal, private
from conclint.catalog import Catalog

if TYPE_CHECKING:
    from conclint.analysis.declared import Declarations, _Reader

_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def with_loop_mains(
    declared: Declarations, tree: ast.Module, source: str, reader: _Reader, known: Catalog
) -> Declarations:
    """`declared` with `alone_until` set on the module's loop mains."""
    runners = known.functions_with("runs-alone")
    if not any(spelled in source for spelled in _spellings(runners, reader.names)):
        return declared
    module = reader.module
    handed: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and reader.absolute(node.func) in runners:
            given = node.args[0]
            main = given.func if isinstance(given, ast.Call) else given
            if isinstance(main, ast.Name) and reader.absolute(main) == f"{module}.{main.id}":
                handed[main.id] = handed.get(main.id, 0) + 1
    if not handed:
        return declared
    alone = module.rpartition(".")[2] == "__main__" or internal(module)
    named = _mentions(tree, set(handed))
    for name, count in handed.items():
        facts = declared.functions.get(name)
        if facts is None or not facts.coroutine or named.get(name, 0) != count:
            continue
        if not (alone or private(name)):
            continue
        defs = [
            node
            for node in top_level(tree.body)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        ]
        if len(defs) == 1 and isinstance(defs[0], ast.AsyncFunctionDef):
            declared.functions[name] = replace(facts, alone_until=_alone_until(defs[0]))
    return declared


def _spellings(runners: frozenset[str], names: dict[str, str]) -> list[str]:
    """How the module's imports let it call the runners: `asyncio.run(`, `run(`."""
    found = []
    for local, target in names.items():
        for runner in runners:
            if runner == target:
                found.append(f"{local}(")
            elif runner.startswith(f"{target}."):
                found.append(f"{local}{runner[len(target) :]}(")
    return found


def _mentions(tree: ast.Module, names: set[str]) -> dict[str, int]:
    """How often the module's code names each of `names`, other than in its `def`: as a
    name, an attribute (`module._main`) or a string that is the name alone."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found = node.id
        elif isinstance(node, ast.Attribute):
            found = node.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = node.value
        elif isinstance(node, ast.alias):
            found = (node.asname or node.name).rpartition(".")[2]
        else:
            continue
        if found in names:
            counts[found] = counts.get(found, 0) + 1
    return counts


def _alone_until(function: ast.AsyncFunctionDef) -> int:
    """The first line of `function` that may run after it first suspends."""
    first = (function.end_lineno or function.lineno) + 1
    stack: list[tuple[ast.AST, int | None]] = [(statement, None) for statement in function.body]
    while stack:
        node, loop = stack.pop()
        if _suspends(node):
            assert isinstance(node, ast.expr | ast.stmt)
            first = min(first, loop if loop is not None else node.lineno)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if loop is None and isinstance(node, _LOOPS):
            loop = node.lineno
        stack.extend((child, loop) for child in ast.iter_child_nodes(node))
    return first


def _suspends(node: ast.AST) -> bool:
    """`await`, `async for`, `async with`, or a comprehension over an async iterator."""
    return isinstance(node, ast.Await | ast.AsyncFor | ast.AsyncWith) or (
        isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp)
        and any(generator.is_async for generator in node.generators)
    )
