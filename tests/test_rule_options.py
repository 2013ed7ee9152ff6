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
    return None


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
