"""The views the rules ask (`analysis/catalog.py`): derived from the data, and the data
complete enough for the rules and their messages to rely on."""

from __future__ import annotations

import pytest

from conclint import registry
from conclint.analysis import catalog as views
from conclint.catalog import load
from conclint.config import Settings
from conclint.engine import lint_source

CATALOG = load()
# Needles that are words of Python itself, not names of an API.
LANGUAGE_WORDS = frozenset({"async"})


def _methods(kind: str, role: str) -> frozenset[str]:
    return CATALOG.methods_with(role, kind)


def _catalog_words() -> set[str]:
    """Every name the catalog describes, by its last part, and its arguments' keywords."""
    names: set[str] = {*CATALOG.functions, *CATALOG.names, *CATALOG.any_receiver}
    keywords: set[str] = set()
    for kind in CATALOG.kinds.values():
        names.update((*kind.classes, *kind.factories, *kind.annotations, *kind.methods))
        for method in kind.methods.values():
            keywords.update(a.keyword for a in (method.block, method.timeout) if a is not None)
    for function in CATALOG.functions.values():
        keywords.update(
            a.keyword for a in (function.timeout, function.return_when) if a is not None
        )
    return {name.rpartition(".")[2] for name in names} | keywords


def _catalog_modules() -> set[str]:
    names: set[str] = {*CATALOG.functions, *CATALOG.names}
    for kind in CATALOG.kinds.values():
        names.update((*kind.classes, *kind.factories, *kind.annotations))
    return {name.partition(".")[0] for name in names}


@pytest.mark.parametrize("rule", registry.RULES, ids=lambda rule: rule.code)
def test_needles_and_gates_come_from_the_catalog(rule: type) -> None:
    """No rule spells an API name of its own in its pre-filter declaration."""
    assert set(rule.needles) - LANGUAGE_WORDS <= _catalog_words()
    assert set(rule.imports) <= _catalog_modules()


def test_kind_words_follow_what_gives_the_kind() -> None:
    # A future comes from an executor's `submit`; a stream writer from `open_connection`.
    assert "ThreadPoolExecutor" in views.kind_words(["concurrent.futures.Future"])
    assert "concurrent" in views.kind_modules(["concurrent.futures.Future"])
    assert "open_connection" in views.kind_words(["asyncio.StreamWriter"])
    assert views.words(["asyncio.create_task", "loop.create_task"]) == ("create_task",)


def test_locks_say_how_they_are_taken_and_entered() -> None:
    """CCL403 pairs `acquire`/`release` roles and tells `async with` from `with` by trait."""
    for name in views.LOCK_KINDS:
        kind = CATALOG.kinds[name]
        acquires = _methods(name, "acquire")
        assert acquires and _methods(name, "release"), name
        awaited = any("coroutine" in kind.methods[method].roles for method in acquires)
        assert ("async-with" in kind.traits) is awaited, name


def test_thread_locks_name_an_async_counterpart_entered_with_async_with() -> None:
    for name in views.SYNC_LOCK_KINDS:
        alternative = views.ASYNC_ALTERNATIVES[name]
        assert CATALOG.made_by(alternative) in views.ASYNC_WITH_KINDS, name


def test_kinds_without_a_bound_say_how_to_get_one() -> None:
    unbounded = views.UNBOUNDED_SEMAPHORES | {
        name for name, bound in views.KIND_BOUNDS.items() if bound is None
    }
    assert unbounded
    assert unbounded <= set(views.BOUND_REMEDIES)


@pytest.mark.parametrize(
    ("kinds", "role"),
    [
        (views.EXECUTOR_KINDS, "cleanup"),  # CCL104 names it
        (views.TASK_DONE_QUEUES, "join"),  # CCL401, CCL402
        (views.THREAD_KINDS, "join"),  # CCL103
        (views.THREAD_KINDS, "starts"),
        (views.CONDITION_KINDS, "wait"),  # CCL404
        (views.TASK_KINDS, "cancel"),  # CCL204
    ],
)
def test_kinds_have_the_methods_their_rules_name(kinds: frozenset[str], role: str) -> None:
    assert kinds
    assert all(_methods(kind, role) for kind in kinds), role


def test_every_future_has_a_remedy() -> None:
    """CCL105 reports only futures whose remedy it can name."""
    assert {k: set(m) for k, m in views.FUTURE_METHODS.items()} == {
        k: set(m) for k, m in views.FUTURE_REMEDIES.items()
    }


def test_a_coroutine_of_the_catalog_is_reached_without_async_in_the_file() -> None:
    """CCL102's needles are the catalog's coroutine functions, not the word `async`."""
    source = "import trio\n\n\ndef tick() -> None:\n    trio.sleep(1)\n"
    found = lint_source(source, "tick.py", Settings(select=("CCL102",)))
    assert [(d.line, d.code) for d in found.diagnostics] == [(5, "CCL102")]
