"""What a local name or `self.` attribute holds: a queue, a lock, a loop, a task, ...

Kinds are canonical class names from `catalog.py` (`asyncio.Queue`,
`threading.Lock`, `asyncio.AbstractEventLoop`). A name has a kind when every
binding of it in its scope agrees, or, where they do not, when the code shows
which one reaches the use: the last one before it in a block that holds it,
with no other one that a branch or a loop could bring in between (so
`f: int = 7`, then `f: io.TextIOWrapper = ...` gives `f` a kind from there
on). `self.x` has one when every assignment to it in the class, and its
class-level annotation, agree. A binding to `None` agrees with any kind
(`self._writer = None` until the connection is made). Sources are
constructors and factories (also subscripted: `asyncio.Queue[int]()`,
`create_memory_object_stream[bytes](10)`), tuple unpacking of known tuple
factories and of tuples written out (`a, b = Path(x), Path(y)`), into names
or attributes, annotations (also quoted; the `typing` forms that wrap or join
types are the catalog's names with roles `type-wrapper` and `type-union`),
and `with` targets of objects whose `__enter__` returns themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.declared import FunctionFacts
from conclint.analysis.names import NameResolver, absolute_import
from conclint.analysis.scopes import Binding, ScopeNode, identifier, iter_statements, scope_body
from conclint.analysis.types import ProjectTypes
from conclint.analysis.walk import children
from conclint.catalog import Catalog, typing_forms

# An attribute's sources: (value or None, annotation or None, the chain to resolve them in,
# the position inside a tuple target or None).
_AttributeSource = tuple[
    cst.BaseExpression | None, cst.BaseExpression | None, tuple[ScopeNode, ...], int | None
]

# What a binding to `None` holds: no kind, but no disagreement with one either.
_NONE = "builtins.None"

_MAX_DEPTH = 3


class Bindings:
    def __init__(
        self,
        names: NameResolver,
        known: Catalog,
        module: str | None = None,
        model: Callable[[], ProjectTypes] | None = None,
        tree: cst.Module | None = None,
    ) -> None:
        self.names = names
        self.tree = tree
        # The module's absolute name, and the project model (made when first asked).
        self.module = module
        alone = ProjectTypes({}, {}, known)
        self.model = model or (lambda: alone)
        self.kinds = known.kinds
        # The catalog's own tables (the user's entries merged in): nothing is copied per file.
        self.constructors = known.constructors
        self.annotations = known.annotation_kinds
        self.wrappers, self.unions = typing_forms(known)
        self._attributes: dict[int, dict[str, list[_AttributeSource]]] = {}
        # Where each statement of a scope sits, by id of the scope (built when asked).
        self._layouts: dict[int, dict[int, _Place]] = {}
        # The enclosing chain of every class entered so far (kept by FileContext).
        self.chains: dict[int, tuple[ScopeNode, ...]] = {}

    def kind_of(self, expr: cst.BaseExpression, chain: Sequence[ScopeNode]) -> str | None:
        """The catalog kind of object `expr` evaluates to (`asyncio.Queue`), if known."""
        found = self._type_of(expr, chain)
        return found if found in self.kinds else None

    def instance_of(self, expr: cst.BaseExpression, chain: Sequence[ScopeNode]) -> str | None:
        """The project class (absolute name) of which `expr` is an instance, if known."""
        found = self._type_of(expr, chain)
        return found if found is not None and found not in self.kinds else None

    def _type_of(
        self, expr: cst.BaseExpression, chain: Sequence[ScopeNode], _depth: int = 0
    ) -> str | None:
        """A catalog kind or a project class: what `expr` evaluates to, as far as the
        module and the project model show."""
        if _depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Name):
            found = self.names.lookup(expr.value, chain)
            if found is None:
                return None
            index, bindings = found
            kinds = [
                self._binding_kind(binding, chain[: index + 1], _depth) for binding in bindings
            ]
            agreed = self._agree(kinds)
            if agreed is None and index == len(chain) - 1 and set(kinds) - {None, _NONE}:
                reaching = self._reaching(expr, chain[index], bindings)
                if reaching is not None:
                    kind = kinds[reaching]
                    return kind if kind != _NONE else None
            return agreed
        if isinstance(expr, cst.Attribute):
            return self._member_type(expr, chain, _depth)
        if isinstance(expr, cst.Call):
            return self._call_type(expr, chain, _depth)
        return None

    def _member_type(
        self, expr: cst.Attribute, chain: Sequence[ScopeNode], depth: int
    ) -> str | None:
        """`self.x` from the class and its project bases; `obj.x` for an instance of a
        project class; `module.GLOBAL` of a project module."""
        attribute = expr.attr.value
        if isinstance(expr.value, cst.Name):
            owner = self.class_of_receiver(expr.value, chain)
            if owner is not None:
                if attribute in self._class_attributes(owner):
                    return self._attribute_type(owner, attribute, depth)
                qualified = self.class_name(owner)
                return self.model().attribute_type(qualified, attribute) if qualified else None
        receiver = self._type_of(expr.value, chain, depth + 1)
        if receiver is not None and receiver not in self.kinds:
            return self.model().attribute_type(receiver, attribute)
        name = self.names.resolve(expr, chain)
        return self.model().global_type(name) if name else None

    def _call_type(self, call: cst.Call, chain: Sequence[ScopeNode], depth: int) -> str | None:
        """What a call gives: a catalog constructor's kind, an instance of a project class,
        or what a project function or method returns."""
        func = _factory(call)
        name = self.qualified(func, chain)
        if name is not None:
            return self.constructors.get(name) or self.model().call_type(name)
        if isinstance(func, cst.Attribute):
            receiver = self._receiver_class(func.value, chain, depth)
            if receiver is not None:
                return self.model().call_type(f"{receiver}.{func.attr.value}")
        return None

    def callee(
        self, func: cst.BaseExpression, chain: Sequence[ScopeNode]
    ) -> tuple[str, FunctionFacts] | None:
        """The project function or method that calling `func` runs (its absolute name,
        `app.db.fetch` or `app.db.Client.fetch`, and its facts), when the model is certain
        of it: a function of the module or an import, a method of `self`/`cls`, of a class
        name or of an instance of a project class (its own or a base's)."""
        name = self.qualified(func, chain)
        if name is not None:
            facts = self.model().function_facts(name)
            return (self.model().real_name(name), facts) if facts is not None else None
        if not isinstance(func, cst.Attribute):
            return None
        receiver = self._receiver_class(func.value, chain, 0)
        if receiver is None:
            return None
        found = self.model().method(receiver, func.attr.value)
        return (f"{found[0]}.{func.attr.value}", found[1]) if found is not None else None

    def _receiver_class(
        self, receiver: cst.BaseExpression, chain: Sequence[ScopeNode], depth: int
    ) -> str | None:
        """The project class of `self`/`cls` or of an instance, by absolute name."""
        if isinstance(receiver, cst.Name):
            owner = self.class_of_receiver(receiver, chain)
            if owner is not None:
                return self.class_name(owner)
        found = self._type_of(receiver, chain, depth + 1)
        return found if found is not None and found not in self.kinds else None

    def qualified(self, expr: cst.BaseExpression, chain: Sequence[ScopeNode]) -> str | None:
        """The absolute name `expr` spells: an import (as `names.resolve`), or a class or
        function the module defines at its top level (`app.client.Client`)."""
        resolved = self.names.resolve(expr, chain)
        if resolved is not None or self.module is None:
            return resolved
        if isinstance(expr, cst.Attribute):
            base = self.qualified(expr.value, chain)
            return f"{base}.{expr.attr.value}" if base else None
        if not isinstance(expr, cst.Name):
            return None
        found = self.names.lookup(expr.value, chain)
        if found is None or found[0] != 0:
            return None
        if all(binding.how in ("class", "def") for binding in found[1]):
            return f"{self.module}.{identifier(expr.value)}"
        return None

    def global_name(self, expr: cst.Name, chain: Sequence[ScopeNode]) -> str | None:
        """The absolute name of the module global `expr` denotes: one the module assigns
        at its top level, or one it imports (`from app.log import logger`)."""
        found = self.names.lookup(expr.value, chain)
        if found is None or found[0] != 0 or self.module is None:
            return None
        if all(binding.how == "assign" for binding in found[1]):
            return f"{self.module}.{identifier(expr.value)}"
        return self.names.resolve(expr, chain)

    def class_name(self, owner: cst.ClassDef) -> str | None:
        """The absolute name of a class the module defines at its top level."""
        chain = self._chain_of_class(owner)
        if self.module is None or len(chain) != 2:
            return None
        return f"{self.module}.{identifier(owner.name.value)}"

    def _binding_kind(self, binding: Binding, chain: Sequence[ScopeNode], depth: int) -> str | None:
        if binding.annotation is not None:
            annotated = self._annotation_type(binding.annotation, chain)
            if annotated is not None:
                return annotated
        if binding.how == "import" and binding.imported:
            # `from app.state import QUEUE`: a global of another module of the project.
            imported = absolute_import(binding.imported, self.names.package)
            return self.model().global_type(imported) if imported else None
        value = binding.value
        if value is None or binding.how not in ("assign", "with"):
            return None
        if binding.index is not None:
            return self._unpacked_kind(value, binding.index, chain, depth, binding.node)
        if isinstance(value, cst.Name) and value.value == "None":
            return _NONE
        kind = self._type_of(value, chain, depth + 1)
        if binding.how == "with" and kind in catalog.ENTER_RETURNS_OTHER:
            return None  # `with lock as held:` binds what `__enter__` returns (True)
        return kind

    def _unpacked_kind(
        self,
        value: cst.BaseExpression,
        index: int,
        chain: Sequence[ScopeNode],
        depth: int,
        statement: cst.CSTNode | None = None,
    ) -> str | None:
        """The kind of element `index` of `value` unpacked by `statement` (None: into
        attributes, which are left out when starred): a tuple written out, or what a
        factory of tuples returns."""
        element = _element(value, index, statement)
        if element is not None:
            return self._type_of(element, chain, depth + 1)
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return None
        kinds = catalog.TUPLE_FACTORIES.get(self.names.resolve(_factory(value), chain) or "")
        return kinds[index] if kinds and index < len(kinds) else None

    def annotation_kind(
        self, annotation: cst.BaseExpression, chain: Sequence[ScopeNode]
    ) -> str | None:
        """The catalog kind an annotation names (`Optional[asyncio.Queue[int]]`), if any."""
        found = self._annotation_type(annotation, chain)
        return found if found in self.kinds else None

    def _annotation_type(
        self, annotation: cst.BaseExpression, chain: Sequence[ScopeNode]
    ) -> str | None:
        if isinstance(annotation, cst.SimpleString):
            quoted = _parse_annotation(annotation.value)
            if quoted is None:
                return None
            annotation = quoted
        if isinstance(annotation, cst.Subscript):
            outer = self.names.resolve(annotation.value, chain)
            if outer in self.wrappers or outer in self.unions:
                elements = [
                    e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)
                ]
                if outer in self.unions:
                    return self._union_kind(elements, chain)
                return self._annotation_type(elements[0], chain) if elements else None
            annotation = annotation.value
        if isinstance(annotation, cst.BinaryOperation) and isinstance(
            annotation.operator, cst.BitOr
        ):
            return self._union_kind([annotation.left, annotation.right], chain)
        name = self.qualified(annotation, chain)
        if name is None:
            return None
        return self.annotations.get(name) or self.model().annotation_type(name)

    def _union_kind(
        self, members: Sequence[cst.BaseExpression], chain: Sequence[ScopeNode]
    ) -> str | None:
        """`X | None`, `Union[X, None]`: the one kind of the members other than `None`.
        A member of no known kind (`X | int`) may be what the name holds: no kind then."""
        kinds = set()
        for member in members:
            if isinstance(member, cst.Name) and member.value == "None":
                continue
            kind = self._annotation_type(member, chain)
            if kind is None:
                return None
            kinds.add(kind)
        return kinds.pop() if len(kinds) == 1 else None

    def class_of_receiver(
        self, receiver: cst.Name, chain: Sequence[ScopeNode]
    ) -> cst.ClassDef | None:
        """The class whose instance `self` (or `cls`) denotes at this point, if any."""
        found = self.names.lookup(receiver.value, chain)
        if found is None:
            return None
        index, bindings = found
        method = chain[index]
        if index == 0 or not isinstance(method, cst.FunctionDef):
            return None
        owner = chain[index - 1]
        if not isinstance(owner, cst.ClassDef) or _is_staticmethod(method):
            return None
        params = [*method.params.posonly_params, *method.params.params]
        if not params or params[0].name.value != receiver.value or len(bindings) != 1:
            return None
        return owner

    def _attribute_type(self, owner: cst.ClassDef, attribute: str, depth: int = 0) -> str | None:
        sources = self._class_attributes(owner).get(attribute, [])
        kinds = []
        for value, annotation, chain, index in sources:
            kind = self._annotation_type(annotation, chain) if annotation is not None else None
            if kind is None and isinstance(value, cst.Name) and value.value == "None":
                kind = _NONE
            elif kind is None and value is not None:
                if index is not None:
                    kind = self._unpacked_kind(value, index, chain, depth)
                else:
                    kind = self._type_of(value, chain, depth + 1)
            kinds.append(kind)
        return self._agree(kinds)

    def values_of(
        self, expr: cst.BaseExpression, chain: Sequence[ScopeNode]
    ) -> list[cst.BaseExpression | None]:
        """What a name or `self.` attribute is assigned, binding by binding (None: not a
        plain assignment); empty when `expr` is neither or is not bound here."""
        if isinstance(expr, cst.Name):
            return self._name_values(expr, chain, lambda binding: True)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self.class_of_receiver(expr.value, chain)
            if owner is not None:
                sources = self._class_attributes(owner).get(expr.attr.value, [])
                return [
                    value if index is None else _element(value, index, None)
                    for value, _, _, index in sources
                ]
        return []

    def flag_values(
        self, name: cst.Name, chain: Sequence[ScopeNode]
    ) -> list[cst.BaseExpression | None]:
        """`values_of` a name that holds bit flags, without its `x |= y` bindings, which
        keep every flag it had (`FLAGS = AI_NUMERICHOST`, then `FLAGS |= AI_NUMERICSERV`)."""
        return self._name_values(
            name,
            chain,
            lambda binding: (
                not (
                    isinstance(binding.node, cst.AugAssign)
                    and isinstance(binding.node.operator, cst.BitOrAssign)
                )
            ),
        )

    def _name_values(
        self, name: cst.Name, chain: Sequence[ScopeNode], counts: Callable[[Binding], bool]
    ) -> list[cst.BaseExpression | None]:
        """What each binding of `name` that `counts` assigns (None: not a plain assignment)."""
        found = self.names.lookup(name.value, chain)
        if found is None:
            return []
        return [
            self.bound_value(binding) if binding.how == "assign" else None
            for binding in found[1]
            if counts(binding)
        ]

    @staticmethod
    def bound_value(binding: Binding) -> cst.BaseExpression | None:
        """The expression `binding` gives its name, when the code spells one: the value
        assigned, or in `a, b = x, y` the element at the name's position."""
        if binding.index is None:
            return binding.value
        return _element(binding.value, binding.index, binding.node)

    def _reaching(self, use: cst.Name, scope: ScopeNode, bindings: Sequence[Binding]) -> int | None:
        """Which of `bindings` (of one name, in `scope`) every path to `use` passes last,
        as the statements show: the last one before it, in a block that holds `use` (or a
        parameter), with none after `use` in a loop around `use` but not around it. None
        when a branch, a loop or a statement this cannot place may bring in another."""
        layout = self._layouts.get(id(scope))
        if layout is None:
            layout = self._layouts[id(scope)] = _layout(scope)
        at = layout.get(id(use))
        if at is None:
            return None
        found = [_PARAMETER if b.how == "param" else layout.get(id(b.node)) for b in bindings]
        places = [place for place in found if place is not None]
        if len(places) != len(found):
            return None
        before = [(place.order, i) for i, place in enumerate(places) if place.order < at.order]
        if not before:
            return None
        order, last = max(before)
        reaching = places[last]
        if [o for o, _ in before].count(order) > 1 or not reaching.dominates(at):
            return None  # two bindings in one statement, or one that a branch may skip
        around = set(at.loops) - set(reaching.loops)
        if any(p.order >= at.order and around & set(p.loops) for p in places):
            return None  # bound again further on in a loop that leads back to `use`
        return last

    def assigned_attributes(self, owner: cst.ClassDef) -> Collection[str]:
        """Attributes the class body or its methods assign (`x = ...`, `self.x = ...`)."""
        return self._class_attributes(owner).keys()

    def _class_attributes(self, owner: cst.ClassDef) -> dict[str, list[_AttributeSource]]:
        cached = self._attributes.get(id(owner))
        if cached is not None:
            return cached
        found: dict[str, list[_AttributeSource]] = {}
        class_chain = self._chain_of_class(owner)
        table = self.names.table(owner)
        for name, bindings in table.bindings.items():
            for binding in bindings:
                if binding.how == "assign":
                    source = (binding.value, binding.annotation, class_chain, binding.index)
                    found.setdefault(name, []).append(source)
        for statement in scope_body(owner):
            if not isinstance(statement, cst.FunctionDef) or _is_staticmethod(statement):
                continue
            params = [*statement.params.posonly_params, *statement.params.params]
            if not params:
                continue
            receiver = params[0].name.value
            method_chain = (*class_chain, statement)
            for inner in iter_statements(scope_body(statement)):
                _collect_attribute_assignment(inner, receiver, method_chain, found)
        self._attributes[id(owner)] = found
        return found

    def _chain_of_class(self, owner: cst.ClassDef) -> tuple[ScopeNode, ...]:
        """The scopes around `owner`, itself last: kept when the walk entered it, else
        looked for (a class named above its definition, `Client.forget(...)`)."""
        chain = self.chains.get(id(owner))
        if chain is None and self.tree is not None:
            chain = _scopes_to(self.tree, owner)
            if chain is not None:
                self.chains[id(owner)] = chain
        return chain if chain is not None else (owner,)

    @staticmethod
    def _agree(kinds: Iterable[str | None]) -> str | None:
        found = set(kinds)
        if len(found) > 1:
            found.discard(_NONE)
        if len(found) != 1:
            return None
        kind = found.pop()
        return kind if kind != _NONE else None


def _collect_attribute_assignment(
    statement: cst.CSTNode,
    receiver: str,
    chain: tuple[ScopeNode, ...],
    found: dict[str, list[_AttributeSource]],
) -> None:
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
        value: cst.BaseExpression | None = statement.value
        annotation = None
    elif isinstance(statement, cst.AnnAssign):
        targets = [statement.target]
        value, annotation = statement.value, statement.annotation.annotation
    elif isinstance(statement, cst.AugAssign):
        targets, value, annotation = [statement.target], None, None
    else:
        return
    for target in targets:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == receiver
        ):
            found.setdefault(target.attr.value, []).append((value, annotation, chain, None))
        elif isinstance(target, cst.Tuple | cst.List):
            # `self.reader, self.writer = await open_connection(...)`: by position, unless starred.
            starred = any(isinstance(element, cst.StarredElement) for element in target.elements)
            for index, element in enumerate(target.elements):
                inner = element.value
                if (
                    isinstance(inner, cst.Attribute)
                    and isinstance(inner.value, cst.Name)
                    and inner.value.value == receiver
                ):
                    source = (None, None, chain, None) if starred else (value, None, chain, index)
                    found.setdefault(inner.attr.value, []).append(source)


def _element(
    value: cst.BaseExpression | None, index: int, statement: cst.CSTNode | None
) -> cst.BaseExpression | None:
    """Element `index` of a tuple or list written out (`x, y`) that `statement` unpacks,
    if no starred element comes before it on either side (None: checked by the caller)."""
    if not isinstance(value, cst.Tuple | cst.List) or index >= len(value.elements):
        return None
    if statement is not None and not isinstance(statement, cst.Assign):
        return None
    targets = [t.target for t in statement.targets] if statement is not None else []
    sequences = [value, *(t for t in targets if isinstance(t, cst.Tuple | cst.List))]
    if any(
        isinstance(e, cst.StarredElement) for seq in sequences for e in seq.elements[: index + 1]
    ):
        return None
    return value.elements[index].value


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a statement sits in its scope: its rank in source order, the statement lists
    (blocks) that hold it, outermost first, and the loops whose bodies hold it."""

    order: int
    blocks: tuple[int, ...]
    loops: tuple[int, ...]

    def dominates(self, other: _Place) -> bool:
        """Every path to `other` runs this statement first: it comes earlier in a block
        that holds `other` (a parameter: in none)."""
        return self.order < other.order and (not self.blocks or self.blocks[-1] in other.blocks)


# A parameter is bound before the first statement of its function runs.
_PARAMETER = _Place(-1, (), ())
_LOOPS = (cst.For, cst.While)
_BLOCKS = (cst.IndentedBlock, cst.SimpleStatementSuite)
_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Their loop variables are theirs: a use inside one is left unplaced (the scopes do not
# model them).
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_BINDS_AT_BLOCK = (cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase)


def _layout(scope: ScopeNode) -> dict[int, _Place]:
    """The place of every statement of `scope` and of every node in one, by id (nested
    scopes' bodies left out). An `except ... as` or a `case` binds where its block starts."""
    places: dict[int, _Place] = {}
    counter = itertools.count()
    # Depth first, in source order: (node, its place, whether it is a statement whose
    # rank is given when it is reached; its place then holds only its blocks and loops).
    stack = _statements(scope_body(scope), (), ())
    stack.reverse()
    while stack:
        node, place, statement = stack.pop()
        if statement:
            place = _Place(next(counter), place.blocks, place.loops)
        places[id(node)] = place
        loops = (*place.loops, id(node)) if isinstance(node, _LOOPS) else place.loops
        inside = place if loops is place.loops else _Place(place.order, place.blocks, loops)
        below: list[tuple[cst.CSTNode, _Place, bool]] = []
        for child in _parts(node):
            if isinstance(child, _BLOCKS):
                body = (*place.blocks, id(child))
                if isinstance(node, _BINDS_AT_BLOCK):  # `except E as e:` binds in its block
                    places[id(node)] = _Place(place.order, body, place.loops)
                below += _statements(child.body, body, loops)
            elif isinstance(child, _BINDS_AT_BLOCK):
                below.append((child, _Place(-1, place.blocks, loops), True))
            else:
                below.append((child, inside, False))
        below.reverse()
        stack += below
    return places


def _statements(
    body: Sequence[cst.CSTNode], blocks: tuple[int, ...], loops: tuple[int, ...]
) -> list[tuple[cst.CSTNode, _Place, bool]]:
    """The statements of one block, a line's small statements one by one, to be ranked."""
    where = _Place(-1, blocks, loops)
    found: list[tuple[cst.CSTNode, _Place, bool]] = []
    for statement in body:
        small = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
        found += [(each, where, True) for each in small]
    return found


def _parts(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The children of `node` this scope runs (a nested scope's body is its own)."""
    if isinstance(node, _COMPREHENSIONS):
        return iter(())
    if isinstance(node, _NESTED_SCOPES):
        return (child for child in children(node) if child is not node.body)
    return children(node)


def _factory(call: cst.Call) -> cst.BaseExpression:
    """The function a call calls, without type arguments: `Queue[int]()` calls `Queue`."""
    func = call.func
    return func.value if isinstance(func, cst.Subscript) else func


@lru_cache(maxsize=256)
def _parse_annotation(quoted: str) -> cst.BaseExpression | None:
    """The expression inside a quoted annotation (`"asyncio.Queue[int]"`), if it parses."""
    text = quoted.strip("\"'")
    if not text or quoted[:1] in "bBfF" or len(text) > 200:
        return None
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None


def _is_staticmethod(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod"
        for decorator in function.decorators
    )


def _scopes_to(scope: ScopeNode, target: cst.ClassDef) -> tuple[ScopeNode, ...] | None:
    """The chain of scopes from `scope` down to `target`, both included, or None when
    `target` is not defined in it."""
    for statement in iter_statements(scope_body(scope)):
        if statement is target:
            return (scope, target)
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            inner = _scopes_to(statement, target)
            if inner is not None:
                return (scope, *inner)
    return None
