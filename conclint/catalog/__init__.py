"""What conclint knows about libraries: kinds of objects and the roles of functions
and methods, as data (`data/*.toml`, described in `schema.py`), loaded and
validated once per process.

Rules and the shared analysis ask by role ("which methods of this kind close
it?", "is this function blocking, and what is the remedy?"); the pre-filter's
module gates come from the same entries. Names are canonical dotted names, as
`analysis/names.py` resolves them (`asyncio.Queue`, `builtins.open`).

Users add entries in `[tool.conclint.catalog]` (`like`, `blocking`, `spawners`,
`coroutines`): `user_library` turns them into one more `Library`, and `extended`
merges it with the shipped catalog, once per distinct set of entries.
"""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from conclint.catalog.schema import (
    CatalogError,
    Function,
    Kind,
    Library,
    Method,
    library,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["Catalog", "CatalogError", "Function", "Kind", "Method", "extended", "load"]

# Where the user's entries come from, as errors and `conclint catalog` name it.
USER_ENTRIES = "[tool.conclint.catalog]"
# What a call the user says blocks is to be replaced with: conclint knows no async twin of it.
USER_REMEDY = "call it through `await asyncio.to_thread(...)`"


class Catalog:
    """Every library's entries, indexed for the questions the analysis asks.

    `extensions` (the user's entries) may also add names and method roles to kinds
    and functions the libraries describe; a library may not."""

    def __init__(self, libraries: Iterable[Library], extensions: Iterable[Library] = ()) -> None:
        self.libraries = tuple(libraries)
        self.extensions = tuple(extensions)
        self.kinds: dict[str, Kind] = {}
        self.functions: dict[str, Function] = {}
        self.names: dict[str, frozenset[str]] = {}
        self.any_receiver: dict[str, Method] = {}
        self._made_by: dict[str, str] = {}
        self._annotated_by: dict[str, str] = {}
        # Answers the analysis asks per file (of a catalog extended by the user's entries).
        self._functions_with: dict[str, frozenset[str]] = {}
        self._methods_with: dict[tuple[str, str | None], frozenset[str]] = {}
        for entries in self.libraries:
            self._add(entries)
        for entries in self.extensions:
            self._extend(entries)
        self._check_references()

    def _add(self, entries: Library) -> None:
        for kind in entries.kinds:
            if kind.name in self.kinds:
                raise CatalogError(f"{entries.source}: kind {kind.name} is described twice")
            self.kinds[kind.name] = kind
            self._claim_names(kind, entries.source)
        twice = sorted(
            (set(self.functions) & set(entries.functions))
            | (set(self.names) & set(entries.names))
            | (set(self.any_receiver) & set(entries.any_receiver))
        )
        if twice:
            raise CatalogError(f"{entries.source}: {twice[0]} is described twice")
        self.functions.update(entries.functions)
        self.names.update(entries.names)
        self.any_receiver.update(entries.any_receiver)

    def _extend(self, entries: Library) -> None:
        """Kinds and functions of `entries` that are described already get more names and roles."""
        for kind in entries.kinds:
            known = self.kinds.get(kind.name)
            self.kinds[kind.name] = kind if known is None else _merged(known, kind)
            self._claim_names(kind, entries.source)
        for name, function in entries.functions.items():
            old = self.functions.get(name)
            if old is not None:
                roles, remedy = old.roles | function.roles, old.remedy or function.remedy
                function = replace(old, roles=roles, remedy=remedy)
            self.functions[name] = function

    def _claim_names(self, kind: Kind, source: str) -> None:
        for callee in (*kind.classes, *kind.factories):
            _claim(self._made_by, callee, kind.name, source)
        for annotation in (*kind.classes, *kind.annotations):
            _claim(self._annotated_by, annotation, kind.name, source)

    def _check_references(self) -> None:
        """Every kind an entry names is described."""
        named = [
            (f"method {kind.name}.{name}", method.returns)
            for kind in self.kinds.values()
            for name, method in kind.methods.items()
        ]
        named += [
            (f"function {name}", kind)
            for name, function in self.functions.items()
            for kind in function.unpacks
        ]
        for where, kind in named:
            if kind is not None and kind not in self.kinds:
                raise CatalogError(f"{where} names kind {kind}, which no data file describes")

    # Kinds ----------------------------------------------------------------------

    def made_by(self, callee: str) -> str | None:
        """The kind a call of `callee` returns (`asyncio.Queue` for `asyncio.LifoQueue`)."""
        return self._made_by.get(callee)

    def annotated_by(self, name: str) -> str | None:
        """The kind an annotation naming `name` means."""
        return self._annotated_by.get(name)

    @functools.cached_property
    def constructors(self) -> dict[str, str]:
        return dict(self._made_by)

    @functools.cached_property
    def annotation_kinds(self) -> dict[str, str]:
        return dict(self._annotated_by)

    def kinds_with(self, trait: str) -> frozenset[str]:
        return frozenset(name for name, kind in self.kinds.items() if trait in kind.traits)

    def method(self, kind: str | None, name: str) -> Method | None:
        found = self.kinds.get(kind or "")
        return found.methods.get(name) if found is not None else None

    def methods_with(self, role: str, kind: str | None = None) -> frozenset[str]:
        """Names of the methods with `role`: of one kind, or of any kind."""
        found = self._methods_with.get((role, kind))
        if found is None:
            described = self.kinds.get(kind or "")
            kinds = [described] if described else [] if kind else self.kinds.values()
            found = frozenset(
                name
                for one in kinds
                for name, method in one.methods.items()
                if role in method.roles
            )
            self._methods_with[role, kind] = found
        return found

    def methods_by_kind(self, role: str) -> dict[str, frozenset[str]]:
        """Kind -> the names of its methods with `role`, for the kinds that have any."""
        found = {name: self.methods_with(role, name) for name in self.kinds}
        return {name: methods for name, methods in found.items() if methods}

    # Functions, names and methods of any receiver -----------------------------

    def functions_with(self, role: str) -> frozenset[str]:
        found = self._functions_with.get(role)
        if found is None:
            found = frozenset(name for name, entry in self.functions.items() if role in entry.roles)
            self._functions_with[role] = found
        return found

    def names_with(self, role: str) -> frozenset[str]:
        return frozenset(name for name, roles in self.names.items() if role in roles)

    def any_receiver_with(self, role: str) -> frozenset[str]:
        return frozenset(name for name, method in self.any_receiver.items() if role in method.roles)

    # Modules ----------------------------------------------------------------------

    @functools.cached_property
    def concurrency_modules(self) -> frozenset[str]:
        """Top-level modules of the libraries whose objects are tasks, threads, queues..."""
        return frozenset(
            module
            for entries in (*self.libraries, *self.extensions)
            if entries.concurrency
            for module in entries.modules
        )

    # The user's entries ---------------------------------------------------------------

    @functools.cached_property
    def added_modules(self) -> frozenset[str]:
        """Top-level modules the user's entries name: a file importing one may use them."""
        return frozenset(module for entries in self.extensions for module in entries.modules)

    @functools.cached_property
    def added_names(self) -> frozenset[str]:
        """Every name the user's entries give: classes, methods and functions."""
        return frozenset(
            name
            for entries in self.extensions
            for name in (
                *(n for kind in entries.kinds for n in (*kind.classes, *kind.methods)),
                *entries.functions,
            )
        )

    def added_functions_with(self, role: str) -> frozenset[str]:
        """The functions with `role` among the user's entries."""
        return frozenset(
            name
            for entries in self.extensions
            for name, function in entries.functions.items()
            if role in function.roles
        )

    def kind_named(self, name: str) -> str | None:
        """The kind `name` is, or is made by or named in annotations for (`asyncio.LifoQueue`)."""
        if name in self.kinds:
            return name
        return self._annotated_by.get(name) or self._made_by.get(name)


def _claim(table: dict[str, str], name: str, kind: str, source: str) -> None:
    if table.setdefault(name, kind) != kind:
        raise CatalogError(f"{source}: {name} is already kind {table[name]}, not {kind}")


def _merged(known: Kind, more: Kind) -> Kind:
    """`known` with the names, methods and method roles `more` adds."""
    methods = dict(known.methods)
    for name, method in more.methods.items():
        old = methods.get(name)
        methods[name] = method if old is None else replace(old, roles=old.roles | method.roles)
    return replace(
        known,
        classes=tuple(dict.fromkeys((*known.classes, *more.classes))),
        factories=tuple(dict.fromkeys((*known.factories, *more.factories))),
        annotations=tuple(dict.fromkeys((*known.annotations, *more.annotations))),
        remedy=known.remedy or more.remedy,
        methods=methods,
    )


@functools.cache
def typing_forms(known: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    """The annotations that mean their first argument (`Optional[X]`, `Final[X]`), and those
    that mean one of their arguments (`Union[X, None]`). Once per catalog."""
    return known.names_with("type-wrapper"), known.names_with("type-union")


def top_modules(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.partition(".")[0] for name in names)


@functools.cache
def load() -> Catalog:
    """The catalog shipped with conclint, read once per process."""
    libraries = []
    for path in sorted(Path(__file__).with_name("data").glob("*.toml")):
        source = f"catalog/data/{path.name}"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise CatalogError(f"{source}: {error}") from None
        libraries.append(library(raw, source))
    return Catalog(libraries)


Names = tuple[str, ...]


@functools.cache
def extended(
    like: tuple[tuple[str, str], ...], blocking: Names, spawners: Names, coroutines: Names
) -> Catalog:
    """The shipped catalog with the user's entries, built once per distinct set of them:
    the shipped catalog itself when there are none, so default settings cost nothing."""
    shipped = load()
    if not (like or blocking or spawners or coroutines):
        return shipped
    user = user_library(shipped, like, blocking, spawners, coroutines)
    return Catalog(shipped.libraries, [user])


def user_library(
    known: Catalog,
    like: Iterable[tuple[str, str]],
    blocking: Iterable[str],
    spawners: Iterable[str],
    coroutines: Iterable[str],
) -> Library:
    """`[tool.conclint.catalog]` as a library of extensions to `known`.

    `like` adds a class to a known kind (so its constructor, annotations and methods
    are that kind's). A `blocking` or `coroutines` entry is a function, and also a
    method when its owner is a class: one `known` or `like` names, or a name that
    starts with a capital (`app.db.Connection.execute`); a class conclint does not
    know becomes a kind of its own, named after it."""
    classes: dict[str, list[str]] = {}  # kind -> classes the user adds to it
    methods: dict[str, dict[str, set[str]]] = {}  # kind -> method -> roles
    functions: dict[str, set[str]] = {}  # function -> roles
    liked: dict[str, str] = {}
    for name, target in like:
        kind = known.kind_named(target)
        if kind is None:
            close = difflib.get_close_matches(target, list(known.kinds), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise CatalogError(
                f"{USER_ENTRIES} like: {name!r} = {target!r}: no kind is called {target!r}{hint};"
                " `conclint catalog` lists the kinds"
            )
        liked[name] = kind
        classes.setdefault(kind, []).append(name)
    entries = [(name, "blocking") for name in blocking]
    entries += [(name, "coroutine") for name in coroutines]
    entries += [(name, "spawn") for name in spawners]
    for name, role in entries:
        functions.setdefault(name, set()).add(role)
        owner, _, method = name.rpartition(".")
        # A spawner stays a function: a method that starts a task may keep it (a task group).
        if role == "spawn" or not owner:
            continue
        kind = liked.get(owner) or known.kind_named(owner)
        if kind is None and owner.rpartition(".")[2][:1].isupper():
            kind = owner  # a class conclint does not know: a kind of its own
            classes.setdefault(kind, []).append(owner)
        if kind is not None:
            methods.setdefault(kind, {}).setdefault(method, set()).add(role)
    kinds = tuple(
        _user_kind(name, classes.get(name, []), methods.get(name, {}))
        for name in dict.fromkeys((*classes, *methods))
    )
    named = (*liked, *functions)
    return Library(
        USER_ENTRIES,
        modules=tuple(sorted(top_modules(named))),
        concurrency=True,
        kinds=kinds,
        functions={
            name: Function(frozenset(roles), remedy=USER_REMEDY if "blocking" in roles else None)
            for name, roles in functions.items()
        },
        names={},
        any_receiver={},
    )


def _user_kind(name: str, classes: list[str], methods: dict[str, set[str]]) -> Kind:
    blocks = any("blocking" in roles for roles in methods.values())
    return Kind(
        name,
        classes=tuple(dict.fromkeys(classes)),
        remedy=USER_REMEDY if blocks else None,
        methods={method: Method(frozenset(roles)) for method, roles in methods.items()},
    )
