"""Running many files: worker processes that crash, and workers of a run that is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conclint import runner
from conclint.config import Settings

SETTINGS = Settings()

BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(main())
    await asyncio.sleep(1)
"""


def _crash_on_marked_files(paths: list[str], settings: Settings, project: object) -> list[object]:
    if any(path.endswith("crash.py") for path in paths):
        os._exit(3)  # what a native crash in the parser looks like to the pool
    return ORIGINAL_CHUNK(paths, settings, project)  # type: ignore[arg-type,return-value]


ORIGINAL_CHUNK = runner._lint_chunk


def test_a_worker_that_dies_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers are forked after the patch, so they run it too (Linux's default start method).
    monkeypatch.setattr(runner, "_lint_chunk", _crash_on_marked_files)
    files = []
    for name in ("a.py", "b.py", "crash.py", "d.py", "e.py", "f.py", "g.py", "h.py"):
        (tmp_path / name).write_text(BUG, encoding="utf-8")
        files.append(str(tmp_path / name))
    results = runner.lint_paths(files, SETTINGS, jobs=2)
    found = {Path(r.path).name: [d.code for d in r.diagnostics] for r in results}
    assert found.pop("crash.py") == ["CCL002"]
    assert set(map(tuple, found.values())) == {("CCL101",)}


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find workers")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_when_the_run_is_killed(tmp_path: Path, how: signal.Signals) -> None:
    body = "".join(BUG.replace("main", f"main{n}") for n in range(300))
    for n in range(60):
        (tmp_path / f"m{n}.py").write_text(body, encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "conclint", "--no-cache", "-j", "2", "."],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and run.poll() is None and time.monotonic() < deadline:
            workers = _children(run.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the run ended before its workers were seen"
        run.send_signal(how)
        run.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        run.kill()
        run.wait()
