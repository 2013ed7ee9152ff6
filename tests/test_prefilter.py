"""The text pre-filter is exact: skipping a file never hides a finding."""

from __future__ import annotations

import random
import sysconfig
from functools import cache
from pathlib import Path

import pytest

from conclint import registry
from conclint.analysis.project import ProjectIndex, facts_of, module_name
from conclint.config import Settings
from conclint.engine import DecodeError, decode_source, lint_source
from conclint.prefilter import Source, imports_in
from tests.conftest import FIXTURES, fixture_files
from tests.test_names import wide

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


@cache
def fixture_project() -> ProjectIndex:
    """The project index of every fixture module (project_app's coroutines among them)."""
    return ProjectIndex.from_facts(
        (name, facts_of(path.read_text(encoding="utf-8"), str(path)))
        for path in fixture_files()
        if (name := module_name(str(path))) is not None
    )


def test_prefilter_exact_on_fixtures_in_project_mode() -> None:
    files = [str(path) for path in fixture_files()]
    project = fixture_project()
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
        # A coroutine method and a name that gives an instance of its class.
        ("from app import db\ndb.Cache().refresh()\n", True),
        ("from other import db\ndb.Cache().refresh()\n", False),
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
        ("CCL301", "import os\nos . close(fd)\n", True),
        ("CCL301", "import os as system\nsystem.\\\n    close(fd)\n", True),
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
        "CCL403",
    }
    # threading makes no executor or pool: CCL104 needs a module that does.
    assert "CCL104" not in {
        rule.code for rule in registry.RULES if rule.may_fire(source, EVERY_RULE)
    }
    pools = Source(
        "import multiprocessing\n" + local.replace("Pool()", "multiprocessing.Pool()"), "m.py"
    )
    assert "CCL104" in {rule.code for rule in registry.RULES if rule.may_fire(pools, EVERY_RULE)}
    configured = Settings(preview=True, extra_lock_factories=("mylib.make_lock",))
    via_config = Source("from mylib import make_lock\n" + local, "m.py")
    assert any(rule.may_fire(via_config, configured) for rule in registry.RULES)


# Whitespace and line ends: every gap Python's tokenizer accepts between tokens (space,
# tab, form feed, backslash continuations) with every line end it accepts. `{nl}` is
# the line end of the case.
GAPS = (" ", "\t", "\f", " \\{nl}", "\\{nl}\t", "\f\\{nl}\\{nl} ")
LINE_ENDS = ("\n", "\r\n", "\r")


@pytest.mark.parametrize("newline", LINE_ENDS, ids=repr)
@pytest.mark.parametrize("gap", GAPS, ids=repr)
def test_imports_are_read_across_every_gap_and_line_end(gap: str, newline: str) -> None:
    statements = (
        "import{g}asyncio",
        "\fimport{g}queue",
        "import{g}os{g},{g}threading{g}as{g}t",
        "from{g}concurrent{g}.{g}futures{g}import{g}({g}wait{g},{g}Future{g})",
        "from{g}.{g}import{g}sibling",
        "from{g}..{g}pkg{g}.{g}mod{g}import{g}name",
        "if{g}TYPE_CHECKING{g}:{g}import{g}trio",
        "x{g}={g}1{g};{g}from{g}anyio{g}import{g}sleep{g}as{g}nap",
    )
    spaced = gap.format(nl=newline)
    text = "x = 1" + newline + newline.join(s.format(g=spaced) for s in statements) + newline
    compile(text, "module.py", "exec")  # valid Python, as written
    found = imports_in(text)
    imported = {"asyncio", "queue", "os", "threading", "concurrent", "", "trio", "anyio"}
    assert found.modules == imported
    assert found.names == {
        ("concurrent.futures", "wait"),
        ("concurrent.futures", "Future"),
        (".", "sibling"),
        ("..pkg.mod", "name"),
        ("anyio", "sleep"),
    }
    assert found.aliases == {("threading", "t")}
    assert found.bound >= {"concurrent.futures.wait", ".sibling", "..pkg.mod.name", "anyio.sleep"}


BODY = "async def main(coro):\n    asyncio.create_task(coro)\n"


@pytest.mark.parametrize(
    "text",
    [
        # The cases of issue 12, defect 4.
        "x = 1\n\fimport asyncio\n" + BODY,
        "import\fasyncio\n" + BODY,
        ("x = 1\nimport asyncio\n" + BODY).replace("\n", "\r"),
        "import os, \\\r asyncio\n" + BODY,
        # More of the same class: other gaps, line ends, and where statements start.
        ("x = 1\nimport os, \\\n  asyncio\n" + BODY).replace("\n", "\r\n"),
        "from \\\n asyncio \\\n import \\\n create_task\n" + BODY.replace("asyncio.", ""),
        "from asyncio . tasks import create_task\n" + BODY.replace("asyncio.", ""),
        "if True: \\\n    import asyncio\n" + BODY,
        "x = 1;\timport asyncio\n" + BODY,
        # A comment ends with a backslash: no continuation, the next line is a statement.
        "# see C:\\Users\\\nimport asyncio\n" + BODY,
        # Import-like text in a comment or string swallows no real import.
        "# Usage: from mylib import (\nimport asyncio\n" + BODY,
        "HELP = '; from mylib import ('\nimport asyncio\n" + BODY,
        # A `)` in a comment inside the parenthesised names.
        "from asyncio import (  # see (docs)\n    create_task,\n)\n" + BODY.replace("asyncio.", ""),
    ],
)
def test_prefilter_reads_imports_as_python_does(text: str) -> None:
    _dangling_task_found_either_way(text)


def _dangling_task_found_either_way(text: str) -> None:
    compile(text, "module.py", "exec")  # valid Python
    kept = lint_source(text, "module.py", EVERY_RULE)
    forced = lint_source(text, "module.py", EVERY_RULE, prefilter=False)
    assert [d.code for d in forced.diagnostics] == ["CCL101"]
    assert kept.diagnostics == forced.diagnostics


# Names that Python normalises (NFKC): `create_task` with a fullwidth `c` is `create_task`.
@pytest.mark.parametrize(
    "text",
    [
        "import asyncio\n" + BODY.replace("create_task", wide("c") + "reate_task"),
        f"import {wide('asyncio')}\n" + BODY,
        f"from asyncio import {wide('create_task')}\n" + BODY.replace("asyncio.", ""),
        f"import asyncio as {wide('a')}io\n" + BODY.replace("asyncio.", "aio."),
    ],
)
def test_prefilter_reads_names_as_python_does(text: str) -> None:
    _dangling_task_found_either_way(text)


@pytest.mark.parametrize(
    ("name", "spelled"),
    [
        ("fetch", wide("f") + "etch"),
        ("नमस्ते", "नमस्ते"),  # Devanagari vowel signs are no `\w` to `re`
        ("café", "cafe\u0301"),  # decomposed: NFKC composes it
    ],
)
def test_project_coroutines_are_found_by_their_normalised_names(
    name: str, spelled: str, tmp_path: Path
) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", "utf-8")
    db = str(package / "db.py")
    project = ProjectIndex.from_facts([("app.db", facts_of(f"async def {name}(): ...\n", db))])
    source = Source(f"from app import db\ndb.{spelled}()\n", str(package / "views.py"), project)
    assert source.may_call_project_coroutine


@pytest.mark.parametrize(
    "spelled",
    [
        "os.close(fd)",
        "os . close(fd)",
        "os\t.\fclose(fd)",
        "os.\\\nclose(fd)",
        "os \\\r\n. \\\rclose(fd)",
        "(os  # the module\n    .close)(fd)",
    ],
)
def test_dotted_names_are_spelled_with_any_gap_python_accepts(spelled: str) -> None:
    text = f"import os\n{spelled}\n"
    compile(text, "module.py", "exec")
    assert Source(text, "module.py").spells_dotted("os.close")


def test_a_dotted_name_needs_its_parts_in_a_row() -> None:
    source = Source("import os\nos.open(path)\nclose(fd)\n", "m.py")
    assert not source.spells_dotted("os.close")
    assert source.spells_dotted("os.open")
    deeper = Source("import concurrent.futures\nconcurrent .futures . \\\nwait(fs)\n", "m.py")
    assert deeper.spells_dotted("concurrent.futures.wait")
