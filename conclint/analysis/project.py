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
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from conclint.analysis import blocking_summary, catalog, task_tops
from conclint.analysis.declared import (
    Declarations,
    declarations,
    from_json,
    name_reader,
    to_json,
    top_level,
    with_cancel_state_readers,
    with_generator_uses,
)
from conclint.analysis.loop_mains import with_loop_mains
from conclint.analysis.names import absolute_import, ast_dotted, canonical, through_names
from conclint.analysis.nesting import SyntaxProblem as SyntaxProblem  # cache.py's
from conclint.analysis.nesting import parse_python, too_large
from conclint.analysis.types import Outline, ProjectTypes, ending_names
from conclint.catalog import Catalog, typing_forms

_LINE_ENDS = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class ModuleFacts:
    """What one module contributes to the index (plain data; cached per file)."""

    async_functions: tuple[str, ...] = ()
    # Async functions whose body is `while True:` with no way out.
    endless: tuple[str, ...] = ()
    # Names other modules may import from it that stand for another: a package
    # `__init__`'s relative imports, and any module's top-level names for a name the
    # catalog knows (`from contextlib import aclosing`, `Closing = aclosing`): local name
    # -> absolute target.
    reexports: tuple[tuple[str, str], ...] = ()
    # Sync functions and methods that make a blocking call themselves: (`name` or
    # `Class.name`, the call as shown). Their summaries are in `declared`.
    blocking: tuple[tuple[str, str], ...] = ()
    # Python's opinion of the file, (line, column, message) of its syntax error, or None
    # when it parses (or nests too deeply, or is too large, to ask): where it parses, the
    # lint pass needs no parse of its own for the verdict; where it does not, LibCST's
    # parser has the last word (newer syntax than the running Python's, say).
    syntax_error: SyntaxProblem | None = None
    # Out of time or memory: nothing is known of the file, not even Python's opinion.
    # Such facts are never cached, and their `syntax_error` is no opinion.
    transient: bool = False
    # Its classes, functions and globals, for the project model (`types.py`), as JSON with
    # sorted keys: what the cache keeps and the project's digest is made of, decoded only
    # where the model asks about the module (a run of cached results asks about none).
    declared_json: str = "{}"
    # What its declarations refer to, for the pre-filter (`ProjectIndex.reaches`): names
    # of its own top-level package, and the catalog's classes and factories.
    mentions: tuple[str, ...] = ()
    # For the model's questions about every module, answered without decoding them: the
    # last names of its functions and methods that may never return, and (class, base)
    # of each of its classes' bases, absolute.
    ending: tuple[str, ...] = ()
    bases: tuple[tuple[str, str], ...] = ()
    # What its top-level imports name in modules of private packages (`app._core.run`):
    # such a public function is the project's own unless another module imports it.
    imports: tuple[str, ...] = ()

    @cached_property
    def declared(self) -> Declarations:
        try:
            return from_json(json.loads(self.declared_json))
        except (TypeError, KeyError, ValueError, RecursionError):
            return Declarations()  # a damaged cache entry: nothing is known of the module

    @classmethod
    def of(cls, declared: Declarations, **fields: Any) -> ModuleFacts:
        """Facts holding `declared`, already decoded."""
        facts = cls(**fields, declared_json=json.dumps(to_json(declared), sort_keys=True))
        facts.__dict__["declared"] = declared  # what `declared` would decode
        return facts


class _Declared(Mapping[str, Declarations]):
    """Module -> its declarations, decoded when first asked."""

    def __init__(self, facts: Mapping[str, ModuleFacts]) -> None:
        self.facts = facts

    def __getitem__(self, module: str) -> Declarations:
        return self.facts[module].declared

    def __contains__(self, module: object) -> bool:
        return module in self.facts  # without decoding the module (Mapping's would)

    def __iter__(self) -> Iterator[str]:
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)


@dataclass(frozen=True)
class ProjectIndex:
    async_functions: frozenset[str] = frozenset()
    endless: frozenset[str] = frozenset()
    # Sync functions and methods that make a blocking call themselves (the pre-filter's
    # question; how others reach one, `ProjectTypes.blocking_chain` answers).
    blocking: frozenset[str] = field(default=frozenset(), compare=False)
    digest: str = field(default="", compare=False)
    # Path -> syntax error (or None) of every file the index parsed.
    syntax: dict[str, SyntaxProblem | None] = field(default_factory=dict, compare=False)
    # Module -> what it declares; re-exports of packages (`app.Client` -> `app.client.Client`).
    declared: _Declared = field(default_factory=lambda: _Declared({}), compare=False)
    aliases: dict[str, str] = field(default_factory=dict, compare=False)
    # Names of the project that stand for a name of another package (`app.compat.Closing`
    # -> `contextlib.aclosing`), followed through the aliases: what an import of one means.
    external: dict[str, str] = field(default_factory=dict, compare=False)
    # The resolved model, per catalog (made when first asked, in each process).
    _types: dict[Catalog, ProjectTypes] = field(default_factory=dict, compare=False, repr=False)

    def types(self, known: Catalog) -> ProjectTypes:
        """What the project's calls, globals and attributes are, under `known`."""
        found = self._types.get(known)
        if found is None:
            found = self._types[known] = ProjectTypes(
                self.declared, self.aliases, known, self._outline
            )
        return found

    @cached_property
    def _outline(self) -> Outline:
        facts = self.declared.facts.items()
        return Outline(
            frozenset(name for _, fact in facts for name in fact.ending),
            tuple(
                (f"{module}.{local}", base) for module, fact in facts for local, base in fact.bases
            ),
            frozenset(name for _, fact in facts for name in fact.imports),
        )

    def with_module(self, module: str, facts: ModuleFacts) -> ProjectIndex:
        """This index, knowing `module` too (a file linted on its own knows itself)."""
        if module in self.declared:
            return self
        declared = _Declared({**self.declared.facts, module: facts})
        return replace(self, declared=declared, _types={})

    @cached_property
    def _after_prefix(self) -> dict[str, set[tuple[str, ...]]]:
        """Each dotted prefix of an indexed coroutine function -> the parts after it
        (`app.db.fetch`: `app` -> (`db`, `fetch`), `app.db` -> (`fetch`,), ...)."""
        found: dict[str, set[tuple[str, ...]]] = {}
        for name in self.async_functions:
            parts = name.split(".")
            for cut in range(1, len(parts) + 1):
                found.setdefault(".".join(parts[:cut]), set()).add(tuple(parts[cut:]))
        return found

    @cached_property
    def _coroutine_methods(self) -> dict[str, frozenset[str]]:
        """Top-level package -> names of its classes' coroutine methods (`fetch` of
        `app.Client`)."""
        found: dict[str, set[str]] = {}
        for module, declared in self.declared.items():
            for facts in declared.classes.values():
                for name, method in facts.methods.items():
                    if method.coroutine:
                        found.setdefault(module.partition(".")[0], set()).add(name)
        return {package: frozenset(names) for package, names in found.items()}

    @cached_property
    def _instance_names(self) -> dict[str, frozenset[str]]:
        """Top-level package -> last parts of its names that may give an instance of a
        project class with coroutine methods: the classes and their subclasses, and the
        functions, methods, properties, attributes and globals whose values lead to one
        (over-approximated: any reference to such a name counts)."""
        leads: set[str] = set()
        values: dict[str, tuple[str, ...]] = {}  # name -> the names its value refers to
        for module, declared in self.declared.items():
            for local, function in declared.functions.items():
                values[f"{module}.{local}"] = _targets(function.returns)
            for local, refs in declared.globals.items():
                values[f"{module}.{local}"] = _targets(refs)
            for local, facts in declared.classes.items():
                owner = f"{module}.{local}"
                if any(method.coroutine for method in facts.methods.values()):
                    leads.add(owner)
                values[owner] = tuple(self.aliases.get(base, base) for base in facts.bases)
                for name, method in facts.methods.items():
                    values[f"{owner}.{name}"] = _targets(method.returns)
                for name, refs in facts.attributes.items():
                    values[f"{owner}.{name}"] = _targets(refs)
        while True:
            found = {name for name, targets in values.items() if not leads.isdisjoint(targets)}
            if found <= leads:
                break
            leads |= found
        by_package: dict[str, set[str]] = {}
        for name in leads:
            by_package.setdefault(name.partition(".")[0], set()).add(name.rpartition(".")[2])
        return {package: frozenset(names) for package, names in by_package.items()}

    def reaches(self, names: Iterable[str]) -> frozenset[str]:
        """The top-level modules of the catalog classes that the project modules holding
        `names` (absolute: modules, or names in them) may give values of, directly or
        through other project modules: a file importing `app.pools.make_pool` may hold an
        executor without importing `concurrent.futures` itself."""
        found: set[str] = set()
        for name in names:
            module = self._module_holding(name)
            if module is not None:
                found |= self._reach[module]
        return frozenset(found)

    def _module_holding(self, name: str) -> str | None:
        """The indexed module `name` is, or is a name of (`app.db.Client` -> `app.db`)."""
        for _ in range(3):
            if name in self.declared:
                return name
            name = name.rpartition(".")[0]
            if not name:
                return None
        return None

    @cached_property
    def _reach(self) -> dict[str, frozenset[str]]:
        """Module -> `reaches` of its own names, to a fixpoint over the modules they name."""
        direct: dict[str, set[str]] = {}
        edges: dict[str, set[str]] = {}
        for module, facts in self.declared.facts.items():
            direct[module] = set()
            edges[module] = set()
            for name in facts.mentions:
                holder = self._module_holding(self.aliases.get(name, name))
                if holder is not None:
                    edges[module].add(holder)
                elif name.partition(".")[0] not in self._packages:
                    direct[module].add(name.partition(".")[0])
        changed = True
        while changed:
            changed = False
            for module, targets in edges.items():
                before = len(direct[module])
                for target in targets:
                    direct[module] |= direct.get(target, set())
                changed = changed or len(direct[module]) != before
        return {module: frozenset(found) for module, found in direct.items()}

    @cached_property
    def _packages(self) -> frozenset[str]:
        return frozenset(module.partition(".")[0] for module in self.declared)

    def may_be_named(self, imported: Iterable[str], identifiers: Callable[[], set[str]]) -> bool:
        """The text pre-filter's question: can a file that imports these dotted names
        (canonical, absolute) and spells these identifiers name an indexed coroutine
        function? A name resolves only through an import (`from app import db` then
        `db.fetch`: `app.db` and `fetch`), so one must be its prefix and the rest of
        its parts must be spelled; or, for a method of a project class, the file spells
        the method and a name that leads to an instance. `identifiers` is asked only when
        the file imports from the project."""
        imported = set(imported)
        rests = [self._after_prefix[name] for name in imported if name in self._after_prefix]
        packages = self._packages.intersection(name.partition(".")[0] for name in imported)
        if not rests and not packages:
            return False  # nothing of the project is imported
        spelled = identifiers()
        if any(spelled.issuperset(rest) for found in rests for rest in found):
            return True
        # An instance of a project class (`make_client().fetch()`, `self.client.fetch()`):
        # the file spells a coroutine method of an imported package and a name of that
        # package that leads to an instance.
        empty: frozenset[str] = frozenset()
        return any(
            not spelled.isdisjoint(self._coroutine_methods.get(package, empty))
            and not spelled.isdisjoint(self._instance_names.get(package, empty))
            for package in packages
        )

    @classmethod
    def from_facts(cls, facts: Iterable[tuple[str, ModuleFacts]]) -> ProjectIndex:
        async_functions: set[str] = set()
        endless: set[str] = set()
        aliases: dict[str, str] = {}
        blocking: set[str] = set()
        by_module: dict[str, ModuleFacts] = {}
        for module, fact in facts:
            by_module[module] = fact
            async_functions.update(f"{module}.{name}" for name in fact.async_functions)
            endless.update(f"{module}.{name}" for name in fact.endless)
            aliases.update((f"{module}.{local}", target) for local, target in fact.reexports)
            blocking.update(f"{module}.{name}" for name, _ in fact.blocking)
        for alias, target in aliases.items():  # one level of re-export
            if target in async_functions:
                async_functions.add(alias)
            if target in endless:
                endless.add(alias)
        text = [*sorted(async_functions), "--", *sorted(endless), "--"]
        # In a form that does not depend on the order of keys (the cache sorts them).
        text.extend(f"{module}:{by_module[module].declared_json}" for module in sorted(by_module))
        text.extend(f"{alias}>{target}" for alias, target in sorted(aliases.items()))
        imported = {name for fact in by_module.values() for name in fact.imports}
        text.extend(f"<{name}" for name in sorted(imported))
        digest = hashlib.sha256("\n".join(text).encode()).hexdigest()
        return cls(
            frozenset(async_functions),
            frozenset(endless),
            frozenset(blocking),
            digest,
            declared=_Declared(by_module),
            aliases=aliases,
            external=_external(aliases),
        )


def _external(aliases: Mapping[str, str]) -> dict[str, str]:
    """The aliases that end, a few steps on, at a name of another top-level package."""
    found: dict[str, str] = {}
    for alias, target in aliases.items():
        for _ in range(3):
            target = aliases.get(target, target)
        if target.partition(".")[0] != alias.partition(".")[0]:
            found[alias] = target
    return found


def _targets(refs: Iterable[str]) -> tuple[str, ...]:
    """The names references point at: `call:app.make` -> `app.make`, `attr:app.C:x` ->
    `app.C.x`."""
    return tuple(ref.partition(":")[2].replace(":", ".") for ref in refs if ":" in ref)


def module_name(path: str) -> str | None:
    """`pkg/sub/mod.py` -> `pkg.sub.mod` when pkg/ and sub/ hold `__init__.py` (or a stub
    package's `__init__.pyi`)."""
    directory, file = os.path.split(os.path.abspath(path))
    stem, suffix = os.path.splitext(file)
    if suffix not in (".py", ".pyi"):
        return None
    parts = (*_package_of_directory(directory), *([] if stem == "__init__" else [stem]))
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


@lru_cache(maxsize=4096)
def _package_of_directory(directory: str) -> tuple[str, ...]:
    """The dotted parts of the package a directory is (empty when it is none); asked
    for every file of a run, so answered once per directory."""
    parent, name = os.path.split(directory)
    if parent == directory or not any(
        os.path.isfile(os.path.join(directory, init)) for init in ("__init__.py", "__init__.pyi")
    ):
        return ()
    return (*_package_of_directory(parent), name)


def package_of(path: str, module: str | None) -> str | None:
    """The package relative imports start from: the module itself for `__init__.py`."""
    if module is None:
        return None
    if Path(path).stem == "__init__":
        return module
    return module.rpartition(".")[0] or None


def facts_of(source: str, path: str, known: Catalog = catalog.SHIPPED) -> ModuleFacts:
    """Index one module's source. Files that do not parse contribute nothing else, nor do
    files too large to parse at all (the lint pass reports those). `known` is the catalog
    of the run (the user's entries included)."""
    if too_large(source):
        return ModuleFacts()
    try:
        tree = parse_python(source)
    except MemoryError:
        return ModuleFacts(transient=True)
    if not isinstance(tree, ast.Module):
        return ModuleFacts(syntax_error=tree)
    is_package = Path(path).stem == "__init__"
    module = module_name(path)
    if module is None:
        return ModuleFacts()  # no other module can name what it defines
    package = package_of(path, module)
    names = _top_level_names(tree, module, package)
    # Lines as `ast` numbers them (not `str.splitlines`), where a function may yield.
    lines = _LINE_ENDS.split(source) if "yield" in source or ":=" in source else []
    keeping = known.functions_with("keeps-coroutine")
    summariser = blocking_summary.Summariser(source, names, known)
    spawns = task_tops.Finder(source, known)
    declared = declarations(
        tree, module, names, typing_forms(known), keeping, lines, known, summariser, spawns
    )
    declared = spawns.noted(declared, tree)
    reader = name_reader(module, names)
    declared = with_generator_uses(declared, tree, source, reader, known)
    declared = with_cancel_state_readers(declared, tree, source, reader, known)
    declared = with_loop_mains(declared, tree, source, reader, known)
    async_functions: list[str] = []
    endless: list[str] = []
    for node in top_level(tree.body):
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        owner = declared.classes.get(node.name) if isinstance(node, ast.ClassDef) else None
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for item in members:
            if not isinstance(item, ast.AsyncFunctionDef):
                continue
            facts = (owner.methods if owner else declared.functions).get(item.name)
            if facts is not None and facts.coroutine:
                async_functions.append(prefix + item.name)
                if _loops_forever(item):
                    endless.append(prefix + item.name)
    reexports = [(local, target) for local, target in names.items() if _known_name(target, known)]
    if is_package:
        package = module
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                origin = absolute_import("." * node.level + (node.module or ""), package)
                if origin is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        local = alias.asname or alias.name
                        reexports.append((local, f"{origin}.{alias.name}"))
    return ModuleFacts.of(
        declared,
        mentions=_mentions(declared, module.partition(".")[0], known),
        ending=ending_names(declared),
        bases=tuple(
            (local, base)
            for local, facts in declared.classes.items()
            for base in facts.bases
            if base
        ),
        async_functions=tuple(async_functions),
        endless=tuple(endless),
        reexports=tuple(reexports),
        imports=()
        if _test_module(module)
        else tuple(
            sorted(
                target
                for target in names.values()
                if not target.startswith(f"{module}.")
                and task_tops.internal(target.rpartition(".")[0])
            )
        ),
        blocking=blocking_summary.direct(
            [("", declared.functions)]
            + [(f"{name}.", facts.methods) for name, facts in declared.classes.items()]
        ),
    )


def _known_name(name: str, known: Catalog) -> bool:
    """Whether the catalog has an entry for `name` (a function, a class of a kind, a name
    with roles), however the library spells it."""
    name = canonical(name)
    return name in known.functions or name in known.names or known.kind_named(name) is not None


def _mentions(declared: Declarations, package: str, known: Catalog) -> tuple[str, ...]:
    """The names `declared` refers to that say what its values may be: those of the
    module's own package (followed by `ProjectIndex.reaches`) and the catalog's."""
    refs: set[str] = set()
    for function in declared.functions.values():
        refs.update(function.returns)
    for values in declared.globals.values():
        refs.update(values)
    for facts in declared.classes.values():
        refs.update(f"type:{base}" for base in facts.bases if base)
        for method in facts.methods.values():
            refs.update(method.returns)
        for values in facts.attributes.values():
            refs.update(values)
    found = set()
    for ref in refs:
        target = ref.partition(":")[2].partition(":")[0]  # `attr:C:a`: the class C
        if target.partition(".")[0] == package or _is_catalog_class(target, known):
            found.add(target)
    return tuple(sorted(found))


def _is_catalog_class(name: str, known: Catalog) -> bool:
    return name in known.constructors or name in known.kinds or name in known.annotation_kinds


def _test_module(module: str) -> bool:
    """A module of tests (`tests.test_run`, `app.run_test`, `conftest`): what it imports
    from the project is what it tests, no API the project gives others."""
    parts = module.split(".")
    last = parts[-1]
    return (
        any(part in ("test", "tests", "testing") for part in parts)
        or last.startswith("test_")
        or last.endswith("_test")
        or last == "conftest"
    )


def _top_level_names(tree: ast.Module, module: str, package: str | None) -> dict[str, str]:
    """Local name -> absolute dotted name, for top-level imports and defs that no
    top-level assignment rebinds."""
    names: dict[str, str] = {}
    for node in top_level(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom):
            origin = absolute_import("." * node.level + (node.module or ""), package)
            for alias in node.names:
                if origin is not None and alias.name != "*":
                    names[alias.asname or alias.name] = f"{origin}.{alias.name}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = f"{module}.{node.name}"
    aliases: dict[str, str | None] = {}
    for node in top_level(tree.body):
        # `Base = object`, `fetch = retry(fetch)`: the name no longer denotes the import
        # or the def (which one it is where it is used, only the order of statements tells).
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    names.pop(target.id, None)
                    # `Aclosing = aclosing`, assigned once: another name of the import.
                    other = ast_dotted(node.value) if isinstance(node, ast.Assign) else None
                    aliases[target.id] = None if target.id in aliases else other
    for local, spelled in aliases.items():
        if spelled is not None and spelled.partition(".")[0] not in aliases:
            resolved = through_names(spelled, names)
            if resolved is not None:
                names[local] = resolved
    return names


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
