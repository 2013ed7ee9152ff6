"""`--add-noqa`: one `# noqa: CODES` per reported line, as ruff adds them, read by the CLI
and by flake8 itself as silencing what was found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conclint.add_noqa import with_noqa
from tests.test_fix import FLAGS, codes, run

BLOCKING = """import asyncio
import time


async def poll():
    time.sleep(1)
"""


def add(path: Path) -> subprocess.CompletedProcess[str]:
    return run(*FLAGS, "--add-noqa", path.name, cwd=path.parent)


def flake8_rows(path: Path) -> list[str]:
    """What real flake8, with the plugin, still reports in the file (its noqa handling)."""
    command = ["flake8", "--isolated", "--select=CCL", "--format=%(row)d %(code)s", path.name]
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=path.parent, capture_output=True, text=True
    )
    return done.stdout.splitlines()


def test_adds_one_comment_and_silences_the_finding(tmp_path: Path) -> None:
    target = tmp_path / "poll.py"
    target.write_text(BLOCKING, encoding="utf-8")
    assert flake8_rows(target) == ["6 CCL601"]
    done = add(target)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "Added 1 noqa directive.\n")
    assert target.read_text(encoding="utf-8") == BLOCKING.replace(
        "time.sleep(1)\n", "time.sleep(1)  # noqa: CCL601\n"
    )
    assert codes(target) == []
    assert flake8_rows(target) == []
    again = add(target)  # nothing left to silence: nothing changes, nothing is said
    assert (again.returncode, again.stderr) == (0, "")
    assert target.read_text(encoding="utf-8").count("noqa") == 1


def test_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "poll.py"
    target.write_text(BLOCKING, encoding="utf-8")
    for flags in ((), ("--output-format", "json"), ("--diff",)):
        run(*FLAGS, *flags, "poll.py", cwd=tmp_path)
    assert target.read_text(encoding="utf-8") == BLOCKING


def test_codes_of_one_line_share_a_sorted_comment_merged_with_the_existing_one(
    tmp_path: Path,
) -> None:
    target = tmp_path / "mod.py"
    target.write_text(
        """import asyncio
import time


async def work():
    return 1


async def main():
    time.sleep(1); work()  # noqa:E702 two statements, on purpose
    time.sleep(2); work()  # a note
""",
        encoding="utf-8",
    )
    done = add(target)
    assert done.stderr == "Added 2 noqa directives.\n"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[9] == (
        "    time.sleep(1); work()  # noqa: CCL102, CCL601, E702 two statements, on purpose"
    )
    assert lines[10] == "    time.sleep(2); work()  # a note  # noqa: CCL102, CCL601"
    assert codes(target) == []
    assert flake8_rows(target) == []


def test_never_inside_a_multi_line_string(tmp_path: Path) -> None:
    target = tmp_path / "mod.py"
    source = '''import asyncio
import time


async def main(log):
    log(f"""waiting
    for {time.sleep(1)}
    """)
    time.sleep(2) or log("""one
two""")
    total = 1 + \\
        time.sleep(3)
'''
    target.write_text(source, encoding="utf-8")
    assert [line for line, _ in codes(target)] == [7, 9, 12]
    assert add(target).stderr == "Added 3 noqa directives.\n"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[5:12] == [
        '    log(f"""waiting',
        "    for {time.sleep(1)}",
        '    """)  # noqa: CCL601',
        '    time.sleep(2) or log("""one',
        'two""")  # noqa: CCL601',
        "    total = 1 + \\",
        "        time.sleep(3)  # noqa: CCL601",
    ]
    assert codes(target) == []
    assert flake8_rows(target) == []


def test_a_noqa_in_a_string_is_left_alone() -> None:
    source = 'print("# noqa: E501"); time.sleep(1)\n'
    text, count, skipped = with_noqa(source, {1: {"CCL601"}})
    assert (text, count) == (source, 0)
    assert skipped == [(1, "a noqa comment inside a string comes first; not changed")]


def test_line_ends_and_other_bytes_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "poll.py"
    target.write_bytes(b"\xef\xbb\xbf" + BLOCKING.replace("\n", "\r\n").encode())
    assert add(target).returncode == 0
    expected = BLOCKING.replace("time.sleep(1)\n", "time.sleep(1)  # noqa: CCL601\n")
    assert target.read_bytes() == b"\xef\xbb\xbf" + expected.replace("\n", "\r\n").encode()


def test_standard_input_is_refused(tmp_path: Path) -> None:
    done = run(*FLAGS, "--add-noqa", "-", cwd=tmp_path, stdin=BLOCKING)
    assert done.returncode == 2
    assert "--add-noqa changes files" in done.stderr
