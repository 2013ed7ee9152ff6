"""Name resolution (analysis/names.py) and scope tables (analysis/scopes.py) on small modules."""

from __future__ import annotations

import re
import textwrap
from string import ascii_letters

import libcst as cst
import pytest

from conclint.analysis.catalog import REEXPORTS
from conclint.analysis.names import NameResolver, canonical
from conclint.analysis.scopes import (
    ScopeNode,
    collect,
    dotted_name,
    iter_statements,
    module_of_import_from,
    scope_body,
)
from conclint.catalog import CatalogError
from conclint.catalog.schema import library

_SCOPES = (cst.ClassDef, cst.FunctionDef, cst.Lambda)


class _Probes(cst.CSTVisitor):
    """Finds every `probe(expr)` call and the scope chain it sits in."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.chain: list[ScopeNode] = [module]
        self.found: list[tuple[cst.BaseExpression, tuple[ScopeNode, ...]]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _SCOPES):
            self.chain.append(node)
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "probe"
        ):
            self.found.append((node.args[0].value, tuple(self.chain)))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, _SCOPES):
            self.chain.pop()


def resolved(source: str, package: str | None = None) -> list[str | None]:
    """What each `probe(expr)` in `source` resolves to, in source order."""
    module = cst.parse_module(textwrap.dedent(source))
    probes = _Probes(module)
    module.visit(probes)
    names = NameResolver(package)
    return [names.resolve(expr, chain) for expr, chain in probes.found]


def only(source: str, package: str | None = None) -> str | None:
    answers = resolved(source, package)
    assert len(answers) == 1, answers
    return answers[0]


# Import forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio\nprobe(asyncio.sleep)", "asyncio.sleep"),
        ("import asyncio as aio\nprobe(aio.create_task)", "asyncio.create_task"),
        ("from asyncio import create_task as spawn\nprobe(spawn)", "asyncio.create_task"),
        ("from asyncio import Queue\nprobe(Queue)", "asyncio.Queue"),
        (
            "from concurrent import futures\nprobe(futures.ThreadPoolExecutor)",
            "concurrent.futures.ThreadPoolExecutor",
        ),
        (
            "import concurrent.futures\nprobe(concurrent.futures.wait)",
            "concurrent.futures.wait",
        ),
        ("import a.b.c\nprobe(a.b.c.run)", "a.b.c.run"),
        ("import a.b.c\nprobe(a)", "a"),
        ("import a.b.c as abc\nprobe(abc.run)", "a.b.c.run"),
        ("import os.path as osp\nprobe(osp.join)", "os.path.join"),
    ],
)
def test_import_forms(source: str, expected: str) -> None:
    assert only(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from . import sibling\nprobe(sibling.start)", "app.api.sibling.start"),
        ("from .tasks import spawn\nprobe(spawn)", "app.api.tasks.spawn"),
        ("from .. import db\nprobe(db.fetch)", "app.db.fetch"),
        ("from ..db import fetch as load\nprobe(load)", "app.db.fetch"),
        ("from ..db.pool import Pool\nprobe(Pool.get)", "app.db.pool.Pool.get"),
        ("from ... import outside\nprobe(outside)", None),
    ],
)
def test_relative_imports_resolve_from_the_package(source: str, expected: str | None) -> None:
    assert only(source, package="app.api") == expected


def test_relative_imports_without_a_package_are_unknown() -> None:
    assert only("from .tasks import spawn\nprobe(spawn)") is None
    assert only("from . import sibling\nprobe(sibling.start)") is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio.tasks\nprobe(asyncio.tasks.sleep)", "asyncio.sleep"),
        ("from asyncio.queues import Queue\nprobe(Queue)", "asyncio.Queue"),
        (
            "from concurrent.futures.thread import ThreadPoolExecutor\nprobe(ThreadPoolExecutor)",
            "concurrent.futures.ThreadPoolExecutor",
        ),
        ("from asyncio import events\nprobe(events)", "asyncio.events"),
    ],
)
def test_implementation_modules_are_canonicalised(source: str, expected: str) -> None:
    assert only(source) == expected


def test_canonical_keeps_unrelated_names() -> None:
    assert canonical("asyncio.tasks.sleep") == "asyncio.sleep"
    assert canonical("asynciox.tasks.sleep") == "asynciox.tasks.sleep"
    assert canonical("app.tasks.sleep") == "app.tasks.sleep"
    # Only the submodules the catalog says are re-exported, and only their contents.
    assert canonical("asyncio.sslproto.SSLProtocol") == "asyncio.sslproto.SSLProtocol"
    assert canonical("concurrent.futures.thread") == "concurrent.futures.thread"
    assert canonical("concurrent.thread.Thing") == "concurrent.thread.Thing"


@pytest.mark.parametrize(
    ("package", "submodule"),
    sorted((package, sub) for package, subs in REEXPORTS.items() for sub in subs),
)
def test_the_catalogs_reexports_are_what_canonical_follows(package: str, submodule: str) -> None:
    """Which submodules a package re-exports is the catalog's data (`[library] reexports`)."""
    assert canonical(f"{package}.{submodule}.Thing") == f"{package}.Thing"
    assert only(f"import {package}.{submodule}\nprobe({package}.{submodule}.Thing)") == (
        f"{package}.Thing"
    )


def test_reexports_of_the_shipped_libraries() -> None:
    assert {"tasks", "queues", "locks"} <= REEXPORTS["asyncio"]
    assert REEXPORTS["concurrent.futures"] == {"_base", "process", "thread"}
    assert REEXPORTS["multiprocessing"] == {"context"}
    assert only("from multiprocessing.context import Process\nprobe(Process)") == (
        "multiprocessing.Process"
    )
    # A submodule further down: anyio re-exports `anyio._core._eventloop`'s names.
    assert only("from anyio._core._eventloop import sleep\nprobe(sleep)") == "anyio.sleep"
    assert only("import anyio._core._tasks as tasks\nprobe(tasks.CancelScope)") == (
        "anyio.CancelScope"
    )
    assert only("from anyio._core import _eventloop\nprobe(_eventloop)") == (
        "anyio._core._eventloop"
    )


@pytest.mark.parametrize(
    ("reexports", "message"),
    [
        ({"trio": ["_core"]}, "[library] reexports: trio is not in the library's modules"),
        ({"asyncio": "tasks"}, "[library] reexports asyncio: expected a list of dotted names"),
        ({"asyncio": ["tasks.-x"]}, "[library] reexports asyncio: 'tasks.-x' is not a dotted name"),
        ({"asyncio.": ["tasks"]}, "[library] reexports: 'asyncio.' is not a dotted name"),
    ],
)
def test_a_mistake_in_reexports_names_the_entry(reexports: object, message: str) -> None:
    raw = {"library": {"modules": ["asyncio"], "reexports": reexports}}
    with pytest.raises(CatalogError, match=re.escape(f"data/x.toml: {message}")):
        library(raw, "data/x.toml")


def test_builtins_and_unknown_names() -> None:
    assert only("probe(open)") == "builtins.open"
    assert only("probe(undefined_helper)") is None
    assert only("probe(None)") is None
    # A star import binds nothing that can be named.
    assert only("from asyncio import *\nprobe(sleep)") is None


def test_import_inside_a_function_is_local_to_it() -> None:
    source = """
    def worker():
        import asyncio as aio
        probe(aio.sleep)

    def other():
        probe(aio.sleep)
    """
    assert resolved(source) == ["asyncio.sleep", None]


def test_attribute_of_unresolved_base_is_unknown() -> None:
    assert only("probe(make_loop().create_task)") is None


# Shadowing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "def sleep(seconds):\n    return seconds\nprobe(sleep)",
        "sleep = make_sleeper()\nprobe(sleep)",
        "for sleep in sleepers:\n    probe(sleep)",
        "with make_sleeper() as sleep:\n    probe(sleep)",
        "try:\n    pass\nexcept ValueError as sleep:\n    probe(sleep)",
        "class sleep:\n    pass\nprobe(sleep)",
        "sleep: Sleeper = make_sleeper()\nprobe(sleep)",
        "sleep += 1\nprobe(sleep)",
        "match command:\n    case {'sleep': sleep}:\n        probe(sleep)",
    ],
)
def test_local_bindings_shadow_an_import(body: str) -> None:
    source = "from asyncio import sleep\n\ndef run(command, sleepers):\n" + textwrap.indent(
        body, "    "
    )
    assert only(source) is None


def test_parameters_shadow_an_import() -> None:
    source = """
    import asyncio

    async def run(asyncio):
        probe(asyncio.sleep)

    async def run_kw(*, asyncio=None):
        probe(asyncio.sleep)

    async def run_star(*asyncio):
        probe(asyncio.sleep)

    handler = lambda asyncio: probe(asyncio.sleep)

    async def fine():
        probe(asyncio.sleep)
    """
    assert resolved(source) == [None, None, None, None, "asyncio.sleep"]


def test_shadowing_is_per_scope() -> None:
    source = """
    from asyncio import sleep

    def sync_side():
        def sleep(seconds):
            pass
        probe(sleep)

    async def async_side():
        probe(sleep)
    """
    assert resolved(source) == [None, "asyncio.sleep"]


def test_assignment_anywhere_in_the_function_makes_it_local() -> None:
    source = """
    import asyncio

    def run():
        probe(asyncio.sleep)
        if False:
            asyncio = None
    """
    assert only(source) is None


def test_a_module_rebinding_that_disagrees_is_ambiguous() -> None:
    source = """
    try:
        from asyncio import timeout
    except ImportError:
        from async_timeout import timeout
    probe(timeout)
    """
    assert only(source) is None


def test_the_same_import_twice_agrees() -> None:
    source = """
    import asyncio
    if DEBUG:
        import asyncio
    probe(asyncio.sleep)
    """
    assert only(source) == "asyncio.sleep"


# global / nonlocal ------------------------------------------------------------


def test_global_skips_enclosing_functions() -> None:
    source = """
    import asyncio

    def outer():
        asyncio = None

        def inner():
            global asyncio
            probe(asyncio.sleep)

        probe(asyncio)
    """
    assert resolved(source) == ["asyncio.sleep", None]


def test_global_of_a_name_the_module_does_not_bind() -> None:
    source = """
    def setup():
        global sleep
        probe(sleep)
    """
    assert only(source) is None


def test_nonlocal_refers_to_the_enclosing_function() -> None:
    source = """
    from asyncio import sleep

    def outer():
        sleep = make_sleeper()

        def inner():
            nonlocal sleep
            probe(sleep)
    """
    assert only(source) is None


def test_enclosing_function_scope_is_visible() -> None:
    source = """
    def outer():
        from asyncio import sleep as nap

        def inner():
            probe(nap)
    """
    assert only(source) == "asyncio.sleep"


# Class scopes ---------------------------------------------------------------


def test_class_scope_is_not_visible_in_methods() -> None:
    source = """
    import asyncio

    class Worker:
        asyncio = None
        probe(asyncio)

        def run(self):
            probe(asyncio.sleep)

        async def nested(self):
            def helper():
                probe(asyncio.sleep)
    """
    assert resolved(source) == [None, "asyncio.sleep", "asyncio.sleep"]


def test_class_scope_sees_the_enclosing_function() -> None:
    source = """
    def factory():
        from asyncio import Lock

        class Guarded:
            probe(Lock)
    """
    assert only(source) == "asyncio.Lock"


# Aliases ------------------------------------------------------------------------


def test_module_level_alias_is_followed() -> None:
    source = """
    import asyncio

    spawn = asyncio.create_task

    async def main():
        probe(spawn)
    """
    assert only(source) == "asyncio.create_task"


def test_alias_chains_are_followed_a_few_steps() -> None:
    source = """
    import asyncio as aio
    first = aio.create_task
    second = first
    third = second
    probe(third)
    """
    assert only(source) == "asyncio.create_task"


def test_alias_inside_a_function() -> None:
    source = """
    from concurrent import futures

    def run():
        Pool = futures.ThreadPoolExecutor
        probe(Pool)
    """
    assert only(source) == "concurrent.futures.ThreadPoolExecutor"


def test_alias_of_a_call_result_is_not_an_alias() -> None:
    source = """
    import asyncio
    loop_factory = asyncio.get_event_loop()
    probe(loop_factory)
    """
    assert only(source) is None


def test_alias_rebound_to_two_things_is_ambiguous() -> None:
    source = """
    import asyncio
    spawn = asyncio.create_task
    if LEGACY:
        spawn = asyncio.ensure_future
    probe(spawn)
    """
    assert only(source) is None


def test_tuple_unpacking_is_not_an_alias() -> None:
    source = """
    import asyncio
    spawn, other = asyncio.create_task, asyncio.sleep
    probe(spawn)
    """
    assert only(source) is None


def test_self_referencing_alias_terminates() -> None:
    source = """
    from asyncio import sleep
    sleep = sleep
    probe(sleep)
    """
    assert only(source) is None


# Names as Python reads them (NFKC) ----------------------------------------------


def wide(text: str) -> str:
    """`text` with fullwidth letters (`a` -> U+FF41), which NFKC, as Python applies it to
    identifiers, turns back into ASCII: the same names to Python, not to LibCST."""
    return "".join(chr(ord(c) - ord("!") + 0xFF01) if c in ascii_letters else c for c in text)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"import asyncio\nprobe(asyncio.{wide('c')}reate_task)", "asyncio.create_task"),
        (f"import {wide('a')}syncio\nprobe(asyncio.sleep)", "asyncio.sleep"),
        (f"import asyncio\nprobe({wide('asyncio')}.sleep)", "asyncio.sleep"),
        (f"from {wide('asyncio.tasks')} import sleep\nprobe(sleep)", "asyncio.sleep"),
        (
            f"from asyncio import {wide('create_task')} as {wide('spawn')}\nprobe(spawn)",
            "asyncio.create_task",
        ),
        (
            f"import asyncio\n{wide('spawn')} = asyncio.create_task\nprobe(spawn)",
            "asyncio.create_task",
        ),
        (f"probe({wide('o')}pen)", "builtins.open"),
    ],
)
def test_names_are_read_normalised(source: str, expected: str) -> None:
    assert only(source) == expected


def test_a_differently_spelled_parameter_shadows_an_import() -> None:
    source = f"""
    import asyncio
    def main({wide("asyncio")}):
        probe(asyncio.sleep)
    """
    assert only(source) is None


# scopes.py ---------------------------------------------------------------------


def _module(source: str) -> cst.Module:
    return cst.parse_module(textwrap.dedent(source))


def _function(module: cst.Module, name: str) -> cst.FunctionDef:
    for statement in iter_statements(module.body):
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    raise LookupError(name)


def test_dotted_name() -> None:
    assert dotted_name(cst.parse_expression("a.b.c")) == "a.b.c"
    assert dotted_name(cst.parse_expression("a")) == "a"
    assert dotted_name(cst.parse_expression("a().b")) is None
    assert dotted_name(cst.parse_expression("a[0].b")) is None
    assert dotted_name(None) is None
    assert dotted_name(cst.parse_expression(wide("asyncio.create_task"))) == "asyncio.create_task"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("from a.b import c", "a.b"),
        ("from . import c", "."),
        ("from .mod import c", ".mod"),
        ("from ...pkg.mod import c", "...pkg.mod"),
    ],
)
def test_module_of_import_from(statement: str, expected: str) -> None:
    node = cst.parse_statement(statement)
    assert isinstance(node, cst.SimpleStatementLine)
    imported = node.body[0]
    assert isinstance(imported, cst.ImportFrom)
    assert module_of_import_from(imported) == expected


def test_iter_statements_stays_in_its_scope() -> None:
    module = _module(
        """
        def run(items):
            first = 1
            if items:
                second = 2
            else:
                third = 3
            for item in items:
                fourth = 4
            while items:
                fifth = 5
            with lock:
                sixth = 6
            try:
                seventh = 7
            except ValueError:
                eighth = 8
            finally:
                ninth = 9
            match items:
                case []:
                    tenth = 10

            def nested():
                hidden = 0

            class Inner:
                hidden_too = 0
        """
    )
    run = _function(module, "run")
    assigned = {
        target.target.value
        for statement in iter_statements(scope_body(run))
        if isinstance(statement, cst.Assign)
        for target in statement.targets
        if isinstance(target.target, cst.Name)
    }
    assert assigned == {
        "first", "second", "third", "fourth", "fifth",
        "sixth", "seventh", "eighth", "ninth", "tenth",
    }  # fmt: skip
    kinds = [type(statement).__name__ for statement in iter_statements(scope_body(run))]
    assert "FunctionDef" in kinds
    assert "ClassDef" in kinds


def test_collect_records_how_names_are_bound() -> None:
    module = _module(
        """
        def run(queue: asyncio.Queue, *args, limit=3, **kwargs):
            import os.path
            from asyncio import Lock as L
            reader, writer = await open_connection()
            lock: L = L()
            for index, item in enumerate(args):
                pass
            with open(path) as handle, guard:
                pass
            global counter
            nonlocal other
            def helper():
                pass
            class Box:
                pass
        """
    )
    table = collect(_function(module, "run"))
    how = {name: [binding.how for binding in bindings] for name, bindings in table.bindings.items()}
    assert how == {
        "queue": ["param"],
        "args": ["param"],
        "limit": ["param"],
        "kwargs": ["param"],
        "os": ["import"],
        "L": ["import"],
        "reader": ["assign"],
        "writer": ["assign"],
        "lock": ["assign"],
        "index": ["other"],
        "item": ["other"],
        "handle": ["with"],
        "helper": ["def"],
        "Box": ["class"],
    }
    assert table.bindings["os"][0].imported == "os"
    assert table.bindings["L"][0].imported == "asyncio.Lock"
    assert [b.index for b in (*table.bindings["reader"], *table.bindings["writer"])] == [0, 1]
    assert dotted_name(table.bindings["queue"][0].annotation) == "asyncio.Queue"
    assert dotted_name(table.bindings["lock"][0].annotation) == "L"
    assert table.declared_outer == {"counter", "other"}
    assert table.declared_global == {"counter"}


def test_collect_one_line_function_and_lambda() -> None:
    module = _module("def quick(x): y = x; return y\nfn = lambda a, b=1: a\n")
    assert set(collect(_function(module, "quick")).bindings) == {"x", "y"}
    statement = module.body[1]
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    assert isinstance(assign.value, cst.Lambda)
    assert set(collect(assign.value).bindings) == {"a", "b"}


def test_resolver_caches_tables_per_scope() -> None:
    module = _module("import asyncio\n")
    names = NameResolver()
    assert names.table(module) is names.table(module)
    assert names.lookup("asyncio", [module]) == (0, names.table(module).bindings["asyncio"])
    assert names.lookup("missing", [module]) is None


def test_scope_tables_hold_names_as_python_reads_them() -> None:
    module = _module(
        f"""
        import {wide("asyncio")}
        from queue import {wide("Queue")} as {wide("q")}
        def {wide("f")}():
            global {wide("counter")}
        """
    )
    table = collect(module)
    assert set(table.bindings) == {"asyncio", "q", "f"}
    assert table.bindings["asyncio"][0].imported == "asyncio"
    assert table.bindings["q"][0].imported == "queue.Queue"
    assert collect(_function(module, wide("f"))).declared_global == {"counter"}
    assert NameResolver().lookup(wide("asyncio"), [module]) == (0, table.bindings["asyncio"])
