"""Project mode: what the other linted modules define, indexed before linting.

One cheap pass over the linted files (Python's own `ast`, only on files that
contain `async def`; LibCST is not needed for a list of names) records every
`async def` by its qualified name (`app.db.fetch`, `app.db.Client.fetch`) and
whether its body loops forever, plus what package `__init__` files re-export
(`from .db import fetch` makes `app.fetch` an alias, followed one level).
Module names come from the path: the chain of directories holding
`__init__.py` above a file (so `src/app/db.py` is `app.db` in a src layout).
"""

from __future__ import annotations

import ast
import hashlib
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from conclint.analysis import catalog

# Decorators that keep a coroutine function one (last name part: `ast` has no import resolution).
_KEEPING_DECORATORS = frozenset(
    name.rpartition(".")[2] for name in catalog.COROUTINE_KEEPING_DECORATORS
)


@dataclass(frozen=True)
class ModuleFacts:
    """What one module contributes to the index (plain data; cached per file)."""

    async_functions: tuple[str, ...] = ()
    # Async functions whose body is `while True:` with no way out.
    endless: tuple[str, ...] = ()
    # Re-exports of a package `__init__`: local name -> absolute target.
    reexports: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProjectIndex:
    async_functions: frozenset[str] = frozenset()
    endless: frozenset[str] = frozenset()
    digest: str = field(default="", compare=False)

    @cached_property
    def _needles(self) -> frozenset[str]:
        return frozenset(name.rpartition(".")[2] for name in self.async_functions)

    def needles(self) -> frozenset[str]:
        """Last name parts of the indexed coroutine functions, for the text pre-filter."""
        return self._needles

    @classmethod
    def from_facts(cls, facts: Iterable[tuple[str, ModuleFacts]]) -> ProjectIndex:
        async_functions: set[str] = set()
        endless: set[str] = set()
        aliases: list[tuple[str, str]] = []
        for module, fact in facts:
            async_functions.update(f"{module}.{name}" for name in fact.async_functions)
            endless.update(f"{module}.{name}" for name in fact.endless)
            aliases.extend((f"{module}.{local}", target) for local, target in fact.reexports)
        for alias, target in aliases:  # one level of re-export
            if target in async_functions:
                async_functions.add(alias)
            if target in endless:
                endless.add(alias)
        digest = hashlib.sha256(
            "\n".join([*sorted(async_functions), "--", *sorted(endless)]).encode()
        ).hexdigest()
        return cls(frozenset(async_functions), frozenset(endless), digest)


def module_name(path: str) -> str | None:
    """`pkg/sub/mod.py` -> `pkg.sub.mod` when pkg/ and sub/ hold `__init__.py`."""
    file = Path(os.path.abspath(path))
    if file.suffix not in (".py", ".pyi"):
        return None
    parts = [] if file.stem == "__init__" else [file.stem]
    directory = file.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(reversed(parts))


def package_of(path: str, module: str | None) -> str | None:
    """The package relative imports start from: the module itself for `__init__.py`."""
    if module is None:
        return None
    if Path(path).stem == "__init__":
        return module
    return module.rpartition(".")[0] or None


def absolute_import(target: str, package: str | None) -> str | None:
    """`..db.fetch` seen from package `app.api` -> `app.db.fetch` (None if it leaves the tree)."""
    if not target.startswith("."):
        return target
    level = len(target) - len(target.lstrip("."))
    rest = target[level:]
    if package is None:
        return None
    parts = package.split(".")
    if level - 1 > len(parts) - 1:
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([rest] if rest else []))


def facts_of(source: str, path: str) -> ModuleFacts:
    """Index one module's source. Files that do not parse contribute nothing."""
    has_async = "async def" in source
    is_package = Path(path).stem == "__init__"
    if not has_async and not is_package:
        return ModuleFacts()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ModuleFacts()
    async_functions: list[str] = []
    endless: list[str] = []
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for item in members:
            if isinstance(item, ast.AsyncFunctionDef) and _is_coroutine_function(item):
                async_functions.append(prefix + item.name)
                if _loops_forever(item):
                    endless.append(prefix + item.name)
    reexports: list[tuple[str, str]] = []
    if is_package:
        package = module_name(path)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                origin = absolute_import("." * node.level + (node.module or ""), package)
                if origin is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        local = alias.asname or alias.name
                        reexports.append((local, f"{origin}.{alias.name}"))
    return ModuleFacts(tuple(async_functions), tuple(endless), tuple(reexports))


def _is_coroutine_function(function: ast.AsyncFunctionDef) -> bool:
    """Not an async generator, and no decorator that may turn it into something else."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name not in _KEEPING_DECORATORS:
            return False
    return not _has_own_yield(function)


def _has_own_yield(function: ast.AsyncFunctionDef) -> bool:
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return True
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _loops_forever(function: ast.AsyncFunctionDef) -> bool:
    """The body's last statement is `while True:` (or `while 1:`) with no break or return."""
    if not function.body:
        return False
    last = function.body[-1]
    if not isinstance(last, ast.While):
        return False
    test = last.test
    if not (isinstance(test, ast.Constant) and test.value in (True, 1)):
        return False
    return not any(_exits(statement) for statement in last.body)


def _exits(node: ast.AST) -> bool:
    """A `return` anywhere in the loop, or a `break` of this loop (not of a nested one)."""
    stack: list[tuple[ast.AST, bool]] = [(node, False)]
    while stack:
        current, nested_loop = stack.pop()
        if isinstance(current, ast.Return) or (isinstance(current, ast.Break) and not nested_loop):
            return True
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        inner = nested_loop or isinstance(current, ast.For | ast.While | ast.AsyncFor)
        stack.extend((child, inner) for child in ast.iter_child_nodes(current))
    return False
