"""A loop body's idle way round (`idle_round`), the calls a value holds (`held_calls`), and
which handlers of a `try` a cancellation reaches and what they raise (`cancellation`)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from conclint.analysis.cancellation import cancellation_handlers, may_be_cancelled, reraises
from conclint.analysis.context import FileContext
from conclint.analysis.discards import IN_GENERATOR, held_calls
from conclint.analysis.loops import idle_round
from conclint.config import Settings


def _loop_body(source: str) -> cst.While:
    module = cst.parse_module(textwrap.dedent(source))
    loop = module.body[0]
    assert isinstance(loop, cst.While)
    return loop


@pytest.mark.parametrize(
    ("source", "tests"),
    [
        ("while True:\n    if ready:\n        await go()\n", ["ready is False"]),
        (
            "while True:\n    if not ready:\n        continue\n    await go()\n",
            ["not ready is True"],
        ),
        ("while True:\n    if ready():\n        break\n", ["ready() is False"]),
        ("while True:\n    while items:\n        yield items.pop()\n", ["items is False"]),
        (
            "while True:\n    if stop:\n        return\n    elif queue:\n        await go()\n",
            ["stop is False", "queue is False"],
        ),
        ("while True:\n    pass\n    ...\n", []),
    ],
)
def test_an_idle_way_round_is_found_with_its_tests(source: str, tests: list[str]) -> None:
    found = idle_round(_loop_body(source).body.body)
    assert found is not None
    spelled = [f"{cst.Module([]).code_for_node(test)} is {outcome}" for test, outcome in found]
    assert spelled == tests


@pytest.mark.parametrize(
    "source",
    [
        "while True:\n    await go()\n",
        "while True:\n    count += 1\n    if ready:\n        await go()\n",
        "while True:\n    if await ready():\n        log()\n",
        "while True:\n    if handle_next():\n        continue\n    await wait()\n",
        "while True:\n    try:\n        x = q.get_nowait()\n    except Empty:\n        continue\n",
        "while True:\n    if ready:\n        await go()\n    else:\n        await sleep(1)\n",
    ],
)
def test_every_way_round_works_or_suspends(source: str) -> None:
    assert idle_round(_loop_body(source).body.body) is None


def _held(expression: str) -> list[tuple[str, str | None]]:
    value = cst.parse_expression(expression)
    return [(cst.Module([]).code_for_node(call), where) for call, where in held_calls(value)]


def test_held_calls_follow_displays_comprehensions_and_branches() -> None:
    assert _held("spawn(a)") == [("spawn(a)", None)]
    assert _held("[spawn(a), *spread(b)]") == [("spawn(a)", "a list")]
    assert _held("{k: spawn(v) for k, v in items}") == [("spawn(v)", "a dict comprehension")]
    assert _held("(spawn(x) for x in xs)") == [("spawn(x)", IN_GENERATOR)]
    assert _held("spawn(a) if c else spawn(b)") == [("spawn(a)", None), ("spawn(b)", None)]
    assert _held("[spawn(a) if c else None]") == [("spawn(a)", "a list")]
    assert _held("wrap(spawn(a))") == [("wrap(spawn(a))", None)]
    assert _held("spawn(a).result()") == [("spawn(a).result()", None)]
    assert _held("x.y") == []


def _function(source: str) -> tuple[cst.Module, cst.FunctionDef, cst.Try]:
    module = cst.parse_module(textwrap.dedent(source))
    function = next(node for node in module.body if isinstance(node, cst.FunctionDef))
    body = function.body.body
    statement = next(node for node in body if isinstance(node, cst.Try))
    return module, function, statement


def _context(module: cst.Module, function: cst.FunctionDef) -> FileContext:
    context = FileContext("example.py", module, Settings())
    context.enter(function)
    return context


SOURCE = """
    import asyncio
    import trio

    async def f():
        try:
            await work()
        {handlers}
"""


@pytest.mark.parametrize(
    ("handlers", "reached"),
    [
        (
            "except asyncio.CancelledError:\n            raise\n        except BaseException:\n"
            "            pass",
            [0],
        ),
        ("except BaseException:\n            raise\n        except:\n            pass", [0]),
        (
            "except trio.Cancelled:\n            pass\n        except asyncio.CancelledError:\n"
            "            pass\n        except:\n            pass",
            [0, 1],
        ),
        (
            "except ValueError:\n            pass\n        except BaseException:\n            pass",
            [1],
        ),
        (
            "except asyncio.CancelledError:\n            pass\n"
            "        except asyncio.CancelledError:\n            pass",
            [0],
        ),
    ],
)
def test_the_handlers_a_cancellation_reaches(handlers: str, reached: list[int]) -> None:
    module, function, statement = _function(SOURCE.format(handlers=handlers))
    found = cancellation_handlers(statement, _context(module, function))
    assert [statement.handlers.index(handler) for handler in found] == reached


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("await work()", True),
        ("async with lock:\n                pass", True),
        ("...", True),
        ("result = fut.result()", False),
        ("def inner():\n                return 1", False),
    ],
)
def test_only_a_block_that_suspends_gets_the_task_cancellation(body: str, expected: bool) -> None:
    source = f"async def f():\n    try:\n        {body}\n    except BaseException:\n        pass\n"
    module, function, statement = _function(source)
    assert may_be_cancelled(statement.body, _context(module, function)) is expected


@pytest.mark.parametrize(
    ("raised", "again"),
    [
        ("raise", True),
        ("raise exc", True),
        ("raise exc from None", True),
        ("raise exc.with_traceback(tb)", True),
        ("raise asyncio.CancelledError('closing')", True),
        ("raise saved", True),
        ("raise ValueError", False),
        ("raise ValueError() from exc", False),
        ("raise BaseException()", False),
        ("raise trio.TooSlowError", False),
    ],
)
def test_what_a_handler_raises(raised: str, again: bool) -> None:
    source = SOURCE.format(
        handlers=f"except asyncio.CancelledError as exc:\n            saved = exc\n"
        f"            {raised}"
    )
    module, function, statement = _function(source)
    handler = statement.handlers[0]
    last = handler.body.body[-1]
    assert isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Raise)
    assert reraises(last.body[0], "exc", _context(module, function)) is again
