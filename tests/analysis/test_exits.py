"""How blocks finish (`completions`) and which calls never return (`never_returns`)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from conclint.analysis.context import FileContext
from conclint.analysis.exits import (
    BREAK,
    CONTINUE,
    FALLTHROUGH,
    RAISE_OTHER,
    RETURN,
    YIELD,
    Decide,
    always_raises,
    completions,
    has_items,
    never_returns,
)
from conclint.analysis.scopes import scope_body
from conclint.config import Settings


def _body(source: str) -> cst.FunctionDef:
    """The first function of `source`, whose body the completion tests look at."""
    module = cst.parse_module(textwrap.dedent(source))
    return next(node for node in module.body if isinstance(node, cst.FunctionDef))


def exits(source: str) -> set[str]:
    return set(completions(scope_body(_body(source))))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("def f():\n    work()\n", {FALLTHROUGH}, id="plain-statement"),
        pytest.param("def f():\n    return 1\n    work()\n", {RETURN}, id="return-ends-block"),
        pytest.param("def f():\n    raise ValueError\n", set(), id="raise"),
        pytest.param(
            "def f(x):\n    if x:\n        raise ValueError\n    else:\n        raise KeyError\n",
            set(),
            id="if-else-both-raise",
        ),
        pytest.param(
            "def f(x):\n    if x:\n        raise ValueError\n", {FALLTHROUGH}, id="if-without-else"
        ),
        pytest.param(
            "def f(x):\n    if x:\n        return 1\n    elif x is None:\n        raise KeyError\n",
            {RETURN, FALLTHROUGH},
            id="elif-chain-without-else",
        ),
        pytest.param("def f():\n    while True:\n        work()\n", set(), id="endless-while"),
        pytest.param("def f():\n    while 1:\n        work()\n", set(), id="endless-while-1"),
        pytest.param(
            "def f():\n    while True:\n        if done():\n            break\n",
            {FALLTHROUGH},
            id="endless-while-with-break",
        ),
        pytest.param(
            "def f():\n    while True:\n        return next_item()\n", {RETURN}, id="while-return"
        ),
        pytest.param(
            "def f(xs):\n    for x in xs:\n        if x:\n            continue\n        break\n",
            {FALLTHROUGH},
            id="for-absorbs-break-and-continue",
        ),
        pytest.param(
            "def f(xs):\n    for x in xs:\n        pass\n    else:\n        raise LookupError\n",
            set(),
            id="for-else-raises",
        ),
        pytest.param(
            "def f(xs):\n    while xs:\n        if xs.pop():\n            break\n"
            "    else:\n        raise LookupError\n",
            {FALLTHROUGH},
            id="while-else-skipped-by-break",
        ),
        pytest.param("def f():\n    with lock:\n        return 1\n", {RETURN}, id="with"),
        pytest.param(
            "def f():\n    try:\n        return work()\n    except OSError:\n        pass\n",
            {RETURN, FALLTHROUGH},
            id="handler-falls-through",
        ),
        pytest.param(
            "def f():\n    try:\n        work()\n    except OSError:\n        raise\n",
            {FALLTHROUGH},
            id="handler-reraises-body-falls",
        ),
        pytest.param(
            "def f():\n    try:\n        raise KeyError\n    except KeyError:\n        raise\n",
            set(),
            id="body-and-handler-raise",
        ),
        pytest.param(
            "def f():\n    try:\n        work()\n    except OSError:\n        raise\n"
            "    else:\n        return 1\n",
            {RETURN},
            id="try-else-returns",
        ),
        pytest.param(
            "def f():\n    try:\n        return work()\n    finally:\n        raise RuntimeError\n",
            set(),
            id="finally-raise-overrides",
        ),
        pytest.param(
            "def f():\n    try:\n        raise KeyError\n    finally:\n        return None\n",
            {RETURN},
            id="finally-return-overrides",
        ),
        pytest.param(
            "def f():\n    try:\n        work()\n    finally:\n        cleanup()\n",
            {FALLTHROUGH},
            id="finally-falls-through",
        ),
        pytest.param(
            "def f(cmd):\n    match cmd:\n        case 'a':\n            raise KeyError\n"
            "        case _:\n            raise ValueError\n",
            set(),
            id="match-irrefutable-all-raise",
        ),
        pytest.param(
            "def f(cmd):\n    match cmd:\n        case 'a':\n            raise KeyError\n",
            {FALLTHROUGH},
            id="match-without-wildcard",
        ),
        pytest.param(
            "def f():\n    def inner():\n        return 1\n    raise ValueError\n",
            set(),
            id="nested-def-not-entered",
        ),
    ],
)
def test_completions(source: str, expected: set[str]) -> None:
    assert exits(source) == expected


def test_break_and_continue_outside_a_loop_are_exits() -> None:
    module = cst.parse_module("for x in xs:\n    if x:\n        break\n    continue\n")
    loop = module.body[0]
    assert isinstance(loop, cst.For)
    assert set(completions(loop.body.body)) == {BREAK, CONTINUE}


def test_no_return_callback_ends_the_path() -> None:
    body = scope_body(_body("def f():\n    cleanup()\n    sys.exit(1)\n"))
    assert completions(body) == {FALLTHROUGH}

    def exits_process(call: cst.Call) -> bool:
        return isinstance(call.func, cst.Attribute) and call.func.attr.value == "exit"

    assert completions(body, no_return=exits_process) == frozenset()
    assert always_raises(body, exits_process)
    assert not always_raises(body)


def _debug_is(value: bool) -> Decide:
    def decide(test: cst.BaseExpression) -> bool | None:
        return value if isinstance(test, cst.Name) and test.value == "DEBUG" else None

    return decide


def test_decide_skips_branches_known_not_taken() -> None:
    body = scope_body(_body("def f():\n    if DEBUG:\n        raise AssertionError\n"))
    assert completions(body) == {FALLTHROUGH}
    assert completions(body, decide=_debug_is(True)) == frozenset()
    assert completions(body, decide=_debug_is(False)) == {FALLTHROUGH}


# never_returns: the call is the only expression statement of `probe` (or `Service.probe`).


def _probe_call(source: str) -> tuple[cst.Call, FileContext]:
    text = textwrap.dedent(source)
    module = cst.parse_module(text)
    # The source lets the project model know the module (as the engine passes it).
    context = FileContext("example.py", module, Settings(), source=text)
    scopes: list[cst.CSTNode] = list(module.body)
    probe: cst.FunctionDef | None = None
    while probe is None:
        node = scopes.pop(0)
        if isinstance(node, cst.ClassDef):
            context.enter(node)  # as the traversal does: the class's chain is recorded
            scopes = list(scope_body(node))
        elif isinstance(node, cst.FunctionDef) and node.name.value == "probe":
            probe = node
    context.enter(probe)
    statement = scope_body(probe)[-1]
    assert isinstance(statement, cst.SimpleStatementLine)
    expr = statement.body[0]
    assert isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call)
    return expr.value, context


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """
            import sys

            def probe():
                sys.exit(1)
            """,
            True,
            id="sys-exit",
        ),
        pytest.param(
            """
            from os import _exit as hard_exit

            def probe():
                hard_exit(3)
            """,
            True,
            id="aliased-os-exit",
        ),
        pytest.param(
            """
            def probe(sys):
                sys.exit(1)
            """,
            False,
            id="parameter-shadows-sys",
        ),
        pytest.param(
            """
            def fail(message):
                raise RuntimeError(message)

            def probe():
                fail("broken")
            """,
            True,
            id="helper-always-raises",
        ),
        pytest.param(
            """
            def check(value):
                if value is None:
                    raise ValueError("missing")
                return value

            def probe():
                check(None)
            """,
            False,
            id="helper-may-return",
        ),
        pytest.param(
            """
            import os
            from typing import NoReturn

            def restart() -> NoReturn:
                os.execv("/proc/self/exe", ["app"])

            def probe():
                restart()
            """,
            True,
            id="annotated-noreturn",
        ),
        pytest.param(
            """
            async def fail():
                raise RuntimeError

            def probe():
                fail()
            """,
            False,
            id="async-def-only-makes-coroutine",
        ),
        pytest.param(
            """
            def die():
                raise SystemExit(2)

            def fail():
                die()

            def probe():
                fail()
            """,
            True,
            id="ends-in-a-helper-that-never-returns",
        ),
        pytest.param(
            """
            def fail():
                raise KeyError

            def fail():
                return None

            def probe():
                fail()
            """,
            False,
            id="defined-twice",
        ),
        pytest.param(
            """
            class Service:
                def _abort(self, reason):
                    raise ConnectionAbortedError(reason)

                def probe(self):
                    self._abort("peer went away")
            """,
            True,
            id="method-through-self",
        ),
        pytest.param(
            """
            def probe():
                report_failure()
            """,
            False,
            id="unknown-function",
        ),
    ],
)
def test_never_returns(source: str, expected: bool) -> None:
    call, context = _probe_call(source)
    assert never_returns(call, context) is expected


def _handled(source: str, **options: object) -> set[str]:
    """The exits of the first handler of the first `try` in `f`, a `raise` of anything but
    `exc` being another exception."""
    function = _body(source)
    handler = next(s for s in scope_body(function) if isinstance(s, cst.Try)).handlers[0]

    def reraises(raised: cst.Raise) -> bool:
        return raised.exc is None or (
            isinstance(raised.exc, cst.Name) and raised.exc.value == "exc"
        )

    return set(completions(handler.body.body, reraises=reraises, **options))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        pytest.param("raise", set(), id="bare-raise"),
        pytest.param("raise exc", set(), id="raise-the-caught-one"),
        pytest.param("raise ValueError() from exc", {RAISE_OTHER}, id="raise-another"),
        pytest.param(
            "if x:\n            raise\n        raise KeyError", {RAISE_OTHER}, id="one-branch"
        ),
        pytest.param(
            "try:\n            raise KeyError\n        except KeyError:\n            pass\n"
            "        raise",
            set(),
            id="caught-by-a-nested-try",
        ),
        pytest.param(
            "try:\n            close()\n        except OSError as err:\n            raise err\n"
            "        raise",
            set(),
            id="nested-handler-propagates-its-own",
        ),
        pytest.param(
            "try:\n            close()\n        except OSError:\n            raise exc_other\n"
            "        raise",
            {RAISE_OTHER},
            id="nested-handler-raises-another",
        ),
        pytest.param("yield 1\n        raise", {YIELD}, id="yield-then-raise"),
    ],
)
def test_a_handler_can_raise_another_exception_or_yield(handler: str, expected: set[str]) -> None:
    source = (
        "async def f(x):\n    try:\n        work()\n    except BaseException as exc:\n"
        f"        {handler}\n"
    )
    assert _handled(source, yields=True) == expected


def test_raises_are_plain_ends_without_reraises() -> None:
    assert exits("def f():\n    raise ValueError\n") == set()


def _items(expression: str) -> bool:
    module = cst.parse_module(f"for x in {expression}:\n    pass\n")
    loop = module.body[0]
    assert isinstance(loop, cst.For)
    return has_items(loop.iter, FileContext("example.py", module, Settings()))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[1, 2, 3]", True),
        ("(1,)", True),
        ("{1, 2}", True),
        ("{1: 2}", True),
        ("(*(), *(1, 2))", True),
        ("{**{}, **{1: 2}}", True),
        ('"ab"', True),
        ("range(3)", True),
        ("range(27670116110564327421)", True),
        ("range(1, 5, 2)", True),
        ("[]", False),
        ("{}", False),
        ('""', False),
        ("(*(),)", False),
        ("range(0)", False),
        ("range(5, 1)", False),
        ("range(3, 1, 0)", False),
        ("range(count)", False),
        ("items", False),
    ],
)
def test_has_items(expression: str, expected: bool) -> None:
    assert _items(expression) is expected


def test_a_shadowed_range_is_not_counted() -> None:
    module = cst.parse_module("def range(n):\n    return []\nfor x in range(3):\n    pass\n")
    loop = module.body[1]
    assert isinstance(loop, cst.For)
    assert not has_items(loop.iter, FileContext("example.py", module, Settings()))


def test_a_loop_that_surely_runs_raises_when_its_body_does() -> None:
    source = (
        "async def f():\n    try:\n        work()\n    except BaseException as exc:\n"
        "        for i in {}:\n            raise\n"
    )
    with_items = _handled(source.format("(1, 2)"), has_items=lambda iterable: True)
    assert with_items == set()
    assert _handled(source.format("items"), has_items=lambda iterable: False) == {FALLTHROUGH}
