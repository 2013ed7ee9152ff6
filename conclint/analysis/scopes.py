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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

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
        kind = type(statement)
        if kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            stack.extend(reversed(statement.body))  # type: ignore[attr-defined]
            continue
        yield statement
        blocks = _BLOCKS.get(kind)
        if blocks is not None:
            stack.extend(reversed(blocks(statement)))


# Child statements of each compound statement, in source order. Looked up by exact type
# (these classes have no subclasses): every scope table walks every statement.
def _if_blocks(node: cst.If) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = list(node.body.body)
    if isinstance(node.orelse, cst.If):
        found.append(node.orelse)
    elif node.orelse is not None:
        found += node.orelse.body.body
    return found


def _loop_blocks(node: cst.For | cst.While) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = list(node.body.body)
    if node.orelse is not None:
        found += node.orelse.body.body
    return found


def _try_blocks(node: cst.Try | cst.TryStar) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = list(node.body.body)
    for handler in node.handlers:
        found.append(handler)
        found += handler.body.body
    for tail in (node.orelse, node.finalbody):
        if tail is not None:
            found += tail.body.body
    return found


def _match_blocks(node: cst.Match) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    for case in node.cases:
        found.append(case)
        found += case.body.body
    return found


_BLOCKS: dict[type[cst.CSTNode], Callable[[Any], list[cst.CSTNode]]] = {
    cst.If: _if_blocks,
    cst.For: _loop_blocks,
    cst.While: _loop_blocks,
    cst.With: lambda node: list(node.body.body),
    cst.Try: _try_blocks,
    cst.TryStar: _try_blocks,
    cst.Match: _match_blocks,
}


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
    bind = _BINDERS.get(type(statement))
    if bind is not None:
        bind(table, statement)


def _bind_assign(table: ScopeTable, statement: cst.Assign) -> None:
    for target in statement.targets:
        _bind_target(table, target.target, statement, statement.value)


def _bind_annotated(table: ScopeTable, statement: cst.AnnAssign) -> None:
    if isinstance(statement.target, cst.Name):
        binding = Binding(
            "assign", statement, value=statement.value, annotation=statement.annotation.annotation
        )
        table.add(statement.target.value, binding)


def _bind_import(table: ScopeTable, statement: cst.Import) -> None:
    for alias in statement.names:
        full = dotted_name(alias.name) or ""
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            table.add(alias.asname.name.value, Binding("import", statement, imported=full))
        else:
            top = full.split(".", 1)[0]
            table.add(top, Binding("import", statement, imported=top))


def _bind_import_from(table: ScopeTable, statement: cst.ImportFrom) -> None:
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


def _bind_with(table: ScopeTable, statement: cst.With) -> None:
    for item in statement.items:
        if item.asname is not None:
            _bind_target(table, item.asname.name, statement, item.item, how="with")


def _bind_handler(table: ScopeTable, statement: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
    if statement.name is not None and isinstance(statement.name.name, cst.Name):
        table.add(statement.name.name.value, Binding("other", statement))


def _bind_declared(table: ScopeTable, statement: cst.Global | cst.Nonlocal) -> None:
    declared = {identifier(item.name.value) for item in statement.names}
    table.declared_outer.update(declared)
    if isinstance(statement, cst.Global):
        table.declared_global.update(declared)


def _bind_case(table: ScopeTable, statement: cst.MatchCase) -> None:
    for name in _pattern_names(statement.pattern):
        table.add(name, Binding("other", statement))


# What each kind of statement binds, looked up by exact type (no subclasses).
_BINDERS: dict[type[cst.CSTNode], Callable[[ScopeTable, Any], None]] = {
    cst.Assign: _bind_assign,
    cst.AnnAssign: _bind_annotated,
    cst.AugAssign: lambda table, node: _bind_target(table, node.target, node, None),
    cst.Import: _bind_import,
    cst.ImportFrom: _bind_import_from,
    cst.FunctionDef: lambda table, node: table.add(node.name.value, Binding("def", node)),
    cst.ClassDef: lambda table, node: table.add(node.name.value, Binding("class", node)),
    cst.For: lambda table, node: _bind_target(table, node.target, node, None),
    cst.With: _bind_with,
    cst.ExceptHandler: _bind_handler,
    cst.ExceptStarHandler: _bind_handler,
    cst.Global: _bind_declared,
    cst.Nonlocal: _bind_declared,
    cst.MatchCase: _bind_case,
}


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
