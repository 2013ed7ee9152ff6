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
        ("os.fdopen(fd)", False),
        ("os.fdopen(fd).read()", True),
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
    # `opened(path)` is CCL604's; `f.read()` runs in another coroutine than the `open`;
    # `handle.read()` reads a file that the project model knows `opened` returns.
    assert lines(source) == [6, 9, 11]


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
        ({"argument": [1, "flags"]}, r"give argument \(or made-with\) and names, or inside"),
        ({"names": ["lib.FLAG"]}, r"give argument \(or made-with\) and names, or inside"),
        ({}, r"give argument \(or made-with\) and names, or inside"),
        (
            {"argument": [1, "flags"], "made-with": [1, "type"], "names": ["lib.FLAG"]},
            r"give argument \(or made-with\) and names",
        ),
        ({"made-with": [1, "type"], "names": ["lib.FLAG"]}, "made-with tells a method's form"),
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


@pytest.mark.parametrize(
    ("body", "reported"),
    [
        # Re-annotated: each annotation holds from its line on.
        ("f: int = 7\n    f.read()\n    f: io.TextIOWrapper = g\n    f.read()", [6]),
        ("f.read()\n    f: int = 7\n    f.read()", [3]),
        # A value of unknown kind ends what the annotation said.
        ("f.read()\n    f = make()\n    f.read()", [3]),
        # A branch or a loop may bring in the other binding: no kind.
        ("if c:\n        f: int = 7\n    f.read()", []),
        ("while c:\n        f.read()\n        f: int = 7", []),
        ("for _ in c:\n        f = f.read()", []),
        # Bound again in the loop before the use, on every pass: that binding reaches it.
        ("while c:\n        f: io.TextIOWrapper = g\n        f.read()\n        f = 7", [5]),
        ("try:\n        f.read()\n    except OSError as f:\n        f.read()\n    f.read()", [4]),
        ("with make() as f:\n        f.read()\n    f.read()", []),
        # A comprehension's own variable is not the function's.
        ("f: int = 7\n    f: io.TextIOWrapper = g\n    print([f.read() for f in c])", []),
    ],
)
def test_the_binding_that_reaches_a_use_gives_its_kind(body: str, reported: list[int]) -> None:
    source = (
        "import io\n"
        "async def job(f: io.TextIOWrapper, g: io.TextIOWrapper, c: bool, make):\n"
        f"    {body}\n"
    )
    assert lines(source) == reported


def test_a_tuple_written_out_unpacks_by_position() -> None:
    source = """\
from pathlib import Path

async def f(a, b, rest):
    (x, y) = (Path(a), Path(b))
    x.exists()
    y.exists()
    first, *middle, last = Path(a), *rest, Path(b)
    first.exists()
    last.exists()
    p, q = r, s = Path(a), b
    p.exists()
    q.exists()
    src, dst = open(a), open(b, "w")
    dst.write(src.read())
"""
    # `last` may be any of `rest`; `src` and `dst` are reported where they are opened.
    assert lines(source) == [5, 6, 8, 11, 13, 13]


@pytest.mark.parametrize(
    "annotation",
    [
        "typing_extensions.Optional[httpx.Client]",
        "typing_extensions.Union[None, httpx.Client]",
        "typing.Final[httpx.Client]",
        "typing_extensions.Annotated[typing.Optional[httpx.Client], 'x']",
    ],
)
def test_the_typing_forms_are_the_catalog_names(annotation: str) -> None:
    known = load()
    outer = annotation.partition("[")[0]
    assert outer in known.names_with("type-wrapper") | known.names_with("type-union")
    source = (
        "import typing, typing_extensions\nimport httpx\n"
        f"async def f(client: {annotation}):\n    client.get('/')\n"
    )
    assert lines(source) == [4]


@pytest.mark.parametrize(
    ("kind", "method", "blocks"),
    [
        ("io.IOBase", "read", True),
        ("io.IOBase", "seek", True),  # not listed: a file's methods block
        ("io.IOBase", "close", True),
        ("io.IOBase", "fileno", False),  # listed without the role
        ("io.IOBase", "isatty", False),
        ("io.FileIO", "anything", True),
        ("io.FileIO", "close", False),  # a raw file buffers nothing
        ("urllib3.PoolManager", "anything", True),
        ("urllib3.PoolManager", "connection_from_url", False),
        ("httpx.Client", "get", True),
        ("httpx.Client", "build_request", False),  # not listed, and httpx's may not block
        ("pathlib.Path", "with_suffix", False),
        (None, "read", False),
    ],
)
def test_unlisted_methods_block_only_where_the_kind_says_so(
    kind: str | None, method: str, blocks: bool
) -> None:
    found = catalog.blocking_method(load(), kind, method)
    assert (found is not None and "blocking" in found.roles) == blocks


def test_a_kind_whose_unlisted_methods_block_names_its_remedy() -> None:
    raw = {"kinds": {"lib.File": {"traits": ["unlisted-methods-block"], "methods": {}}}}
    with pytest.raises(CatalogError, match=r"kind lib\.File: unlisted-methods-block needs"):
        _load(raw)
    raw["kinds"]["lib.File"]["remedy"] = "use x"
    assert _load(raw).kinds["lib.File"].traits == {"unlisted-methods-block"}
