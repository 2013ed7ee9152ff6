"""Blocking summaries: what the index pass records of sync functions and methods, and the
chains the project model follows through them across modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conclint.analysis.catalog import SHIPPED
from conclint.analysis.declared import FunctionFacts, from_json, to_json
from conclint.analysis.project import ModuleFacts, ProjectIndex
from conclint.analysis.types import ProjectTypes
from tests.conftest import app_module_facts

STORE = """\
import asyncio
import json
import os
import time
from functools import lru_cache
from time import sleep as pause

from .util import tidy


def traced(function):
    return function


class Store:
    def __init__(self, root: str) -> None:
        self.root = root
        time.sleep(0)

    def _write(self, key, data):
        with open(key, "w") as handle:
            json.dump(data, handle)

    def save(self, key, data):
        self._write(tidy(key), data)

    def load(self, key):
        return json.loads(self._read(key))

    def _read(self, key):
        if os.path.exists(key):
            return "{}"
        return ""

    def check(self, key):
        if not self._read(key):
            return False
        while self._read(key):
            pass
        return True

    def load_later(self, key):
        return asyncio.get_running_loop().run_in_executor(None, self._write, key, {})

    def load_nowait(self, key, source: "Source"):
        return source.take(key, block=False)

    def lines(self, key):
        yield from open(key)

    @traced
    def wrapped(self):
        time.sleep(1)

    @lru_cache
    def cached(self):
        pause(1)

    @staticmethod
    def nested():
        def later():
            time.sleep(1)

        return later

    @property
    def size(self):
        time.sleep(1)
        return 0


class Source:
    def take(self, key, block=True):
        time.sleep(1)


def make() -> Store:
    return Store("/")


def export(store: Store, other, key):
    store.save(key, {})
    other.save(key, {})
    make().save(key, {})
    Store("/").save(key, {})


def shadowed(open):
    return open("x")


if os.name == "nt":
    def either():
        return 1
else:
    def either():
        time.sleep(1)
"""

USERS = """\
import socket
import threading
import time
from concurrent.futures import Future

from .store import Store


class Journal:
    def append(self, line):
        time.sleep(1)


class MemoryJournal(Journal):
    def append(self, line):
        self.lines = [line]


class Archive:
    def __init__(self, root: str) -> None:
        self.store = Store(root)

    def flush(self):
        self.store.save("k", {})


class LocalStore(Store):
    pass


class FastStore(Store):
    def _write(self, key, data):
        self.cache = data


class AsyncWrites(Store):
    async def _write(self, key, data):
        self.cache = data


class Both(LocalStore, AsyncWrites):
    pass


class Worker:
    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.thread = threading.Thread(target=print)
        self.sock = socket.socket()
        self.future = Future()

    def stop(self):
        self.thread.join()

    def try_lock(self):
        return self.lock.acquire(False)

    def lock_with(self, other: threading.Lock):
        other.acquire()

    def receive(self):
        return self.sock.recv(1)

    def outcome(self):
        return self.future.result()


def one():
    two()


def two():
    three()


def three():
    four()


def four():
    time.sleep(1)


def ping():
    pong()


def pong():
    ping()
"""


UTIL = "def tidy(key):\n    return key.strip()\n"


@pytest.fixture
def model(tmp_path: Path) -> ProjectTypes:
    modules = [
        ("app.store", app_module_facts(tmp_path, "store", STORE)),
        ("app.users", app_module_facts(tmp_path, "users", USERS)),
        (
            "app.util",
            app_module_facts(tmp_path, "util", "def tidy(key):\n    return key.strip()\n"),
        ),
    ]
    return ProjectIndex.from_facts(modules).types(SHIPPED)


def _method(facts: ModuleFacts, owner: str, name: str) -> FunctionFacts:
    return facts.declared.classes[owner].methods[name]


def test_methods_record_their_blocking_call_or_their_calls(tmp_path: Path) -> None:
    facts = app_module_facts(tmp_path, "store", STORE)
    assert _method(facts, "Store", "_write").blocking_call == ("open()",)
    # A blocking call in the test of an `if`, and one through an alias of an import.
    assert _method(facts, "Store", "_read").blocking_call == ("os.path.exists()",)
    assert _method(facts, "Store", "cached").blocking_call == ("time.sleep()",)
    save = _method(facts, "Store", "save")
    assert save.blocking_call == ()
    assert set(save.helper_calls) == {"_write@self", "app.util.tidy"}
    # A call in the arguments of another (`json.loads(self._read(key))`), in a condition.
    assert _method(facts, "Store", "load").helper_calls == ("_read@self",)
    assert _method(facts, "Store", "check").helper_calls == ("_read@self",)
    # On an annotated parameter, on what a factory or a class gives; not on `other`.
    assert set(facts.declared.functions["export"].helper_calls) == {
        "save@type:app.store.Store",
        "save@call:app.store.make",
        "save@call:app.store.Store",
        "app.store.make",
        "app.store.Store",
    }
    assert ("Store._write", "open()") in facts.blocking
    assert ("Store.save", "open()") not in facts.blocking


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        ("Store", "load_later"),  # handed to a worker thread
        ("Store", "load_nowait"),  # asks the helper not to block
        ("Store", "lines"),  # a generator
        ("Store", "wrapped"),  # a decorator that may replace it
        ("Store", "nested"),  # the blocking call is in a nested def
        ("Store", "__init__"),  # run by the language, not called by name
    ],
)
def test_methods_that_do_not_block_when_called(tmp_path: Path, owner: str, name: str) -> None:
    facts = _method(app_module_facts(tmp_path, "store", STORE), owner, name)
    assert facts.blocking_call == ()
    assert "_write@self" not in facts.helper_calls
    assert "take@type:app.store.Source" not in facts.helper_calls


def test_functions_that_do_not_block_when_called(tmp_path: Path) -> None:
    functions = app_module_facts(tmp_path, "store", STORE).declared.functions
    assert functions["shadowed"].blocking_call == ()  # `open` is a parameter
    # Defined twice at the top level: which one runs is not known.
    assert functions["either"].blocking_call == functions["either"].helper_calls == ()
    # A property is read, not called.
    assert (
        "size" not in app_module_facts(tmp_path, "store", STORE).declared.classes["Store"].methods
    )


def test_summaries_survive_the_cache(tmp_path: Path) -> None:
    declared = app_module_facts(tmp_path, "store", STORE).declared
    again = from_json(json.loads(json.dumps(to_json(declared))))
    assert again.classes["Store"].methods["save"] == declared.classes["Store"].methods["save"]


def test_chains_follow_methods_across_modules(model: ProjectTypes) -> None:
    assert model.blocking_chain("app.store.export") == ("Store.save()", "Store._write()", "open()")
    assert model.method_blocking_chain("app.store.Store", "save") == ("Store._write()", "open()")
    assert model.method_blocking_chain("app.users.Archive", "flush") == (
        "Store.save()",
        "Store._write()",
        "open()",
    )
    # A method inherited from a base class in another module.
    assert model.method_blocking_chain("app.users.LocalStore", "load") == (
        "Store._read()",
        "os.path.exists()",
    )
    # Spelled through its class.
    assert model.blocking_chain("app.store.Store.load") == ("Store._read()", "os.path.exists()")


def test_chains_take_the_receivers_class_at_its_word(model: ProjectTypes) -> None:
    # The subclass's own `_write` does not block, and the inherited `save` calls it on `self`.
    assert model.method_blocking_chain("app.users.FastStore", "save") is None
    assert model.method_blocking_chain("app.users.MemoryJournal", "append") is None
    # Python's MRO: `Both` finds `AsyncWrites._write` before `Store._write`, which a
    # depth-first search through `LocalStore` would find first.
    assert model.method_blocking_chain("app.users.Both", "save") is None
    assert model.method_blocking_chain("app.users.LocalStore", "save") is not None
    # A receiver known to be a `Journal` runs `Journal.append`, as a type checker says.
    assert model.method_blocking_chain("app.users.Journal", "append") == ("time.sleep()",)
    # Calls of names the project does not define, or classes outside it, are unknown.
    assert model.method_blocking_chain("app.users.Journal", "missing") is None
    assert model.method_blocking_chain("threading.Thread", "join") is None


def test_chains_end_in_blocking_methods_of_known_kinds(model: ProjectTypes) -> None:
    worker = "app.users.Worker"
    assert model.method_blocking_chain(worker, "stop") == ("Thread.join()",)
    assert model.method_blocking_chain(worker, "lock_with") == ("Lock.acquire()",)
    # Its non-blocking form; a socket the code may have made non-blocking; a future whose
    # result may be asked for once it is done.
    for method in ("try_lock", "receive", "outcome"):
        assert model.method_blocking_chain(worker, method) is None, method


def test_chains_are_bounded(model: ProjectTypes) -> None:
    assert model.blocking_chain("app.users.two") == ("three()", "four()", "time.sleep()")
    assert model.blocking_chain("app.users.one") is None  # four helpers deep
    assert model.blocking_chain("app.users.one", depth=4) is not None
    assert model.blocking_chain("app.users.ping") is None  # a cycle that never blocks
    assert model.blocking_chain("app.store.Store.lines") is None
    assert model.blocking_chain("app.store.missing") is None
