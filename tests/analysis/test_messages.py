"""Messages suggest the code that fits the kind of object, as the catalog describes it.

`async with` for asyncio's locks and `with` for threading's, `await` before the waits
that are coroutines, the pool's own cleanup method, the bounded class of the library
the semaphore comes from. Each case is the exact message of one finding.
"""

from __future__ import annotations

import textwrap

import pytest

from conclint import registry
from conclint.config import Settings
from conclint.engine import lint_source

EVERY_RULE = Settings(select=("CCL",), preview=True)


def messages(code: str, source: str) -> list[str]:
    rule = registry.by_code(code)
    assert rule is not None
    result = lint_source(textwrap.dedent(source), "example.py", EVERY_RULE, rules=[rule])
    assert not result.failed
    return [d.message for d in result.diagnostics]


ACQUIRE = """
    import {module}

    gate = {module}.{made}

    {define} update(values: list[int]) -> None:
        {wait}gate.acquire()
        values.append(len(values))
        print(values.pop())
        gate.release()
"""


@pytest.mark.parametrize(
    ("module", "made", "enter"),
    [
        ("asyncio", "Lock()", "async with"),
        ("asyncio", "Semaphore(2)", "async with"),
        ("threading", "Lock()", "with"),
        ("threading", "RLock()", "with"),
        ("multiprocessing", "BoundedSemaphore(2)", "with"),
        ("trio", "Lock()", "async with"),
        ("anyio", "Semaphore(2)", "async with"),
    ],
)
def test_ccl403_says_async_with_for_locks_entered_so(module: str, made: str, enter: str) -> None:
    awaited = enter == "async with"
    source = ACQUIRE.format(
        module=module,
        made=made,
        define="async def" if awaited else "def",
        wait="await " if awaited else "",
    )
    assert messages("CCL403", source) == [
        "`gate.acquire()` is not released when an exception escapes: the next `acquire()` "
        f"blocks forever; use `{enter} gate:` or `try`/`finally`"
    ]


WAIT = """
    import {module}

    class Mailbox:
        def __init__(self) -> None:
            self.ready = {module}.Condition()
            self.items: list[str] = []

        {define} take(self) -> str:
            {enter} self.ready:
                if not self.items:
                    {wait}self.ready.wait()
                return self.items.pop()
"""


@pytest.mark.parametrize(
    ("module", "fix"),
    [
        ("threading", "`while not ...: self.ready.wait()` or `self.ready.wait_for(...)`"),
        (
            "asyncio",
            "`while not ...: await self.ready.wait()` or `await self.ready.wait_for(...)`",
        ),
        # trio's Condition has no `wait_for`: only the loop is suggested.
        ("trio", "`while not ...: await self.ready.wait()`"),
    ],
)
def test_ccl404_suggests_the_waits_the_condition_has(module: str, fix: str) -> None:
    awaited = module != "threading"
    source = WAIT.format(
        module=module,
        define="async def" if awaited else "def",
        enter="async with" if awaited else "with",
        wait="await " if awaited else "",
    )
    assert messages("CCL404", source) == [
        "`self.ready.wait()` outside a loop that re-checks the condition: a wake-up does not "
        f"mean it holds; use {fix}"
    ]


@pytest.mark.parametrize(
    ("made", "fix"),
    [
        ("threading.Semaphore(4)", "use `threading.BoundedSemaphore`"),
        ("asyncio.Semaphore(4)", "use `asyncio.BoundedSemaphore`"),
        ("multiprocessing.Semaphore(4)", "use `multiprocessing.BoundedSemaphore`"),
    ],
)
def test_ccl405_names_the_bounded_class_of_the_same_library(made: str, fix: str) -> None:
    module = made.partition(".")[0]
    source = f"""
        import {module}

        slots = {made}


        def on_finished() -> None:
            slots.release()
    """
    assert messages("CCL405", source) == [
        "`slots.release()` in a function that never acquires it: each extra release raises "
        f"the limit for good; {fix}"
    ]


QUEUE = """
    import queue

    def forward(lines) -> None:
        buffer = {made}
        while True:
            buffer.put(lines.readline())
"""


@pytest.mark.parametrize(
    ("made", "limit", "fix"),
    [
        ("queue.Queue()", "`maxsize`", "pass `maxsize=`"),
        # It takes no `maxsize` at all: suggesting one was wrong.
        ("queue.SimpleQueue()", "bound", "use `queue.Queue(maxsize=...)`"),
    ],
)
def test_ccl501_suggests_a_bound_the_queue_can_take(made: str, limit: str, fix: str) -> None:
    assert messages("CCL501", QUEUE.format(made=made)) == [
        f"`{made[:-2]}()` has no {limit} and `put()` fills it in an endless loop in "
        "`forward()`, so a slow consumer lets it grow until memory runs out; "
        f"{fix}"
    ]


@pytest.mark.parametrize(
    ("imports", "made", "cleanup"),
    [
        ("import concurrent.futures", "concurrent.futures.ThreadPoolExecutor()", "`shutdown()`"),
        # A pool has no `shutdown()`: `terminate()` is what leaving `with` calls.
        ("import multiprocessing", "multiprocessing.Pool()", "`terminate()`"),
    ],
)
def test_ccl104_names_the_cleanup_method_of_the_kind(imports: str, made: str, cleanup: str) -> None:
    source = f"""
        {imports}

        def squares(values: list[int]) -> list[int]:
            workers = {made}
            return list(workers.map(abs, values))
    """
    assert messages("CCL104", source) == [
        f"`{made[:-2]}(...)` is never shut down, so its workers leak; use `with` or {cleanup} "
        "in `finally`"
    ]


@pytest.mark.parametrize(
    ("module", "join"),
    [("queue", "jobs.join()"), ("asyncio", "await jobs.join()")],
)
def test_ccl401_shows_the_join_as_it_is_called(module: str, join: str) -> None:
    awaited = module == "asyncio"
    source = f"""
        import {module}

        jobs = {module}.Queue()

        def handle(job: str) -> None: ...

        {"async def" if awaited else "def"} worker() -> None:
            while True:
                job = {"await " if awaited else ""}jobs.get()
                handle(job)
                jobs.task_done()

        {"async def" if awaited else "def"} main() -> None:
            {"await " if awaited else ""}jobs.join()
    """
    assert messages("CCL401", source) == [
        "item from `jobs.get()` is not marked done when an exception escapes: "
        f"`{join}` then hangs; call `task_done()` in `finally`"
    ]


@pytest.mark.parametrize(
    ("cls", "fix"),
    [
        ("threading.Lock", "asyncio.Lock"),
        ("threading.RLock", "asyncio.Lock"),
        ("threading.BoundedSemaphore", "asyncio.BoundedSemaphore"),
        ("multiprocessing.Condition", "asyncio.Condition"),
    ],
)
def test_ccl603_names_the_asyncio_counterpart(cls: str, fix: str) -> None:
    module = cls.partition(".")[0]
    source = f"""
        import asyncio
        import {module}

        guard = {cls}()

        async def refresh() -> None:
            with guard:
                await asyncio.sleep(1)
    """
    assert messages("CCL603", source) == [
        f"`await` while holding `guard` (a `{cls}`): another task that takes it blocks the "
        f"whole event loop; use `{fix}` or release it before suspending"
    ]


@pytest.mark.parametrize(
    ("setup", "call", "what", "fix"),
    [
        (
            "pool = concurrent.futures.ThreadPoolExecutor()",
            "pool.submit",
            "future",
            "keep it and check `result()`, or pass it to `wait()`/`as_completed()`",
        ),
        (
            "pool = concurrent.futures.ThreadPoolExecutor()",
            "pool.map",
            "result iterator",
            "iterate it (`for _ in ...`) or check futures from `submit()`",
        ),
        (
            "pool = multiprocessing.Pool()",
            "pool.apply_async",
            "result",
            "keep it and call `get()`, or pass `error_callback=`",
        ),
        (
            "pool = asyncio.get_running_loop()",
            "pool.run_in_executor",
            "asyncio future",
            "await it, or keep it and check `exception()`",
        ),
    ],
)
def test_ccl105_remedy_fits_the_future(setup: str, call: str, what: str, fix: str) -> None:
    source = f"""
        import asyncio
        import concurrent.futures
        import multiprocessing

        def work() -> None: ...

        async def main() -> None:
            {setup}
            {call}({"None, " if call.endswith("executor") else ""}work)
    """
    assert messages("CCL105", source) == [
        f"the {what} of `{call}(...)` is discarded, so an exception in the work is lost; {fix}"
    ]
