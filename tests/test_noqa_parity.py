"""Suppression comments mean the same to the CLI as to flake8: a table of spellings, each in
its own file, linted by real flake8 (with the conclint plugin) and by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from conclint.diagnostics import Diagnostic, is_suppressed, parse_suppressions

FLAKE8 = (sys.executable, "-m", "flake8", "--isolated", "--select=CCL", "-j", "1")
CLI = (sys.executable, "-m", "conclint", "check", "--isolated", "--no-cache")
HEAD = "import asyncio\n\n\nasync def handle(reader):\n"
LINE = "    asyncio.create_task(reader.read())"  # CCL101, on line 5
FOUND = {5}

# The comment after the finding, and whether flake8 silences the finding with it.
SPELLINGS: list[tuple[str, bool]] = [
    ("", False),
    ("  # noqa", True),
    ("  # NOQA", True),
    ("  # NoQa", True),
    ("  #noqa", False),  # flake8 wants exactly one space after the `#`
    ("  #noqa:CCL101", False),
    ("  #  noqa", False),
    ("  #\tnoqa", False),
    ("  # noqa:CCL101", True),
    ("  # noqa: CCL101", True),
    ("  # noqa:\tCCL101", True),
    ("  # NOQA: CCL101", True),
    ("  # NOQA: ccl101", False),  # codes are matched case-sensitively
    ("  # noqa: Ccl101", False),
    ("  # noqa: CCL1", True),  # by prefix
    ("  # noqa: CCL10", True),
    ("  # noqa: CCL1011", False),
    ("  # noqa: CCL203", False),
    ("  # noqa: E501", False),
    ("  # noqa: CCL203,CCL101", True),
    ("  # noqa: CCL203, CCL101", True),
    ("  # noqa: CCL203 CCL101", True),
    ("  # noqa: CCL203,,CCL101", True),
    ("  # noqa: ccl203, CCL101", True),
    ("  # noqa: CCL101abc", True),  # the list ends where a code stops matching
    ("  # noqa: CCL203 because CCL101", False),  # ... so CCL101 is not in it
    ("  # noqa: CCL101  # why", True),
    ("  # type: ignore  # noqa: CCL101", True),
    ("  # noqa: CCL203  # noqa", False),  # only the first comment counts
    ("  # noqa:", True),  # no list of codes: every code
    ("  # noqa: ", True),
    ("  # noqa:  CCL203", True),  # two spaces: not read as a list
    ("  # noqa : CCL203", True),  # space before the colon: not read as a list
    ("  # noqa: CCL", True),  # a code needs digits: not read as a list
    ("  # noqa: C", True),
    ("  # noqa:,CCL203", True),
    ("  # noqa-CCL203", True),
    ("  # noqaCCL203", True),
    ("  # noqa this is fine", True),
    ("  # conclint: ignore[CCL101]", True),  # conclint's own comment, under both
    ("  # conclint: ignore[ccl101]", True),
    ("  # conclint: ignore[CCL203]", False),
    ("  # flake8: noqa", False),  # after code it is no file-level comment
    # ruff's own comment, naming the peer's code or ruff's name for it: under both.
    ("  # ruff: ignore[RUF006]", True),
    ("  # ruff: ignore[asyncio-dangling-task]", True),
    ("  # ruff: ignore[E501, RUF006]", True),
    ("  # ruff: ignore[E501]", False),
    ("  # Ruff: ignore[RUF006]", False),  # case-sensitive, as ruff reads it
    ("  # noqa: E501  # ruff: ignore[RUF006]", True),
]

# Whole files, and the lines of HEAD + LINE that stay reported.
LAYOUTS: dict[str, tuple[str, set[int]]] = {
    "string-holding-the-comment": (
        HEAD + '    asyncio.create_task(reader.read("# noqa"))\n',
        set(),  # flake8 searches the raw line, strings included
    ),
    "comment-after-a-multi-line-string": (
        HEAD + '    asyncio.create_task(reader.read("""\n    """))  # noqa: CCL101\n',
        set(),  # the string's token range runs from line 5 to line 6
    ),
    "comment-inside-a-multi-line-string": (
        HEAD + '    asyncio.create_task(reader.read("""\n    # noqa\n    """))\n',
        set(),
    ),
    "comment-after-a-backslash-continuation": (
        HEAD + "    asyncio.create_task(reader.read()) \\\n        # noqa\n",
        set(),
    ),
    "comment-on-the-closing-bracket": (
        HEAD + "    asyncio.create_task(\n        reader.read()\n    )  # noqa\n",
        FOUND,  # inside brackets each line is its own range
    ),
    "comment-on-the-line-above": (HEAD + "    # noqa\n" + LINE + "\n", {6}),
    "file-level-comment": ("# flake8: noqa\n" + HEAD + LINE + "\n", set()),
    "file-level-comment-with-codes": ("# flake8: noqa: CCL203\n" + HEAD + LINE + "\n", set()),
    "file-level-comment-indented-in-a-string": (
        HEAD + '    """\n    # FLAKE8= NOQA\n    """\n' + LINE + "\n",
        set(),
    ),
    "file-level-comment-misspelt": ("#flake8: noqa\n" + HEAD + LINE + "\n", {6}),
    "ruff-comment-above-a-multi-line-call": (
        HEAD
        + "    # ruff: ignore[RUF006]\n    asyncio.create_task(\n        reader.read()\n    )\n",
        set(),  # on a line of its own: the whole next statement
    ),
    "ruff-comment-inside-a-multi-line-call": (
        HEAD + "    asyncio.create_task(\n        reader.read(),  # ruff: ignore[RUF006]\n    )\n",
        FOUND,  # after code: its own line only
    ),
}


def _cases() -> dict[str, tuple[str, set[int]]]:
    cases = {
        f"spelling_{number:02d}": (HEAD + LINE + comment + "\n", set() if silenced else FOUND)
        for number, (comment, silenced) in enumerate(SPELLINGS)
    }
    cases.update({name.replace("-", "_"): case for name, case in LAYOUTS.items()})
    return cases


CASES = _cases()


@cache
def _reported(tmp: str) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """Lines with a CCL101, per case, under flake8 and under the CLI (one run each)."""
    directory = Path(tmp)
    for name, (source, _) in CASES.items():
        (directory / f"{name}.py").write_text(source, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1"}
    flake8 = subprocess.run(
        [*FLAKE8, "--format=%(path)s:%(row)d:%(code)s", "."],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert flake8.returncode in (0, 1), flake8.stderr
    cli = subprocess.run(
        [*CLI, "--output-format", "json", "."],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert cli.returncode in (0, 1), cli.stderr
    by_flake8: dict[str, set[int]] = {name: set() for name in CASES}
    for row in flake8.stdout.splitlines():
        path, line, code = row.rsplit(":", 2)
        assert code == "CCL101", row
        by_flake8[Path(path).stem].add(int(line))
    by_cli: dict[str, set[int]] = {name: set() for name in CASES}
    for item in json.loads(cli.stdout):
        assert item["code"] == "CCL101", item
        by_cli[Path(item["path"]).stem].add(item["line"])
    return by_flake8, by_cli


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, set[int]], ...]:
    directory = tmp_path_factory.mktemp("noqa")
    (directory / ".git").mkdir()  # no configuration from above
    return _reported(str(directory))


def _label(name: str) -> str:
    if not name.startswith("spelling_"):
        return name
    comment = SPELLINGS[int(name.removeprefix("spelling_"))][0].strip()
    return comment.encode("unicode_escape").decode("ascii") or "no-comment"


@pytest.mark.parametrize("name", [pytest.param(name, id=_label(name)) for name in sorted(CASES)])
def test_the_cli_silences_what_flake8_silences(
    name: str, reported: tuple[dict[str, set[int]], dict[str, set[int]]]
) -> None:
    by_flake8, by_cli = reported
    source, expected = CASES[name]
    assert by_flake8[name] == expected, f"flake8 itself reads {source!r} otherwise"
    assert by_cli[name] == by_flake8[name], source


def test_the_parser_keeps_codes_as_written() -> None:
    lines = ["a  # NOQA: ccl101,CCL2", "b  # noqa: CCL", "c  # conclint: ignore[ccl601]"]
    assert parse_suppressions(lines) == {
        1: frozenset({"ccl101", "CCL2"}),
        2: None,
        3: frozenset({"CCL601"}),
    }
    finding = Diagnostic("a.py", 1, 0, 1, 1, "CCL101", "dangling-task", "m")
    assert not is_suppressed(finding, parse_suppressions(lines))


def test_the_parser_takes_lines_with_their_endings() -> None:
    with_endings = ["x = '''\r\n", "'''  # noqa: CCL1\r\n", "y = 1\n"]
    assert parse_suppressions(with_endings) == {1: frozenset({"CCL1"}), 2: frozenset({"CCL1"})}


def test_flake8s_noqa_comments_are_left_to_flake8() -> None:
    lines = ["# flake8: noqa", "a  # noqa", "b  # conclint: ignore[CCL101]"]
    assert parse_suppressions(lines, include_noqa=False) == {3: frozenset({"CCL101"})}
    assert parse_suppressions(lines) == {1: None, 2: None, 3: None}


def test_a_peers_code_silences_the_rule_for_the_same_bug() -> None:
    lines = [
        "time.sleep(1)  # noqa: ASYNC251",
        "open(path)  # noqa: E501,ASYNC230",
        "asyncio.create_task(work())  # noqa: RUF006",
        "time.sleep(1)  # noqa: ASYNC100",  # another rule's peer
        "time.sleep(1)  # noqa: async251",  # codes match case-sensitively, as flake8's
    ]
    found = parse_suppressions(lines)
    assert found[1] == frozenset({"ASYNC251", "CCL601"})
    assert found[2] == frozenset({"E501", "ASYNC230", "CCL601"})
    assert found[3] == frozenset({"RUF006", "CCL101"})
    assert found[4] == frozenset({"ASYNC100", "CCL205"})
    assert found[5] == frozenset({"async251"})
    # Under flake8, which applies noqa comments itself, the plugin applies the peers'.
    assert parse_suppressions(lines, include_noqa=False) == {
        1: frozenset({"CCL601"}),
        2: frozenset({"CCL601"}),
        3: frozenset({"CCL101"}),
        4: frozenset({"CCL205"}),
    }


RUFF_IGNORES = """\
import asyncio


async def work() -> None:
    await asyncio.sleep(0)


async def main() -> None:
    asyncio.create_task(work())  # ruff: ignore[RUF006]
    asyncio.create_task(work())  # ruff: ignore[asyncio-dangling-task]
    # ruff: ignore[RUF006]
    asyncio.create_task(
        work()
    )
    # ruff: ignore[RUF006]
    # stacked with a note
    asyncio.create_task(work())
    asyncio.create_task(work())  # Ruff: ignore[RUF006]
    asyncio.create_task(work())  # noqa: E501  # ruff: ignore[RUF006]
    asyncio.create_task(
        work(),  # ruff: ignore[RUF006]
    )
    asyncio.create_task(work())  # ruff: ignore[F401]
    text = "# ruff: ignore[RUF006]"
    asyncio.create_task(work())
"""


def test_ruffs_ignore_comments_silence_the_rule_for_the_same_bug(tmp_path: Path) -> None:
    # The lines real ruff still reports RUF006 on (its preview reads rule names) are the
    # lines conclint still reports CCL101 on.
    source = tmp_path / "tasks.py"
    source.write_text(RUFF_IGNORES, encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--preview"]
    done = subprocess.run(
        [*ruff, "--select", "RUF006", "--output-format", "json", str(source)],
        capture_output=True,
        text=True,
    )
    by_ruff = sorted(finding["location"]["row"] for finding in json.loads(done.stdout))
    conclint = [sys.executable, "-m", "conclint", "check", "--isolated", "--no-cache"]
    ours = subprocess.run(
        [*conclint, "--select", "CCL101", "--output-format", "json", str(source)],
        capture_output=True,
        text=True,
    )
    by_conclint = sorted(finding["line"] for finding in json.loads(ours.stdout))
    assert by_ruff == by_conclint == [18, 20, 23, 25]


RUFF_RANGES = {
    "ranges": """\
import asyncio


async def work() -> None:
    await asyncio.sleep(0)


async def main() -> None:
    # ruff: disable[RUF006]
    asyncio.create_task(work())
    if True:
        asyncio.create_task(work())
    # ruff: enable[RUF006]
    asyncio.create_task(work())


async def left_by_a_dedent() -> None:
    if True:
        # ruff: disable[asyncio-dangling-task]
        asyncio.create_task(work())
    asyncio.create_task(work())


async def enabled_in_another_order() -> None:
    # ruff: disable[RUF006, E501]
    asyncio.create_task(work())
    # ruff: enable[E501, RUF006]
    asyncio.create_task(work())


async def after() -> None:
    asyncio.create_task(work())
""",
    "file_ignore": """\
import asyncio
# ruff: file-ignore[RUF006]


async def main(work) -> None:
    asyncio.create_task(work())
""",
    "file_noqa_indented": """\
import asyncio


async def main(work) -> None:
    # ruff: noqa: RUF006
    asyncio.create_task(work())
""",
    "file_noqa_blanket": """\
import asyncio
# ruff: noqa


async def main(work) -> None:
    asyncio.create_task(work())
""",
}


def test_ruffs_ranges_and_file_comments_cover_what_ruff_covers(tmp_path: Path) -> None:
    for name, text in RUFF_RANGES.items():
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--preview", "--select"]
    done = subprocess.run(
        [*ruff, "RUF006", "--output-format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    by_ruff = sorted(
        (Path(finding["filename"]).stem, finding["location"]["row"])
        for finding in json.loads(done.stdout)
    )
    conclint = [sys.executable, "-m", "conclint", "check", "--isolated", "--no-cache"]
    ours = subprocess.run(
        [*conclint, "--select", "CCL101", "--output-format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    by_conclint = sorted(
        (Path(finding["path"]).stem, finding["line"]) for finding in json.loads(ours.stdout)
    )
    # A blanket file-level noqa of ruff's silences ruff's rules, not conclint's.
    assert by_conclint == [("file_noqa_blanket", 6), *by_ruff]
    assert by_ruff == [("ranges", 14), ("ranges", 21), ("ranges", 32)]


def test_ruffs_names_of_the_peers_are_the_names_of_their_codes() -> None:
    from conclint.peer_names import RUFF_NAMES
    from conclint.registry import peer_codes

    # Every peer's code that ruff implements, with the name ruff itself gives it.
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "rule", "--all", "--output-format", "json"],
        capture_output=True,
        text=True,
    )
    by_ruff = {rule["name"]: rule["code"] for rule in json.loads(done.stdout)}
    peers = set(peer_codes())
    assert {name: code for name, code in by_ruff.items() if code in peers} == RUFF_NAMES
    lines = [f"x()  # ruff: ignore[{name}]" for name in sorted(RUFF_NAMES)]
    found = parse_suppressions(lines)
    for number, name in enumerate(sorted(RUFF_NAMES), start=1):
        assert found[number] == peer_codes()[RUFF_NAMES[name]], name
