"""Class lifecycle in the project model: what methods do to the attributes of `self`, which
teardown methods stop them (across modules), which constructors own their arguments, and
the `teardown-methods` option on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conclint.analysis.declared import FunctionFacts, from_json, to_json
from conclint.analysis.project import facts_of
from conclint.analysis.types import ProjectTypes
from tests.test_model import model as index

TEARDOWNS = ("close", "stop", "shutdown", "aclose", "__exit__", "__aexit__")

BASE = """\
import asyncio
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

from framework import Plugin

log = logging.getLogger(__name__)


class Owner:
    def __init__(self, pool, *, extra=None):
        self._pool = pool
        self._extra = extra or ThreadPoolExecutor()

    def shutdown(self):
        self._pool.shutdown(wait=True)


class Borrower:
    def __init__(self, pool, other):
        self._pool = pool
        self._other = other
        register(other)

    def close(self):
        log.info("closing %s", self)


class Forwarder(Owner):
    def __init__(self, name, pool):
        super().__init__(pool)
        self.name = name


class Component:
    def __init__(self):
        self._threads = []
        self._stopper = threading.Thread(target=self._on_stop)

    def close(self):
        self._release()
        for thread in self._threads:
            thread.join()
        task, self._task = self._task, None
        task.cancel()
        self.cleanup()

    def _release(self):
        if self._pool is not None:
            self._pool.shutdown()

    def _on_stop(self):
        self._hook.cancel()

    def cleanup(self):
        pass

    async def aclose(self):
        await asyncio.gather(*(t for t in self._tasks), return_exceptions=True)
        self._loop.call_soon(self._later)
        with self._entered:
            pass

        def callback():
            self._nested.cancel()

        self._procs.pop().terminate()


class Handed:
    def close(self):
        release(self)

    def check(self):
        self.total = report(len(self._items), isinstance(self, Handed))
        getattr(self, "_" + "pool").shutdown()


class Shadowed:
    close = None


class Finalized:
    def __init__(self):
        weakref.finalize(self, print, "collected")

    def release(self):
        self._pool.shutdown()

    def close(self):
        pass


class External(Plugin):
    def close(self):
        self._pool.shutdown()
"""

DERIVED = """\
import threading
from concurrent.futures import ThreadPoolExecutor

from .base import Borrower, Component, Forwarder, Owner


class Indexer(Component):
    def cleanup(self):
        self._index.shutdown()


class Downloader(Component):
    def close(self):
        super().close()
        self._reader.join()


class Explicit(Component):
    def close(self):
        Component.close(self)

    def _release(self):
        self._own.shutdown()


class Leaky(Component):
    def pause(self):
        self._beat.cancel()


class Reports(Owner):
    def __init__(self):
        super().__init__(ThreadPoolExecutor())


class Twice(Forwarder):
    pass


class Lent(Borrower):
    pass
"""


def method(types: ProjectTypes, owner: str, name: str) -> FunctionFacts:
    found = types.method(owner, name)
    assert found is not None
    return found[1]


@pytest.fixture
def types(tmp_path: Path) -> ProjectTypes:
    return index(tmp_path, base=BASE, derived=DERIVED)


@pytest.mark.parametrize(
    ("owner", "name", "stops", "calls"),
    [
        ("Owner", "shutdown", ("_pool",), ()),
        # A loop over a collection attribute, a copy taken off the object, a helper, a hook.
        ("Component", "close", ("_task", "_threads"), ("_release", "cleanup")),
        ("Component", "_release", ("_pool",), ()),
        # A thread's target is a method handed on: the callee may run it.
        ("Component", "__init__", ("_on_stop",), ()),
        # gather(*(...)), a method handed to a call, `with`, a nested callback, `.pop()`.
        ("Component", "aclose", ("_entered", "_later", "_nested", "_procs", "_tasks"), ()),
        # `self` handed to a function may reach any attribute; to a logger it is only read.
        ("Handed", "close", ("*",), ()),
        ("Borrower", "close", (), ()),
        # `isinstance(self, ...)` reads it, `getattr(self, ...)` may reach any attribute; an
        # attribute given to a builtin counts as handed on (`list(self._threads)` copies).
        ("Handed", "check", ("*", "_items"), ()),
    ],
)
def test_what_a_method_does_to_self(
    types: ProjectTypes, owner: str, name: str, stops: tuple[str, ...], calls: tuple[str, ...]
) -> None:
    facts = method(types, f"app.base.{owner}", name)
    assert (facts.stops, facts.calls_self) == (stops, calls)


def test_calls_through_super_and_a_named_base(types: ProjectTypes) -> None:
    assert method(types, "app.derived.Downloader", "close").calls_self == ("^close",)
    assert method(types, "app.derived.Explicit", "close").calls_self == (
        "app.base.Component^close",
    )


def test_what_a_constructor_keeps(types: ProjectTypes) -> None:
    assert method(types, "app.base.Owner", "__init__").keeps == {
        "0:pool": ("_pool",),
        "*:extra": ("_extra",),  # `extra or ThreadPoolExecutor()`: the argument when given
    }
    # Also handed to `register()`: who owns it is not known.
    assert method(types, "app.base.Borrower", "__init__").keeps == {
        "0:pool": ("_pool",),
        "1:other": ("_other", "?"),
    }
    assert method(types, "app.base.Forwarder", "__init__").keeps == {
        "0:name": ("name",),
        "1:pool": ("^0",),  # given to `super().__init__` first
    }


def test_summaries_survive_the_cache(tmp_path: Path) -> None:
    facts = facts_of(BASE, str(tmp_path / "base.py")).declared
    assert from_json(json.loads(json.dumps(to_json(facts), sort_keys=True))) == facts


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("app.base.Component", (("close", "aclose"), True)),
        ("app.derived.Indexer", (("close", "aclose"), True)),  # inherited from another module
        ("app.base.External", (("close",), False)),  # a base outside the project may add some
        ("app.base.Shadowed", ((), False)),  # an attribute of that name: not a known method
        ("app.base.Owner", (("shutdown",), True)),
    ],
)
def test_teardown_methods(
    types: ProjectTypes, owner: str, expected: tuple[tuple[str, ...], bool]
) -> None:
    assert types.teardowns(owner, TEARDOWNS) == expected


@pytest.mark.parametrize(
    ("owner", "attribute", "expected"),
    [
        ("app.base.Component", "_pool", True),  # through `self._release()`
        ("app.base.Component", "_threads", True),  # `for thread in self._threads: join()`
        ("app.base.Component", "_task", True),  # a copy cancelled under another name
        ("app.base.Component", "_index", False),
        ("app.derived.Indexer", "_index", True),  # the base's close() runs this cleanup()
        ("app.derived.Downloader", "_reader", True),  # its close() after super().close()
        ("app.derived.Downloader", "_pool", True),  # the base's close(), through super()
        ("app.derived.Explicit", "_own", True),  # `Component.close(self)`, overridden helper
        ("app.derived.Explicit", "_pool", False),  # the override no longer shuts it down
        ("app.derived.Leaky", "_beat", False),  # cancelled in pause() only
        ("app.base.Handed", "_pool", None),  # `self` handed to a function
        # Its own close(): whether the base outside the project adds more is `teardowns`'.
        ("app.base.External", "_other", False),
    ],
)
def test_what_the_teardown_stops(
    types: ProjectTypes, owner: str, attribute: str, expected: bool | None
) -> None:
    methods, _ = types.teardowns(owner, TEARDOWNS)
    assert types.stopped_by(owner, methods, attribute) is expected


def test_callbacks_and_subclasses(types: ProjectTypes) -> None:
    assert types.callbacks("app.base.Component") == ("_on_stop",)  # `_later` is no method
    assert types.stopped_by("app.base.Component", ("_on_stop",), "_hook") is True
    # `self` handed to a call: the callee may call any of its methods.
    assert types.callbacks("app.base.Finalized") == ("__init__", "close", "release")
    assert set(types.subclasses("app.base.Component")) == {
        "app.derived.Indexer",
        "app.derived.Downloader",
        "app.derived.Explicit",
        "app.derived.Leaky",
    }
    assert types.stopped_anywhere("app.derived.Leaky", "_beat")
    assert not types.stopped_anywhere("app.derived.Leaky", "_unknown")


@pytest.mark.parametrize(
    ("owner", "argument", "start", "expected"),
    [
        ("app.derived.Reports", 0, None, True),  # kept, and shut down in shutdown()
        ("app.derived.Reports", "pool", None, True),  # by keyword
        ("app.derived.Reports", 1, None, False),  # no such parameter
        ("app.derived.Twice", 1, None, True),  # forwarded to the base's __init__
        ("app.derived.Twice", 0, None, False),  # `name`: kept nowhere
        ("app.derived.Lent", 0, None, False),  # kept, but close() never shuts it down
        ("app.derived.Lent", 1, None, None),  # also handed to register()
        ("app.derived.Reports", 0, "app.base.Owner", True),  # `Owner.__init__(self, ...)`
        ("app.base.External", 0, None, None),  # a base outside the project
    ],
)
def test_which_constructors_take_ownership(
    types: ProjectTypes, owner: str, argument: int | str, start: str | None, expected: bool | None
) -> None:
    assert types.takes_ownership(owner, argument, TEARDOWNS, start) is expected


# The option, on the command line ------------------------------------------------------

SERVICE = """\
import threading


class Service:
    def __init__(self):
        self._worker = threading.Thread(target=self._run)
        self._worker.start()

    def _run(self):
        pass

    def wait(self):
        self._worker.join()

    def dispose(self):
        pass
"""


def findings(cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ}
    for name in ("NO_COLOR", "FORCE_COLOR", "CONCLINT_OUTPUT_FORMAT", "CONCLINT_CACHE_DIR"):
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "conclint", "check", "--no-cache", "--output-format", "json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the search for a configuration stops here
    (tmp_path / "service.py").write_text(SERVICE, encoding="utf-8")
    return tmp_path


def test_without_a_teardown_method_the_thread_is_its_users_business(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    done = findings(project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_configured_teardown_methods_must_stop_what_the_object_keeps(project: Path) -> None:
    config = '[tool.conclint]\nteardown-methods = ["dispose"]\n'
    (project / "pyproject.toml").write_text(config, encoding="utf-8")
    done = findings(project)
    assert done.returncode == 1, done.stderr
    [found] = json.loads(done.stdout)
    assert (found["line"], found["code"]) == (6, "CCL103")
    assert "is never joined in `dispose()`" in found["message"]


def test_a_teardown_method_must_be_a_name(project: Path) -> None:
    config = '[tool.conclint]\nteardown-methods = ["self.close"]\n'
    (project / "pyproject.toml").write_text(config, encoding="utf-8")
    done = findings(project)
    assert done.returncode == 2
    assert "'self.close' is not a method name" in done.stderr
    assert "Traceback" not in done.stderr
