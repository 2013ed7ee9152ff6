"""The text pre-filter is exact: skipping a file never hides a finding."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest

from conclint import engine, registry
from conclint.analysis.project import ProjectIndex, facts_of
from conclint.config import Settings
from conclint.engine import DecodeError, decode_source, lint_source
from conclint.prefilter import Source, imports_in
from tests.conftest import FIXTURES, fixture_files

EVERY_RULE = Settings(preview=True)


def _same_with_and_without_prefilter(
    source: str, path: str, project: ProjectIndex | None = None
) -> None:
    """Each rule the pre-filter rules out must find nothing when made to run anyway."""
    text = Source(source, path, project)
    skipped = [rule for rule in registry.RULES if not rule.may_fire(text, EVERY_RULE)]
    if skipped:
        forced = lint_source(
            source, path, EVERY_RULE, rules=skipped, prefilter=False, project=project
        )
        assert [d for d in forced.diagnostics if not forced.failed] == []


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_prefilter_exact_on_fixtures(path: Path) -> None:
    _same_with_and_without_prefilter(path.read_text(encoding="utf-8"), str(path))


def test_prefilter_exact_on_fixtures_in_project_mode() -> None:
    files = [str(path) for path in fixture_files()]
    project = engine._project_index(files, {}, None, 1)
    assert "project_app.db.UserCache.refresh" in project.async_functions
    for path in files:
        _same_with_and_without_prefilter(Path(path).read_text(encoding="utf-8"), path, project)


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("import app.db as database\ndatabase.ping()\n", True),
        ("import app\napp.db.ping()\n", True),
        ("from app import db\ndb.ping()\n", True),
        ("from app.db import Cache as C\nC.refresh(c)\n", True),
        ("from .db import ping\n", True),  # the module is app/views.py
        ("from . import db\ndb.ping()\n", True),
        # The names are all there, but no import leads to them.
        ("import logging\ndb = logging.getLogger('app')\ndb.ping()\n", False),
        ("from app import db\ndb.refresh()\n", False),
        ("from app.db import Cache\nCache.ping()\n", False),
        ("from other.app import db\ndb.ping()\n", False),
        ("from ..app import db\ndb.ping()\n", False),  # it leaves the tree
    ],
)
def test_project_coroutines_are_reached_only_through_imports(
    text: str, fires: bool, tmp_path: Path
) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", "utf-8")
    db = "async def ping(): ...\nclass Cache:\n    async def refresh(self): ...\n"
    project = ProjectIndex.from_facts([("app.db", facts_of(db, str(package / "db.py")))])
    source = Source(text, str(package / "views.py"), project)
    assert source.may_call_project_coroutine is fires


def test_prefilter_exact_on_a_stdlib_sample() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py")) + sorted((stdlib / "asyncio").glob("*.py"))
    for path in random.Random(7).sample(files, 30):
        try:
            source = decode_source(path.read_bytes())
        except DecodeError:
            continue
        _same_with_and_without_prefilter(source, str(path))


def test_stdlib_concurrency_packages_pass_through_their_relative_imports() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    queues = stdlib / "asyncio" / "queues.py"
    assert Source("from . import mixins\n", str(queues)).imports_any(frozenset({"asyncio"}))


@pytest.mark.parametrize(
    ("text", "modules"),
    [
        ("import asyncio\n", {"asyncio"}),
        ("import os, concurrent.futures as cf\n", {"os", "concurrent"}),
        ("import os, \\\n    threading\n", {"os", "threading"}),
        ("if TYPE_CHECKING: import trio\n", {"trio"}),
        ("x = 1; from anyio import create_task_group\n", {"anyio"}),
        ("    from queue import (  # comment\n        Queue,\n    )\n", {"queue"}),
        ("from . import sibling\nfrom ..pkg.mod import name\n", {""}),
        ('"""Nothing to import here."""\nvalue = important\n', set()),
    ],
)
def test_imported_modules_are_read_from_the_text(text: str, modules: set[str]) -> None:
    assert imports_in(text).modules == modules


def test_imported_names_and_aliases_are_read_from_the_text() -> None:
    found = imports_in(
        "import os as system, sys\nfrom os import (\n    path,  # the close is next\n"
        "    close as shut,\n)\nfrom asyncio import *\n"
    )
    assert found.aliases == {("os", "system")}
    assert found.names == {("os", "path"), ("os", "close"), ("asyncio", "*")}
    # What the local names denote: `system` is `os`, `shut` is `os.close`; `*` binds nothing.
    assert found.bound == {"os", "sys", "os.path", "os.close"}
    relative = imports_in("import a.b.c\nfrom . import x\nfrom ..m import y as z\n")
    assert relative.bound == {"a", ".x", "..m.y"}


@pytest.mark.parametrize(
    ("code", "text", "fires"),
    [
        ("CCL301", "import os\nos.close(fd)\n", True),
        ("CCL301", "import os as system\nsystem.close(fd)\n", True),
        ("CCL301", "from os import close\nclose(fd)\n", True),
        ("CCL301", "from os import *\nclose(fd)\n", True),
        ("CCL301", "from asyncio import Queue\nqueue.shutdown()\n", True),
        ("CCL301", "import multiprocessing\njobs.close()\n", True),
        # threading makes nothing that closes.
        ("CCL301", "import threading\njobs.close()\n", False),
        # A `close` that no import can make a queue, channel or descriptor close.
        ("CCL301", "import os\nfile.close()\n", False),
        ("CCL301", "class Queue:\n    def close(self): ...\nQueue().close()\n", False),
        ("CCL102", "import asyncio\nasyncio.sleep(1)\n", True),
        ("CCL102", "async def f():\n    pass\nf()\n", True),
        # Without an `async def`, only asyncio's coroutine functions can be called here.
        ("CCL102", "import threading\nthreading.Event().wait()\n", False),
        ("CCL102", "from queue import Queue\nQueue().get()\n", False),
    ],
)
def test_rule_gates(code: str, text: str, fires: bool) -> None:
    (rule,) = [rule for rule in registry.RULES if rule.code == code]
    assert rule.may_fire(Source(text, "module.py"), EVERY_RULE) is fires


def test_rules_about_concurrency_objects_need_their_imports() -> None:
    local = "class Pool:\n    def acquire(self): ...\n\nPool().acquire()\n"
    ready = {
        rule.code for rule in registry.RULES if rule.may_fire(Source(local, "m.py"), EVERY_RULE)
    }
    assert ready == set()
    imported = "import threading\n" + local
    source = Source(imported, "m.py")
    assert {rule.code for rule in registry.RULES if rule.may_fire(source, EVERY_RULE)} >= {
        "CCL104",
        "CCL403",
    }
    configured = Settings(preview=True, extra_lock_factories=("mylib.make_lock",))
    via_config = Source("from mylib import make_lock\n" + local, "m.py")
    assert any(rule.may_fire(via_config, configured) for rule in registry.RULES)
