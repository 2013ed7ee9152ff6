"""The path-sensitive walker on small functions: which facts reach which points."""

from __future__ import annotations

import textwrap
import time

import libcst as cst
import pytest

from conclint.analysis import cfg, flow
from conclint.analysis.context import FileContext
from conclint.config import Settings

Paths = set[frozenset[str]]


class Marks(flow.FactAnalysis[str, str]):
    """`mark_x()` adds fact "x" to the path; `probe()` and the exits are where tests look."""

    key = "test-marks"

    def classify(self, event: cfg.Event) -> str | None:
        node = event.node
        if (
            event.kind == cfg.CALL
            and isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
        ):
            name = node.func.value
            if name.startswith("mark_"):
                return name[len("mark_") :]
            if name == "probe":
                return "?probe"
        if event.kind == cfg.EXIT:
            return f"?{event.how}"
        if event.kind == cfg.LOOP_BACK:
            return "?loop-back"
        if event.kind == cfg.LEAVE:
            return "left-with"
        if event.kind == cfg.ASSIGN and "closed" in event.targets:
            return "-x"
        return None

    def transfer(self, state: frozenset[str], event: cfg.Event, op: str) -> frozenset[str]:
        if op.startswith("?"):
            return state
        if op.startswith("-"):
            return state - {op[1:]}
        return state | {op}


def _analyse(
    source: str,
) -> tuple[flow.FlowResult[frozenset[str], str], FileContext, cst.FunctionDef]:
    module = cst.parse_module(textwrap.dedent(source))
    context = FileContext("example.py", module, Settings())
    function = next(node for node in module.body if isinstance(node, cst.FunctionDef))
    return flow.analyse(context, function, Marks(), chain=[module, function]), context, function


def paths(source: str, at: str = "probe") -> Paths:
    """The fact sets of the paths that reach `probe()` (or "return"/"raise"/"loop-back")."""
    result, _, _ = _analyse(source)
    found: Paths = set()
    for _, op, states in result.at_events():
        if op == f"?{at}":
            found.update(states)
    return found


def P(*groups: str) -> Paths:
    """`P("ab", "")` is the set of paths {{a, b}, {}} (one letter per fact)."""
    return {frozenset(group) for group in groups}


def test_straight_line() -> None:
    assert paths("def f():\n    mark_a()\n    mark_b()\n    probe()\n") == P("ab")


def test_if_else_keeps_branches_apart() -> None:
    source = """
    def f(x):
        if x:
            mark_a()
        else:
            mark_b()
        probe()
    """
    assert paths(source) == P("a", "b")


def test_if_without_else() -> None:
    assert paths("def f(x):\n    if x:\n        mark_a()\n    probe()\n") == P("a", "")


def test_elif_chain() -> None:
    source = """
    def f(x):
        if x == 1:
            mark_a()
        elif x == 2:
            mark_b()
        elif x == 3:
            pass
        else:
            mark_c()
        probe()
    """
    assert paths(source) == P("a", "b", "", "c")


def test_return_skips_the_rest() -> None:
    source = """
    def f(x):
        if x:
            mark_a()
            return
        mark_b()
        probe()
    """
    assert paths(source) == P("b")
    assert paths(source, "return") == P("a", "b")


def test_try_finally_runs_on_return() -> None:
    source = """
    def f(x):
        try:
            if x:
                return 1
            mark_a()
        finally:
            mark_f()
    """
    assert paths(source, "return") == P("f", "af")


def test_exception_from_a_call_reaches_the_handler() -> None:
    source = """
    def f():
        try:
            mark_a()
            work()
            mark_b()
        except ValueError:
            probe()
    """
    # mark_a() itself, work() after it, and mark_b() can each raise.
    assert paths(source) == P("", "a")


def test_iterating_a_written_out_tuple_cannot_raise() -> None:
    written_out = """
    def f(a, b):
        try:
            mark_a()
            for item in (a, b):
                pass
        except ValueError:
            probe()
    """
    # Only mark_a() itself can raise: the tuple hands its items over without failing.
    assert paths(written_out) == P("")
    named = """
    def f(items):
        try:
            mark_a()
            for item in items:
                pass
        except ValueError:
            probe()
    """
    assert paths(named) == P("", "a")


def test_unmatched_exception_leaves_the_function() -> None:
    source = """
    def f():
        try:
            mark_a()
            work()
        except ValueError:
            mark_h()
    """
    assert P("a") <= paths(source, "raise")
    assert paths(source, "return") == P("a", "h", "ah")


def test_bare_except_catches_everything() -> None:
    source = """
    def f():
        try:
            mark_a()
            work()
        except:
            handled = True
    """
    assert paths(source, "raise") == set()


def test_except_exception_counts_as_catch_all() -> None:
    source = """
    def f():
        try:
            work()
        except (KeyError, Exception):
            pass
        probe()
    """
    assert paths(source, "raise") == P("")  # only probe() itself can raise
    assert paths(source) == P("")


def test_finally_runs_on_exception_and_reraises() -> None:
    source = """
    def f():
        try:
            mark_a()
            work()
        finally:
            mark_f()
    """
    assert P("af") <= paths(source, "raise")
    assert P("a") <= paths(source, "raise")  # mark_f() itself may raise


def test_return_in_finally_discards_the_exception() -> None:
    source = """
    def f():
        try:
            mark_a()
            raise ValueError
        finally:
            return
    """
    assert paths(source, "raise") == set()
    assert paths(source, "return") == P("", "a")


def test_exception_in_finally_replaces_the_pending_return() -> None:
    source = """
    def f():
        try:
            return mark_a()
        finally:
            cleanup()
            mark_f()
    """
    assert paths(source, "return") == P("af")
    # cleanup() raising abandons the return; mark_a() raising is re-raised after the finally.
    assert paths(source, "raise") == P("", "a", "f")


def test_break_through_finally_leaves_the_loop() -> None:
    source = """
    def f(items):
        for item in items:
            try:
                if item:
                    break
                mark_a()
            finally:
                mark_f()
        else:
            mark_e()
        probe()
    """
    # Broke out (the finally ran, the else did not), or ran out of items (the else ran).
    assert paths(source) == P("f", "af", "e", "afe")


def test_continue_through_finally_goes_round_again() -> None:
    source = """
    def f(items):
        for item in items:
            try:
                if item:
                    continue
                mark_a()
            finally:
                mark_f()
            mark_b()
    """
    assert paths(source, "loop-back") == P("f", "abf")


def test_while_else_runs_only_without_break() -> None:
    source = """
    def f():
        while cond():
            if other():
                mark_b()
                break
        else:
            mark_e()
        probe()
    """
    assert paths(source) == P("b", "e")


def test_while_true_leaves_only_by_break() -> None:
    source = """
    def f():
        while True:
            mark_a()
            if done():
                break
        probe()
    """
    assert paths(source) == P("a")


def test_nested_loops_break_leaves_the_inner_one() -> None:
    source = """
    def f(rows):
        for row in rows:
            for cell in row:
                if cell:
                    mark_b()
                    break
            probe()
            mark_o()
    """
    assert paths(source) == P("", "b", "o", "bo")


def test_loop_body_reaches_its_own_start_twice() -> None:
    source = """
    def f(items):
        for item in items:
            probe()
            mark_a()
    """
    assert paths(source) == P("", "a")


def test_match_cases_are_exclusive_and_wildcard_ends_the_search() -> None:
    source = """
    def f(command):
        match command:
            case "start":
                mark_a()
            case [name, *rest] if name:
                mark_b()
            case _:
                mark_c()
        probe()
    """
    assert paths(source) == P("a", "b", "c")


def test_match_without_wildcard_can_fall_through() -> None:
    source = """
    def f(command):
        match command:
            case "start":
                mark_a()
        probe()
    """
    assert paths(source) == P("a", "")


def test_with_exit_runs_on_return_and_on_exception() -> None:
    source = """
    def f(lock):
        with lock:
            mark_a()
            if work():
                return
            mark_b()
    """
    assert paths(source, "return") == {
        frozenset({"a", "left-with"}),
        frozenset({"a", "b", "left-with"}),
    }
    assert frozenset({"a", "left-with"}) in paths(source, "raise")


def test_suppress_swallows_the_exception() -> None:
    source = """
    import contextlib

    def f():
        with contextlib.suppress(ValueError):
            mark_a()
            work()
            mark_b()
        probe()
    """
    assert paths(source) == {
        frozenset({"a", "left-with"}),
        frozenset({"a", "b", "left-with"}),
        frozenset({"left-with"}),
    }


def test_flag_makes_the_contradicting_branch_infeasible() -> None:
    source = """
    def f(self):
        done = False
        try:
            mark_a()
            done = True
        finally:
            if not done:
                probe()
    """
    assert paths(source) == P("")


def test_attribute_flag_guard() -> None:
    source = """
    def close(self):
        if not self._closed:
            self._closed = True
            mark_a()
        if not self._closed:
            probe()
    """
    assert paths(source) == set()


def test_rebinding_ends_a_flag() -> None:
    source = """
    def f(make):
        ready = True
        ready = make()
        if not ready:
            probe()
    """
    assert paths(source) == P("")


def test_a_comparison_tested_twice_takes_the_same_branch() -> None:
    source = """
    def f(mode):
        if mode is SHARED:
            mark_a()
        if mode is not SHARED:
            probe()
    """
    assert paths(source) == P("")
    equal = """
    def f(self, kind):
        if self.kind == "pooled":
            mark_a()
        if self.kind != "pooled":
            return
        probe()
    """
    assert paths(equal) == P("a")


def test_rebinding_either_side_ends_a_comparison_flag() -> None:
    for rebound in ("mode", "SHARED"):
        source = f"""
    def f(mode, other):
        if mode is SHARED:
            mark_a()
        {rebound} = other
        if mode is not SHARED:
            probe()
    """
        assert paths(source) == P("", "a"), rebound


def test_short_circuit_operand_is_conditional() -> None:
    assert paths("def f(x):\n    x and mark_a()\n    probe()\n") == P("", "a")
    assert paths("def f(x):\n    x or mark_a()\n    probe()\n") == P("", "a")


def test_conditional_expression() -> None:
    assert paths("def f(x):\n    y = mark_a() if x else mark_b()\n    probe()\n") == P("a", "b")


def test_comprehension_body_may_not_run() -> None:
    assert paths("def f(xs):\n    [mark_a() for x in xs if x]\n    probe()\n") == P("", "a")


def test_nested_function_and_lambda_bodies_are_not_entered() -> None:
    source = """
    def f():
        def inner():
            mark_a()
        callback = lambda: mark_b()
        probe()
    """
    assert paths(source) == P("")


def test_await_can_raise_into_the_handler() -> None:
    source = """
    async def f(task):
        try:
            mark_a()
            await task
            mark_b()
        except Exception:
            probe()
    """
    assert paths(source) == P("", "a")


def test_raise_statement_goes_to_the_handler() -> None:
    source = """
    def f():
        try:
            mark_a()
            raise ValueError("no")
        except ValueError:
            probe()
    """
    assert P("a") <= paths(source)


def test_assert_failure_raises() -> None:
    source = """
    def f(x):
        mark_a()
        assert x, "x is required"
        mark_b()
    """
    assert paths(source, "raise") == P("", "a")


def test_try_else_runs_only_without_exception_and_is_not_guarded() -> None:
    source = """
    def f():
        try:
            work()
        except ValueError:
            mark_h()
        else:
            mark_e()
            boom()
        probe()
    """
    assert paths(source) == P("h", "e")
    assert P("e") <= paths(source, "raise")  # boom() is outside the handlers' reach


def test_nested_finally_inside_finally() -> None:
    source = """
    def f():
        try:
            return mark_a()
        finally:
            try:
                mark_b()
            finally:
                mark_c()
    """
    assert paths(source, "return") == P("abc")


def test_yield_can_raise() -> None:
    source = """
    def f():
        mark_a()
        yield 1
        mark_b()
    """
    assert paths(source, "raise") == P("", "a")


def test_loop_back_only_from_iterations_that_continue() -> None:
    source = """
    def f():
        while True:
            mark_a()
            if stop():
                return
            mark_b()
    """
    assert paths(source, "loop-back") == P("ab")


def test_exception_groups_dispatch_like_try() -> None:
    source = """
    def f():
        try:
            mark_a()
            work()
        except* ValueError:
            probe()
    """
    assert paths(source) == P("", "a")


def test_async_with_and_async_for() -> None:
    source = """
    async def f(stream, lock):
        async with lock:
            async for chunk in stream:
                mark_a()
        probe()
    """
    assert paths(source) == {frozenset({"left-with"}), frozenset({"a", "left-with"})}


def test_events_record_their_loops() -> None:
    result, _, _ = _analyse(
        "def f(xs):\n    for x in xs:\n        while x:\n            mark_a()\n"
    )
    loops = [event.loops for event, op, _ in result.at_events() if op == "a"]
    assert [[type(loop).__name__ for loop in found] for found in loops] == [["For", "While"]]


def test_many_sequential_ifs_stay_bounded_and_fast() -> None:
    lines = ["def f(x):"]
    for index in range(200):
        lines.append(f"    if x == {index}:")
        lines.append(f"        mark_{index}()")
    lines.append("    probe()")
    start = time.perf_counter()
    found = paths("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 5
    assert 0 < len(found) <= flow.MAX_PATHS


def test_results_are_cached_per_scope_and_key() -> None:
    result, context, function = _analyse("def f():\n    mark_a()\n")
    module = context.module
    again = flow.analyse(context, function, Marks(), chain=[module, function])
    assert again is result


@pytest.mark.parametrize("depth", [30])
def test_deeply_nested_loops_converge(depth: int) -> None:
    lines = ["def f(xs):"]
    for level in range(depth):
        lines.append("    " * (level + 1) + f"for x{level} in xs:")
    lines.append("    " * (depth + 1) + "probe()")
    lines.append("    " * (depth + 1) + "mark_a()")
    start = time.perf_counter()
    assert paths("\n".join(lines) + "\n") == P("", "a")
    assert time.perf_counter() - start < 5


def test_sys_exit_raises_and_os_exit_ends_the_path() -> None:
    source = """
    import os
    import sys

    def f(code):
        try:
            mark_a()
            if code:
                sys.exit(code)
            os._exit(0)
            mark_never()
        finally:
            mark_f()
    """
    # sys.exit() runs the finally on its way out; os._exit() ends the process on the spot.
    assert paths(source, "raise") == P("", "a", "f", "af")
    assert paths(source, "return") == set()


def test_logging_and_suppress_open_no_exception_path() -> None:
    source = """
    import contextlib
    import logging

    log = logging.getLogger(__name__)

    def f():
        mark_a()
        log.info("working")
        logging.warning("still working")
        with contextlib.suppress(Exception):
            work()
        probe()
    """
    # Only mark_a() and probe() can raise: not the logging calls, not the suppressed work().
    assert paths(source, "raise") == {frozenset(), frozenset({"a", "left-with"})}
    assert paths(source) == {frozenset({"a", "left-with"})}


def test_suppress_of_some_exceptions_lets_others_through() -> None:
    source = """
    import contextlib

    def f():
        with contextlib.suppress(KeyError):
            mark_a()
            work()
        probe()
    """
    assert frozenset({"a", "left-with"}) in paths(source, "raise")
    assert frozenset({"a", "left-with"}) in paths(source)


def test_graph_is_shared_between_analyses() -> None:
    result, context, function = _analyse("def f():\n    mark_a()\n")

    class Other(Marks):
        key = "test-other"

    other = flow.analyse(context, function, Other(), chain=[context.module, function])
    assert other is not result
    assert other.graph is result.graph
