"""The text pre-filter: which rules could fire on a source at all, decided without parsing.

A rule fires only when its needles occur in the text and, for rules about
objects that only certain modules make (queues, locks, threads, executors,
tasks), when the file imports one of those modules or is a module of theirs.
Both are necessary conditions, never guesses: tests/test_prefilter.py runs the
skipped rules anyway and checks that they find nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from conclint.analysis.project import ProjectIndex, module_name

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
_ASYNC_DEF = re.compile(r"\basync(?:\s|\\)+def\b")


@dataclass(frozen=True)
class Imports:
    """What a source's import statements bind, read from its text."""

    # Top-level modules imported in any way (`import a.b` and `from a.b import c`: `a`).
    modules: frozenset[str]
    # (module, name) for each `from module import name`.
    names: frozenset[tuple[str, str]]
    # (module, alias) for each `import module as alias`.
    aliases: frozenset[tuple[str, str]]


def imports_in(text: str) -> Imports:
    if "\\" in text:
        text = _CONTINUATION.sub(" ", text)
    modules: set[str] = set()
    names: set[tuple[str, str]] = set()
    aliases: set[tuple[str, str]] = set()
    for match in _IMPORT.finditer(text):
        if match["modules"] is not None:
            for item in match["modules"].split(","):
                words = item.split()
                if words and _NAME.fullmatch(words[0]):
                    modules.add(words[0].partition(".")[0])
                    if len(words) == 3 and words[1] == "as":
                        aliases.add((words[0], words[2]))
        else:
            module = match["module"]
            modules.add(module.partition(".")[0])
            listed = _COMMENT.sub("", match["names"]).strip("()")
            for item in listed.split(","):
                words = item.split()
                if words:
                    names.add((module, words[0]))
    return Imports(frozenset(modules), frozenset(names), frozenset(aliases))


class Source:
    """One file's text, with the facts the pre-filter asks about, each found once."""

    def __init__(self, text: str, path: str, project: ProjectIndex | None = None) -> None:
        self.text = text
        self.path = path
        self.project = project or ProjectIndex()

    def has_any(self, needles: tuple[str, ...]) -> bool:
        return any(needle in self.text for needle in needles)

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
        """Does a name of another module's coroutine function occur (project mode)?"""
        project = self.project
        if not project.async_functions:
            return False
        return project.may_be_called(set(_IDENTIFIER.findall(self.text)), self.module)
