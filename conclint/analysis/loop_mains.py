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
import bisect
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from conclint.analysis.declared import top_level
from conclint.analysis.lines import lines_of
from conclint.analysis.names import ast_dotted, through_names
from conclint.analysis.own_nodes import own_nodes
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
    if not _may_call(runners, source, reader.names):
        return declared
    # The lines that spell a call by a name a runner may have: its own last name, or an
    # alias (`from anyio import run as go`).
    words = {runner.rpartition(".")[2] for runner in runners}
    words |= {local for local, target in reader.names.items() if target in runners}
    pattern = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\s*\(")
    lines = lines_of(source, (match.start() for match in pattern.finditer(source)))
    module = reader.module
    handed: dict[str, int] = {}
    for call in _runner_calls(tree.body, {}, reader, runners, lines):
        given = call.args[0]
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


def _may_call(runners: frozenset[str], source: str, names: dict[str, str]) -> bool:
    """Does the text spell a call of a runner: by its own name (`asyncio.run(`, also after
    an `import asyncio` in a function), or as the module's imports name it (`run(`)? The
    cheap test before the module is searched."""
    if any(f"{runner}(" in source for runner in runners):
        return True
    for local, target in names.items():
        for runner in runners:
            spelled = f"{local}{runner[len(target) :]}("
            if (runner == target or runner.startswith(f"{target}.")) and spelled in source:
                return True
    return False


def _runner_calls(
    body: list[ast.stmt],
    imported: dict[str, str],
    reader: _Reader,
    runners: frozenset[str],
    lines: list[int],
) -> Iterator[ast.Call]:
    """The calls of the runners in `body` and the functions defined in it, also through
    the imports a function makes first (`import anyio` in `main()`, as a command-line tool
    does to start faster): `imported` holds those of the functions around `body`. Only
    the statements on `lines`, where a runner's name is spelled, are looked into."""
    local = dict(imported)
    for statement in own_nodes(body):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                top = alias.name.partition(".")[0]
                local[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                local[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    for statement in body:
        first = bisect.bisect_left(lines, statement.lineno)
        if first == len(lines) or lines[first] > (statement.end_lineno or statement.lineno):
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield from _runner_calls(statement.body, local, reader, runners, lines)
            continue
        for node in own_nodes([statement]):
            if isinstance(node, ast.Call) and node.args:
                if _absolute(node.func, local, reader) in runners:
                    yield node
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield from _runner_calls(node.body, local, reader, runners, lines)


def _absolute(func: ast.expr, local: dict[str, str], reader: _Reader) -> str | None:
    """The absolute name `func` spells, through the imports of the functions around it."""
    return through_names(ast_dotted(func), local) or reader.absolute(func)


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
