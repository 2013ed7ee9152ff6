"""The text pre-filter: which rules could fire on a source at all, decided without parsing.

A rule fires only when its needles occur in the text and, for rules about
objects that only certain modules make (queues, locks, threads, executors,
tasks), when the file imports one of those modules or is a module of theirs.
Both are necessary conditions, never guesses: tests/test_prefilter.py runs the
skipped rules anyway and checks that they find nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from conclint.analysis.names import absolute_import, canonical_prefixes
from conclint.analysis.project import ProjectIndex, module_name, package_of

# `import a.b as c, d` and `from .a.b import (c as d, e)`, at the start of a line or
# after `;` or `:` (`if TYPE_CHECKING: import asyncio`). Over-matching is harmless.
_IMPORT = re.compile(
    r"""(?:^|[;:])[ \t]*(?:
        from[ \t]+(?P<module>\.*[\w.]*)[ \t]+import[ \t]*(?P<names>\([^)]*\)|[^\n;#]*)
      | import[ \t]+(?P<modules>[^\n;#]*)
    )""",
    re.MULTILINE | re.VERBOSE,
)
_CONTINUATION = re.compile(r"\\\r?\n")
_NAME = re.compile(r"[\w.]+")
_COMMENT = re.compile(r"#[^\n]*")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
# No `\b` before `async`: the literal start lets the search skip ahead (over-matching
# `xasync def`, which is no Python, is harmless).
_ASYNC_DEF = re.compile(r"async(?:\s|\\)+def\b")


@dataclass(frozen=True)
class Imports:
    """What a source's import statements bind, read from its text."""

    # Top-level modules imported in any way (`import a.b` and `from a.b import c`: `a`).
    modules: frozenset[str]
    # (module, name) for each `from module import name`.
    names: frozenset[tuple[str, str]]
    # (module, alias) for each `import module as alias`.
    aliases: frozenset[tuple[str, str]]
    # What the imported local names denote, relative ones as written: `import a.b`
    # binds `a`; `import a.b as c`, `a.b`; `from .m import n as o`, `.m.n`.
    bound: frozenset[str]


def imports_in(text: str) -> Imports:
    if "\\" in text:
        text = _CONTINUATION.sub(" ", text)
    modules: set[str] = set()
    names: set[tuple[str, str]] = set()
    aliases: set[tuple[str, str]] = set()
    bound: set[str] = set()
    for match in _import_statements(text):
        if match["modules"] is not None:
            for item in match["modules"].split(","):
                words = item.split()
                if words and _NAME.fullmatch(words[0]):
                    top = words[0].partition(".")[0]
                    modules.add(top)
                    if len(words) == 3 and words[1] == "as":
                        aliases.add((words[0], words[2]))
                        bound.add(words[0])
                    else:
                        bound.add(top)
        else:
            module = match["module"]
            modules.add(module.partition(".")[0])
            listed = _COMMENT.sub("", match["names"]).strip("()")
            for item in listed.split(","):
                words = item.split()
                if words:
                    names.add((module, words[0]))
                    if words[0] != "*":
                        separator = "" if module.endswith(".") else "."
                        bound.add(f"{module}{separator}{words[0]}")
    return Imports(frozenset(modules), frozenset(names), frozenset(aliases), frozenset(bound))


def _import_statements(text: str) -> Iterator[re.Match[str]]:
    """`_IMPORT`'s matches, looked for only on lines that spell `import` (searching the
    whole text would try the pattern after every `:` of the file)."""
    position = text.find("import")
    while position != -1:
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        if "(" in text[position:end]:  # `from m import (a,\n b)` goes on to its `)`
            closing = text.find(")", position)
            end = len(text) if closing == -1 else max(end, closing + 1)
        yield from _IMPORT.finditer(text, start, end)
        position = text.find("import", end)


class Source:
    """One file's text, with the facts the pre-filter asks about, each found once."""

    def __init__(self, text: str, path: str, project: ProjectIndex | None = None) -> None:
        self.text = text
        self.path = path
        self.project = project or ProjectIndex()
        self._spelled: dict[str, bool] = {}

    def has_any(self, needles: tuple[str, ...]) -> bool:
        return any(self._spells(needle) for needle in needles)

    def _spells(self, needle: str) -> bool:
        """Does the text contain `needle`? Rules share needles: each is looked for once."""
        found = self._spelled.get(needle)
        if found is None:
            found = self._spelled[needle] = needle in self.text
        return found

    @cached_property
    def has_async_def(self) -> bool:
        return _ASYNC_DEF.search(self.text) is not None

    @cached_property
    def imports(self) -> Imports:
        return imports_in(self.text)

    @cached_property
    def module(self) -> str | None:
        return module_name(self.path)

    @cached_property
    def package_root(self) -> str | None:
        """The top-level package the file belongs to (its relative imports reach it)."""
        return self.module.partition(".")[0] if self.module else None

    def imports_any(self, modules: frozenset[str]) -> bool:
        """Does the file import one of these top-level modules, or belong to one?"""
        return self.package_root in modules or not modules.isdisjoint(self.imports.modules)

    @cached_property
    def may_call_project_coroutine(self) -> bool:
        """Can a name here resolve to another module's coroutine function (project mode)?"""
        project = self.project
        if not project.async_functions:
            return False
        package = package_of(self.path, self.module)
        imported = {
            prefix
            for bound in self.imports.bound
            if (absolute := absolute_import(bound, package)) is not None
            for prefix in canonical_prefixes(absolute)
        }
        imported.add("builtins")  # unbound builtin names resolve as `builtins.<name>`
        return project.may_be_named(imported, lambda: set(_IDENTIFIER.findall(self.text)))
