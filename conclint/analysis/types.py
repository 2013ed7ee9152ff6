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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from conclint.analysis import (
    acquires,
    blocking_summary,
    catalog,
    generator_uses,
    lifecycle,
    switches,
    task_tops,
)
from conclint.analysis.declared import NONE, ClassFacts, Declarations, FunctionFacts, Ref
from conclint.analysis.exit_summaries import AWAITED
from conclint.analysis.names import canonical
from conclint.catalog import Catalog

# How many references are followed for one answer (a factory returning a factory's
# result, an attribute holding a global): deeper chains are unknown.
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Outline:
    """What the model asks of every module, kept by the index so that asking decodes none:
    the last names of functions and methods that may never return, (class, base) for
    every base of every class, and what the modules import from modules of private
    packages (absolute names)."""

    ending_names: frozenset[str]
    bases: tuple[tuple[str, str], ...]
    imported_internals: frozenset[str] = frozenset()


def ending_names(declared: Declarations) -> tuple[str, ...]:
    """The last names of a module's functions and methods that may never return."""
    tables = [declared.functions, *(facts.methods for facts in declared.classes.values())]
    return tuple(sorted({name for table in tables for name, f in table.items() if _may_end(f)}))


# How deep `never_suspends` follows the awaits of coroutine functions.
_AWAITS_FOLLOWED = 3


class ProjectTypes:
    """Types of the project's calls, globals and attributes, resolved when asked."""

    def __init__(
        self,
        modules: Mapping[str, Declarations],
        aliases: Mapping[str, str],
        known: Catalog,
        outline: Outline | None = None,
    ) -> None:
        self.modules = modules
        self.outline = outline
        # Re-exports of packages: `app.Client` -> `app.client.Client`.
        self.aliases = aliases
        self.known = known
        self.constructors = known.constructors
        self.annotations = known.annotation_kinds
        self._resolved: dict[tuple[Ref, int], str | None] = {}
        # Class -> its method resolution order (made when first asked).
        self._orders: dict[str, list[tuple[str, ClassFacts | None]]] = {}
        # Exits: the catalog's calls that never return; what is known of references.
        self.no_return_calls = known.functions_with("never-returns")
        self._ending: dict[tuple[Ref, int], bool] = {}
        self._ending_names: frozenset[str] | None = None
        # Class -> the project classes that name it as a base (made when first asked).
        self._derived: dict[str, list[str]] | None = None
        # Bases outside the project known to give their subclasses no methods.
        self.empty_bases = known.names_with("empty-base")

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
        """`name` and its bases in method resolution order (Python's C3 linearization, so
        `class C(B1, B2)` where `B2` derives from `B1`'s base finds `B2` first); a base that
        is not a project class comes with no facts: it may define anything."""
        real = self.real_name(name)
        found = self._orders.get(real)
        if found is None:
            order = self._linearized(real, set())
            found = self._orders[real] = (
                [(each, self._facts_in_mro(each)) for each in order]
                if order is not None
                else self._depth_first(real)
            )
        return found

    def _facts_in_mro(self, name: str) -> ClassFacts | None:
        """A class of the project, one that gives nothing (`typing.Generic`: no facts to
        know), or one that may define anything (None)."""
        if name in self.empty_bases:
            return _NOTHING
        return self.class_facts(name) if name else None

    def _linearized(self, name: str, visiting: set[str]) -> list[str] | None:
        """C3 of `name` (None for a hierarchy Python would refuse, or a cycle)."""
        facts = self.class_facts(name) if name else None
        if facts is None:
            return [name]
        if name in visiting:
            return None
        visiting.add(name)
        bases = [self.real_name(base) if base else "" for base in facts.bases]
        sequences = []
        for base in bases:
            found = self._linearized(base, visiting)
            if found is None:
                return None
            sequences.append(found)
        visiting.discard(name)
        sequences.append(bases)
        order = [name]
        while sequences := [sequence for sequence in sequences if sequence]:
            head = next(
                (
                    candidate[0]
                    for candidate in sequences
                    if not any(candidate[0] in other[1:] for other in sequences)
                ),
                None,
            )
            if head is None:
                return None
            order.append(head)
            sequences = [
                sequence[1:] if sequence[0] == head else sequence for sequence in sequences
            ]
        return order

    def _depth_first(self, name: str) -> list[tuple[str, ClassFacts | None]]:
        order: list[tuple[str, ClassFacts | None]] = []
        seen: set[str] = set()
        stack = [self.real_name(name)]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            facts = self._facts_in_mro(current)
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

    # Exits (`exit_summaries.py`): which project functions never return -----------------

    def never_returns(self, name: str, *, awaited: bool, dispatched: bool) -> bool:
        """Calling the project function `name` (`app.errors.fail`, or a method by its
        class, `app.client.Client.fail`) never returns: awaited, for a coroutine function.
        `dispatched`: the method is called on an instance, which may be of a project
        subclass that overrides it."""
        owner, _, method = name.rpartition(".")
        how = f"method:{owner}:{method}" if dispatched else f"call:{name}"
        return self._ends((AWAITED if awaited else "") + how, 0)

    def reraises(self, name: str, argument: int | str, *, awaited: bool, dispatched: bool) -> bool:
        """Calling `name` (as `never_returns` does) with a cancellation as `argument` (a
        position as the caller passes it, or a keyword) raises it again, or never returns."""
        if self.never_returns(name, awaited=awaited, dispatched=dispatched):
            return True
        owner, _, method = name.rpartition(".")
        versions = self._versions(owner, method) if dispatched else None
        if versions is None:
            facts = self.function_facts(name)
            versions = [facts] if facts is not None else []
        part = 0 if isinstance(argument, int) else 2
        given = str(argument)
        return bool(versions) and all(
            self._facts_end(facts, awaited, 0)
            or (
                _callable(facts, awaited)
                and any(entry.partition(":")[part] == given for entry in facts.reraises)
            )
            for facts in versions
        )

    def ending_names(self) -> frozenset[str]:
        """The last names of the project's functions and methods that may never return:
        what a call must spell to be asked about."""
        if self._ending_names is None:
            if self.outline is not None:
                self._ending_names = self.outline.ending_names
            else:
                self._ending_names = frozenset(
                    name for declared in self.modules.values() for name in ending_names(declared)
                )
        return self._ending_names

    def _ends(self, ref: Ref, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            return False
        key = (ref, depth)
        found = self._ending.get(key)
        if found is None:
            self._ending[key] = False  # a call that leads back to itself is unknown
            found = self._ending[key] = self._never_returns(ref, depth)
        return found

    def _never_returns(self, ref: Ref, depth: int) -> bool:
        awaited = ref.startswith(AWAITED)
        how, _, what = ref.removeprefix(AWAITED).partition(":")
        if how == "call":
            name = self.real_name(what)
            if name in self.no_return_calls:
                return True
            facts = self.function_facts(name)
            return facts is not None and self._facts_end(facts, awaited, depth)
        if how != "method":
            return False
        owner, _, method = what.partition(":")
        versions = self._versions(owner, method)
        return bool(versions) and all(
            self._facts_end(facts, awaited, depth) for facts in versions or ()
        )

    def _facts_end(self, facts: FunctionFacts, awaited: bool, depth: int) -> bool:
        if not _callable(facts, awaited):
            return False
        if facts.annotated_no_return or facts.always_raises:
            return True
        return bool(facts.ends_in) and all(self._ends(ref, depth + 1) for ref in facts.ends_in)

    def _versions(self, owner: str, method: str) -> list[FunctionFacts] | None:
        """The methods that calling `method` on an instance of `owner` may run: the one it
        finds, and the overrides of project subclasses, unless the one it finds is
        annotated `NoReturn` (a promise that overrides keep, as type checkers say).
        None when unknown (an attribute of that name, a base outside the project)."""
        found = self.method(owner, method)
        if found is None:
            return None
        facts = found[1]
        if facts.annotated_no_return:
            return [facts]
        versions = [facts]
        for derived in self.subclasses(self.real_name(owner)):
            derived_facts = self.class_facts(derived)
            if derived_facts is None or method in derived_facts.attributes:
                return None
            override = derived_facts.methods.get(method)
            if override is not None:
                versions.append(override)
        return versions

    # Class lifecycle (`lifecycle.py`): teardown methods, what they stop, what
    # constructors keep ----------------------------------------------------------------

    def teardowns(self, owner: str, names: Iterable[str]) -> tuple[tuple[str, ...], bool]:
        """The methods among `names` that instances of `owner` have, and whether that is
        all of them (False when a base outside the project, or an attribute of that name,
        may give it others)."""
        order = self.mro(owner)
        found: list[str] = []
        complete = True
        for name in names:
            where = _defined_at(order, name, 0)
            if where is None:
                complete = False
            elif where >= 0:
                found.append(name)
        return tuple(found), complete

    def stopped_by(self, owner: str, methods: Iterable[str], attribute: str) -> bool | None:
        """Whether running `methods` on an instance of `owner` stops, joins, cancels or hands
        on its `attribute` (`lifecycle.py`'s `stops`), directly or through the methods they
        call on `self` and `super()`; None when that cannot be known."""
        order = self.mro(owner)
        stack = [(name, 0) for name in methods]
        seen: set[tuple[str, int]] = set()
        unknown = False
        while stack:
            name, start = stack.pop()
            where = _defined_at(order, name, start)
            if where is None:
                unknown = True
            if where is None or where < 0 or (name, where) in seen:
                continue
            seen.add((name, where))
            facts = order[where][1]
            assert facts is not None
            method = facts.methods[name]
            if attribute in method.stops:
                return True
            unknown = unknown or lifecycle.ANY in method.stops
            # Its own methods handed to a call may run (`loop.call_soon(self._stop)`).
            stack.extend((ref, 0) for ref in method.stops if _is_method(order, ref))
            for call in method.calls_self:
                cls, _, called = call.rpartition(lifecycle.SUPER)
                if lifecycle.SUPER not in call:
                    stack.append((call, 0))
                elif not cls:
                    stack.append((called, where + 1))
                else:
                    index = _index_of(order, self.real_name(cls))  # `Base.close(self)`
                    unknown = unknown or index < 0
                    if index >= 0:
                        stack.append((called, index))
        return None if unknown else False

    def callbacks(self, owner: str) -> tuple[str, ...]:
        """The methods of `owner` that its methods hand to a call (`Thread(target=self._run)`,
        `loop.call_soon(self._flush)`): they may run at any time, on teardown too. All of
        them when a method hands `self` itself to a call (`transport.set_protocol(self)`):
        the callee may call any."""
        order = self.mro(owner)
        methods = [m for _, facts in order if facts is not None for m in facts.methods.values()]
        if any(self._hands_self(order, method) for method in methods):
            names = {name for _, facts in order if facts is not None for name in facts.methods}
        else:
            names = {name for m in methods for name in m.stops if _is_method(order, name)}
        return tuple(sorted(names))

    def _hands_self(
        self, order: list[tuple[str, ClassFacts | None]], method: FunctionFacts
    ) -> bool:
        """The method hands `self` to a call: `register(self)`, or `helpers.run(self)` (a
        call through a name with `self` first that is no class of the MRO)."""
        if lifecycle.ANY in method.stops:
            return True
        named = (call.rpartition(lifecycle.SUPER)[0] for call in method.calls_self)
        return any(cls and _index_of(order, self.real_name(cls)) < 0 for cls in named)

    def subclasses(self, owner: str) -> list[str]:
        """The project's classes derived from `owner`, at any depth."""
        if self._derived is None:
            bases = self.outline.bases if self.outline is not None else self._bases()
            derived: dict[str, list[str]] = {}
            for name, base in bases:
                derived.setdefault(self.real_name(base), []).append(name)
            self._derived = derived
        found: list[str] = []
        stack = [self.real_name(owner)]
        while stack:
            for child in self._derived.get(stack.pop(), ()):
                if child not in found:
                    found.append(child)
                    stack.append(child)
        return found

    def _bases(self) -> list[tuple[str, str]]:
        return [
            (f"{module}.{local}", base)
            for module, declared in self.modules.items()
            for local, facts in declared.classes.items()
            for base in facts.bases
            if base
        ]

    def stopped_anywhere(self, owner: str, attribute: str) -> bool:
        """Some method of `owner`, of a project base of it or of a project class derived from
        it, stops, joins, cancels or hands on its `attribute`."""
        known = [facts for _, facts in self.mro(owner) if facts is not None]
        if any(attribute in m.stops for facts in known for m in facts.methods.values()):
            return True
        # Only now the classes derived from it (finding them reads every module).
        derived = [facts for name in self.subclasses(owner) if (facts := self.class_facts(name))]
        return any(attribute in m.stops for facts in derived for m in facts.methods.values())

    def takes_ownership(
        self, owner: str, argument: int | str, names: Iterable[str], start: str | None = None
    ) -> bool | None:
        """Whether the `__init__` that `super().__init__(...)` runs in a method of `owner`
        (or `start.__init__(self, ...)`) takes ownership of `argument` (a position, or a
        keyword): keeps it on `self`, itself or through the `__init__` of a base, in an
        attribute that a teardown method of `owner` (of `names`) stops. None when unknown
        (a base outside the project, an argument also handed elsewhere)."""
        order = self.mro(owner)
        first = 1 if start is None else _index_of(order, self.real_name(start))
        teardowns, complete = self.teardowns(owner, names)
        for _ in range(_MAX_DEPTH):
            where = _defined_at(order, lifecycle.CONSTRUCTOR, first) if first >= 0 else None
            if where is None or where < 0:
                return None if where is None else False
            facts = order[where][1]
            assert facts is not None
            kept = facts.methods[lifecycle.CONSTRUCTOR].keeps
            part = 0 if isinstance(argument, int) else 2
            places = next(
                (to for key, to in kept.items() if key.partition(":")[part] == str(argument)), ()
            )
            if lifecycle.ELSEWHERE in places:
                return None
            attributes = [place for place in places if lifecycle.SUPER not in place]
            if attributes and not teardowns:
                # No teardown: kept like an attribute the class made, stopped anywhere or not.
                if any(self.stopped_anywhere(owner, each) for each in attributes):
                    return None
            elif attributes:
                stops = {self.stopped_by(owner, teardowns, each) for each in attributes}
                if True in stops:
                    return True
                if None in stops or not complete:
                    return None
            forwarded = next((place for place in places if lifecycle.SUPER in place), None)
            if forwarded is None:
                return False
            cls, _, given = forwarded.partition(lifecycle.SUPER)
            argument = int(given) if given.isdigit() else given
            first = _index_of(order, self.real_name(cls)) if cls else where + 1
        return None

    # Blocking summaries (`blocking_summary.py`): how calling a sync helper blocks -----

    def blocking_chain(
        self, name: str, depth: int = blocking_summary.MAX_HELPERS, given: str = ""
    ) -> tuple[str, ...] | None:
        """How calling the project function `name` (or a method spelled through its class,
        `app.db.Store.load`) reaches a blocking call: the calls after it, at most `depth`
        (`("read()", "open()")`); None when it does not, or when that is unknown. `given`
        is the mark of the call's arguments (`switches.arguments`, "" when unknown)."""
        return self._blocking.of_function(name, depth, given)

    def method_blocking_chain(
        self,
        owner: str,
        method: str,
        depth: int = blocking_summary.MAX_HELPERS,
        off: frozenset[str] = frozenset(),
        given: str = "",
    ) -> tuple[str, ...] | None:
        """As `blocking_chain`, for calling `method` on an instance of the project class
        `owner` (the class the receiver is known to be decides, as for a type checker)
        whose attributes `off` hold None (`switched_off`)."""
        return self._blocking.of_method(owner, method, depth, off, given)

    @cached_property
    def _blocking(self) -> blocking_summary.Chains:
        return blocking_summary.Chains(self)

    # Locks (`acquires.py`): what entering an instance holds, how a semaphore was made ---

    def class_holds(self, owner: str) -> tuple[Ref, ...]:
        """The locks an instance of the project class `owner` holds while a `with` (or
        `async with`) block runs: those of the class that defines both its entry and exit
        methods, first along the MRO (none when a base outside the project comes first)."""
        order = self.mro(owner)
        found: list[Ref] = []
        for enter, leave in acquires.ENTRIES:
            where = _defined_at(order, enter, 0)
            if where is not None and where >= 0 and _defined_at(order, leave, 0) == where:
                facts = order[where][1]
                assert facts is not None
                found.extend(facts.holds)
        return tuple(dict.fromkeys(found))

    def attribute_home(self, owner: str, attribute: str) -> str:
        """The class whose instances' `attribute` the code of `owner` and of its project
        bases shares: the last one along the project's MRO that assigns it (`owner`
        itself when none is known to)."""
        found = owner
        for name, facts in self.mro(owner):
            if facts is None:
                break
            if attribute in facts.attributes:
                found = name
        return found

    def releases_along_mro(self, owner: str, attribute: str) -> bool:
        """Some method of `owner` or of a project base gives back the lock in its
        `attribute` on every path (`ack()`, `_done()`, `__exit__`)."""
        return any(
            ref.partition(acquires.ALTERNATIVE)[0].rpartition(":")[2] == attribute
            and ref.startswith(f"{acquires.ATTRIBUTE}:")
            for _, facts in self.mro(owner)
            if facts is not None
            for method in facts.methods.values()
            for ref in method.releases
        )

    def global_made(self, name: str) -> tuple[str, ...] | None:
        """How the module global `name` was made: a mark (`acquires.note_made`) per call
        assigned to it; None when it is no global of the project."""
        module, _, local = self.real_name(name).rpartition(".")
        declared = self.modules.get(module)
        if declared is None or local not in declared.globals:
            return None
        return declared.made.get(local, ())

    def attribute_made(self, owner: str, attribute: str) -> tuple[str, ...] | None:
        """As `global_made`, for `attribute` of instances of the class `owner`."""
        found = self._member(owner, attribute)
        if found is None or attribute in found[1].methods:
            return None
        return found[1].made.get(attribute, ())

    def switched_off(self, made_in: str, attribute: str, kind: str) -> frozenset[str]:
        """The attributes that instances of the project class `kind`, kept in `attribute`
        of instances of `made_in`, hold None in because every call that made them passed
        the argument that switches them on as false, or left it out where it defaults to
        false (`switches.py`): those of the `__init__` its MRO finds, which no other class
        along it assigns."""
        return self._switched_off(self.attribute_made(made_in, attribute), kind)

    def global_switched_off(self, name: str, kind: str) -> frozenset[str]:
        """As `switched_off`, for the instance of `kind` in the module global `name`."""
        return self._switched_off(self.global_made(name), kind)

    def _switched_off(self, marks: tuple[str, ...] | None, kind: str) -> frozenset[str]:
        order = self.mro(kind)
        where = _defined_at(order, "__init__", 0)
        if not marks or where is None or where < 0 or any(f is None for _, f in order):
            return frozenset()
        facts = order[where][1]
        assert facts is not None
        assigned_elsewhere = {
            name
            for index, (_, other) in enumerate(order)
            if index != where and other is not None
            for name in other.attributes
        }
        return frozenset(
            name
            for name, switch in facts.switches.items()
            if name not in assigned_elsewhere and switches.is_off(switch, marks)
        )

    def constructs_quietly(self, name: str) -> bool:
        """Calling the project class `name` cannot raise: the `__init__` its MRO finds only
        stores what it is given (`FunctionFacts.stores_only`), and no class along it, each
        of the project, defines `__new__` or `__post_init__`."""
        real = self.real_name(name)
        if not self.is_class(real):
            return False
        order = self.mro(real)
        where = _defined_at(order, "__init__", 0)
        if where is None or where < 0 or any(facts is None for _, facts in order):
            return False
        init = order[where][1]
        assert init is not None
        return init.methods["__init__"].stores_only and all(
            _defined_at(order, method, 0) == -1 for method in ("__new__", "__post_init__")
        )

    def never_suspends(self, name: str | None, owner: str | None = None) -> bool:
        """Whether the coroutine function `name` (absolute; with `owner`, a class's absolute
        name, the name of one of its methods, whichever override an instance runs) never
        suspends: a task of it ends in its first step."""
        if name is None:
            return False
        return self._never_suspends(name, owner, _AWAITS_FOLLOWED)

    def _never_suspends(self, name: str, owner: str | None, depth: int) -> bool:
        if owner is None:
            facts = self.function_facts(name)
            versions = [facts] if facts is not None else None
        else:
            versions = self._versions(owner, name)
        return bool(versions) and all(
            facts.never_suspends
            or (
                depth > 0
                and bool(facts.awaits)
                and all(self._awaited_never_suspends(r, owner, depth - 1) for r in facts.awaits)
            )
            for facts in versions or ()
        )

    def _awaited_never_suspends(self, ref: str, instance: str | None, depth: int) -> bool:
        """A call a coroutine function awaits (`blocking_summary` reference) runs a project
        coroutine function that never suspends."""
        method, at, receiver = ref.partition("@")
        if not at:
            return self._never_suspends(ref, None, depth)
        owner = self.receiver_type(receiver, instance)
        if owner in self.known.kinds:
            # `await self._queue.put(x)` on a queue made without a bound: room at once.
            return self.fills_with_room(owner, method, receiver, instance)
        return (
            owner is not None
            and self.is_class(owner)
            and self._never_suspends(method, owner, depth)
        )

    def fills_with_room(self, kind: str, method: str, receiver: str, instance: str | None) -> bool:
        """`self._queue.put(x)` (a `blocking_summary` call reference's method and receiver,
        in a method of `instance`'s class) where every value the class gives `_queue` is a
        queue of `kind` made without a bound: the fill has room at once."""
        if method not in catalog.WAITING_FILLS.get(kind, ()):
            return False
        if receiver.startswith("type:"):
            return True  # an annotated parameter: its making is not seen, nor any bound
        if not receiver.startswith(f"{blocking_summary.SELF}.") or instance is None:
            return False
        marks = self.attribute_made(instance, receiver.partition(".")[2])
        return marks is not None and not acquires.may_be_full(marks)

    def receiver_type(self, receiver: str, instance: str | None) -> str | None:
        """What the receiver of a `blocking_summary` call reference (`m@self`,
        `m@self.store`, `m@type:app.db.Store`) holds, in a method of `instance`'s class:
        a project class or a catalog kind, when known."""
        if receiver == blocking_summary.SELF:
            return instance
        if receiver.startswith(f"{blocking_summary.SELF}."):
            return self.attribute_type(instance, receiver.partition(".")[2]) if instance else None
        return self.resolve(receiver)

    # Task tops (`task_tops.py`): coroutine functions only ever run as a task's top -------

    def task_top(self, name: str, owner: str | None = None) -> bool:
        """Whether the coroutine function `name` (absolute; with `owner`, a class's absolute
        name, the name of one of its methods) runs only as the top of an asyncio task the
        project spawns."""
        return self._tops.is_top(name, owner)

    @cached_property
    def _tops(self) -> task_tops.Tops:
        return task_tops.Tops(self)

    # Generators every use closes (`generator_uses.py`) ------------------------------------

    def closed_by_every_use(self, module: str, name: str, owner: str | None = None) -> bool:
        """Whether every call of the async generator `name`, which only the project calls (a
        function of `module`, or with `owner`, a class's absolute name, one of its
        methods), is closed by the function that makes it (`aclosing(...)`, `aclose()` in
        `finally`, a drain): the modules that may call it are its own and, for a method,
        those of the project's classes above and below its class."""
        modules = {module}
        family: set[str] = set()
        if owner is not None:
            family = {self.real_name(c) for c, _ in self.mro(owner)}
            family.update(self.real_name(c) for c in self.subclasses(owner))
            modules |= {cls.rpartition(".")[0] for cls in family}
        uses = [
            use
            for each in modules
            if (declared := self.modules.get(each)) is not None
            for use, _, through in (
                found.partition(generator_uses.THROUGH)
                for found in declared.generators.get(name, ())
            )
            # A use through the receiver of a class outside the family calls another method.
            if not (owner is not None and through and f"{each}.{through}" not in family)
        ]
        closed_by = f"{generator_uses.CLOSED}{generator_uses.CLOSED_BY}"
        given = f"{generator_uses.HANDED}{generator_uses.CLOSED_BY}"
        return bool(uses) and all(
            use == generator_uses.CLOSED
            or (use.startswith(closed_by) and self.closes_on_exit(use.removeprefix(closed_by)))
            or (use.startswith(given) and self._closes_calls(use.removeprefix(given), owner))
            for use in uses
        )

    def _closes_calls(self, handed: str, owner: str | None) -> bool:
        """`app.flows.drive#0` (or `self._run#1`, a method of an instance of `owner`): that
        function closes every call of what it is given there (`closes_calls_of`)."""
        callee, _, position = handed.rpartition(task_tops.AT)
        if callee.startswith(f"{task_tops.SELF}."):
            found = self.method(owner, callee.partition(".")[2]) if owner else None
            facts = found[1] if found is not None else None
        else:
            facts = self.function_facts(callee)
        if facts is None:
            return False
        for closes in facts.closes_calls_of:
            where, _, closer = closes.partition(generator_uses.CLOSED_BY)
            if where == position and (not closer or self.closes_on_exit(closer)):
                return True
        return False

    def closes_on_exit(self, name: str) -> bool:
        """Whether `name(x)` makes a context manager that closes `x` on its way out: the
        catalog's (`aclosing`, under any name the project gives it), or a project class
        made as one (`ClassFacts.closes_given`)."""
        real = canonical(self.real_name(name))
        if real in self.known.functions_with("closes-on-exit"):
            return True
        facts = self.class_facts(real)
        return facts is not None and facts.closes_given


# What an empty base gives its subclasses.
_NOTHING = ClassFacts()


def _index_of(order: list[tuple[str, ClassFacts | None]], name: str) -> int:
    return next((index for index, (each, _) in enumerate(order) if each == name), -1)


def _is_method(order: list[tuple[str, ClassFacts | None]], name: str) -> bool:
    where = _defined_at(order, name, 0)
    return where is not None and where >= 0


def _defined_at(order: list[tuple[str, ClassFacts | None]], name: str, start: int) -> int | None:
    """Where in `order` (from `start` on) the method `name` is defined: its index, -1 when
    no class defines it, None when a base outside the project, or an attribute of that
    name, comes first."""
    for index in range(start, len(order)):
        facts = order[index][1]
        if facts is None or name in facts.attributes:
            return None
        if name in facts.methods:
            return index
    return -1


def _callable(facts: FunctionFacts, awaited: bool) -> bool:
    """Calling the function runs its body (awaited, for a coroutine function)."""
    return not facts.wrapped and (not facts.is_async or (awaited and facts.coroutine))


def _may_end(facts: FunctionFacts) -> bool:
    return facts.annotated_no_return or facts.always_raises or bool(facts.ends_in or facts.reraises)


def _answer(resolved: str | None) -> str | None:
    return None if resolved == NONE else resolved
