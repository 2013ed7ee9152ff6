"""What a local name or `self.` attribute holds: a queue, a lock, a loop, a task, ...

Kinds are canonical class names from `catalog.py` (`asyncio.Queue`,
`threading.Lock`, `asyncio.AbstractEventLoop`). A name has a kind when every
binding of it in its scope agrees (so a re-bound name with two different
values has none); `self.x` has one when every assignment to it in the class,
and its class-level annotation, agree.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.names import NameResolver
from conclint.analysis.scopes import Binding, ScopeNode, iter_statements, scope_body

# An attribute's sources: (value or None, annotation or None, the chain to resolve them in).
_AttributeSource = tuple[cst.BaseExpression | None, cst.BaseExpression | None, tuple[ScopeNode, ...]]

_MAX_DEPTH = 3


class Bindings:
    def __init__(self, names: NameResolver, extra_factories: Mapping[str, str] | None = None) -> None:
        self.names = names
        self.constructors = {**catalog.CONSTRUCTORS, **(extra_factories or {})}
        self._attributes: dict[int, dict[str, list[_AttributeSource]]] = {}
        # The enclosing chain of every class entered so far (kept by FileContext).
        self.chains: dict[int, tuple[ScopeNode, ...]] = {}

    def kind_of(self, expr: cst.BaseExpression, chain: Sequence[ScopeNode], _depth: int = 0) -> str | None:
        """The kind of object `expr` evaluates to, as far as the module shows."""
        if _depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Name):
            found = self.names.lookup(expr.value, chain)
            if found is None:
                return None
            index, bindings = found
            return self._agree(
                self._binding_kind(binding, chain[: index + 1], _depth) for binding in bindings
            )
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self.class_of_receiver(expr.value, chain)
            if owner is not None:
                return self.attribute_kind(owner, expr.attr.value, _depth)
        if isinstance(expr, cst.Call):
            return self.constructors.get(self.names.resolve(expr.func, chain) or "")
        return None

    def _binding_kind(self, binding: Binding, chain: Sequence[ScopeNode], depth: int) -> str | None:
        if binding.annotation is not None:
            annotated = self.annotation_kind(binding.annotation, chain)
            if annotated is not None:
                return annotated
        value = binding.value
        if value is None or binding.how not in ("assign", "with"):
            return None
        if binding.index is not None:
            return self._unpacked_kind(value, binding.index, chain)
        return self.kind_of(value, chain, depth + 1)

    def _unpacked_kind(self, value: cst.BaseExpression, index: int, chain: Sequence[ScopeNode]) -> str | None:
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return None
        kinds = catalog.TUPLE_FACTORIES.get(self.names.resolve(value.func, chain) or "")
        return kinds[index] if kinds and index < len(kinds) else None

    def annotation_kind(self, annotation: cst.BaseExpression, chain: Sequence[ScopeNode]) -> str | None:
        if isinstance(annotation, cst.Subscript):
            outer = self.names.resolve(annotation.value, chain)
            if outer in ("typing.Optional", "typing.Final", "typing.ClassVar"):
                element = annotation.slice[0].slice if annotation.slice else None
                if isinstance(element, cst.Index):
                    return self.annotation_kind(element.value, chain)
                return None
            annotation = annotation.value
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            kinds = {
                self.annotation_kind(side, chain) for side in (annotation.left, annotation.right)
            } - {None}
            return kinds.pop() if len(kinds) == 1 else None
        return catalog.ANNOTATION_KINDS.get(self.names.resolve(annotation, chain) or "")

    def class_of_receiver(self, receiver: cst.Name, chain: Sequence[ScopeNode]) -> cst.ClassDef | None:
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

    def attribute_kind(self, owner: cst.ClassDef, attribute: str, depth: int = 0) -> str | None:
        sources = self._class_attributes(owner).get(attribute, [])
        kinds = []
        for value, annotation, chain in sources:
            kind = self.annotation_kind(annotation, chain) if annotation is not None else None
            if kind is None and value is not None:
                kind = self.kind_of(value, chain, depth + 1)
            kinds.append(kind)
        return self._agree(kinds)

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
                    found.setdefault(name, []).append((binding.value, binding.annotation, class_chain))
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
        chain = self.chains.get(id(owner))
        return chain if chain is not None else (owner,)

    @staticmethod
    def _agree(kinds: object) -> str | None:
        found = set(kinds)  # type: ignore[call-overload]
        if len(found) != 1:
            return None
        kind = found.pop()
        return kind if isinstance(kind, str) else None


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
            found.setdefault(target.attr.value, []).append((value, annotation, chain))
        elif isinstance(target, cst.Tuple | cst.List):
            # `self.a, self.b = ...`: the parts are unknown, but they are re-bound.
            for element in target.elements:
                inner = element.value
                if (
                    isinstance(inner, cst.Attribute)
                    and isinstance(inner.value, cst.Name)
                    and inner.value.value == receiver
                ):
                    found.setdefault(inner.attr.value, []).append((None, None, chain))


def _is_staticmethod(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod"
        for decorator in function.decorators
    )
