"""`--fix`, `--diff`, `--unsafe-fixes`, `--fix-only`: the CLI on real files.

Each fix: the file still parses, the finding is gone on a re-lint, fixing again changes
nothing, the other findings and bytes stay as they were, several fixes of a file apply
in one run, and the output and exit codes are ruff's.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

from conclint import registry
from conclint.config import Settings
from conclint.engine import lint_source
from conclint.fixes import Edit, Fix, apply_fixes, fix_source
from conclint.pages import page, section
from tests.conftest import fixture_files
from tests.test_cli import run

FLAGS = ("--isolated", "--no-cache")


def codes(path: Path) -> list[tuple[int, str]]:
    """What the CLI finds in the file now: (line, code)."""
    done = run(*FLAGS, "--output-format", "json", path.name, cwd=path.parent)
    return [(item["line"], item["code"]) for item in json.loads(done.stdout)]


# One source per fixable rule, and the text `--fix` makes of it ---------------------------

CASES = {
    "CCL203": (
        """import asyncio


async def serve(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        print("stopping")  # say so


async def tick():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError: pass
""",
        """import asyncio


async def serve(queue):
    try:
        await queue.get()
    except asyncio.CancelledError:
        print("stopping")  # say so
        raise


async def tick():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError: pass; raise
""",
    ),
    "CCL601": (
        """import asyncio as aio
import time


async def poll(delay):
    time.sleep(delay)
    return await aio.sleep(0)
""",
        """import asyncio as aio
import time


async def poll(delay):
    await aio.sleep(delay)
    return await aio.sleep(0)
""",
    ),
    "CCL102": (
        """import asyncio


async def fetch():
    return 1


class Worker:
    async def run(self):
        self.step()
        fetch()
        asyncio.sleep(0)

    async def step(self):
        pass
""",
        """import asyncio


async def fetch():
    return 1


class Worker:
    async def run(self):
        await self.step()
        await fetch()
        await asyncio.sleep(0)

    async def step(self):
        pass
""",
    ),
    "CCL403": (
        """import asyncio
import threading

lock = threading.Lock()
other = threading.Lock()
guard = asyncio.Lock()


def update(state):
    lock.acquire()  # the state's lock
    other.acquire()
    state.apply()
    # and log it
    state.log()
    other.release()
    lock.release()
    return state


async def refresh(state):
    await guard.acquire()
    await state.reload()
    guard.release()
""",
        """import asyncio
import threading

lock = threading.Lock()
other = threading.Lock()
guard = asyncio.Lock()


def update(state):
    with lock:  # the state's lock
        with other:
            state.apply()
            # and log it
            state.log()
    return state


async def refresh(state):
    async with guard:
        await state.reload()
""",
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_fix_rewrites_parses_removes_the_finding_and_is_idempotent(
    code: str, tmp_path: Path
) -> None:
    before, expected = CASES[code]
    target = tmp_path / "mod.py"
    target.write_text(before, encoding="utf-8")
    found = codes(target)
    assert found and {c for _, c in found} == {code}

    done = run(*FLAGS, "--fix", "mod.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    after = target.read_text(encoding="utf-8")
    assert after == expected  # every byte outside the fixes as it was
    ast.parse(after)
    assert codes(target) == []
    assert f"Found {len(found)} error" in done.stderr
    assert f"({len(found)} fixed, 0 remaining)." in done.stderr

    again = run(*FLAGS, "--fix", "mod.py", cwd=tmp_path)
    assert again.returncode == 0
    assert target.read_text(encoding="utf-8") == expected
    assert "All checks passed!" in again.stderr


def test_reraise_is_unsafe_when_code_runs_after_the_try(tmp_path: Path) -> None:
    """Falling through the handler ran the cleanup after the `try`; `raise` would skip it."""
    source = """import asyncio


async def consume(queue, waiter):
    try:
        await queue.get()
    except asyncio.CancelledError:
        pass
    waiter.cancel()
"""
    (tmp_path / "mod.py").write_text(source, encoding="utf-8")
    listed = json.loads(run(*FLAGS, "--output-format", "json", "mod.py", cwd=tmp_path).stdout)
    assert [item["fix"]["applicability"] for item in listed] == ["unsafe"]
    assert run(*FLAGS, "--fix", "mod.py", cwd=tmp_path).returncode == 1
    assert (tmp_path / "mod.py").read_text(encoding="utf-8") == source
    assert run(*FLAGS, "--fix", "--unsafe-fixes", "mod.py", cwd=tmp_path).returncode == 0
    fixed = source.replace("        pass\n", "        pass\n        raise\n")
    assert (tmp_path / "mod.py").read_text(encoding="utf-8") == fixed


def test_several_fixes_of_a_file_apply_in_one_pass() -> None:
    before, expected = CASES["CCL102"]
    result = lint_source(before, "mod.py", Settings())
    fixes = [d.fix for d in result.diagnostics if d.fix]
    assert len(fixes) == 3
    text, applied = apply_fixes(before, fixes)
    assert applied == [0, 1, 2]
    assert text == expected


def test_overlapping_fixes_wait_for_the_next_pass() -> None:
    """The nested locks: the inner fix lies inside the outer one's edits, so it is made on
    the text the outer one leaves, in a second pass."""
    before, expected = CASES["CCL403"]
    result = lint_source(before, "mod.py", Settings())
    fixes = [d.fix for d in result.diagnostics if d.fix]
    assert len(fixes) == 3
    _, applied = apply_fixes(before, fixes)
    assert len(applied) == 2
    fixed = fix_source(before, "mod.py", Settings(), unsafe_fixes=False)
    assert fixed.source == expected
    assert fixed.fixed == {"CCL403": 3}
    assert fixed.result.diagnostics == ()


def test_apply_fixes_keeps_every_other_byte_and_applies_a_shared_edit_once() -> None:
    source = "a = 1\r\nb = 2\r\nc = 3"
    insert = Edit(1, 0, 1, 0, "import x\r\n")
    first = Fix("one", (insert, Edit(2, 4, 2, 5, "20")))
    second = Fix("two", (insert, Edit(3, 4, 3, 5, "30")))
    overlapping = Fix("three", (Edit(2, 0, 2, 5, "b = 7"),))
    text, applied = apply_fixes(source, [first, second, overlapping])
    assert applied == [0, 1]
    assert text == "import x\r\na = 1\r\nb = 20\r\nc = 30"


def test_other_findings_are_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "mod.py"
    target.write_text(
        """import asyncio


async def fetch():
    return 1


async def main():
    fetch()
    if fetch():
        print("always")
""",
        encoding="utf-8",
    )
    listed = json.loads(run(*FLAGS, "--output-format", "json", "mod.py", cwd=tmp_path).stdout)
    kept = [item for item in listed if item["fix"] is None]
    assert len(listed) == 2 and len(kept) == 1
    done = run(*FLAGS, "--fix", "--output-format", "json", "mod.py", cwd=tmp_path)
    assert done.returncode == 1  # one finding is left
    assert json.loads(done.stdout) == kept
    assert "await fetch()\n    if fetch():" in target.read_text(encoding="utf-8")


# Output and exit codes -------------------------------------------------------------------

UNSAFE = """import time


async def poll():
    time.sleep(1)
"""
UNSAFE_FIXED = """import time
import asyncio


async def poll():
    await asyncio.sleep(1)
"""


def test_check_marks_fixable_findings_and_sums_up(tmp_path: Path) -> None:
    before, _ = CASES["CCL102"]
    (tmp_path / "mod.py").write_text(before, encoding="utf-8")
    (tmp_path / "unsafe.py").write_text(UNSAFE, encoding="utf-8")
    done = run(*FLAGS, ".", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("mod.py:10:9: CCL102 [*] coroutine from `self.step(...)`")
    assert lines[3] == (
        "unsafe.py:5:5: CCL601 `time.sleep()` blocks the event loop; use `await asyncio.sleep(...)`"
    )
    assert done.stderr.splitlines() == [
        "Found 4 errors.",
        "[*] 3 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).",
    ]
    shown = run(*FLAGS, "--unsafe-fixes", ".", cwd=tmp_path)
    assert "unsafe.py:5:5: CCL601 [*] " in shown.stdout
    assert shown.stderr.splitlines() == ["Found 4 errors.", "[*] 4 fixable with `--fix`."]
    quiet = run(*FLAGS, "--no-unsafe-fixes", ".", cwd=tmp_path)
    assert quiet.stderr.splitlines() == ["Found 4 errors.", "[*] 3 fixable with `--fix`."]


def test_unsafe_fixes_apply_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "poll.py"
    target.write_text(UNSAFE, encoding="utf-8")
    done = run(*FLAGS, "--fix", "poll.py", cwd=tmp_path)
    assert done.returncode == 1
    assert target.read_text(encoding="utf-8") == UNSAFE
    assert "[*]" not in done.stdout
    assert done.stderr.splitlines() == [
        "Found 1 error.",
        "1 unsafe fix available with `--fix --unsafe-fixes`.",
    ]
    done = run(*FLAGS, "--fix", "--unsafe-fixes", "poll.py", cwd=tmp_path)
    assert done.returncode == 0
    assert target.read_text(encoding="utf-8") == UNSAFE_FIXED
    assert done.stderr.splitlines() == ["Found 1 error (1 fixed, 0 remaining)."]


def test_the_sleep_of_the_framework_the_file_uses(tmp_path: Path) -> None:
    body = "\n\nasync def tick():\n    time.sleep(1)\n"
    files = {
        "on_trio.py": "import time\nimport trio\n",
        "both.py": "import asyncio\nimport time\nimport trio\n",
        "from_asyncio.py": "import time\nfrom asyncio import Queue\n",
        "trio/__init__.py": None,
        "trio/_core/__init__.py": None,
        "trio/_core/_clock.py": "import time\n",  # trio's own code: no import of itself
    }
    for name, head in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(head + body if head else "", encoding="utf-8")
    listed = json.loads(run(*FLAGS, "--output-format", "json", ".", cwd=tmp_path).stdout)
    fixes = {item["path"]: item["fix"] for item in listed}
    assert fixes["both.py"] is None and fixes["trio/_core/_clock.py"] is None
    assert fixes["on_trio.py"]["applicability"] == "safe"
    assert fixes["from_asyncio.py"]["applicability"] == "safe"  # adds `import asyncio`
    run(*FLAGS, "--fix", ".", cwd=tmp_path)
    assert (
        (tmp_path / "on_trio.py").read_text(encoding="utf-8").endswith("    await trio.sleep(1)\n")
    )
    assert (tmp_path / "from_asyncio.py").read_text(encoding="utf-8") == (
        "import time\nfrom asyncio import Queue\nimport asyncio\n"
        + body.replace("time.sleep", "await asyncio.sleep")
    )


def test_diff_prints_the_fixes_and_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "poll.py"
    target.write_text(UNSAFE, encoding="utf-8")
    done = run(*FLAGS, "--diff", "poll.py", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "No errors would be fixed (1 fix available with `--unsafe-fixes`).\n"
    done = run(*FLAGS, "--diff", "--unsafe-fixes", "poll.py", cwd=tmp_path)
    assert done.returncode == 1
    assert target.read_text(encoding="utf-8") == UNSAFE
    assert done.stdout == (
        "--- poll.py\n+++ poll.py\n@@ -1,5 +1,6 @@\n import time\n+import asyncio\n \n \n"
        " async def poll():\n-    time.sleep(1)\n+    await asyncio.sleep(1)\n\n"
    )
    assert done.stderr == "Would fix 1 error.\n"
    # --diff wins over --fix: still nothing written.
    run(*FLAGS, "--diff", "--fix", "--unsafe-fixes", "poll.py", cwd=tmp_path)
    assert target.read_text(encoding="utf-8") == UNSAFE


def test_fix_only_reports_what_it_fixed(tmp_path: Path) -> None:
    before, _ = CASES["CCL102"]
    (tmp_path / "mod.py").write_text(before, encoding="utf-8")
    (tmp_path / "unsafe.py").write_text(UNSAFE, encoding="utf-8")
    done = run(*FLAGS, "--fix-only", ".", cwd=tmp_path)
    assert done.returncode == 0  # a finding is left, but --fix-only does not fail on it
    assert done.stdout == ""
    assert done.stderr == "Fixed 3 errors (1 additional fix available with `--unsafe-fixes`).\n"
    assert (tmp_path / "mod.py").read_text(encoding="utf-8") == CASES["CCL102"][1]
    done = run(*FLAGS, "--fix-only", "--unsafe-fixes", "--exit-non-zero-on-fix", ".", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "Fixed 1 error.\n"
    assert run(*FLAGS, "--fix-only", "--exit-non-zero-on-fix", ".", cwd=tmp_path).returncode == 0


def test_exit_codes_of_fix(tmp_path: Path) -> None:
    before, _ = CASES["CCL203"]
    target = tmp_path / "mod.py"
    target.write_text(before, encoding="utf-8")
    assert run(*FLAGS, "--fix", "--exit-non-zero-on-fix", "mod.py", cwd=tmp_path).returncode == 1
    target.write_text(before, encoding="utf-8")
    assert run(*FLAGS, "--fix", "mod.py", cwd=tmp_path).returncode == 0
    target.write_text(UNSAFE, encoding="utf-8")
    assert run(*FLAGS, "--fix", "--exit-zero", "mod.py", cwd=tmp_path).returncode == 0


def test_show_fixes_lists_them_per_file(tmp_path: Path) -> None:
    for code in ("CCL102", "CCL203"):
        (tmp_path / f"{code}.py").write_text(CASES[code][0], encoding="utf-8")
    done = run(*FLAGS, "--fix", "--show-fixes", ".", cwd=tmp_path)
    assert done.stderr.splitlines() == [
        "",
        "Fixed 5 errors:",
        "- CCL102.py:",
        "    3 × CCL102 (unawaited-coroutine)",  # noqa: RUF001 (ruff's sign)
        "- CCL203.py:",
        "    2 × CCL203 (swallowed-cancellation)",  # noqa: RUF001
        "",
        "Found 5 errors (5 fixed, 0 remaining).",
    ]


def test_stdin_fix_prints_the_fixed_source(tmp_path: Path) -> None:
    done = run(*FLAGS, "--fix", "--unsafe-fixes", "-", cwd=tmp_path, stdin=UNSAFE)
    assert (done.returncode, done.stdout) == (0, UNSAFE_FIXED)
    assert done.stderr == "Found 1 error (1 fixed, 0 remaining).\n"
    left = run(*FLAGS, "--fix", "-", cwd=tmp_path, stdin=UNSAFE)
    assert (left.returncode, left.stdout) == (1, UNSAFE)  # the source, as it came
    assert left.stderr.startswith("-:5:5: CCL601 `time.sleep()` blocks the event loop")
    clean = run(*FLAGS, "--fix", "-", cwd=tmp_path, stdin="x = 1\n")
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "x = 1\n", "All checks passed!\n")
    diff = run(
        *FLAGS,
        "--diff",
        "--unsafe-fixes",
        "--stdin-filename",
        "poll.py",
        "-",
        cwd=tmp_path,
        stdin=UNSAFE,
    )
    assert diff.returncode == 1
    assert diff.stdout.startswith("--- poll.py\n+++ poll.py\n@@ -1,5 +1,6 @@\n")


def test_encoding_bom_and_line_ends_are_kept(tmp_path: Path) -> None:
    before, expected = CASES["CCL203"]
    target = tmp_path / "mod.py"
    target.write_bytes(b"\xef\xbb\xbf" + before.replace("\n", "\r\n").encode("utf-8"))
    assert run(*FLAGS, "--fix", "mod.py", cwd=tmp_path).returncode == 0
    assert target.read_bytes() == b"\xef\xbb\xbf" + expected.replace("\n", "\r\n").encode()
    latin = tmp_path / "latin.py"
    text = "# -*- coding: latin-1 -*-\n# café\n" + before
    latin.write_bytes(text.encode("latin-1"))
    assert run(*FLAGS, "--fix", "latin.py", cwd=tmp_path).returncode == 0
    assert latin.read_bytes() == ("# -*- coding: latin-1 -*-\n# café\n" + expected).encode(
        "latin-1"
    )


def test_tab_indented_files_stay_consistent(tmp_path: Path) -> None:
    target = tmp_path / "mod.py"
    target.write_text(
        "import threading\nlock = threading.Lock()\n\n\ndef f():\n"
        "\tlock.acquire()\n\twork()\n\tlock.release()\n",
        encoding="utf-8",
    )
    assert run(*FLAGS, "--fix", "mod.py", cwd=tmp_path).returncode == 0
    assert target.read_text(encoding="utf-8").endswith("def f():\n\twith lock:\n\t\twork()\n")


# Machine formats carry the fix ------------------------------------------------------------


def test_json_and_sarif_carry_the_fix(tmp_path: Path) -> None:
    from tests.test_sarif import assert_valid

    (tmp_path / "poll.py").write_text(UNSAFE, encoding="utf-8")
    listed = json.loads(run(*FLAGS, "--output-format", "json", ".", cwd=tmp_path).stdout)
    assert listed[0]["fix"] == {
        "applicability": "unsafe",
        "message": "Use `await asyncio.sleep(...)`",
        "edits": [
            {"content": "import asyncio\n", "line": 2, "column": 1, "end_line": 2, "end_column": 1},
            {
                "content": "await asyncio.sleep",
                "line": 5,
                "column": 5,
                "end_line": 5,
                "end_column": 15,
            },
        ],
    }
    document = json.loads(run(*FLAGS, "--output-format", "sarif", ".", cwd=tmp_path).stdout)
    assert_valid(document)
    (result,) = document["runs"][0]["results"]
    (fix,) = result["fixes"]
    assert fix["description"]["text"] == "Use `await asyncio.sleep(...)`"
    assert fix["properties"] == {"applicability": "unsafe"}
    (change,) = fix["artifactChanges"]
    assert (
        change["artifactLocation"] == result["locations"][0]["physicalLocation"]["artifactLocation"]
    )
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 1},
            "insertedContent": {"text": "import asyncio\n"},
        },
        {
            "deletedRegion": {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 15},
            "insertedContent": {"text": "await asyncio.sleep"},
        },
    ]


def test_the_cache_keeps_the_fix(tmp_path: Path) -> None:
    (tmp_path / "poll.py").write_text(UNSAFE, encoding="utf-8")
    command = ("--isolated", "--output-format", "json", "--cache-dir", "cache", ".")
    fresh = run(*command, cwd=tmp_path)
    cached = run(*command, cwd=tmp_path)
    assert (tmp_path / "cache").is_dir()
    assert json.loads(cached.stdout) == json.loads(fresh.stdout)
    assert json.loads(cached.stdout)[0]["fix"]["applicability"] == "unsafe"


# Which rules say they fix -----------------------------------------------------------------


def test_rules_listing_and_pages_say_which_rules_are_fixable(tmp_path: Path) -> None:
    listed = run("rules", cwd=tmp_path).stdout.splitlines()
    by_code = {line.split()[0]: line for line in listed}
    fixable = {rule.code for rule in registry.RULES if rule.fixable}
    assert fixable == set(CASES)
    for rule in registry.RULES:
        assert (" fixable " in by_code[rule.code]) == rule.fixable, rule.code
        text = section(page(rule.code) or "", "What it does")
        assert ("Fix is sometimes available" in text) == rule.fixable, rule.code


# Every fix of the fixtures -----------------------------------------------------------------


def test_every_fix_of_the_fixtures_keeps_the_file_sound() -> None:
    """Unsafe ones included, in every fixture: the fixed file parses, each fixed finding is
    gone, no finding appears and the others stay as they were (a line may move; a finding
    may also go when the fix ends its cause: an `await` added in a busy loop), and fixing
    again changes nothing."""
    settings = Settings(preview=True)
    fixed_codes: Counter[str] = Counter()
    for path in fixture_files():
        source = path.read_text(encoding="utf-8")
        before = lint_source(source, str(path), settings)
        fixable = Counter(d.code for d in before.diagnostics if d.fix)
        if not fixable:
            continue
        fixed = fix_source(source, str(path), settings, unsafe_fixes=True, result=before)
        assert fixed.problems == [], path
        ast.parse(fixed.source)
        assert fixed.fixed == fixable, path
        left = Counter((d.code, d.message) for d in fixed.result.diagnostics)
        kept = Counter((d.code, d.message) for d in before.diagnostics if d.fix is None)
        # Every finding left was there without a fix: the fixed ones are gone, none is new.
        assert not left - kept, path
        again = fix_source(fixed.source, str(path), settings, unsafe_fixes=True)
        assert again.source == fixed.source and not again.fixed, path
        fixed_codes.update(fixable)
    assert set(fixed_codes) == set(CASES)  # each fixable rule's fixtures have fixes
