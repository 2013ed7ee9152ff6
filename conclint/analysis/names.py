"""Import and alias resolution: which library object a name or attribute denotes.

`resolve(expr, chain)` answers with a canonical dotted name
(`asyncio.create_task`, `concurrent.futures.ThreadPoolExecutor`,
`builtins.open`) or None when the name is local, ambiguous or unknown. It
follows Python's scoping over `chain` (the enclosing module, classes and
functions, outermost first), so a parameter, local def or assignment that
shadows an import is not the imported thing. It replaces LibCST's
QualifiedNameProvider, which costs several parses per file.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping, Sequence
from functools import lru_cache

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.scopes import Binding, ScopeNode, ScopeTable, collect, identifier

# Constants are not objects one can call or alias (`x = None` makes `x.sleep` nothing known).
_BUILTINS = frozenset(dir(builtins)) - {"None", "True", "False", "Ellipsis", "NotImplemented"}

# Implementation modules re-exported by their package: `asyncio.tasks.sleep` is `asyncio.sleep`.
_REEXPORTS = catalog.REEXPORTS


def _by_top_module() -> dict[str, list[tuple[str, frozenset[str]]]]:
    """The packages that re-export, as (`package.`, submodules), by their top-level module:
    one dict look-up per name, however many packages the catalog describes."""
    found: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for package, submodules in sorted(_REEXPORTS.items()):
        found.setdefault(package.partition(".")[0], []).append((package + ".", submodules))
    return found


_REEXPORTS_BY_TOP = _by_top_module()

# How many `alias = other_name` assignments are followed.
_MAX_ALIAS_DEPTH = 3


@lru_cache(maxsize=8192)
def canonical(qualified: str) -> str:
    for prefix, submodules in _REEXPORTS_BY_TOP.get(qualified.partition(".")[0], ()):
        if qualified.startswith(prefix):
            rest = qualified[len(prefix) :]
            head, _, tail = rest.partition(".")
            if head in submodules and tail:
                return prefix + tail
            # A submodule further down (`anyio._core._eventloop`).
            for submodule in submodules:
                if (
                    "." in submodule
                    and rest.startswith(submodule + ".")
                    and len(rest) > len(submodule) + 1
                ):
                    return prefix + rest[len(submodule) + 1 :]
    return qualified


def canonical_prefixes(imported: str) -> tuple[str, ...]:
    """Where the canonical names of `imported` and its attributes start: the name
    itself, canonical, and for a re-exported submodule (`asyncio.tasks`) its package,
    since `asyncio.tasks.sleep` is `asyncio.sleep`."""
    package, _, submodule = imported.rpartition(".")
    if submodule in _REEXPORTS.get(package, ()):
        return (imported, package)
    return (canonical(imported),)


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


class NameResolver:
    """Scope tables, built lazily per scope, and name lookups over them."""

    def __init__(
        self, package: str | None = None, external: Mapping[str, str] | None = None
    ) -> None:
        self._tables: dict[int, ScopeTable] = {}
        # (binding scope, name, alias depth) -> what the name denotes there.
        self._denoted: dict[tuple[int, str, int], str | None] = {}
        # (innermost scope, length of the chain, name) -> lookup's answer: rules ask the
        # same few names again and again from one scope.
        self._found: dict[tuple[int, int, str], tuple[int, list[Binding]] | None] = {}
        # The package relative imports start from (None: relative imports stay unknown).
        self.package = package
        # Names of the project that stand for another package's (`ProjectIndex.external`).
        self.external = external or {}

    def table(self, scope: ScopeNode) -> ScopeTable:
        key = id(scope)
        found = self._tables.get(key)
        if found is None:
            found = self._tables[key] = collect(scope)
        return found

    def lookup(self, name: str, chain: Sequence[ScopeNode]) -> tuple[int, list[Binding]] | None:
        """The bindings that `name` refers to from the innermost scope of `chain`.

        Returns the index in `chain` of the scope that binds it, or None when no
        scope does (a builtin, a star import or an undefined name).
        """
        if not chain:
            return None
        # The answer is an index into the chain asked with.
        key = (id(chain[-1]), len(chain), name)
        if key not in self._found:
            self._found[key] = self._lookup(identifier(name), chain)
        return self._found[key]

    def _lookup(self, name: str, chain: Sequence[ScopeNode]) -> tuple[int, list[Binding]] | None:
        innermost = len(chain) - 1
        for index in range(innermost, -1, -1):
            scope = chain[index]
            # Class bodies are not visible from functions nested in them.
            if isinstance(scope, cst.ClassDef) and index != innermost:
                continue
            table = self.table(scope)
            if name in table.declared_global and index > 0:
                module_bindings = self.table(chain[0]).bindings.get(name)
                return (0, module_bindings) if module_bindings else None
            if name in table.declared_outer:  # `nonlocal`: bound in an enclosing function
                continue
            bindings = table.bindings.get(name)
            if bindings:
                return index, bindings
        return None

    def resolve(
        self, expr: cst.BaseExpression, chain: Sequence[ScopeNode], _depth: int = 0
    ) -> str | None:
        """The canonical dotted name `expr` denotes, or None."""
        if isinstance(expr, cst.Name):
            return self.resolve_name(expr.value, chain, _depth)
        if isinstance(expr, cst.Attribute):
            base = self.resolve(expr.value, chain, _depth)
            return self._absolute(f"{base}.{identifier(expr.attr.value)}") if base else None
        return None

    def resolve_name(self, name: str, chain: Sequence[ScopeNode], _depth: int = 0) -> str | None:
        name = identifier(name)
        found = self.lookup(name, chain)
        if found is None:
            return f"builtins.{name}" if name in _BUILTINS else None
        index, bindings = found
        # Asked again and again for the same names (a module imports `asyncio` once and
        # uses it everywhere); what a scope's bindings denote does not change.
        key = (id(chain[index]), name, _depth)
        if key not in self._denoted:
            answers = {self._denotes(binding, chain[: index + 1], _depth) for binding in bindings}
            self._denoted[key] = answers.pop() if len(answers) == 1 else None
        return self._denoted[key]

    def _denotes(self, binding: Binding, chain: Sequence[ScopeNode], depth: int) -> str | None:
        if binding.how == "import" and binding.imported:
            absolute = absolute_import(binding.imported, self.package)
            return self._absolute(absolute) if absolute else None
        # `spawn = asyncio.create_task` at any scope: an alias, followed a few steps.
        if (
            binding.how == "assign"
            and binding.index is None
            and isinstance(binding.value, cst.Name | cst.Attribute)
            and depth < _MAX_ALIAS_DEPTH
        ):
            return self.resolve(binding.value, chain, depth + 1)
        return None

    def _absolute(self, name: str) -> str:
        """`name`, through the project's names for another package's, canonical."""
        return canonical(self.external.get(name, name))


def ast_dotted(expr: ast.expr | None) -> str | None:
    """`a.b.c` of a chain of names and attributes as Python's `ast` gives it, else None."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = ast_dotted(expr.value)
        return None if base is None else f"{base}.{expr.attr}"
    return None


def through_names(spelled: str | None, names: Mapping[str, str]) -> str | None:
    """The absolute name `a.b.c` denotes where `names` gives what its first part is (a
    module's or a function's imports), else None."""
    head, _, rest = (spelled or "").partition(".")
    if head not in names:
        return None
    return f"{names[head]}.{rest}" if rest else names[head]


def dunder(name: str) -> bool:
    """`__enter__`, `__init__`: a name the language's own protocols call."""
    return name.startswith("__") and name.endswith("__")
