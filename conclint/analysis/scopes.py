"""What each scope binds, collected from statements alone (no full tree walk).

A scope is a module, class, function or lambda. Its table records every name
bound directly in it (assignments, imports, defs, parameters, loop and `with`
targets, `except ... as`, match captures) with enough detail for
`names.py` (which import does a name denote?) and `bindings.py` (what kind of
object does it hold?). Nested function and class bodies are not entered: they
are scopes of their own, scanned only if a rule asks about them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from conclint.analysis.walk import children

ScopeNode = cst.Module | cst.ClassDef | cst.FunctionDef | cst.Lambda


def identifier(name: str) -> str:
    """A name as Python reads it: NFKC-normalised, so that `create_task` spelled with a
    fullwidth `c` (U+FF43) is `create_task` (LibCST keeps names as spelled)."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)


@dataclass(frozen=True, slots=True)
class Binding:
    """One place where a scope binds a name.

    `how` is one of: import, def, class, assign, param, with, other.
    `value` is the assigned expression (for `assign`/`with`), `index` the
    position inside a tuple target (`a, b = value`), `annotation` a type hint.
    """

    how: str
    node: cst.CSTNode
    imported: str | None = None
    value: cst.BaseExpression | None = None
    index: int | None = None
    annotation: cst.BaseExpression | None = None


@dataclass(slots=True)
class ScopeTable:
    node: ScopeNode
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    # `global x` / `nonlocal x` names are not local to this scope.
    declared_outer: set[str] = field(default_factory=set)
    # The `global x` ones among them: bound in the module, whatever scopes lie between.
    declared_global: set[str] = field(default_factory=set)

    def add(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(identifier(name), []).append(binding)


def dotted_name(node: cst.BaseExpression | cst.ImportFrom | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None (cheap, no codegen)."""
    parts: list[str] = []
    current: object = node
    while isinstance(current, cst.Attribute):
        parts.append(identifier(current.attr.value))
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    parts.append(identifier(current.value))
    return ".".join(reversed(parts))


def module_of_import_from(node: cst.ImportFrom) -> str:
    """`from ..pkg import x` -> `..pkg`; relative imports keep their dots."""
    dots = "".join("." for _ in node.relative)
    module = dotted_name(node.module) if node.module is not None else ""
    return dots + (module or "")


def scope_body(node: ScopeNode) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    if isinstance(node, cst.Module):
        return node.body
    if isinstance(node, cst.Lambda):
        return ()
    body = node.body
    if isinstance(body, cst.IndentedBlock):
        return body.body
    return body.body  # SimpleStatementSuite: `def f(): return 1`


def iter_statements(
    body: Sequence[cst.BaseStatement | cst.BaseSmallStatement],
) -> Iterator[cst.CSTNode]:
    """Every statement of one scope, nested blocks included, nested scopes excluded.

    Compound statements are yielded before their blocks; a nested def/class is
    yielded but not entered.
    """
    stack: list[cst.CSTNode] = list(reversed(body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            stack.extend(reversed(statement.body))
            continue
        yield statement
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            continue
        stack.extend(reversed(list(_blocks_of(statement))))


def _blocks_of(statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Child statements of a compound statement, in source order."""
    if isinstance(statement, cst.If):
        yield from _suite(statement.body)
        if statement.orelse is not None:
            if isinstance(statement.orelse, cst.If):
                yield statement.orelse
            else:
                yield from _suite(statement.orelse.body)
    elif isinstance(statement, cst.For | cst.While):
        yield from _suite(statement.body)
        if statement.orelse is not None:
            yield from _suite(statement.orelse.body)
    elif isinstance(statement, cst.With):
        yield from _suite(statement.body)
    elif isinstance(statement, cst.Try | cst.TryStar):
        yield from _suite(statement.body)
        for handler in statement.handlers:
            yield handler
            yield from _suite(handler.body)
        if statement.orelse is not None:
            yield from _suite(statement.orelse.body)
        if statement.finalbody is not None:
            yield from _suite(statement.finalbody.body)
    elif isinstance(statement, cst.Match):
        for case in statement.cases:
            yield case
            yield from _suite(case.body)


def _suite(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return block.body


def collect(node: ScopeNode) -> ScopeTable:
    table = ScopeTable(node)
    if isinstance(node, cst.FunctionDef | cst.Lambda):
        _bind_parameters(table, node.params)
    for statement in iter_statements(scope_body(node)):
        _bind_statement(table, statement)
    return table


def _bind_parameters(table: ScopeTable, params: cst.Parameters) -> None:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            every.append(extra)
    for param in every:
        annotation = param.annotation.annotation if param.annotation is not None else None
        table.add(param.name.value, Binding("param", param, annotation=annotation))


def _bind_statement(table: ScopeTable, statement: cst.CSTNode) -> None:
    if isinstance(statement, cst.Assign):
        for target in statement.targets:
            _bind_target(table, target.target, statement, statement.value)
    elif isinstance(statement, cst.AnnAssign):
        if isinstance(statement.target, cst.Name):
            table.add(
                statement.target.value,
                Binding(
                    "assign",
                    statement,
                    value=statement.value,
                    annotation=statement.annotation.annotation,
                ),
            )
    elif isinstance(statement, cst.AugAssign):
        _bind_target(table, statement.target, statement, None)
    elif isinstance(statement, cst.Import):
        for alias in statement.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                table.add(alias.asname.name.value, Binding("import", statement, imported=full))
            else:
                top = full.split(".", 1)[0]
                table.add(top, Binding("import", statement, imported=top))
    elif isinstance(statement, cst.ImportFrom):
        if isinstance(statement.names, cst.ImportStar):
            return
        module = module_of_import_from(statement)
        prefix = module if module.endswith(".") else module + "."
        for alias in statement.names:
            name = dotted_name(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            table.add(local, Binding("import", statement, imported=prefix + name))
    elif isinstance(statement, cst.FunctionDef):
        table.add(statement.name.value, Binding("def", statement))
    elif isinstance(statement, cst.ClassDef):
        table.add(statement.name.value, Binding("class", statement))
    elif isinstance(statement, cst.For):
        _bind_target(table, statement.target, statement, None)
    elif isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                _bind_target(table, item.asname.name, statement, item.item, how="with")
    elif isinstance(statement, cst.ExceptHandler | cst.ExceptStarHandler):
        if statement.name is not None and isinstance(statement.name.name, cst.Name):
            table.add(statement.name.name.value, Binding("other", statement))
    elif isinstance(statement, cst.Global | cst.Nonlocal):
        declared = {identifier(item.name.value) for item in statement.names}
        table.declared_outer.update(declared)
        if isinstance(statement, cst.Global):
            table.declared_global.update(declared)
    elif isinstance(statement, cst.MatchCase):
        for name in _pattern_names(statement.pattern):
            table.add(name, Binding("other", statement))


def _bind_target(
    table: ScopeTable,
    target: cst.BaseExpression,
    statement: cst.CSTNode,
    value: cst.BaseExpression | None,
    how: str = "assign",
) -> None:
    if isinstance(target, cst.Name):
        table.add(
            target.value, Binding(how if value is not None else "other", statement, value=value)
        )
    elif isinstance(target, cst.Tuple | cst.List):
        for index, element in enumerate(target.elements):
            inner = element.value
            if isinstance(inner, cst.Name):
                table.add(
                    inner.value,
                    Binding(
                        how if value is not None else "other", statement, value=value, index=index
                    ),
                )
            else:
                _bind_target(table, inner, statement, None)
    elif isinstance(target, cst.StarredElement):
        _bind_target(table, target.value, statement, None)


def _pattern_names(pattern: cst.MatchPattern) -> Iterator[str]:
    stack: list[cst.CSTNode] = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.MatchAs) and node.name is not None:
            yield node.name.value
        if isinstance(node, cst.MatchStar) and node.name is not None:
            yield node.name.value
        if isinstance(node, cst.MatchMapping) and node.rest is not None:
            yield node.rest.value
        stack.extend(children(node))
