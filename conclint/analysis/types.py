"""The project model's answer to "what is this?" across modules.

`ProjectTypes` reads the declarations of every indexed module (`declared.py`) and
resolves their references: `call:app.locks.make_lock` is a `threading.Lock` when
`make_lock` returns one on every path, `type:app.client.Client` an instance of the
project's class `Client`. A type is a catalog kind (`asyncio.Queue`) or the absolute
name of a project class. Classes are looked up along the project's own MRO; a base
that is not a project class (nor `object`) may define anything, so a member found
only after such a base, or not found, is unknown. Unknown is an answer, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping

from conclint.analysis.declared import NONE, ClassFacts, Declarations, FunctionFacts, Ref
from conclint.catalog import Catalog

# How many references are followed for one answer (a factory returning a factory's
# result, an attribute holding a global): deeper chains are unknown.
_MAX_DEPTH = 6


class ProjectTypes:
    """Types of the project's calls, globals and attributes, resolved when asked."""

    def __init__(
        self, modules: Mapping[str, Declarations], aliases: Mapping[str, str], known: Catalog
    ) -> None:
        self.modules = modules
        # Re-exports of packages: `app.Client` -> `app.client.Client`.
        self.aliases = aliases
        self.constructors = known.constructors
        self.annotations = known.annotation_kinds
        self._resolved: dict[tuple[Ref, int], str | None] = {}

    # Looking things up by absolute name -------------------------------------------

    def real_name(self, name: str) -> str:
        for _ in range(3):
            target = self.aliases.get(name)
            if target is None:
                break
            name = target
        return name

    def class_facts(self, name: str) -> ClassFacts | None:
        module, _, local = self.real_name(name).rpartition(".")
        declared = self.modules.get(module)
        return declared.classes.get(local) if declared is not None else None

    def is_class(self, name: str | None) -> bool:
        return name is not None and self.class_facts(name) is not None

    def function_facts(self, name: str) -> FunctionFacts | None:
        """A module-level function, or a method spelled through its class (`app.C.create`)."""
        real = self.real_name(name)
        module, _, local = real.rpartition(".")
        declared = self.modules.get(module)
        if declared is not None:
            return declared.functions.get(local)
        owner, _, method = real.rpartition(".")
        found = self.method(owner, method)
        return found[1] if found is not None else None

    def mro(self, name: str) -> list[tuple[str, ClassFacts | None]]:
        """`name` and its bases in method resolution order (depth first, left to right,
        each once, as Python's for single inheritance); a base that is not a project class
        comes with no facts: it may define anything."""
        order: list[tuple[str, ClassFacts | None]] = []
        seen: set[str] = set()
        stack = [self.real_name(name)]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            facts = self.class_facts(current) if current else None
            order.append((current, facts))
            if facts is not None:
                bases = [self.real_name(base) if base else "" for base in facts.bases]
                stack.extend(reversed(bases))
        return order

    def _member(self, owner: str, name: str) -> tuple[str, ClassFacts] | None:
        """The first class of `owner`'s MRO that defines `name` (a method or an attribute),
        when every class before it is known not to; None when unknown."""
        for current, facts in self.mro(owner):
            if facts is None:
                return None
            if name in facts.methods or name in facts.attributes:
                return current, facts
        return None

    def method(self, owner: str, name: str) -> tuple[str, FunctionFacts] | None:
        """The method `owner.name` runs, when the project shows which one it is (not when
        an assignment in the class may replace it)."""
        found = self._member(owner, name)
        if found is None or name in found[1].attributes:
            return None
        return found[0], found[1].methods[name]

    # Types ---------------------------------------------------------------------------

    def call_type(self, name: str) -> str | None:
        """What calling the function or class `name` gives (a kind or a project class)."""
        return _answer(self.resolve(f"call:{name}"))

    def global_type(self, name: str) -> str | None:
        """The type of the module global `name` (`app.state.QUEUE`)."""
        real = self.real_name(name)
        module, _, local = real.rpartition(".")
        declared = self.modules.get(module)
        if declared is None or local not in declared.globals:
            return None
        return _answer(self._agree(declared.globals[local], 0))

    def attribute_type(self, owner: str, attribute: str) -> str | None:
        """The type of `attribute` on instances of the project class `owner`."""
        return _answer(self.resolve(f"attr:{owner}:{attribute}"))

    def annotation_type(self, name: str) -> str | None:
        return _answer(self.resolve(f"type:{name}"))

    def resolve(self, ref: Ref, depth: int = 0) -> str | None:
        """A kind, a project class, NONE for `None`, or None when unknown."""
        if not ref or depth > _MAX_DEPTH:
            return None
        if ref == NONE:
            return NONE
        key = (ref, depth)
        if key in self._resolved:
            return self._resolved[key]
        self._resolved[key] = None  # a reference that leads back to itself is unknown
        found = self._resolve(ref, depth)
        self._resolved[key] = found
        return found

    def _resolve(self, ref: Ref, depth: int) -> str | None:
        how, _, what = ref.partition(":")
        if how == "type":
            name = self.real_name(what)
            return self.annotations.get(name) or (name if self.is_class(name) else None)
        if how == "call":
            name = self.real_name(what)
            kind = self.constructors.get(name)
            if kind is not None or self.is_class(name):
                return kind or name
            function = self.function_facts(name)
            if function is None or function.wrapped or not function.returns:
                return None
            return self._agree(function.returns, depth)
        if how == "attr":
            owner, _, attribute = what.partition(":")
            return self._attribute(owner, attribute, depth)
        return None

    def _attribute(self, owner: str, attribute: str, depth: int) -> str | None:
        found = self._member(owner, attribute)
        if found is None or attribute in found[1].methods:
            return None  # unknown, or a method rather than a value
        return self._agree(found[1].attributes[attribute], depth)

    def _agree(self, refs: tuple[Ref, ...], depth: int) -> str | None:
        """The one type every reference resolves to (`None` agreeing with any)."""
        found = set()
        for ref in refs:
            resolved = self.resolve(ref, depth + 1)
            if resolved is None:
                return None
            found.add(resolved)
        found.discard(NONE)
        if not found:
            return NONE
        return found.pop() if len(found) == 1 else None


def _answer(resolved: str | None) -> str | None:
    return None if resolved == NONE else resolved
