"""Which events of a `try` body reach a handler that catches cancellation classes only: a
cancellation surfaces where the code waits, at a `raise`, or from a call that can raise
one; what a plain statement raises goes past such a handler."""

from __future__ import annotations

from tests.analysis.test_flow import P, paths


def test_a_plain_call_does_not_reach_except_cancelled_error() -> None:
    source = """
    import asyncio

    async def f(queue):
        try:
            mark_a()
            size()
            mark_b()
            await queue.get()
        except asyncio.CancelledError:
            probe()
    """
    # Only the awaited call can be cancelled: every path into the handler has both marks.
    assert paths(source) == P("ab")
    # The plain calls' failures leave the function instead.
    assert {frozenset(), frozenset("a")} <= paths(source, "raise")


def test_a_handler_of_other_classes_too_is_reached_from_plain_calls() -> None:
    source = """
    import asyncio

    async def f(queue):
        try:
            mark_a()
            await queue.get()
        except (asyncio.CancelledError, ValueError):
            probe()
    """
    assert paths(source) == P("", "a")


def test_plain_failures_reach_the_other_handlers_of_the_try() -> None:
    source = """
    import asyncio

    async def f(queue):
        try:
            mark_a()
            await queue.get()
        except asyncio.CancelledError:
            mark_c()
        except Exception:
            probe()
    """
    assert paths(source) == P("", "a")


def test_waiting_constructs_raise_and_future_results_reach_it() -> None:
    source = """
    import asyncio

    async def f(stream, lock, fut):
        try:
            mark_a()
            async with lock:
                mark_b()
            mark_c()
            fut.result()
            mark_d()
            async for chunk in stream:
                mark_e()
            mark_f()
            raise RuntimeError("again")
        except asyncio.CancelledError:
            probe()
    """
    found = paths(source)
    assert {frozenset("a"), frozenset({"a", "b", "left-with", "c"})} <= found
    assert frozenset({"a", "b", "left-with", "c", "d"}) in found
    assert frozenset({"a", "b", "left-with", "c", "d", "f"}) in found
    # No path enters the handler right after a plain mark_x() call.
    assert frozenset({"a", "b"}) not in found


def test_a_plain_failure_in_a_finally_goes_on_past_the_handler() -> None:
    source = """
    import asyncio

    async def f(queue):
        while True:
            try:
                item = await queue.get()
                mark_a()
                try:
                    await handle(item)
                finally:
                    mark_d()
            except asyncio.CancelledError:
                probe()
                break
    """
    # Into the handler: from `get()` (no mark) and from `handle()` through the `finally`;
    # mark_a()'s failure goes through no handler (nor does mark_d()'s).
    assert paths(source) == P("", "ad")
    assert frozenset("a") in paths(source, "raise")


def test_sync_with_and_imports_raise_no_cancellation() -> None:
    source = """
    import asyncio

    async def f(lock, queue):
        try:
            with lock:
                mark_a()
            import json
            await queue.get()
        except asyncio.CancelledError:
            probe()
    """
    # Only from the awaited call, after the `with` was left.
    assert paths(source) == {frozenset({"a", "left-with"})}
