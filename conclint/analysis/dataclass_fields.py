"""How the fields of a private dataclass were made: its generated `__init__` keeps each
argument in the field of that name, so the calls that make its instances say what each
field holds (`_State(jobs=queue.Queue())`: `state.jobs` is a queue made without a bound).

A private class (`_State`) is taken to be made only in its own module, as a private
name is taken to stay there elsewhere in the index. Its fields are the class body's
annotated names, in order (`ClassVar` ones are none). Each call of the class's name in
the module marks each field with what it passes (`acquires.note_made`), by keyword or by
position; a field left out, with what its default makes (`field(default_factory=Q)` makes
`Q()`). Where the module names the class other than in a call (`defaultdict(_State)`), or
a call unpacks its arguments (`_State(**options)`), how any field was made is not known.

The index pass (`declared.py`) adds those marks to `ClassFacts.made`.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator

from conclint.analysis import acquires
from conclint.analysis.names import dunder

# An argument that makes what a field holds, or None when a field is left to be unknown.
_Made = ast.expr | None
# Calls that only test an object against the class they are given second.
_TESTS = frozenset({"isinstance", "issubclass"})


def _annotations(node: ast.AST) -> Iterator[ast.expr]:
    """The annotations `node` holds itself (ast.walk reaches the rest)."""
    if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
        yield node.returns


def note_constructions(
    tree: ast.Module,
    classes: dict[str, ast.ClassDef],
    made: dict[str, dict[str, tuple[str, ...]]],
    reader: acquires.Reader,
    declarers: Collection[str],
) -> None:
    """Mark in `made` (class name -> its `made` table) how each call of the private ones
    among the dataclasses `classes` (name -> their class statement) made their fields;
    `declarers` are the absolute names of the calls that declare a field with its
    options (`dataclasses.field`)."""
    fields = {
        name: found
        for name, node in classes.items()
        if name.startswith("_")
        and not dunder(name)
        and not node.bases
        and (found := _fields(node, reader, declarers)) is not None
    }
    if not fields:
        return
    calls: dict[str, list[ast.Call]] = {}
    named: dict[str, int] = {}
    # Names that make nothing: annotations, and the class of `isinstance(x, _State)`.
    inert: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in fields and id(node) not in inert:
            named[node.id] = named.get(node.id, 0) + 1
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in fields:
                calls.setdefault(node.func.id, []).append(node)
            elif isinstance(node.func, ast.Name) and node.func.id in _TESTS and node.args[1:]:
                inert.update(id(inner) for inner in ast.walk(node.args[1]))
        for annotation in _annotations(node):
            inert.update(id(inner) for inner in ast.walk(annotation))
    for name, declared in fields.items():
        table = made[name]
        made_here = calls.get(name, [])
        # Named otherwise (`defaultdict(_State)`): made with arguments not shown.
        unknown = named.get(name, 0) != len(made_here)
        for call in made_here:
            for field, value in _arguments(call, declared, unknown):
                if value is None:
                    table[field] = (*table.get(field, ()), acquires.OTHER)
                else:
                    acquires.note_made(table, field, value, reader)
        if unknown:
            for field, _ in declared:
                table[field] = (*table.get(field, ()), acquires.OTHER)


def generated(node: ast.ClassDef, reader: acquires.Reader, generators: Collection[str]) -> bool:
    """Decorated by one of `generators` (`@dataclass`, `@dataclass(frozen=True)`)."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if reader.absolute(target) in generators:
            return True
    return False


def _fields(
    node: ast.ClassDef, reader: acquires.Reader, declarers: Collection[str]
) -> list[tuple[str, _Made]] | None:
    """The fields `__init__` takes, in order, each with what its default makes (None: no
    default, or one that makes nothing known); None when a field is left out of
    `__init__` (`field(init=False)`), which moves the others' positions."""
    found: list[tuple[str, _Made]] = []
    for statement in node.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        annotation = statement.annotation
        spelled = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        if (reader.absolute(spelled) or "").rpartition(".")[2] in ("ClassVar", "KW_ONLY"):
            continue
        value = statement.value
        if isinstance(value, ast.Call) and reader.absolute(value.func) in declarers:
            options = {k.arg: k.value for k in value.keywords if k.arg is not None}
            if "init" in options:
                return None
            factory = options.get("default_factory")
            value = ast.Call(func=factory, args=[], keywords=[]) if factory else None
        found.append((statement.target.id, value if isinstance(value, ast.Call) else None))
    return found


def _arguments(
    call: ast.Call, fields: list[tuple[str, _Made]], unknown: bool
) -> Iterator[tuple[str, _Made]]:
    """Each field with what `call` gives it (None: not known)."""
    if (
        unknown
        or any(isinstance(arg, ast.Starred) for arg in call.args)
        or any(keyword.arg is None for keyword in call.keywords)
    ):
        yield from ((field, None) for field, _ in fields)
        return
    given: dict[str, ast.expr] = {
        field: arg for (field, _), arg in zip(fields, call.args, strict=False)
    }
    given.update((k.arg, k.value) for k in call.keywords if k.arg is not None)
    for field, default in fields:
        yield field, given.get(field, default)
