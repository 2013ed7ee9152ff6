"""The "acquires and releases" summaries: what the index pass reads of locks taken and
given back (`acquires.py`), what the model answers across modules, and the findings of
CCL403, CCL405 and CCL603 that rest on them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conclint.analysis.declared import Declarations, from_json, to_json
from conclint.analysis.project import facts_of
from conclint.config import Settings
from conclint.runner import lint_paths
from tests.test_model import model

LOCKS = """\
import asyncio
import contextlib
import queue
import threading
from contextlib import contextmanager
from threading import Semaphore as Slots

import trio

LOCK = threading.Lock()
READY = threading.Semaphore(0)
COUNTED = threading.Semaphore(value=0)
LIMITED = Slots(4)
MIXED = threading.Semaphore(0)
BOUNDED = asyncio.Semaphore(2)
JOBS = queue.Queue()
NO_LIMIT = asyncio.Queue(maxsize=0)
ANY_SIZE = queue.Queue(-1)
SIMPLE = queue.SimpleQueue()
SIZED = queue.Queue(8)


def reset() -> None:
    global MIXED
    MIXED = threading.Semaphore(3)


@contextlib.contextmanager
def with_lock():
    with LOCK:
        yield


@contextmanager
def by_hand(lock):
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


@contextmanager
def then_released(lock):
    lock.acquire()
    yield
    lock.release()


@contextmanager
def released_first():
    LOCK.acquire()
    LOCK.release()
    yield


@contextmanager
def one_branch(fast):
    if fast:
        LOCK.acquire()
    try:
        yield
    finally:
        LOCK.release()


@contextmanager
def may_fail(lock):
    lock.acquire(timeout=1)
    try:
        yield
    finally:
        lock.release()


@contextmanager
def never_given_back():
    LOCK.acquire()
    yield


@contextmanager
def in_a_loop():
    with LOCK:
        for _ in range(2):
            yield


@contextmanager
def twice():
    with LOCK:
        yield
    yield


def wrap(function):
    return function


@wrap
@contextmanager
def wrapped():
    with LOCK:
        yield


def generator():
    with LOCK:
        yield


async def worker(slots, job):
    try:
        await asyncio.sleep(0)
    finally:
        slots.release()


async def worker_after_work(slots, job):
    await asyncio.sleep(0)
    slots.release()


def release_first(slots, *, other):
    \"\"\"Gives both back.\"\"\"
    slots.release()
    other.release()


def release_late(slots, early):
    if early:
        return
    slots.release()


def release_after_logging(slots):
    try:
        pass
    finally:
        print("done")
        slots.release()


class Guard:
    def __init__(self, lock):
        self._lock = lock
        self._ready = threading.Semaphore(0)
        self._slots: asyncio.Semaphore = asyncio.Semaphore(0)
        self._bounded = trio.Semaphore(2, max_value=2)
        self._plain = threading.Semaphore(2)

    def __enter__(self):
        self._lock.acquire()
        return self

    def __exit__(self, *exc_info):
        self._lock.release()

    @contextmanager
    def held(self):
        with self._lock:
            yield self

    @staticmethod
    @contextmanager
    def static_held(lock):
        with lock:
            yield

    def ack(self):
        self._plain.release()


class Loose:
    def __init__(self):
        self._lock = threading.Lock()

    def __enter__(self):
        self._lock.acquire()
        try:
            return self
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *exc_info):
        pass


class Failing:
    def __init__(self):
        self._lock = threading.Lock()

    async def __aenter__(self):
        await self._lock.acquire()
        return self

    async def __aexit__(self, *exc_info):
        if exc_info[0] is None:
            self._lock.release()
"""


def declared(source: str, tmp_path: Path, name: str = "locks") -> Declarations:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return facts_of(source, str(path)).declared


@pytest.mark.parametrize(
    ("function", "holds"),
    [
        ("with_lock", ("global:locks.LOCK",)),
        ("by_hand", ("param:0:lock",)),
        ("then_released", ("param:0:lock",)),  # held in the block, given back after it
        ("released_first", ()),  # given back before the block runs
        ("one_branch", ()),  # taken on one branch only: unknown
        ("may_fail", ()),  # `acquire(timeout=1)` may not take it
        ("never_given_back", ()),  # no context manager of a lock
        ("in_a_loop", ()),
        ("twice", ()),
        ("wrapped", ()),  # an unknown decorator may make anything of it
        ("generator", ()),  # no context manager at all
    ],
)
def test_what_a_generator_context_manager_holds(
    tmp_path: Path, function: str, holds: tuple[str, ...]
) -> None:
    assert declared(LOCKS, tmp_path).functions[function].holds == holds


@pytest.mark.parametrize(
    ("function", "releases"),
    [
        ("worker", ("param:0:slots",)),  # in `finally`: on every way out
        ("worker_after_work", ()),  # an exception (a cancellation) skips it
        ("release_first", ("param:0:slots", "param:*:other")),
        ("release_late", ()),  # an early return skips it
        ("release_after_logging", ()),  # a call before it in `finally` may raise
        ("with_lock", ()),
    ],
)
def test_what_a_function_gives_back_on_every_path(
    tmp_path: Path, function: str, releases: tuple[str, ...]
) -> None:
    assert declared(LOCKS, tmp_path).functions[function].releases == releases


def test_methods_and_classes(tmp_path: Path) -> None:
    classes = declared(LOCKS, tmp_path).classes
    guard = classes["Guard"]
    # `Guard(lock)` holds the lock it is given, stored in `_lock` by `__init__`.
    assert guard.holds == ("attr:locks.Guard:_lock|param:0:lock",)
    assert guard.methods["held"].holds == ("attr:locks.Guard:_lock",)
    assert guard.methods["static_held"].holds == ("param:0:lock",)  # no receiver
    assert guard.methods["ack"].releases == ("attr:locks.Guard:_plain",)
    assert classes["Loose"].holds == ()  # `__exit__` gives nothing back
    assert classes["Failing"].holds == ()  # only when the block raised nothing


def test_how_globals_and_attributes_were_made(tmp_path: Path) -> None:
    found = declared(LOCKS, tmp_path)
    assert found.made["READY"] == ("zero",)
    assert found.made["COUNTED"] == ("zero",)  # by keyword
    assert found.made["LIMITED"] == ("other",)  # an import alias of the class
    # Any other call: its literal arguments (`switches.py`).
    assert found.made["LOCK"] == ("args:0:::::",)
    # A queue made without a bound, or with one of 0 or less, never fills up.
    for unbounded in ("JOBS", "NO_LIMIT", "ANY_SIZE", "SIMPLE"):
        assert found.made[unbounded] == ("unbounded",), unbounded
    assert found.made["SIZED"] == ("other",)
    made = found.classes["Guard"].made
    assert made["_ready"] == ("zero",)
    assert made["_slots"] == ("zero",)  # annotated: the value still says how
    assert made["_bounded"] == ("bounded",)
    assert made["_plain"] == ("other",)
    assert "_lock" not in made  # a parameter: not made here
    again = from_json(json.loads(json.dumps(to_json(found), sort_keys=True)))
    assert again == found


USER = """\
import threading

from .locks import Guard as BaseGuard


class Child(BaseGuard):
    pass


class Reopened(BaseGuard):
    def __exit__(self, *exc_info):
        pass


class Made(BaseGuard):
    def __init__(self):
        self._plain = threading.Semaphore(0)
"""


def test_the_model_across_modules(tmp_path: Path) -> None:
    types = model(tmp_path, locks=LOCKS, user=USER)
    assert types.class_holds("app.locks.Guard") == ("attr:app.locks.Guard:_lock|param:0:lock",)
    assert types.class_holds("app.user.Child") == types.class_holds("app.locks.Guard")
    assert types.class_holds("app.user.Reopened") == ()  # its own `__exit__` releases nothing
    assert types.global_made("app.locks.READY") == ("zero",)
    assert types.global_made("app.locks.LIMITED") == ("other",)
    assert types.global_made("app.locks.BOUNDED") == ("other",)
    assert types.global_made("app.locks.JOBS") == ("unbounded",)
    assert types.global_made("app.locks.nothing") is None
    assert types.attribute_made("app.user.Child", "_ready") == ("zero",)
    assert types.attribute_made("app.user.Child", "_bounded") == ("bounded",)
    assert types.attribute_made("app.user.Child", "_plain") == ("other",)
    assert types.attribute_made("app.user.Made", "_plain") == ("zero",)  # its own
    assert types.releases_along_mro("app.user.Child", "_plain")  # `Guard.ack()`
    assert not types.releases_along_mro("app.user.Child", "_ready")
    assert types.attribute_home("app.user.Child", "_plain") == "app.locks.Guard"
    assert types.attribute_home("app.user.Made", "_plain") == "app.locks.Guard"


# The findings that rest on the summaries, in a package whose modules use each other. ----

PACKAGE = {
    "locks.py": """\
        import contextlib
        import threading

        LOCK = threading.Lock()
        READY = threading.Semaphore(0)
        SLOTS = threading.Semaphore(4)


        @contextlib.contextmanager
        def locked():
            with LOCK:
                yield


        class Pool:
            def __init__(self):
                self._slots = threading.Semaphore(2)

            def take(self):
                self._slots.acquire()

            def give_back(self):
                self._slots.release()
        """,
    "user.py": """\
        import asyncio

        from .locks import READY, SLOTS, Pool, locked


        async def refresh(send):
            with locked():
                await send()


        def produced():
            READY.release()


        def finished():
            SLOTS.release()


        class Uploads(Pool):
            def start(self):
                self._slots.acquire()


        async def fetch(slots, url):
            try:
                await asyncio.sleep(0)
            finally:
                slots.release()


        async def crawl(urls, seen):
            slots = asyncio.Semaphore(8)
            async with asyncio.TaskGroup() as tg:
                for url in urls:
                    await slots.acquire()
                    if url in seen:
                        slots.release()
                        continue
                    tg.create_task(fetch(slots, url))
        """,
}


def test_findings_across_modules(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, source in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(source), encoding="utf-8")
    settings = Settings(select=("CCL403", "CCL405", "CCL603"), preview=True)
    results = lint_paths([str(package / name) for name in PACKAGE], settings, jobs=1)
    found = sorted(
        (Path(result.path).name, diagnostic.line, diagnostic.code)
        for result in results
        for diagnostic in result.diagnostics
    )
    assert found == [
        ("user.py", 8, "CCL603"),  # `locked()` holds `LOCK`, a thread lock, over the await
        ("user.py", 16, "CCL405"),  # `SLOTS` counts slots; `READY` (made with 0) counts items
    ]
    # `Uploads.start` keeps a slot that `Pool.give_back` returns; `crawl` hands each slot
    # to a `fetch` that gives it back in `finally`.
