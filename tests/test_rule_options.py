"""Rule options in a real pyproject.toml change what the command line reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE = '''\
"""A request handler built on the project's own storage and task helpers."""

from app.storage import read_blob
from app.tasks import spawn


def load_thumbnail(key: str) -> bytes:
    return read_blob(f"thumbs/{key}")


async def refresh(key: str) -> None:
    await refresh(key)


async def handle(key: str) -> bytes:
    spawn(refresh(key))
    body = read_blob(key)
    return load_thumbnail(key) + body
'''

OPTIONS = """\
[tool.conclint]
extra-spawners = ["app.tasks.spawn"]
extra-blocking-calls = ["app.storage.read_blob"]
"""

SPAWN, READ, HELPER = 16, 17, 18


def findings(cwd: Path) -> set[tuple[int, str]]:
    environment = {**os.environ}
    for name in ("NO_COLOR", "FORCE_COLOR", "CONCLINT_OUTPUT_FORMAT", "CONCLINT_CACHE_DIR"):
        environment.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "conclint", "check", "--no-cache", "--output-format", "json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    items = json.loads(done.stdout)
    assert (done.returncode == 1) == bool(items)
    return {(item["line"], item["code"]) for item in items}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the search for a configuration stops here
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    (tmp_path / "service.py").write_text(SERVICE, encoding="utf-8")
    return tmp_path


def test_without_options_the_project_helpers_are_unknown(project: Path) -> None:
    assert findings(project) == set()


def test_options_make_the_configured_names_known(project: Path) -> None:
    config = project / "pyproject.toml"
    config.write_text(config.read_text(encoding="utf-8") + OPTIONS, encoding="utf-8")
    assert findings(project) == {
        (SPAWN, "CCL101"),
        (READ, "CCL601"),
        (HELPER, "CCL604"),
    }


def test_each_option_works_alone(project: Path) -> None:
    config = project / "pyproject.toml"
    base = config.read_text(encoding="utf-8")
    spawners = '[tool.conclint]\nextra-spawners = ["app.tasks.spawn"]\n'
    config.write_text(base + spawners, encoding="utf-8")
    assert findings(project) == {(SPAWN, "CCL101")}
    blocking = '[tool.conclint]\nextra-blocking-calls = ["app.storage.read_blob"]\n'
    config.write_text(base + blocking, encoding="utf-8")
    assert findings(project) == {(READ, "CCL601"), (HELPER, "CCL604")}


FACTORIES = '''\
"""Workers built on the project's own queue and lock factories."""

from app.sync import make_lock, make_queue

jobs = make_queue()
guard = make_lock()


def produce(source) -> None:
    while True:
        jobs.put(source.read())


def critical(item: int) -> None:
    guard.acquire()
    handle(item)
    guard.release()


def handle(item: int) -> None:
    print(item)
'''


def test_queue_and_lock_factories(tmp_path: Path) -> None:
    (tmp_path / "workers.py").write_text(FACTORIES, encoding="utf-8")
    config = '[tool.conclint]\nextra-queue-factories = ["app.sync.make_queue"]\n'
    config += 'extra-lock-factories = ["app.sync.make_lock"]\n'
    plain = _codes(tmp_path)
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    configured = _codes(tmp_path)
    assert plain == set()
    assert configured == {(5, "CCL501"), (15, "CCL403")}


def _codes(directory: Path) -> set[tuple[int, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "conclint", "check", "--no-cache", "--output-format", "json", "."],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode in (0, 1), done.stderr
    return {(item["line"], item["code"]) for item in json.loads(done.stdout)}


# [tool.conclint.catalog]: third-party classes and the project's own client, in every rule
# that asks what an object is, and in every front end.

LIBRARIES = '''\
"""A store built on third-party primitives and the project's own database client."""

import aiologic
import janus
from app.db import Connection
from app.tasks import spawn

guard = aiologic.Lock()


async def save(conn: Connection, row: str) -> None:
    conn.execute(row)
    await guard.acquire()
    await record(row)
    guard.release()


async def record(row: str) -> None:
    fresh = Connection()
    fresh.execute(row)
    fresh.commit()
    spawn(save(fresh, row))


async def drain(jobs: janus.Queue[int], other) -> None:
    jobs.shutdown()
    await jobs.put(1)
    other.execute("look-alike: nothing says what `other` is")
'''

CATALOG = """\
[tool.conclint.catalog]
like = { "aiologic.Lock" = "asyncio.Lock", "janus.Queue" = "asyncio.Queue" }
blocking = ["app.db.Connection.execute"]
spawners = ["app.tasks.spawn"]
"""

# The annotated and the constructed connection, the lock, the spawn, the put after shutdown.
CATALOG_FINDINGS = {(12, "CCL601"), (13, "CCL403"), (20, "CCL601"), (22, "CCL101"), (27, "CCL302")}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "store.py").write_text(LIBRARIES, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    return tmp_path


def test_the_catalog_table_makes_classes_behave_as_known_kinds(store: Path) -> None:
    assert findings(store) == set()
    config = store / "pyproject.toml"
    config.write_text(config.read_text(encoding="utf-8") + CATALOG, encoding="utf-8")
    assert findings(store) == CATALOG_FINDINGS


def test_the_catalog_table_works_in_flake8_and_pylint(store: Path) -> None:
    from conclint.pylint_plugin import message_ids

    (store / "pyproject.toml").write_text(CATALOG, encoding="utf-8")
    flake8 = [sys.executable, "-m", "flake8", "--select=CCL", "--format=%(row)d %(code)s"]
    done = _tool([*flake8, "store.py"], store, ok=(0, 1))
    assert {(int(row), code) for row, code in map(str.split, done.splitlines())} == (
        CATALOG_FINDINGS
    )
    symbols = ",".join(symbol for _, symbol in message_ids().values())
    pylint = [sys.executable, "-m", "pylint", "--load-plugins=conclint.pylint_plugin"]
    pylint += ["--disable=all", f"--enable={symbols}", "--output-format=json2"]
    pylint += ["--persistent=n", "--score=n", "store.py"]
    codes = {msgid: code for code, (msgid, _) in message_ids().items()}
    messages = json.loads(_tool(pylint, store, ok=(0, 4)))["messages"]  # 4: warnings
    assert {(m["line"], codes[m["messageId"]]) for m in messages} == CATALOG_FINDINGS


def _tool(command: list[str], cwd: Path, ok: tuple[int, ...]) -> str:
    env = {**os.environ, "PYLINTHOME": str(cwd / ".pylint.d")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in ok and not done.stderr, done.stderr
    return done.stdout


def test_a_bad_catalog_entry_exits_2_naming_it(store: Path) -> None:
    (store / "pyproject.toml").write_text(
        '[tool.conclint.catalog]\nlike = { "aiologic.Lock" = "asyncio.Lok" }\n', encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "conclint", "check", "--no-cache", "."],
        cwd=store,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "[tool.conclint.catalog] like: 'aiologic.Lock' = 'asyncio.Lok'" in done.stderr
    assert "did you mean 'asyncio.Lock'?" in done.stderr


COROUTINES = '''\
"""Calls of the project's RPC coroutines, in a file with no `async def`."""

from app.rpc import Client, call


def refresh(client: Client) -> None:
    call("ping")
    client.fetch("x")
    print(call, client.close())
'''


def test_the_catalog_table_names_coroutine_functions_and_methods(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "rpc_use.py").write_text(COROUTINES, encoding="utf-8")
    assert findings(tmp_path) == set()
    config = '[tool.conclint.catalog]\ncoroutines = ["app.rpc.call", "app.rpc.Client.fetch"]\n'
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    assert findings(tmp_path) == {(7, "CCL102"), (8, "CCL102")}


WORKERS = '''\
"""Workers from a third-party library that behave like the standard ones."""

import pebble
import workerlib


def crunch(jobs: list[int]) -> None:
    pool = pebble.ProcessPool()
    pool.schedule(sum, jobs)


def watch() -> None:
    workerlib.Worker(target=print).start()
'''


def test_like_reaches_the_rules_that_match_constructors(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workers.py").write_text(WORKERS, encoding="utf-8")
    assert findings(tmp_path) == set()
    config = (
        "[tool.conclint.catalog]\n"
        'like = { "pebble.ProcessPool" = "concurrent.futures.ProcessPoolExecutor",'
        ' "workerlib.Worker" = "threading.Thread" }\n'
    )
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    assert findings(tmp_path) == {(8, "CCL104"), (13, "CCL103")}


def test_a_blocking_entry_reaches_helpers_in_other_modules(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    (app / "storage.py").write_text(
        "import blobstore\n\n\ndef thumbnail(key):\n    return blobstore.fetch(key)\n",
        encoding="utf-8",
    )
    (app / "views.py").write_text(
        "from app.storage import thumbnail\n\n\nasync def show(key):\n    return thumbnail(key)\n",
        encoding="utf-8",
    )
    assert findings(tmp_path) == set()
    config = '[tool.conclint.catalog]\nblocking = ["blobstore.fetch"]\n'
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    assert findings(tmp_path) == {(5, "CCL604")}
