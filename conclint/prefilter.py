"""The text pre-filter: which rules could fire on a source at all, decided without parsing.

A rule fires only when its needles occur in the text and, for rules about
objects that only certain modules make (queues, locks, threads, executors,
tasks), when the file imports one of those modules or is a module of theirs.
Both are necessary conditions, never guesses: tests/test_prefilter.py runs the
skipped rules anyway and checks that they find nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from conclint.analysis.names import absolute_import, canonical_prefixes
from conclint.analysis.project import ProjectIndex, module_name, package_of

# The regexes below read code as Python's tokenizer does, once every line end is `\n`:
# tokens are apart by any run of space, tab and form feed, and of backslash
# continuations where the logical line has some (`_CONTINUED`, slower, so kept for
# those lines). An identifier may hold any non-ASCII character: `\w` misses combining
# marks (Devanagari vowel signs), and only valid identifiers get to the parser anyway.
_WORD = r"[\w\x80-\U0010ffff]"
# A parenthesised list of names, to its `)`. Only what such a list holds (a comment
# may hold a `)`), so that a `from m import (` in a comment or string cannot swallow
# the real imports below it.
_LISTED = r"[\s\w,.\\\x80-\U0010ffff]*"
_PARENTHESISED = rf"\({_LISTED}(?:\#[^\n]*(?:\n|\Z){_LISTED})*\)"


def _import_pattern(continuation: str) -> re.Pattern[str]:
    """`import a.b as c, d` and `from .a . b import (c as d, e)`, at the start of a
    physical line or after `;` or `:` (`if TYPE_CHECKING: import asyncio`), with
    `continuation` as one more kind of gap between tokens. Over-matching is harmless."""
    gaps = rf"(?:[ \t\f]{continuation})*"
    dotted = rf"(?:[ \t\f\w.\x80-\U0010ffff]{continuation})*?"
    rest = rf"(?:[^\\\n;\#]{continuation})*"  # to the comment or `;`
    return re.compile(
        rf"""(?:^|[;:]){gaps}(?:
            from(?P<module>{dotted})import(?<!{_WORD}import)(?!{_WORD}){gaps}
                (?P<names>{_PARENTHESISED}|{rest})
          | import(?=[ \t\f\\]){gaps}(?P<modules>{rest})
        )""",
        re.MULTILINE | re.VERBOSE,
    )


_IMPORT = _import_pattern("")
_CONTINUED = _import_pattern(r"|\\\n")
_NAMES_IN_PARENTHESES = re.compile(_PARENTHESISED)
# A backslash ending a line without `#` continues it (as code or in a string): the next
# line starts no statement, so the two are joined. After a `#`, the backslash may be a
# comment's, which continues nothing: `_CONTINUED` reads it both ways.
_CONTINUATION = re.compile(r"^([^\n#]*)\\\n", re.MULTILINE)
_NAME = re.compile(rf"(?:{_WORD}|\.)+")
_COMMENT = re.compile(r"#[^\n]*")
_IDENTIFIER = re.compile(rf"(?:[^\W\d]|[^\x00-\x7f]){_WORD}*")
# What may stand around a dot: in brackets, line ends and comments too.
_ANY_GAP = r"(?:\s|\\|#[^\r\n]*[\r\n])*"
# No `\b` before `async`: the literal start lets the search skip ahead (over-matching
# `xasync def`, which is no Python, is harmless).
_ASYNC_DEF = re.compile(r"async(?:\s|\\)+def\b")


def normalised(text: str) -> str:
    """`text` as Python reads its names: NFKC-normalised, so that `create_task` spelled
    with a fullwidth `c` (U+FF43) is `create_task`. Strings and comments change too,
    which can only add matches."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


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
    return _imports(normalised(text))


def _imports(text: str) -> Imports:
    """`imports_in` of a text already `normalised`."""
    if "\r" in text:  # Python reads `\r\n` and a lone `\r` as `\n`
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    modules: set[str] = set()
    names: set[tuple[str, str]] = set()
    aliases: set[tuple[str, str]] = set()
    bound: set[str] = set()
    for match in _import_statements(text):
        if match["modules"] is not None:
            for item in _without_gaps_at_dots(match["modules"]).split(","):
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
            module = "".join(match["module"].replace("\\", " ").split())
            modules.add(module.partition(".")[0])
            listed = _COMMENT.sub("", match["names"]).replace("\\\n", " ").strip("()")
            for item in listed.split(","):
                words = item.split()
                if words:
                    names.add((module, words[0]))
                    if words[0] != "*":
                        separator = "" if module.endswith(".") else "."
                        bound.add(f"{module}{separator}{words[0]}")
    return Imports(frozenset(modules), frozenset(names), frozenset(aliases), frozenset(bound))


def _without_gaps_at_dots(spelled: str) -> str:
    """`os . path as p` -> `os.path as p`: any gap may stand around a dot, even a
    backslash continuation. (No regex: a long gap would make one quadratic.)"""
    words = " ".join(spelled.replace("\\", " ").split())
    return words.replace(" .", ".").replace(". ", ".")


def _import_statements(text: str) -> Iterator[re.Match[str]]:
    """`_IMPORT`'s matches, looked for only on the logical lines that spell `import`
    (searching the whole text would try the pattern after every `:` of the file)."""
    position = text.find("import")
    while position != -1:
        start = text.rfind("\n", 0, position) + 1
        end = _line_end(text, position)
        continued = text.find("\\", max(start - 2, 0), end) != -1
        if continued:  # the lines this one continues, and those that continue it
            while text.endswith("\\\n", 0, start):
                start = text.rfind("\n", 0, start - 2) + 1
            while end < len(text) and text.endswith("\\", 0, end):
                end = _line_end(text, end + 1)
        opening = text.find("(", position, end)
        while opening != -1:  # `from m import (a,\n b)` goes on to its `)`
            listed = _NAMES_IN_PARENTHESES.match(text, opening)
            if listed is not None:
                end = max(end, listed.end())
            opening = text.find("(", opening + 1, end)
        if continued:
            yield from _CONTINUED.finditer(_CONTINUATION.sub(r"\1 ", text[start:end]))
        else:
            yield from _IMPORT.finditer(text, start, end)
        position = text.find("import", end)


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end == -1 else end


class Source:
    """One file's text, with the facts the pre-filter asks about, each found once."""

    def __init__(self, text: str, path: str, project: ProjectIndex | None = None) -> None:
        self.text = normalised(text)
        self.path = path
        self.project = project or ProjectIndex()
        self._spelled: dict[str, bool] = {}

    def has_any(self, needles: tuple[str, ...]) -> bool:
        return any(self._spells(needle) for needle in needles)

    def _spells(self, needle: str) -> bool:
        """Does the text contain `needle`? Rules share needles: each is looked for once."""
        found = self._spelled.get(needle)
        if found is None:
            found = self._spelled[needle] = normalised(needle) in self.text
        return found

    def spells_dotted(self, dotted: str) -> bool:
        """Is the dotted name in the text, with any gaps around its dots (`os . close`)?"""
        dotted = normalised(dotted)
        if dotted in self.text:
            return True
        parts = dotted.split(".")
        if parts[-1] not in self.text:
            return False
        spelled = rf"{_ANY_GAP}\.{_ANY_GAP}".join(map(re.escape, parts))
        return re.search(spelled, self.text) is not None

    @cached_property
    def has_async_def(self) -> bool:
        return _ASYNC_DEF.search(self.text) is not None

    @cached_property
    def imports(self) -> Imports:
        return _imports(self.text)

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

    def imports_from_project(self, modules: frozenset[str]) -> bool:
        """Does the file import a project module whose names may give objects of these
        top-level modules' classes (`from app.pools import make_pool`)?"""
        return not modules.isdisjoint(self._project_reach)

    @cached_property
    def _project_reach(self) -> frozenset[str]:
        if not self.project.declared or not self.imports.bound:
            return frozenset()
        package = package_of(self.path, self.module)
        imported = {absolute_import(bound, package) for bound in self.imports.bound}
        return self.project.reaches(name for name in imported if name is not None)

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
