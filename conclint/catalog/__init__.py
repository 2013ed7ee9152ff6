"""What conclint knows about libraries: kinds of objects and the roles of functions
and methods, as data (`data/*.toml`, described in `schema.py`), loaded and
validated once per process.

Rules and the shared analysis ask by role ("which methods of this kind close
it?", "is this function blocking, and what is the remedy?"); the pre-filter's
module gates come from the same entries. Names are canonical dotted names, as
`analysis/names.py` resolves them (`asyncio.Queue`, `builtins.open`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
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

__all__ = ["Catalog", "CatalogError", "Function", "Kind", "Method", "load"]


class Catalog:
    """Every library's entries, indexed for the questions the analysis asks."""

    def __init__(self, libraries: Iterable[Library]) -> None:
        self.libraries = tuple(libraries)
        self.kinds: dict[str, Kind] = {}
        self.functions: dict[str, Function] = {}
        self.names: dict[str, frozenset[str]] = {}
        self.any_receiver: dict[str, Method] = {}
        self._made_by: dict[str, str] = {}
        self._annotated_by: dict[str, str] = {}
        for entries in self.libraries:
            self._add(entries)
        self._check_references()

    def _add(self, entries: Library) -> None:
        for kind in entries.kinds:
            if kind.name in self.kinds:
                raise CatalogError(f"{entries.source}: kind {kind.name} is described twice")
            self.kinds[kind.name] = kind
            for callee in (*kind.classes, *kind.factories):
                _claim(self._made_by, callee, kind.name, entries.source)
            for annotation in (*kind.classes, *kind.annotations):
                _claim(self._annotated_by, annotation, kind.name, entries.source)
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
        kinds = [self.kinds[kind]] if kind in self.kinds else [] if kind else self.kinds.values()
        return frozenset(
            name
            for described in kinds
            for name, method in described.methods.items()
            if role in method.roles
        )

    def methods_by_kind(self, role: str) -> dict[str, frozenset[str]]:
        """Kind -> the names of its methods with `role`, for the kinds that have any."""
        found = {name: self.methods_with(role, name) for name in self.kinds}
        return {name: methods for name, methods in found.items() if methods}

    # Functions, names and methods of any receiver -----------------------------

    def functions_with(self, role: str) -> frozenset[str]:
        return frozenset(name for name, entry in self.functions.items() if role in entry.roles)

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
            for entries in self.libraries
            if entries.concurrency
            for module in entries.modules
        )


def _claim(table: dict[str, str], name: str, kind: str, source: str) -> None:
    if table.setdefault(name, kind) != kind:
        raise CatalogError(f"{source}: {name} is already kind {table[name]}, not {kind}")


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
