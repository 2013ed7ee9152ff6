"""Blocking calls as catalog data: the forms that do not block, one finding per operation,
annotations that allow `None`, and the pre-filter gate derived from the entries."""

from __future__ import annotations

from typing import Any

import pytest

from conclint.analysis import catalog
from conclint.catalog import Catalog, CatalogError, load, top_modules
from conclint.catalog.schema import library
from conclint.config import Settings
from conclint.engine import lint_source
from conclint.prefilter import Source
from conclint.rules.blocking_call_in_async import BlockingCallInAsync
from conclint.rules.blocking_call_via_helper import BlockingCallViaHelper

SETTINGS = Settings(select=("CCL601",))


def lines(source: str) -> list[int]:
    """The lines CCL601 reports in `source`."""
    result = lint_source(source, "m.py", SETTINGS, rules=[BlockingCallInAsync])
    return sorted(d.line for d in result.diagnostics)


@pytest.mark.parametrize(
    ("call", "blocks"),
    [
        ("socket.getaddrinfo(host, 80)", True),
        ("socket.getaddrinfo(host, 80, flags=socket.AI_NUMERICHOST)", False),
        ("socket.getaddrinfo(host, 80, 0, 0, 0, socket.AI_NUMERICHOST)", False),
        ("socket.getaddrinfo(host, 80, flags=socket.AI_PASSIVE | socket.AI_NUMERICHOST)", False),
        ("socket.getaddrinfo(host, 80, flags=NUMERIC)", False),  # a constant of the module
        ("socket.getaddrinfo(host, 80, flags=socket.AI_PASSIVE)", True),
        # After `*args` the positions are unknown: the flags may be anything.
        ("socket.getaddrinfo(*address, socket.AI_NUMERICHOST)", True),
        ("os.waitpid(pid, os.WNOHANG)", False),
        ("os.waitpid(pid, 0)", True),
        ("os.wait3(os.WNOHANG)", False),
        ("os.wait()", True),
        ("sock.recv(1024, socket.MSG_DONTWAIT)", False),
        ("sock.recv(1024)", True),
        ("zipfile.ZipFile(io.BytesIO(data))", False),
        ("zipfile.ZipFile(path)", True),
        ("trio.wrap_file(os.fdopen(fd))", False),
        ("os.fdopen(fd)", True),
        ("os.path.join(path, 'x')", False),
        ("os.path.exists(path)", True),
    ],
)
def test_calls_that_block_only_for_some_arguments(call: str, blocks: bool) -> None:
    source = (
        "import io, os, socket, zipfile\nimport trio\n"
        "NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV\n"
        "async def f(host, pid, fd, data, path, address, sock: socket.socket):\n"
        f"    {call}\n"
    )
    assert lines(source) == ([5] if blocks else [])


def test_one_finding_per_blocking_operation() -> None:
    source = """\
import io, subprocess

async def save(path, text, handle: "io.TextIOWrapper"):
    with open(path, "w") as out:
        out.write(text)
        copy = out
        copy.flush()
    proc = subprocess.Popen(["sync"])
    proc.wait()
    handle.write(text)
    open(path).read()
"""
    assert lines(source) == [4, 8, 10, 11]


def test_an_object_opened_in_another_function_is_reported_at_each_use() -> None:
    source = """\
def opened(path):
    return open(path)

async def read(path):
    handle = opened(path)
    f = open(path)

    async def inner():
        return f.read()

    return handle.read()
"""
    # `opened(path)` is CCL604's; `f.read()` runs in another coroutine than the `open`.
    assert lines(source) == [6, 9]


@pytest.mark.parametrize(
    "annotation",
    [
        "httpx.Client",
        "Optional[httpx.Client]",
        "Union[httpx.Client, None]",
        "httpx.Client | None",
        "None | httpx.Client | None",
        "Annotated[httpx.Client, 'shared']",
        '"Optional[httpx.Client]"',
    ],
)
def test_annotations_that_allow_none_keep_the_kind(annotation: str) -> None:
    source = (
        "from typing import Annotated, Optional, Union\nimport httpx\n"
        f"async def f(client: {annotation}):\n    client.get('/')\n"
    )
    assert lines(source) == [4]


@pytest.mark.parametrize(
    "annotation", ["httpx.Client | int", "Union[httpx.Client, str]", "httpx.AsyncClient | None"]
)
def test_annotations_that_allow_another_type_give_no_kind(annotation: str) -> None:
    source = (
        "from typing import Union\nimport httpx\n"
        f"async def f(client: {annotation}):\n    client.get('/')\n"
    )
    assert lines(source) == []


def _load(raw: dict[str, Any]) -> Catalog:
    return Catalog([library(raw, "data/0.toml")])


BLOCKING = {"roles": ["blocking"], "remedy": "use x"}


@pytest.mark.parametrize(
    ("unless", "message"),
    [
        ({"argument": [1, "flags"]}, "give argument and names, or inside"),
        ({"names": ["lib.FLAG"]}, "give argument and names, or inside"),
        ({}, "give argument and names, or inside"),
        ({"argument": [1, "flags"], "names": ["lib..FLAG"]}, "'lib..FLAG' is not a dotted name"),
        ({"argument": [1], "names": ["lib.FLAG"]}, "unless argument: give [position, keyword]"),
        ({"when": []}, "unknown key 'when'"),
    ],
)
def test_a_mistake_in_unless_names_the_entry(unless: dict[str, Any], message: str) -> None:
    raw = {"functions": {"lib.wait": {**BLOCKING, "unless": unless}}}
    with pytest.raises(CatalogError, match=message.replace("[", r"\[").replace(".", r"\.")):
        _load(raw)


def test_only_blocking_entries_have_forms_that_do_not_block() -> None:
    raw = {"functions": {"lib.wait": {"roles": ["paces"], "unless": {"inside": ["lib.wrap"]}}}}
    with pytest.raises(CatalogError, match=r"function lib\.wait unless: only a blocking"):
        _load(raw)
    method = {"kinds": {"lib.Sock": {"methods": {"recv": {"roles": ["blocking"], "unless": 1}}}}}
    with pytest.raises(CatalogError, match=r"kind lib\.Sock method recv unless: expected a table"):
        _load(method)


def _may_fire(text: str, rule: type[BlockingCallInAsync | BlockingCallViaHelper]) -> bool:
    return rule.may_fire(Source(text, "m.py"), Settings())


@pytest.mark.parametrize("rule", [BlockingCallInAsync, BlockingCallViaHelper])
def test_the_gate_is_the_modules_of_the_blocking_entries(
    rule: type[BlockingCallInAsync | BlockingCallViaHelper],
) -> None:
    known = load()
    makers = set(known.functions_with("blocking"))
    for kind in known.methods_by_kind("blocking"):
        makers |= {*known.kinds[kind].classes, *known.kinds[kind].factories}
    assert top_modules(makers) - {"builtins"} <= catalog.BLOCKING_MODULES
    assert {"tempfile", "tarfile", "zipfile", "sqlite3", "urllib3", "shutil", "ssl"} <= (
        catalog.BLOCKING_MODULES
    )
    assert _may_fire("import tempfile\nasync def f(): tempfile.mkdtemp()\n", rule)
    assert _may_fire("async def f(p): return open(p)\n", rule)  # a builtin needs no import
    assert not _may_fire("import json\nasync def f(s): return json.loads(s)\n", rule)
    assert not _may_fire("import tempfile\ndef f(): tempfile.mkdtemp()\n", rule)
