"""The views the rules ask (`analysis/catalog.py`): derived from the data, and the data
complete enough for the rules and their messages to rely on."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import conclint
from conclint import registry
from conclint.analysis import catalog as views
from conclint.catalog import CatalogError, load
from conclint.catalog.schema import library
from conclint.config import Settings
from conclint.engine import lint_source

CATALOG = load()
# Needles that are words of Python itself, not names of an API.
LANGUAGE_WORDS = frozenset({"async", "yield"})


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
            keywords.update([method.status_keyword] if method.status_keyword else [])
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


# The API knowledge is the catalog's: the analysis and the rules spell no API name. -------

PACKAGE = Path(conclint.__file__).parent
SCANNED = sorted([*(PACKAGE / "analysis").glob("*.py"), *(PACKAGE / "rules").glob("*.py")])
# Where an API name may be spelled in the code: the modules the catalog describes, and
# Python's standard library.
API_MODULES = frozenset(sys.stdlib_module_names) | {
    module for entries in CATALOG.libraries for module in entries.modules
}
# Names of Python itself the analysis may spell: the language's, not an API's.
LANGUAGE_NAMES = frozenset(
    {
        "builtins.None",
        "builtins.isinstance",
        "typing.Annotated",
        "typing.ClassVar",
        "typing.Final",
        "typing.Optional",
        "typing.Union",
        "typing_extensions.Annotated",
        "typing_extensions.Final",
        "typing_extensions.Union",
    }
)
# Method names of Python itself the code may compare a call with: the `with` protocol, and
# the `format` method of a string literal.
# The language's own methods: context managers', `str.format`, async generators' (PEP 525).
LANGUAGE_METHODS = frozenset(
    {"__enter__", "__exit__", "__aenter__", "__aexit__", "__aiter__", "format", "aclose"}
)
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _code_strings(tree: ast.Module) -> list[ast.Constant]:
    """The string literals of a module but its docstrings and its rules' `tags` (labels)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "tags" for t in node.targets
        ):
            skipped.update(id(inner) for inner in ast.walk(node.value))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
    ]


def _api_names(source: str) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in _code_strings(ast.parse(source))
        if _DOTTED.fullmatch(node.value)
        and node.value.partition(".")[0] in API_MODULES
        and node.value not in LANGUAGE_NAMES
    ]


def _is_member_name(node: ast.expr) -> bool:
    """`func.attr.value`, `arg.keyword.value`, `use.attr`: the name of a method or keyword."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
        return isinstance(node, ast.Attribute) and node.attr in ("attr", "keyword")
    return isinstance(node, ast.Attribute) and node.attr == "attr"


def _literals(node: ast.expr) -> list[ast.Constant]:
    """The strings of `"x"` or of a literal collection of them (`("a", "b")`, `{"a"}`)."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [
        item for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)
    ]


def _compared_member_names(source: str) -> list[tuple[int, str]]:
    """String literals a method or keyword name is compared with, or looked up by
    (`keyword(call, "daemon")`): what the catalog is to say."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_member_name(operand) for operand in operands):
                found += [
                    (literal.lineno, literal.value)
                    for operand in operands
                    for literal in _literals(operand)
                ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "keyword"
            and len(node.args) == 2
        ):
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((name.lineno, name.value))
    return [(line, name) for line, name in found if name not in LANGUAGE_METHODS]


@pytest.mark.parametrize("path", SCANNED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_api_name_is_spelled_in_the_analysis_or_the_rules(path: Path) -> None:
    """`asyncio.Queue`, `os.fd`, `concurrent.futures.Future`: kinds, functions and names
    are the catalog's data, asked by role or trait."""
    assert _api_names(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SCANNED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_method_or_keyword_of_an_api_is_compared_by_hand(path: Path) -> None:
    """`func.attr.value == "create_task"`, `keyword(call, "daemon")`: which methods and
    keywords mean what is the catalog's data too."""
    assert _compared_member_names(path.read_text(encoding="utf-8")) == []


def test_the_scans_find_what_they_look_for() -> None:
    """Each scan catches the forms it is there to catch (and leaves the language's names)."""
    assert SCANNED and all(path.exists() for path in SCANNED)
    source = (
        '"""asyncio.Queue in a docstring is prose."""\n'
        'tags = ("concurrent.futures",)\n'
        '_FUTURE = "concurrent.futures.Future"\n'
        'is_instance = name == "builtins.isinstance"\n'
        'path = "__init__.py"\n'
        'spawn = func.attr.value == "create_task"\n'
        'timeout = arg.keyword.value in ("timeout", "block")\n'
        'daemon = use.attr == "daemon" or keyword(call, "daemon")\n'
        'entered = func.attr.value != "__enter__"\n'
    )
    assert _api_names(source) == [(3, "concurrent.futures.Future")]
    assert _compared_member_names(source) == [
        (6, "create_task"),
        (7, "timeout"),
        (7, "block"),
        (8, "daemon"),
        (8, "daemon"),
    ]


def test_what_the_rules_ask_of_a_kind_is_in_its_data() -> None:
    """CCL405 tells a counting semaphore by where it takes its starting count, CCL103 a
    daemon by its flag; CCL601 exempts a done future, and a socket switched to
    non-blocking mode, by their methods' roles."""
    assert views.UNBOUNDED_SEMAPHORES.issubset(views.INITIAL_COUNTS)
    assert views.THREAD_KINDS.issubset(views.DAEMON_FLAGS)
    assert views.DONE_METHODS
    assert all(_methods(kind, "blocking") for kind in views.DONE_METHODS)
    switched = {kind for kind in CATALOG.kinds if _methods(kind, "sets-non-blocking")}
    assert switched and switched <= CATALOG.kinds_with("non-blocking-mode")
    assert views.FILE_DESCRIPTOR in CATALOG.kinds and views.FD_CLOSERS
    assert views.WOULD_BLOCK and views.FUTURE_WRAPPERS


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            {"traits": [], "methods": {"setblocking": ["sets-non-blocking"]}},
            "method setblocking: sets-non-blocking needs the non-blocking-mode trait",
        ),
        ({"daemon": "is daemon"}, "daemon: 'is daemon' is not a keyword name"),
        ({"shield": "is shielded"}, "shield: 'is shielded' is not a keyword name"),
        ({"initial-count": [0]}, "initial-count: give [position, keyword]"),
    ],
)
def test_a_mistake_in_the_new_kind_data_names_the_entry(kind: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(f"data/x.toml: kind lib.Gate {message}")):
        library({"kinds": {"lib.Gate": kind}}, "data/x.toml")


def test_the_derived_kind_of_an_operator_is_the_catalogs() -> None:
    """`path / "name"` is a Path because the data says `Path.__truediv__` returns one."""
    assert views.DERIVED_KINDS["pathlib.Path"]["__truediv__"] == "pathlib.Path"
    source = (
        "from pathlib import Path\n\n\n"
        "async def size(root: Path, name: str) -> int:\n"
        "    return (root / name).stat().st_size\n"
    )
    found = lint_source(source, "size.py", Settings(select=("CCL601",)))
    assert [(d.line, d.code) for d in found.diagnostics] == [(5, "CCL601")]
