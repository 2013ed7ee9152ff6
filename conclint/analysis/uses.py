"""Where a value goes once it is bound: every use of a name or attribute in one scope.

`uses_in(context, scope)` walks one function (or the whole module) once and
classifies each occurrence of a name (`t`) or dotted attribute (`self._pool`)
by what its surroundings do with it: a method called on it, awaited, passed
to a call, returned, stored, iterated, tested, re-bound. Rules about objects
that must be joined, shut down, cancelled or awaited ask it "is `t` joined
anywhere?" or "is `pending` ever more than counted?". The walk is lazy (only
for scopes a rule asks about) and done once per scope per file, whichever
rules ask. Uses inside nested functions are kept and marked `nested`, unless
the nested scope binds the name itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import libcst as cst

from conclint.analysis.context import FileContext
from conclint.analysis.names import NameResolver
from conclint.analysis.scopes import Binding, ScopeNode, dotted_name, scope_body

# How an occurrence is used.
BIND = "bind"  # (re)bound: assignment, `for`/`with`/`except` target, `del`
METHOD = "method"  # `x.attr(...)`: `attr` and `call` say which
ATTR = "attr"  # `x.attr` read without calling it (`atexit.register(x.shutdown)`)
ATTR_SET = "attr_set"  # `x.attr = value`
AWAIT = "await"
ARG = "arg"  # an argument of `call`, directly, starred or inside a literal
RETURN = "return"  # returned or yielded
STORE = "store"  # the value of an assignment, alone or inside a literal
ITER = "iter"  # iterated by `for` or a comprehension
TEST = "test"  # only its truth is used: `if x:`, `while x:`, `not x`
COMPARE = "compare"  # an operand of `==`, `is`, `in`, ...
WITH = "with"  # a context manager: `with x:`
READ = "read"  # anything else

# Uses after which the value lives on beyond the statement that uses it.
KEPT: frozenset[str] = frozenset({RETURN, STORE})


@dataclass(frozen=True, slots=True)
class Use:
    """One occurrence of a name or attribute and what is done with it."""

    key: str | None  # "t", "self._pool"; None for `f().x`
    how: str
    node: cst.BaseExpression
    order: int  # walk position: larger is later in the source
    nested: bool  # inside a def, lambda or class nested in the walked scope
    attr: str | None = None  # for METHOD, ATTR, ATTR_SET
    call: cst.Call | None = None  # for METHOD and ARG
    value: cst.BaseExpression | None = None  # for BIND and ATTR_SET: what is assigned
    # For `self.x`: the class whose method's `self` the receiver is (None for other receivers).
    owner: cst.ClassDef | None = None


@dataclass(slots=True)
class ScopeUses:
    """The uses found in one scope, by key and by attribute name."""

    by_key: dict[str, list[Use]] = field(default_factory=dict)
    by_attr: dict[str, list[Use]] = field(default_factory=dict)
    call_order: dict[int, int] = field(default_factory=dict)
    # Call (by id) -> what is done with its value, and the call it is an argument of.
    call_uses: dict[int, tuple[str, cst.Call | None]] = field(default_factory=dict)

    def of(self, key: str) -> Sequence[Use]:
        """Uses of a name (`t`) or dotted attribute (`self._pool`), in walk order."""
        return self.by_key.get(key, ())

    def of_attribute(self, attr: str) -> Sequence[Use]:
        """Uses of `<anything>.attr`, whatever the receiver (for module-wide questions)."""
        return self.by_attr.get(attr, ())

    def order_of(self, call: cst.Call) -> int | None:
        """The walk position of a call, to compare with the positions of uses."""
        return self.call_order.get(id(call))

    def of_call(self, call: cst.Call) -> tuple[str, cst.Call | None]:
        """What is done with the value of `call` (`ITER`, `ARG` of the call given, ...)."""
        return self.call_uses.get(id(call), (READ, None))

    def bound_to(self, value: cst.BaseExpression) -> str | None:
        """The name or attribute an assignment binds `value` to (the first, if several)."""
        for key, uses in self.by_key.items():
            if any(use.how == BIND and use.value is value for use in uses):
                return key
        return None


@dataclass(slots=True)
class _FileCache:
    scopes: dict[int, ScopeUses] = field(default_factory=dict)
    callees: dict[int, str | None] = field(default_factory=dict)


def uses_in(context: FileContext, scope: ScopeNode) -> ScopeUses:
    """The uses in `scope` (a function, lambda or the module), walked once per file."""
    scopes = _file_cache(context).scopes
    found = scopes.get(id(scope))
    if found is None:
        found = scopes[id(scope)] = _Walker(context.names).walk(scope)
    return found


def callee(context: FileContext, call: cst.Call) -> str | None:
    """`context.qualname(call.func)`, resolved once per call for all the rules that ask."""
    callees = _file_cache(context).callees
    key = id(call)
    if key not in callees:
        callees[key] = context.qualname(call.func)
    return callees[key]


def _file_cache(context: FileContext) -> _FileCache:
    return context.memo("uses", _FileCache)


def of_instances(uses: Sequence[Use], owner: cst.ClassDef) -> list[Use]:
    """The attribute uses that may be on instances of `owner` (not another class's `self.x`)."""
    # Any receiver other than a method's `self` may hold an instance of `owner`.
    return [use for use in uses if use.owner is None or _related(use.owner, owner)]


def _related(first: cst.ClassDef, second: cst.ClassDef) -> bool:
    if first is second:
        return True
    return any(dotted_name(base.value) == second.name.value for base in first.bases) or any(
        dotted_name(base.value) == first.name.value for base in second.bases
    )


def local_bindings(context: FileContext, name: str) -> list[Binding] | None:
    """The bindings of `name` when it is a local of the function being visited, else None."""
    function = context.function
    if not isinstance(function, cst.FunctionDef):
        return None
    table = context.names.table(function)
    if name in table.declared_outer:
        return None
    return table.bindings.get(name)


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    """The keyword argument `name=` of a call, if given."""
    return next((arg for arg in call.args if arg.keyword and arg.keyword.value == name), None)


# The walk ------------------------------------------------------------------

# Fields that hold only punctuation, whitespace or annotations: never uses of a value.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket", "comma", "semicolon",
        "colon", "first_colon", "second_colon", "dot", "equal", "star", "leading_lines",
        "lines_after_decorators", "header", "footer", "newline", "indent", "operator",
        "asynchronous", "comment", "empty_lines", "first_line", "last_line", "separator",
        "trailing_comma", "relative", "annotation", "returns", "type_parameters", "keyword",
    }
)  # fmt: skip
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
# Roles a literal container or conditional expression passes on to its elements.
_PASSED_ON = frozenset({ARG, RETURN, STORE, ITER, TEST, WITH})

# Each handler takes the node of its own type; `Any` keeps one table for them all.
_Handler = Callable[["_Walker", Any, str, "cst.Call | None"], None]


def _child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            f.name
            for f in fields(node)
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
    return names


class _Walker:
    def __init__(self, names: NameResolver) -> None:
        self.names = names
        self.found = ScopeUses()
        self.order = 0
        # Names bound by each nested scope entered, innermost last: (is a class, names).
        self.shadows: list[tuple[bool, frozenset[str]]] = []
        # The `self` parameter of the method being walked, and its class.
        self.receiver_of: tuple[str, cst.ClassDef] | None = None
        self.classes: list[cst.ClassDef | None] = []

    def walk(self, scope: ScopeNode) -> ScopeUses:
        if isinstance(scope, cst.Lambda):
            self.maybe(scope.body, RETURN)
        else:
            for statement in scope_body(scope):
                self.node(statement)
        return self.found

    # Recording -------------------------------------------------------------

    def record(
        self,
        expr: cst.BaseExpression,
        how: str,
        *,
        attr: str | None = None,
        call: cst.Call | None = None,
        value: cst.BaseExpression | None = None,
    ) -> None:
        self.order += 1
        key = dotted_name(expr)
        nested = bool(self.shadows)
        owner = None
        if (
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and self.receiver_of is not None
            and expr.value.value == self.receiver_of[0]
        ):
            owner = self.receiver_of[1]
        use = Use(key, how, expr, self.order, nested, attr, call, value, owner)
        if key is not None and not self._shadowed(key.partition(".")[0]):
            self.found.by_key.setdefault(key, []).append(use)
        if isinstance(expr, cst.Attribute):
            self.found.by_attr.setdefault(expr.attr.value, []).append(use)

    def _shadowed(self, name: str) -> bool:
        innermost = len(self.shadows) - 1
        for index in range(innermost, -1, -1):
            is_class, bound = self.shadows[index]
            if is_class and index != innermost:
                continue  # class bodies are not visible from their methods
            if name in bound:
                return True
        return False

    # Dispatch --------------------------------------------------------------

    def node(self, node: cst.CSTNode, how: str = READ, call: cst.Call | None = None) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node, how, call)
            return
        for name in _child_fields(node):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self.node(value)
            elif isinstance(value, tuple | list):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.node(item)

    def maybe(self, node: cst.CSTNode | None, how: str = READ) -> None:
        if node is not None:
            self.node(node, how)

    def target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.record(target, BIND, value=value)
        elif isinstance(target, cst.Attribute):
            self.record(target, BIND, value=value)
            self.receiver(target.value, ATTR_SET, target.attr.value, value=value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self.target(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self.target(target.value, None)
        else:  # `d[key] = value`: the container is read, not re-bound
            self.node(target)

    def receiver(
        self,
        receiver: cst.BaseExpression,
        how: str,
        attr: str,
        call: cst.Call | None = None,
        value: cst.BaseExpression | None = None,
    ) -> None:
        """`receiver` is the object of `receiver.attr`: record it, and its own receivers."""
        if isinstance(receiver, cst.Name | cst.Attribute):
            self.record(receiver, how, attr=attr, call=call, value=value)
            if isinstance(receiver, cst.Attribute):
                self.receiver(receiver.value, ATTR, receiver.attr.value)
        else:
            self.node(receiver)

    def nested(
        self, scope: cst.FunctionDef | cst.Lambda | cst.ClassDef, body: Callable[[], None]
    ) -> None:
        table = self.names.table(scope)
        bound = frozenset(table.bindings) - table.declared_outer
        outer_receiver = self.receiver_of
        if isinstance(scope, cst.FunctionDef) and self.current_class is not None:
            self.receiver_of = _receiver(scope, self.current_class)
        self.shadows.append((isinstance(scope, cst.ClassDef), bound))
        self.classes.append(scope if isinstance(scope, cst.ClassDef) else None)
        body()
        self.classes.pop()
        self.shadows.pop()
        self.receiver_of = outer_receiver

    @property
    def current_class(self) -> cst.ClassDef | None:
        """The class whose body is being walked directly (not through a method)."""
        return self.classes[-1] if self.classes else None


# Handlers, one per node type that gives its children a role -----------------


def _name(walker: _Walker, node: cst.Name, how: str, call: cst.Call | None) -> None:
    walker.record(node, how, call=call)


def _attribute(walker: _Walker, node: cst.Attribute, how: str, call: cst.Call | None) -> None:
    walker.record(node, how, call=call)
    walker.receiver(node.value, ATTR, node.attr.value)


def _call(walker: _Walker, node: cst.Call, how: str, call: cst.Call | None) -> None:
    walker.order += 1
    walker.found.call_order[id(node)] = walker.order
    walker.found.call_uses[id(node)] = (how, call)
    func = node.func
    if isinstance(func, cst.Attribute):
        walker.receiver(func.value, METHOD, func.attr.value, call=node)
    else:
        walker.node(func)
    for arg in node.args:
        walker.node(arg.value, ARG, node)


def _await(walker: _Walker, node: cst.Await, how: str, call: cst.Call | None) -> None:
    walker.node(node.expression, AWAIT)


def _return(walker: _Walker, node: cst.Return | cst.Yield, how: str, call: cst.Call | None) -> None:
    value = node.value
    if isinstance(value, cst.From):
        value = value.item
    walker.maybe(value, RETURN)


def _assign(walker: _Walker, node: cst.Assign, how: str, call: cst.Call | None) -> None:
    walker.node(node.value, STORE)
    for target in node.targets:
        walker.target(target.target, node.value)


def _ann_assign(walker: _Walker, node: cst.AnnAssign, how: str, call: cst.Call | None) -> None:
    walker.maybe(node.value, STORE)
    if node.value is not None:
        walker.target(node.target, node.value)


def _aug_assign(walker: _Walker, node: cst.AugAssign, how: str, call: cst.Call | None) -> None:
    walker.node(node.value, STORE)
    walker.node(node.target)


def _named(walker: _Walker, node: cst.NamedExpr, how: str, call: cst.Call | None) -> None:
    walker.node(node.value, STORE)
    walker.target(node.target, node.value)


def _for(walker: _Walker, node: cst.For, how: str, call: cst.Call | None) -> None:
    walker.node(node.iter, ITER)
    walker.target(node.target, None)
    walker.node(node.body)
    walker.maybe(node.orelse)


def _comp_for(walker: _Walker, node: cst.CompFor, how: str, call: cst.Call | None) -> None:
    walker.node(node.iter, ITER)
    walker.target(node.target, None)
    for condition in node.ifs:
        walker.node(condition.test, TEST)
    if node.inner_for_in is not None:
        walker.node(node.inner_for_in)


def _comprehension(
    walker: _Walker,
    node: cst.ListComp | cst.SetComp | cst.GeneratorExp,
    how: str,
    call: cst.Call | None,
) -> None:
    walker.node(node.for_in)
    walker.node(node.elt, how if how in _PASSED_ON else READ, call)


def _dict_comp(walker: _Walker, node: cst.DictComp, how: str, call: cst.Call | None) -> None:
    walker.node(node.for_in)
    walker.node(node.key)
    walker.node(node.value, how if how in _PASSED_ON else READ, call)


def _test(walker: _Walker, node: cst.If | cst.While, how: str, call: cst.Call | None) -> None:
    walker.node(node.test, TEST)
    walker.node(node.body)
    walker.maybe(node.orelse)


def _assert(walker: _Walker, node: cst.Assert, how: str, call: cst.Call | None) -> None:
    walker.node(node.test, TEST)
    walker.maybe(node.msg, READ)


def _unary(walker: _Walker, node: cst.UnaryOperation, how: str, call: cst.Call | None) -> None:
    walker.node(node.expression, TEST if isinstance(node.operator, cst.Not) else READ)


def _boolean(walker: _Walker, node: cst.BooleanOperation, how: str, call: cst.Call | None) -> None:
    role = how if how in _PASSED_ON else READ
    walker.node(node.left, role, call)
    walker.node(node.right, role, call)


def _if_exp(walker: _Walker, node: cst.IfExp, how: str, call: cst.Call | None) -> None:
    role = how if how in _PASSED_ON else READ
    walker.node(node.test, TEST)
    walker.node(node.body, role, call)
    walker.node(node.orelse, role, call)


def _comparison(walker: _Walker, node: cst.Comparison, how: str, call: cst.Call | None) -> None:
    walker.node(node.left, COMPARE)
    for target in node.comparisons:
        walker.node(target.comparator, COMPARE)


def _literal(
    walker: _Walker, node: cst.List | cst.Tuple | cst.Set, how: str, call: cst.Call | None
) -> None:
    role = how if how in _PASSED_ON else STORE
    for element in node.elements:
        walker.node(element.value, role, call)


def _dict(walker: _Walker, node: cst.Dict, how: str, call: cst.Call | None) -> None:
    role = how if how in _PASSED_ON else STORE
    for element in node.elements:
        if isinstance(element, cst.DictElement):
            walker.node(element.key)
        walker.node(element.value, role, call)


def _starred(walker: _Walker, node: cst.StarredElement, how: str, call: cst.Call | None) -> None:
    walker.node(node.value, how, call)


def _with(walker: _Walker, node: cst.With, how: str, call: cst.Call | None) -> None:
    for item in node.items:
        walker.node(item.item, WITH)
        if item.asname is not None:
            walker.target(item.asname.name, item.item)
    walker.node(node.body)


def _del(walker: _Walker, node: cst.Del, how: str, call: cst.Call | None) -> None:
    walker.target(node.target, None)


def _handler(walker: _Walker, node: cst.ExceptHandler, how: str, call: cst.Call | None) -> None:
    walker.maybe(node.type, READ)
    if node.name is not None and isinstance(node.name.name, cst.Name):
        walker.record(node.name.name, BIND)
    walker.node(node.body)


def _function(walker: _Walker, node: cst.FunctionDef, how: str, call: cst.Call | None) -> None:
    for decorator in node.decorators:
        walker.node(decorator.decorator)
    _defaults(walker, node.params)
    walker.nested(node, lambda: walker.node(node.body))


def _lambda(walker: _Walker, node: cst.Lambda, how: str, call: cst.Call | None) -> None:
    _defaults(walker, node.params)
    walker.nested(node, lambda: walker.node(node.body, RETURN))


def _class(walker: _Walker, node: cst.ClassDef, how: str, call: cst.Call | None) -> None:
    for decorator in node.decorators:
        walker.node(decorator.decorator)
    for base in (*node.bases, *node.keywords):
        walker.node(base.value)
    walker.nested(node, lambda: walker.node(node.body))


def _receiver(method: cst.FunctionDef, owner: cst.ClassDef) -> tuple[str, cst.ClassDef] | None:
    params = [*method.params.posonly_params, *method.params.params]
    static = any(
        dotted_name(decorator.decorator) == "staticmethod" for decorator in method.decorators
    )
    return None if static or not params else (params[0].name.value, owner)


def _defaults(walker: _Walker, params: cst.Parameters) -> None:
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        walker.maybe(param.default, READ)


def _match_case(walker: _Walker, node: cst.MatchCase, how: str, call: cst.Call | None) -> None:
    walker.maybe(node.guard, TEST)
    walker.node(node.body)


def _nothing(walker: _Walker, node: cst.CSTNode, how: str, call: cst.Call | None) -> None:
    """Imports and `global`/`nonlocal` declarations use no value."""


_HANDLERS: dict[type[cst.CSTNode], _Handler] = {
    cst.Name: _name,
    cst.Attribute: _attribute,
    cst.Call: _call,
    cst.Await: _await,
    cst.Return: _return,
    cst.Yield: _return,
    cst.Assign: _assign,
    cst.AnnAssign: _ann_assign,
    cst.AugAssign: _aug_assign,
    cst.NamedExpr: _named,
    cst.For: _for,
    cst.CompFor: _comp_for,
    cst.ListComp: _comprehension,
    cst.SetComp: _comprehension,
    cst.GeneratorExp: _comprehension,
    cst.DictComp: _dict_comp,
    cst.If: _test,
    cst.While: _test,
    cst.Assert: _assert,
    cst.UnaryOperation: _unary,
    cst.BooleanOperation: _boolean,
    cst.IfExp: _if_exp,
    cst.Comparison: _comparison,
    cst.List: _literal,
    cst.Tuple: _literal,
    cst.Set: _literal,
    cst.Dict: _dict,
    cst.StarredElement: _starred,
    cst.With: _with,
    cst.Del: _del,
    cst.ExceptHandler: _handler,
    cst.FunctionDef: _function,
    cst.Lambda: _lambda,
    cst.ClassDef: _class,
    cst.MatchCase: _match_case,
    cst.Import: _nothing,
    cst.ImportFrom: _nothing,
    cst.Global: _nothing,
    cst.Nonlocal: _nothing,
}
