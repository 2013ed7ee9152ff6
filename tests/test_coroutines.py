"""Coroutine calls (analysis/coroutines.py), discarded results, CCL101/CCL102 options."""

from __future__ import annotations

import textwrap

import pytest

from conclint.analysis import catalog
from conclint.analysis.project import ProjectIndex
from conclint.config import Settings
from conclint.engine import lint_source
from conclint.prefilter import Source
from conclint.rules.base import Rule
from conclint.rules.dangling_task import DanglingTask
from conclint.rules.unawaited_coroutine import UnawaitedCoroutine

SETTINGS = Settings()


def findings(
    source: str,
    rule: type[Rule] = UnawaitedCoroutine,
    settings: Settings = SETTINGS,
    project: ProjectIndex | None = None,
) -> list[tuple[int, str]]:
    result = lint_source(textwrap.dedent(source), "x.py", settings, rules=[rule], project=project)
    return [(d.line, d.message) for d in result.diagnostics]


def lines(
    source: str,
    rule: type[Rule] = UnawaitedCoroutine,
    settings: Settings = SETTINGS,
    project: ProjectIndex | None = None,
) -> list[int]:
    return [line for line, _ in findings(source, rule, settings, project)]


# What counts as a coroutine function -------------------------------------------


def test_async_generators_are_not_coroutine_functions() -> None:
    source = """
    async def ticks():
        yield 1

    async def nested_yield_only():
        def inner():
            yield 1
        return inner

    async def main():
        ticks()
        nested_yield_only()
    """
    assert lines(source) == [12]


@pytest.mark.parametrize(
    ("decorator", "reported"),
    [
        ("@staticmethod", True),
        ("@abc.abstractmethod", True),
        ("@functools.wraps(other)", True),
        ("@typing.override", True),
        ("@cache_result", False),
        ("@app.route('/jobs')", False),
        ("@contextlib.asynccontextmanager", False),
    ],
)
def test_only_known_decorators_keep_a_coroutine_function(decorator: str, reported: bool) -> None:
    source = f"""
    import abc, contextlib, functools, typing

    class Jobs:
        {decorator}
        async def run(*args):
            pass

        async def caller(self):
            self.run()
    """
    assert bool(lines(source)) is reported


def test_every_binding_must_be_the_async_def() -> None:
    source = """
    import sys

    if sys.platform == "win32":
        def poll():
            pass
    else:
        async def poll():
            pass

    async def fetch():
        pass

    async def fetch():
        pass

    async def main():
        poll()
        fetch()
    """
    assert lines(source) == [19]


def test_method_replaced_by_an_instance_attribute_is_not_reported() -> None:
    source = """
    class Client:
        def __init__(self, fake):
            if fake:
                self.send = print

        async def send(self, data):
            pass

        async def close(self):
            pass

        async def run(self):
            self.send(b"x")
            self.close()
    """
    assert lines(source) == [15]


def test_methods_are_looked_up_in_the_enclosing_class_only() -> None:
    source = """
    class Base:
        async def start(self):
            pass

    class Child(Base):
        def start(self):
            return None

        def run(self):
            self.start()
            Base.start(self)
    """
    assert lines(source) == [12]


def test_self_in_a_nested_function_is_still_the_method_receiver() -> None:
    source = """
    class Worker:
        async def stop(self):
            pass

        def install(self, loop):
            def on_signal():
                self.stop()
            loop.add_signal_handler(15, on_signal)
    """
    assert lines(source) == [8]


def test_receivers_of_known_kind() -> None:
    source = """
    import asyncio
    import queue

    async def main(q: asyncio.Queue[int], tq: queue.Queue[int], lock: asyncio.Lock):
        q.get()
        q.get_nowait()
        tq.get()
        lock.acquire()
        lock.release()
    """
    assert lines(source) == [6, 9]


# Where a coroutine counts as thrown away ----------------------------------------


def test_locals_read_in_nested_functions_are_used() -> None:
    source = """
    async def job():
        pass

    async def main():
        pending = job()
        unused = job()

        async def later():
            await pending

        await later()
    """
    message = (
        "coroutine from `job(...)` is bound to `unused` and never used, "
        "so its body never runs; `await` it"
    )
    assert findings(source) == [(7, message)]


def test_module_class_and_global_bindings_are_not_locals() -> None:
    source = """
    async def job():
        pass

    PENDING = job()

    class Holder:
        pending = job()

    def keep():
        global PENDING
        PENDING = job()

    def outer():
        def inner():
            class Local:
                value = job()
            return Local
        return inner
    """
    assert lines(source) == []


def test_a_function_named_like_the_local_does_not_count_as_a_read() -> None:
    source = """
    import asyncio

    async def probe(url):
        probe = asyncio.create_task(asyncio.to_thread(print))
    """
    assert lines(source, rule=DanglingTask) == [5]


def test_truth_tests_see_through_and_or_not() -> None:
    source = """
    async def ready():
        return True

    def check(flag):
        if flag and ready():
            pass
        if ready() and flag:
            pass
        if not (flag or ready()):
            pass
        value = ready() or flag
        other = flag or ready()
        return value, other
    """
    assert lines(source) == [6, 8, 10, 12]


# CCL101 options and the pre-filter ------------------------------------------------


def test_extra_spawners_are_matched_through_imports() -> None:
    source = """
    from app.tasks import spawn
    import app.tasks as tasks

    async def job():
        await tasks.idle()

    def start():
        spawn(job())
        tasks.spawn(job())
        kept = spawn(job())
        return kept
    """
    configured = Settings(extra_spawners=("app.tasks.spawn",))
    assert lines(source, rule=DanglingTask) == []
    assert lines(source, rule=DanglingTask, settings=configured) == [9, 10]


def test_extra_spawners_extend_the_needles() -> None:
    configured = Settings(extra_spawners=("app.tasks.spawn",))
    assert "spawn" in DanglingTask.needles_for(configured)
    assert DanglingTask.needles_for(SETTINGS) == DanglingTask.needles


def test_ccl102_gate_lets_every_coroutine_it_knows_through() -> None:
    """The pre-filter never hides a call CCL102 knows: each coroutine function of the
    catalog, and each coroutine method on an object made by each maker of its kind."""
    rule = UnawaitedCoroutine
    calls = [f"{name}()" for name in catalog.ASYNCIO_COROUTINES]
    calls += [
        f"{maker}().{method}()"
        for maker, kind in catalog.CONSTRUCTORS.items()
        for method in catalog.COROUTINE_METHODS.get(kind, ())
    ]
    assert len(calls) > 100
    missed = [
        call
        for call in calls
        if not rule.may_fire(
            Source(f"import {call.partition('.')[0]}\n{call}\n", "m.py"), Settings()
        )
    ]
    assert missed == []
    # Configured factories give thread-side kinds, which have no coroutine methods.
    assert not {"queue.Queue", "threading.Lock"} & set(catalog.COROUTINE_METHODS)


# Project mode ----------------------------------------------------------------------


def test_async_defs_of_other_modules_in_project_mode() -> None:
    source = """
    from app.db import fetch
    from app.db import Client

    def refresh():
        fetch()
        Client.connect()
        return fetch()
    """
    project = ProjectIndex(frozenset({"app.db.fetch", "app.db.Client.connect"}))
    assert lines(source) == []
    # No "async" in this file: the project index alone gets it parsed.
    assert lines(source, project=project) == [6, 7]


def test_an_own_method_spelled_with_compatibility_characters_is_known() -> None:
    source = (
        "class Worker:\n"
        "    async def run(self) -> None: ...\n"
        "\n"
        "    async def go(self) -> None:\n"
        "        self.\uff52un()\n"
    )
    result = lint_source(source, "m.py", Settings())
    assert [(d.line, d.code) for d in result.diagnostics] == [(5, "CCL102")]
