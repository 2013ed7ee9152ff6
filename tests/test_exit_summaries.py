"""Exit summaries of the project model: which functions never return, which raise again the
cancellation they are given, and what the control-flow graph and CCL203 make of them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from conclint.analysis import cfg
from conclint.analysis.catalog import SHIPPED
from conclint.analysis.context import FileContext
from conclint.analysis.declared import FunctionFacts, from_json, to_json
from conclint.analysis.flow import graph_of
from conclint.analysis.project import ProjectIndex, facts_of, module_name
from conclint.config import Settings
from conclint.engine import lint_source
from tests.test_model import model as build

ERRORS = """\
import asyncio
import contextlib
import functools
import os
import sys
import typing
from typing import NoReturn

from typing_extensions import Never


class JobError(Exception):
    pass


def fail(message: str) -> NoReturn:
    raise JobError(message)


def fail_quoted(message) -> "typing.NoReturn":
    raise JobError(message)


def fail_never(message) -> Never:
    raise JobError(message)


def abort(code):
    if code:
        raise JobError(code)
    else:
        sys.exit(code)


def hard_exit(code):
    os._exit(code)


def raise_in_loop():
    while True:
        raise JobError()


def one_branch(flag):
    if flag:
        raise JobError()


def logs(message):
    print(message)


def logs_then_fails(message):
    logs(message)
    fail(message)


def either(flag):
    if flag:
        fail("a")
    else:
        abort(1)


def first(message):
    second(message)


def second(message):
    first(message)


def swallowed():
    with contextlib.suppress(JobError):
        raise JobError()


def caught():
    try:
        raise JobError()
    except JobError:
        pass


def finally_returns():
    try:
        raise JobError()
    finally:
        return None


def spins():
    while True:
        logs("spinning")


def shadowed(fail):
    fail("x")


def generator():
    yield 1
    raise JobError()


def wrap(function):
    return function


@wrap
def wrapped():
    raise JobError()


def reraise(exc):
    logs(exc)
    raise exc


async def handle(exc):
    await asyncio.sleep(0)
    raise


async def reraise_cancellation(exc, *, context=None):
    if isinstance(exc, Exception):
        logs(exc)
        return
    raise exc


def reraise_by_keyword(*, error):
    if not isinstance(error, (ValueError, KeyError)):
        raise
    logs(error)


def reraise_value_errors(exc):
    if isinstance(exc, ValueError):
        raise exc


def convert(exc):
    if isinstance(exc, asyncio.CancelledError):
        raise JobError() from exc
    logs(exc)


class Base:
    def _fail(self, exc):
        raise JobError() from exc

    def _stop(self, exc) -> NoReturn:
        raise exc

    async def _afail(self, exc):
        raise exc

    def delegate(self, exc):
        self._fail(exc)

    async def adelegate(self, exc):
        await self._afail(exc)

    def pending(self):
        self._afail(None)

    def todo(self):
        raise NotImplementedError

    @staticmethod
    def static_reraise(note, exc):
        if isinstance(exc, Exception):
            return
        raise exc

    def reraise_given(self, note, exc):
        if isinstance(exc, Exception):
            return
        raise exc


class Lenient(Base):
    def _fail(self, exc):
        logs(exc)

    def _stop(self, exc):
        logs(exc)


class Strict(Base):
    pass
"""

OTHER = """\
from . import errors
from .errors import Base, fail


def give_up(message):
    errors.logs(message)
    fail(message)


def give_up_later(message):
    give_up(message)


class Service(Base):
    def close(self, exc):
        self._stop(exc)
"""

# A chain of helpers, each ending in the next; the last one raises.
CHAIN = "\n\n".join(
    [f"def step{n}():\n    step{n + 1}()" for n in range(9)] + ["def step9():\n    raise OSError"]
)


def facts(name: str) -> FunctionFacts:
    declared = facts_of(ERRORS, "errors.py").declared
    owner, _, local = name.rpartition(".")
    return declared.classes[owner].methods[local] if owner else declared.functions[local]


@pytest.mark.parametrize(
    ("name", "annotated", "raises", "ends_in", "reraises"),
    [
        ("fail", True, False, (), ()),
        ("fail_quoted", True, False, (), ()),
        ("fail_never", True, False, (), ()),
        ("abort", False, True, (), ()),
        ("hard_exit", False, True, (), ()),  # the catalog's `never-returns`
        ("raise_in_loop", False, True, (), ()),
        ("one_branch", False, False, (), ()),
        ("logs", False, False, (), ()),  # `print()` is the catalog's: it returns
        ("logs_then_fails", False, False, ("call:errors.fail",), ()),
        ("either", False, False, ("call:errors.abort", "call:errors.fail"), ()),
        ("swallowed", False, False, (), ()),  # `suppress()` swallows what is raised
        ("caught", False, False, (), ()),
        ("finally_returns", False, False, (), ()),
        ("spins", False, False, (), ()),  # a loop for ever is no raise
        ("shadowed", False, False, (), ()),  # the parameter, not the module's `fail`
        ("generator", False, False, (), ()),
        ("wrapped", False, False, (), ()),  # an unknown decorator
        ("reraise", False, True, (), ()),
        ("handle", False, True, (), ()),
        ("reraise_cancellation", False, False, (), ("0:exc",)),
        ("reraise_by_keyword", False, False, ("call:errors.logs",), (":error",)),
        ("reraise_value_errors", False, False, (), ()),
        ("convert", False, False, ("call:errors.logs",), ()),  # raises another exception
        ("Base._fail", False, True, (), ()),
        ("Base._stop", True, False, (), ()),
        ("Base.delegate", False, False, ("method:errors.Base:_fail",), ()),
        ("Base.adelegate", False, False, ("await:method:errors.Base:_afail",), ()),
        ("Base.todo", False, False, (), ()),  # a placeholder for the subclasses
        ("Base.static_reraise", False, False, (), ("1:exc",)),
        ("Base.reraise_given", False, False, (), ("1:exc",)),  # as callers pass it
    ],
)
def test_what_the_index_says_of_a_function(
    name: str,
    annotated: bool,
    raises: bool,
    ends_in: tuple[str, ...],
    reraises: tuple[str, ...],
) -> None:
    found = facts(name)
    assert (found.annotated_no_return, found.always_raises) == (annotated, raises)
    assert (found.ends_in, found.reraises) == (ends_in, reraises)


@pytest.mark.parametrize(
    ("name", "awaited", "dispatched", "expected"),
    [
        ("app.errors.fail", False, False, True),
        ("app.fail", False, False, True),  # re-exported by the package
        ("app.errors.logs_then_fails", False, False, True),
        ("app.errors.either", False, False, True),
        ("app.errors.first", False, False, False),  # a cycle is unknown
        ("app.errors.one_branch", False, False, False),
        ("app.other.give_up", False, False, True),  # across modules
        ("app.other.give_up_later", False, False, True),
        ("app.errors.handle", True, False, True),
        ("app.errors.handle", False, False, False),  # not awaited: only a coroutine is made
        ("app.errors.Base._fail", False, False, True),  # through the class: no dispatch
        ("app.errors.Base._fail", False, True, False),  # `Lenient` overrides it
        ("app.errors.Base._stop", False, True, True),  # `NoReturn`: overrides keep it
        ("app.errors.Base._afail", True, True, True),
        ("app.errors.Base.adelegate", True, True, True),
        ("app.errors.Base.adelegate", False, True, False),
        ("app.errors.Base.pending", False, True, False),  # makes a coroutine, no more
        ("app.errors.Base.delegate", False, True, False),  # ends in the overridden one
        ("app.errors.Base.todo", False, True, False),
        ("app.other.Service.close", False, True, True),
        ("app.errors.nothing", False, False, False),
        ("app.chain.step0", False, False, False),  # deeper than the model follows
        ("app.chain.step5", False, False, True),
    ],
)
def test_which_calls_never_return(
    tmp_path: Path, name: str, awaited: bool, dispatched: bool, expected: bool
) -> None:
    types = build(
        tmp_path, errors=ERRORS, other=OTHER, chain=CHAIN, __init__="from .errors import fail\n"
    )
    assert types.never_returns(name, awaited=awaited, dispatched=dispatched) is expected


@pytest.mark.parametrize(
    ("name", "argument", "awaited", "dispatched", "expected"),
    [
        ("app.errors.reraise_cancellation", 0, True, False, True),
        ("app.errors.reraise_cancellation", "exc", True, False, True),
        ("app.errors.reraise_cancellation", 1, True, False, False),
        ("app.errors.reraise_cancellation", 0, False, False, False),
        ("app.errors.reraise_by_keyword", "error", False, False, True),
        ("app.errors.reraise_value_errors", 0, False, False, False),
        ("app.errors.convert", 0, False, False, False),  # turns it into another error
        ("app.errors.reraise", 0, False, False, True),  # it never returns at all
        ("app.errors.Base.static_reraise", 1, False, True, True),
        ("app.errors.Base.reraise_given", 1, False, True, True),
        ("app.errors.Base.reraise_given", 0, False, True, False),
    ],
)
def test_which_calls_raise_the_cancellation_again(
    tmp_path: Path,
    name: str,
    argument: int | str,
    awaited: bool,
    dispatched: bool,
    expected: bool,
) -> None:
    types = build(tmp_path, errors=ERRORS)
    found = types.reraises(name, argument, awaited=awaited, dispatched=dispatched)
    assert found is expected


def test_the_names_worth_asking_about(tmp_path: Path) -> None:
    names = build(tmp_path, errors=ERRORS).ending_names()
    assert {"fail", "logs_then_fails", "_fail", "reraise_cancellation"} <= names
    assert not {"logs", "one_branch", "todo", "wrapped"} & names


def test_summaries_survive_the_cache() -> None:
    declared = facts_of(ERRORS, "errors.py").declared
    again = from_json(json.loads(json.dumps(to_json(declared), sort_keys=True)))
    assert again == declared
    assert again.functions["either"].ends_in == ("call:errors.abort", "call:errors.fail")


def test_the_catalog_says_what_never_returns() -> None:
    """A placeholder is the catalog's word: with its role gone, the method always raises."""
    source = "class Base:\n    def todo(self):\n        raise NotImplementedError\n"
    assert not facts_of(source, "base.py").declared.classes["Base"].methods["todo"].always_raises
    lean = SHIPPED.__class__(
        [
            library.__class__(**{**vars(library), "names": _without_placeholders(library.names)})
            for library in SHIPPED.libraries
        ]
    )
    found = facts_of(source, "base.py", lean).declared.classes["Base"].methods["todo"]
    assert found.always_raises


def _without_placeholders(names: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    return {name: roles - {"placeholder"} for name, roles in names.items()}


# The lint pass ---------------------------------------------------------------------------


def _graph(tmp_path: Path, source: str) -> cfg.Graph:
    """The graph of `probe` in module `app.main`, next to `app.errors`."""
    types_dir = tmp_path / "app"
    types_dir.mkdir()
    (types_dir / "__init__.py").write_text("", encoding="utf-8")
    (types_dir / "errors.py").write_text(ERRORS, encoding="utf-8")
    main = types_dir / "main.py"
    text = textwrap.dedent(source)
    main.write_text(text, encoding="utf-8")
    index = ProjectIndex.from_facts(
        (module_name(str(path)) or "", facts_of(path.read_text(encoding="utf-8"), str(path)))
        for path in types_dir.glob("*.py")
    )
    module = cst.parse_module(text)
    context = FileContext(str(main), module, Settings(), project=index, source=text)
    probe = next(n for n in module.body if isinstance(n, cst.FunctionDef))
    return graph_of(context, probe, [module, probe])


def _reaches_after(graph: cfg.Graph) -> bool:
    """Some path runs the call `after()`."""
    seen = {graph.entry.index}
    stack = [graph.entry]
    while stack:
        block = stack.pop()
        for event in block.events:
            if event.kind == cfg.CALL and isinstance(event.node, cst.Call):
                func = event.node.func
                if isinstance(func, cst.Name) and func.value == "after":
                    return True
        for following in cfg.successors(block):
            if following.index not in seen:
                seen.add(following.index)
                stack.append(following)
    return False


@pytest.mark.parametrize(
    ("source", "reached"),
    [
        ("from .errors import fail\n\ndef probe():\n    fail('x')\n    after()\n", False),
        ("from . import errors\n\ndef probe():\n    errors.abort(1)\n    after()\n", False),
        ("from .errors import one_branch\n\ndef probe():\n    one_branch(1)\n    after()\n", True),
        (
            "from .errors import handle\n\nasync def probe(e):\n    await handle(e)\n    after()\n",
            False,
        ),
        (
            "from .errors import handle\n\nasync def probe(e):\n    handle(e)\n    after()\n",
            True,
        ),
        ("from .errors import fail\n\ndef probe(fail):\n    fail('x')\n    after()\n", True),
    ],
)
def test_a_call_that_never_returns_ends_the_path(
    tmp_path: Path, source: str, reached: bool
) -> None:
    assert _reaches_after(_graph(tmp_path, source)) is reached


@pytest.mark.parametrize(
    ("call", "raises"),
    [
        ("done.is_set()", False),
        ("len(items)", False),
        ("time.monotonic()", False),
        ("table.get('key')", False),
        ("loop.call_soon(print)", False),
        ("loop.time()", False),
        ("items.pop()", True),
        ("table.pop('key')", True),
        ("loop.run_in_executor(None, print)", True),
    ],
)
def test_calls_that_cannot_raise_open_no_exception_path(call: str, raises: bool) -> None:
    source = textwrap.dedent(
        f"""\
        import asyncio
        import threading
        import time


        def probe(
            done: threading.Event,
            items: list[int],
            table: dict[str, int],
            loop: asyncio.AbstractEventLoop,
        ) -> None:
            {call}
        """
    )
    module = cst.parse_module(source)
    context = FileContext("example.py", module, Settings(), source=source)
    probe = next(n for n in module.body if isinstance(n, cst.FunctionDef))
    graph = graph_of(context, probe, [module, probe])
    events = [e for b in graph.blocks for e in b.events if e.kind == cfg.CALL]
    assert events[-1].raises is raises


def test_a_handler_ending_in_a_helper_of_another_module(tmp_path: Path) -> None:
    """A helper of another module, called, awaited, or reached through `self`."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "errors.py").write_text(ERRORS, encoding="utf-8")
    source = textwrap.dedent(
        """\
        import asyncio

        from .errors import Base, reraise_cancellation


        class Job(Base):
            async def run(self, future):
                try:
                    await future
                except asyncio.CancelledError as exc:
                    await reraise_cancellation(exc)

            async def stop(self, future):
                try:
                    await future
                except asyncio.CancelledError as exc:
                    self._stop(exc)

            async def fail(self, future):
                try:
                    await future
                except asyncio.CancelledError as exc:
                    self._fail(exc)
        """
    )
    main = package / "main.py"
    main.write_text(source, encoding="utf-8")
    index = ProjectIndex.from_facts(
        (module_name(str(path)) or "", facts_of(path.read_text(encoding="utf-8"), str(path)))
        for path in package.glob("*.py")
    )
    found = lint_source(source, str(main), Settings(select=("CCL203",)), project=index)
    # Only `_fail`, which `Lenient` overrides with a method that returns, may swallow it.
    assert [d.line for d in found.diagnostics] == [22]
