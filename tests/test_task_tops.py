"""The project model's task tops (`task_tops.py`): which coroutine functions run only as
the top of an asyncio task the project spawns, and what CCL203 makes of them; and the
autofix of CCL203 where the `try` awaits a task."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conclint.analysis.catalog import SHIPPED
from conclint.analysis.declared import from_json, to_json
from conclint.analysis.project import ProjectIndex, facts_of, module_name
from conclint.analysis.types import ProjectTypes
from conclint.config import Settings
from conclint.engine import lint_source

PUMPS = '''\
"""Pumps; `_pump` is also named in this docstring."""

import asyncio
import logging


async def _pump(queue):
    # _pump ends when its task is cancelled
    try:
        await queue.get()
    except asyncio.CancelledError:
        return


async def _relay(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        return


async def _quoted(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        return


async def _named(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        return


async def _logged(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        logging.info("_logged")
        return


async def public(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        return


def start_all(queue):
    asyncio.create_task(_quoted(queue))
    asyncio.create_task(_named(queue))
    asyncio.create_task(_logged(queue))
    asyncio.create_task(public(queue))
    assert queue, "_quoted needs a queue"
    return getattr(asyncio, "_named")


class Feed:
    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def _drain(self):
        try:
            await self.reader.read()
        except asyncio.CancelledError:
            return

    async def _direct(self):
        try:
            await self.reader.read()
        except asyncio.CancelledError:
            return

    async def direct_once(self):
        await self._direct()

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._direct())
'''

RUNNER = """\
import asyncio

from app.pumps import Feed, _pump, _relay


class Runner:
    def __init__(self, feed: Feed, queue) -> None:
        self.feed = feed
        self.queue = queue

    def start(self):
        self.tasks = [
            asyncio.create_task(_pump(self.queue)),
            asyncio.ensure_future(_relay(self.queue)),
            asyncio.create_task(self.feed._drain()),
        ]

    async def once(self):
        await _relay(self.queue)
"""


def _index(tmp_path: Path, **modules: str) -> tuple[ProjectIndex, dict[str, Path]]:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    paths = {}
    for name, source in modules.items():
        path = package / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        paths[name] = path
    index = ProjectIndex.from_facts(
        (module_name(str(path)) or "", facts_of(path.read_text(encoding="utf-8"), str(path)))
        for path in package.glob("*.py")
    )
    return index, paths


def _model(tmp_path: Path) -> ProjectTypes:
    return _index(tmp_path, pumps=PUMPS, runner=RUNNER)[0].types(SHIPPED)


def test_the_index_records_spawns_and_functions_named_only_in_spawns(tmp_path: Path) -> None:
    pumps = facts_of(PUMPS, str(tmp_path / "pumps.py")).declared
    runner = facts_of(RUNNER, str(tmp_path / "runner.py")).declared
    # Comments and docstrings do not name `_pump`; a message does not name `_quoted`,
    # nor a log message `_logged`; a string that is the name alone names `_named`. The
    # public `public` is spawned straight too (only the model knows its module is no
    # private package's).
    only = {name for name, f in pumps.functions.items() if f.only_spawned}
    assert only == {"_pump", "_relay", "_quoted", "_logged", "public"}
    assert pumps.functions["start_all"].spawns == (
        "pumps._quoted",
        "?pumps._named",
        "pumps._logged",
        "pumps.public",
    )
    methods = pumps.classes["Feed"].methods
    assert methods["_drain"].only_spawned and not methods["_direct"].only_spawned
    assert methods["start"].spawns == ("?_direct@self",)
    # `_relay` is also awaited in the spawning module: its spawn is marked.
    assert runner.classes["Runner"].methods["start"].spawns == (
        "app.pumps._pump",
        "?app.pumps._relay",
        "_drain@attr:runner.Runner:feed",
    )
    # The summaries survive the cache's JSON.
    assert from_json(json.loads(json.dumps(to_json(runner)))) == runner


def test_tops_across_modules(tmp_path: Path) -> None:
    model = _model(tmp_path)
    assert model.task_top("app.pumps._pump")
    assert model.task_top("app.pumps._quoted")
    assert not model.task_top("app.pumps._relay")  # also awaited by `Runner.once`
    assert not model.task_top("app.pumps._named")  # `getattr(..., "_named")`
    assert not model.task_top("app.pumps.public")  # public: callers outside may await it
    assert model.task_top("_drain", "app.pumps.Feed")  # through `self.feed: Feed`
    assert not model.task_top("_direct", "app.pumps.Feed")  # also awaited directly


INTERNAL = """\
import asyncio


def start(flag):
    return asyncio.create_task(coro=wait_flag(flag))


async def wait_flag(flag):
    await flag.wait()
"""


def test_a_public_function_of_a_private_package_is_the_projects_own(tmp_path: Path) -> None:
    """Its module spawns it (by keyword too); a test module that imports it does not make
    it API, any other module does."""
    root = tmp_path / "app"
    (root / "_core").mkdir(parents=True)
    (root / "tests").mkdir()
    for package in (root, root / "_core", root / "tests"):
        (package / "__init__.py").write_text("", encoding="utf-8")
    (root / "_core" / "flags.py").write_text(INTERNAL, encoding="utf-8")
    (root / "tests" / "test_flags.py").write_text(
        "from app._core.flags import wait_flag\n", encoding="utf-8"
    )

    def model() -> ProjectTypes:
        index = ProjectIndex.from_facts(
            (module_name(str(path)) or "", facts_of(path.read_text(encoding="utf-8"), str(path)))
            for path in root.rglob("*.py")
        )
        return index.types(SHIPPED)

    assert model().task_top("app._core.flags.wait_flag")
    (root / "api.py").write_text("from app._core.flags import wait_flag\n", encoding="utf-8")
    assert not model().task_top("app._core.flags.wait_flag")


def test_ccl203_spares_the_tops_only(tmp_path: Path) -> None:
    index, paths = _index(tmp_path, pumps=PUMPS, runner=RUNNER)
    source = paths["pumps"].read_text(encoding="utf-8")
    found = lint_source(source, str(paths["pumps"]), Settings(select=("CCL203",)), project=index)
    # Each `async def` -> the line of its `except` clause.
    handlers: dict[str, int] = {}
    name = ""
    for number, line in enumerate(source.splitlines(), start=1):
        if line.lstrip().startswith("async def"):
            name = line.split("(")[0].split()[-1]
        elif line.lstrip().startswith("except"):
            handlers[name] = number
    assert len(handlers) == 8
    reported = {d.line for d in found.diagnostics}
    spared = {"_pump", "_quoted", "_logged", "_drain"}
    assert reported == {line for name, line in handlers.items() if name not in spared}


UTIL = """\
import asyncio


def create_task(coro):
    return asyncio.get_running_loop().create_task(coro)


def later(delay, target, *args):
    return asyncio.ensure_future(target(*args))


def keep(coro, into):
    into.append(coro)
"""

CONSUMER = """\
import asyncio

from app.util import create_task, keep, later


class Consumer:
    def start(self):
        self._fetcher = create_task(self._fetch_routine())
        self._pinger = later(1.0, self._ping)
        keep(self._audit(), [])
        self._late = later(self._shifted, None)

    async def _fetch_routine(self):
        await asyncio.sleep(1)

    async def _ping(self):
        await asyncio.sleep(1)

    async def _audit(self):
        await asyncio.sleep(1)

    async def _shifted(self):
        await asyncio.sleep(1)
"""


def test_tops_through_the_projects_own_spawners(tmp_path: Path) -> None:
    index, _ = _index(tmp_path, util=UTIL, consumer=CONSUMER)
    util = index.declared["app.util"].functions
    assert util["create_task"].spawns_argument == ("0",)  # the coroutine it is given
    assert util["later"].spawns_argument == ("1()",)  # the function it calls
    assert util["keep"].spawns_argument == ()
    model = index.types(SHIPPED)
    assert model.task_top("_fetch_routine", "app.consumer.Consumer")
    assert model.task_top("_ping", "app.consumer.Consumer")
    assert not model.task_top("_audit", "app.consumer.Consumer")  # `keep` starts no task
    assert not model.task_top("_shifted", "app.consumer.Consumer")  # not the argument it calls


def _fix_of(source: str) -> list[object]:
    found = lint_source(textwrap.dedent(source), "mod.py", Settings(select=("CCL203",)))
    return [d.fix for d in found.diagnostics]


def test_no_fix_where_the_try_awaits_a_task() -> None:
    # Appending `raise` would pass the task's own cancellation on as the function's.
    assert _fix_of(
        """
        import asyncio

        async def stop(task, queue):
            task.cancel()
            try:
                await task
                await queue.join()
            except asyncio.CancelledError:
                pass
        """
    ) == [None]
    assert _fix_of(
        """
        import asyncio

        async def stop(consumers, pid):
            try:
                await asyncio.wait_for(consumers[pid], 5)
            except asyncio.CancelledError:
                pass
        """
    ) == [None]
    # Awaiting what a call returns: the cancellation is the function's.
    assert _fix_of(
        """
        import asyncio

        async def serve(queue):
            try:
                await queue.get()
            except asyncio.CancelledError:
                pass
        """
    ) != [None]


def test_never_suspends_counts_lines_as_python_does() -> None:
    """Old Mac line ends (`\\r`) and Windows ones count as line breaks, as `ast` counts
    them: the `await` on the last line belongs to the function above it."""
    for newline in ("\n", "\r\n", "\r"):
        lines = ["import asyncio", "", "async def quiet():", "    print(1)", ""]
        lines += ["async def main():", "    asyncio.create_task(main())", "    await quiet()"]
        declared = facts_of(newline.join(lines) + newline, "m.py").declared
        assert declared.functions["quiet"].never_suspends, repr(newline)
        assert not declared.functions["main"].never_suspends, repr(newline)
