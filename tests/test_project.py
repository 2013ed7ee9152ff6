"""Project mode: module names, relative imports and the index of async defs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conclint.analysis.catalog import SHIPPED
from conclint.analysis.names import absolute_import
from conclint.analysis.project import ProjectIndex, facts_of, module_name


def test_module_names_follow_init_files(tmp_path: Path) -> None:
    package = tmp_path / "src" / "app" / "api"
    package.mkdir(parents=True)
    for directory in (tmp_path / "src" / "app", package):
        (directory / "__init__.py").write_text("", encoding="utf-8")
    assert module_name(str(package / "views.py")) == "app.api.views"
    assert module_name(str(package / "__init__.py")) == "app.api"
    assert module_name(str(tmp_path / "script.py")) == "script"
    assert module_name(str(tmp_path / "not-a-module.py")) is None


@pytest.mark.parametrize(
    ("target", "package", "absolute"),
    [
        (".db.fetch", "app", "app.db.fetch"),
        ("..db.fetch", "app.api", "app.db.fetch"),
        (".fetch", "app.api", "app.api.fetch"),
        ("...x", "app", None),
        (".x", None, None),
        ("asyncio.sleep", None, "asyncio.sleep"),
    ],
)
def test_relative_imports(target: str, package: str | None, absolute: str | None) -> None:
    assert absolute_import(target, package) == absolute


def test_facts_skip_generators_and_unknown_decorators() -> None:
    source = (
        "import contextlib\n"
        "async def fetch(): ...\n"
        "async def stream():\n    yield 1\n"
        "@contextlib.asynccontextmanager\nasync def session():\n    yield\n"
        "@staticmethod\nasync def kept(): ...\n"
        "class Client:\n    async def get(self): ...\n"
        "    def close(self): ...\n"
        "async def loop_forever():\n    while True:\n        await fetch()\n"
        "async def loop_until():\n    while True:\n        if await fetch():\n            break\n"
    )
    facts = facts_of(source, "mod.py")
    assert facts.async_functions == ("fetch", "kept", "Client.get", "loop_forever", "loop_until")
    assert facts.endless == ("loop_forever",)


def test_reexports_are_followed_one_level(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    init = package / "__init__.py"
    init.write_text("from .db import fetch as get_user\nfrom .db import VERSION\n", "utf-8")
    facts = facts_of(init.read_text(encoding="utf-8"), str(init))
    assert facts.reexports == (("get_user", "app.db.fetch"), ("VERSION", "app.db.VERSION"))
    db = facts_of("async def fetch(): ...\n", str(package / "db.py"))
    index = ProjectIndex.from_facts([("app", facts), ("app.db", db)])
    assert index.async_functions == {"app.db.fetch", "app.get_user"}
    # The pre-filter's question: an import is a prefix, and the rest is spelled.
    assert index.may_be_named({"app.get_user"}, set)
    assert index.may_be_named({"app"}, lambda: {"app", "get_user"})
    assert index.may_be_named({"app.db"}, lambda: {"fetch"})
    assert not index.may_be_named({"app.db"}, lambda: {"get_user"})
    assert not index.may_be_named({"other", "builtins"}, lambda: {"app", "db", "fetch"})


def test_broken_files_contribute_nothing() -> None:
    assert facts_of("async def (:\n", "x.py").async_functions == ()


def test_blocking_helpers_are_followed_across_modules(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("from .io import load as load_all\n", "utf-8")
    io_source = (
        "import time\nfrom .paths import resolve\n"
        "def read(path):\n    with open(path) as f:\n        return f.read()\n"
        "def load(name):\n    return read(resolve(name))\n"
        "def pause():\n    time.sleep(1)\n"
        "def offloaded(loop):\n    return loop.run_in_executor(None, time.sleep, 1)\n"
        "def shadowed(open):\n    return open('x')\n"
        "@cache\ndef decorated():\n    time.sleep(1)\n"
        "def gen():\n    time.sleep(1)\n    yield 1\n"
    )
    facts = [
        (
            "app",
            facts_of((package / "__init__.py").read_text("utf-8"), str(package / "__init__.py")),
        ),
        ("app.io", facts_of(io_source, str(package / "io.py"))),
        ("app.paths", facts_of("def resolve(name):\n    return name\n", str(package / "paths.py"))),
    ]
    index = ProjectIndex.from_facts(facts)
    assert index.blocking == {"app.io.read", "app.io.pause"}
    model = index.types(SHIPPED)
    found = {
        name: model.blocking_chain(f"app.{name}")
        for name in ("io.read", "io.load", "io.pause", "load_all", "io.offloaded")
    }
    assert found == {
        "io.read": ("open()",),
        "io.load": ("read()", "open()"),
        "io.pause": ("time.sleep()",),
        "load_all": ("read()", "open()"),
        "io.offloaded": None,
    }
    for name in ("shadowed", "decorated", "gen", "missing"):
        assert model.blocking_chain(f"app.io.{name}") is None


def test_a_module_with_a_stub_is_indexed_from_its_source(tmp_path: Path) -> None:
    """`conn.pyi` beside `conn.py`: the stub says `async def`, the source makes an async
    context manager; what runs is the source's, whichever order the paths come in."""
    from conclint.config import Settings
    from conclint.runner import lint_paths

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", "utf-8")
    (package / "conn.py").write_text(
        "from contextlib import asynccontextmanager\n\n\nclass Conn:\n"
        "    @asynccontextmanager\n    async def transaction(self):\n        yield\n",
        "utf-8",
    )
    (package / "conn.pyi").write_text(
        "from typing import AsyncContextManager\n\n\nclass Conn:\n"
        "    async def transaction(self) -> AsyncContextManager[None]: ...\n",
        "utf-8",
    )
    use = package / "use.py"
    use.write_text(
        "from pkg.conn import Conn\n\n\nasync def upgrade(conn: Conn) -> None:\n"
        "    async with conn.transaction():\n        pass\n",
        "utf-8",
    )
    paths = [str(package / name) for name in ("__init__.py", "conn.py", "conn.pyi", "use.py")]
    for order in (paths, paths[::-1]):
        results = lint_paths(order, Settings(select=("CCL102",)), jobs=1)
        assert [d for r in results for d in r.diagnostics] == []
