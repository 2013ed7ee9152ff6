"""Loop mains (`loop_mains.py`): the coroutine functions a module runs only as the main
coroutine of a new event loop, and the first line of each that may run after it suspends."""

from __future__ import annotations

import json
import textwrap

import pytest

from conclint.analysis.declared import from_json, to_json
from conclint.analysis.project import facts_of

TOOL = """\
import asyncio
import sys

import anyio


async def _main(path):
    print(path)
    open(path).close()
    await asyncio.sleep(0)
    open(path).close()


async def _poll(path, tries):
    print(path)
    while tries:
        tries -= 1
        await anyio.sleep(1)


async def _gather(paths):
    found = [line async for line in _lines(paths)]
    return found


async def _lines(paths):
    for path in paths:
        yield path


async def _quiet(path):
    print(path)


async def _twice(path):
    print(path)


async def _awaited(path):
    print(path)


async def main(path):
    await _awaited(path)


async def _stored(path):
    print(path)


HANDLERS = {"stored": _stored}


def run():
    asyncio.run(_main(sys.argv[1]))
    anyio.run(_poll, sys.argv[1], 3)
    asyncio.run(_gather(sys.argv[1:]))
    asyncio.run(_twice(sys.argv[1]))
    asyncio.run(_awaited(sys.argv[1]))
    asyncio.run(main(sys.argv[1]))
    asyncio.run(_stored(sys.argv[1]))


if __name__ == "__main__":
    asyncio.run(_quiet(sys.argv[1]))
    asyncio.run(_twice(sys.argv[2]))
"""


def _alone_until(source: str, path: str = "app/tool.py") -> dict[str, int]:
    declared = facts_of(textwrap.dedent(source), path).declared
    return {name: facts.alone_until for name, facts in declared.functions.items()}


@pytest.mark.parametrize(
    ("function", "line"),
    [
        ("_main", 10),  # its first `await`
        ("_poll", 16),  # the loop that awaits starts there
        ("_gather", 22),  # an async comprehension suspends
        ("_quiet", 33),  # no suspension: the line after its end
        ("_twice", 37),  # run by two runners, nothing else
        ("_awaited", 0),  # also awaited: it may run inside another loop's task
        ("main", 0),  # public: another module may await it
        ("_stored", 0),  # also kept in a table
        ("_lines", 0),  # not run by a runner
    ],
)
def test_the_first_line_a_loop_main_may_run_after_it_suspends(function: str, line: int) -> None:
    assert _alone_until(TOOL)[function] == line


def test_a_public_main_counts_in_a_main_module() -> None:
    source = "import asyncio\n\nasync def main():\n    print(1)\n\nasyncio.run(main())\n"
    assert _alone_until(source, "app/__main__.py")["main"] == 5
    assert _alone_until(source, "app/cli.py")["main"] == 0


def test_a_runner_of_another_library_or_a_local_function_is_no_runner() -> None:
    source = (
        "import asyncio\nimport other\n\nasync def _main():\n    print(1)\n\n"
        "def run(coro):\n    return coro\n\nother.run(_main())\nrun(_main())\n"
    )
    assert _alone_until(source)["_main"] == 0


def test_loop_mains_survive_the_cache() -> None:
    declared = facts_of(TOOL, "app/tool.py").declared
    again = from_json(json.loads(json.dumps(to_json(declared))))
    assert again.functions["_main"].alone_until == 10
    assert again == declared


def test_a_main_defined_in_both_branches_of_an_if_is_not_known() -> None:
    source = (
        "import asyncio\nimport sys\n\nif sys.platform == 'win32':\n"
        "    async def _main():\n        print(1)\nelse:\n    async def _main():\n"
        "        print(2)\n\nasyncio.run(_main())\n"
    )
    assert _alone_until(source)["_main"] == 0


def test_a_main_defined_under_an_if_counts() -> None:
    source = (
        "import asyncio\nimport sys\n\nif sys.version_info >= (3, 11):\n"
        "    async def _main():\n        print(1)\n\n    asyncio.run(_main())\n"
    )
    assert _alone_until(source)["_main"] == 7


def test_runners_imported_under_other_names() -> None:
    source = (
        "import asyncio as aio\nfrom anyio import run as go\n\nasync def _m():\n    pass\n\n"
        "async def _n():\n    pass\n\naio.run(_m())\ngo(_n)\n"
    )
    assert _alone_until(source) == {"_m": 6, "_n": 9}


def test_a_runner_imported_in_the_function_that_calls_it() -> None:
    source = (
        "async def _hook(path):\n    print(path)\n\n"
        "def main(path):\n    import anyio\n\n    anyio.run(_hook, path)\n\n"
        "def other(path):\n    anyio.run(_hook, path)\n"
    )
    # In `other`, `anyio` is no import: that call may run anything, so `_hook` is not known.
    assert _alone_until(source)["_hook"] == 0
    assert _alone_until(source.rpartition("def other")[0])["_hook"] == 3


def test_a_runner_imported_in_a_block_of_the_function() -> None:
    source = (
        "import sys\n\nasync def _hook(path):\n    print(path)\n\n"
        "def main(path):\n    try:\n        import anyio\n\n        anyio.run(_hook, path)\n"
        "    except Exception:\n        sys.exit(1)\n"
    )
    assert _alone_until(source)["_hook"] == 5
