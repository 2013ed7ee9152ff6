"""The project model: what the index pass declares per module, and what it resolves to."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conclint.analysis.catalog import SHIPPED
from conclint.analysis.declared import from_json, to_json
from conclint.analysis.project import ProjectIndex, facts_of, module_name
from conclint.analysis.types import ProjectTypes

SHARED = """\
from __future__ import annotations

import asyncio
import functools
import threading
from typing import TYPE_CHECKING, Annotated, Any, Optional, Union

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

QUEUE: asyncio.Queue[int] = asyncio.Queue()
LOCK = threading.Lock()
MAYBE = None
MAYBE = threading.Lock()
EITHER = threading.Lock() if QUEUE else asyncio.Lock()
SWAPPED = threading.Lock()


def swap() -> None:
    global SWAPPED
    SWAPPED = asyncio.Lock()


def make_lock():
    lock = threading.Lock()
    return lock


def make_either(fast):
    if fast:
        return threading.Lock()
    return asyncio.Lock()


def make_pool() -> "Optional[ThreadPoolExecutor]":
    return None


def make_any() -> Any:
    return threading.Lock()


def make_rebound():
    lock = threading.Lock()
    lock = threading.RLock()
    return lock


def make_generator():
    yield threading.Lock()


def wrap(function):
    return function


@wrap
def make_wrapped() -> threading.Lock:
    return threading.Lock()


class Base:
    queue: Annotated[asyncio.Queue[bytes], "inbox"]

    def __init__(self, lock: Union[threading.Lock, None] = None) -> None:
        self.lock = lock
        self.events = asyncio.Event()
        self.count = 0
        self.count += 1

    async def fetch(self) -> bytes:
        return b""

    @property
    def guard(self) -> threading.Lock:
        return self.lock

    @functools.cached_property
    def pool(self):
        return make_lock()

    @pool.setter
    def pool(self, value):
        self.events = value


class Child(Base):
    def fetch(self) -> bytes:  # type: ignore[override]
        return b""

    def lock_of(self):
        return self.lock


class Elsewhere(Unknown, Base):  # noqa: F821
    pass


class Late(Base, Unknown):  # noqa: F821
    pass
"""


def model(tmp_path: Path, **modules: str) -> ProjectTypes:
    """The model of a package `app` holding these modules."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text(modules.pop("__init__", ""), encoding="utf-8")
    facts = []
    for name, source in modules.items():
        path = package / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        facts.append((module_name(str(path)) or "", facts_of(source, str(path))))
    init = package / "__init__.py"
    facts.append(("app", facts_of(init.read_text(encoding="utf-8"), str(init))))
    return ProjectIndex.from_facts(facts).types(SHIPPED)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.shared.make_lock", "threading.Lock"),  # a local assigned once, returned
        ("app.shared.make_either", None),  # returns that disagree
        ("app.shared.make_pool", "concurrent.futures.Executor"),  # quoted, TYPE_CHECKING
        ("app.shared.make_any", None),  # `Any` is unknown, whatever the body returns
        ("app.shared.make_rebound", None),  # bound twice: which one is returned is not shown
        ("app.shared.make_generator", None),
        ("app.shared.make_wrapped", None),  # an unknown decorator may return anything
        ("app.shared.Base", "app.shared.Base"),
        ("app.Base", "app.shared.Base"),  # re-exported by the package
        ("app.shared.nothing", None),
    ],
)
def test_what_a_call_gives(tmp_path: Path, name: str, expected: str | None) -> None:
    types = model(tmp_path, shared=SHARED, __init__="from .shared import Base\n")
    assert types.call_type(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.shared.QUEUE", "asyncio.Queue"),
        ("app.shared.LOCK", "threading.Lock"),
        ("app.shared.MAYBE", "threading.Lock"),  # `None` agrees with any kind
        ("app.shared.EITHER", None),
        ("app.shared.SWAPPED", None),  # a function rebinds it
    ],
)
def test_what_a_global_holds(tmp_path: Path, name: str, expected: str | None) -> None:
    assert model(tmp_path, shared=SHARED).global_type(name) == expected


@pytest.mark.parametrize(
    ("owner", "attribute", "expected"),
    [
        ("app.shared.Base", "lock", "threading.Lock"),  # an annotated parameter, stored
        ("app.shared.Base", "queue", "asyncio.Queue"),  # a class-level annotation
        ("app.shared.Base", "count", None),  # `+=`: no longer what it was given
        ("app.shared.Base", "guard", "threading.Lock"),  # a property
        ("app.shared.Base", "pool", "threading.Lock"),  # a cached property, through a factory
        ("app.shared.Base", "events", None),  # the setter assigns something unknown
        ("app.shared.Base", "fetch", None),  # a method, not a value
        ("app.shared.Child", "lock", "threading.Lock"),  # from the base class
        ("app.shared.Late", "lock", "threading.Lock"),  # the project base comes first
        ("app.shared.Elsewhere", "lock", None),  # a base outside the project comes first
    ],
)
def test_what_an_attribute_holds(
    tmp_path: Path, owner: str, attribute: str, expected: str | None
) -> None:
    assert model(tmp_path, shared=SHARED).attribute_type(owner, attribute) == expected


def test_methods_along_the_project_mro(tmp_path: Path) -> None:
    types = model(tmp_path, shared=SHARED)
    found = types.method("app.shared.Base", "fetch")
    assert found is not None and found[0] == "app.shared.Base" and found[1].coroutine
    child = types.method("app.shared.Child", "fetch")
    assert child is not None and not child[1].coroutine  # the override is a plain function
    assert types.method("app.shared.Elsewhere", "fetch") is None
    assert types.call_type("app.shared.Child.lock_of") == "threading.Lock"


def test_a_module_that_shadows_the_class_name(tmp_path: Path) -> None:
    user = "from .shared import Base\n\nBase = object\n\nINSTANCE = Base()\n"
    assert model(tmp_path, shared=SHARED, user=user).global_type("app.user.INSTANCE") is None


def test_a_factory_that_leads_back_to_itself_is_unknown(tmp_path: Path) -> None:
    loop = "def first():\n    return second()\n\n\ndef second():\n    return first()\n"
    assert model(tmp_path, loop=loop).call_type("app.loop.first") is None


def test_declarations_survive_the_cache(tmp_path: Path) -> None:
    facts = facts_of(SHARED, str(tmp_path / "shared.py"))
    declared = facts.declared
    again = from_json(json.loads(json.dumps(to_json(declared), sort_keys=True)))
    assert again == declared
    # The cache sorts keys: the project's digest (which keys the results) must not change.
    fresh = ProjectIndex.from_facts([("app.shared", facts)])
    stored = replace(facts, declared_json=json.dumps(to_json(again), sort_keys=True))
    assert stored.declared == declared
    cached = ProjectIndex.from_facts([("app.shared", stored)])
    assert fresh.digest == cached.digest
    with pytest.raises(TypeError):
        from_json({"classes": {}, "functions": {"f": [1, 2, 3, []]}, "globals": {}})


PUMPS = """\
import abc
import typing
from typing import Generic, TypeVar

import somewhere

T = TypeVar("T")


class Base:
    async def post(self, item):
        self.items.append(item)

    async def send(self, item):
        await self.queue.put(item)


class Pump(Generic[T], Base):
    pass


class Checked(abc.ABC, Base):
    pass


class Typed(typing.Protocol, Base):
    pass


class Foreign(somewhere.Base, Base):
    pass


class Loud(Checked):
    async def post(self, item):
        await self.queue.put(item)
"""


def test_empty_bases_hide_nothing_and_coroutines_that_never_suspend(tmp_path: Path) -> None:
    """`typing.Generic`, `abc.ABC` and `typing.Protocol` give a class no methods, so the
    methods of the project bases after them are found; a base outside the project may
    define anything. A coroutine method that awaits nothing never suspends, unless an
    override in a subclass does."""
    types = model(tmp_path, pumps=PUMPS)
    for known in ("Pump", "Checked", "Typed"):
        assert types.method(f"app.pumps.{known}", "post") is not None, known
    assert types.method("app.pumps.Foreign", "post") is None  # `somewhere.Base` comes first
    assert types.never_suspends("post", "app.pumps.Pump")
    assert not types.never_suspends("send", "app.pumps.Pump")
    assert not types.never_suspends("post", "app.pumps.Checked")  # `Loud` overrides it
    assert not types.never_suspends("post", "app.pumps.Foreign")
