"""The result cache under abuse: corrupt, foreign, shared, unwritable; never a stale result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _pytest.capture import CaptureFixture

from conclint import __version__
from conclint import runner as runner_module
from conclint.cli import main
from conclint.config import Settings
from conclint.runner import lint_paths
from tests.test_cli import run

SETTINGS = Settings()

BUG = """\
import asyncio


async def main() -> None:
    asyncio.create_task(main())
    await asyncio.sleep(1)
"""
FIXED = BUG.replace("    asyncio.create_task(main())", "    await asyncio.sleep(0)")


def stores(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.rglob("*.json"))


def lint_cached(paths: list[Path], cache_dir: Path) -> list[Any]:
    """Lint with a cache, in the project of the first file."""
    settings = Settings(root=str(paths[0].parent))
    return lint_paths([str(path) for path in paths], settings, 1, cache_dir)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Ten files with a bug, one clean and one that does not parse."""
    for n in range(10):
        (tmp_path / "pkg").mkdir(exist_ok=True)
        (tmp_path / "pkg" / f"m{n}.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text(FIXED, encoding="utf-8")
    (tmp_path / "pkg" / "broken.py").write_text("async def f(:\n", encoding="utf-8")
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its inode and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


# Corrupt and foreign entries ------------------------------------------------

# Whole store files that are not what conclint writes.
STORE_CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: bytes(range(256)),
    "not-utf8": lambda data: data.replace(b'"', b'"\xff', 1),
    "a-list": lambda data: b"[]",
    "null": lambda data: b"null",
    "deeply-nested": lambda data: b"[" * 100_000 + b"]" * 100_000,
    "files-not-a-mapping": lambda data: _edit(data, lambda raw: raw.update(files=[1])),
}


def _result_of_first(raw: dict[str, Any]) -> dict[str, Any]:
    return next(iter(raw["files"].values()))["result"]  # type: ignore[no-any-return]


# One file's entry that is not what conclint writes.
ENTRY_CORRUPTIONS: dict[str, Callable[[dict[str, Any]], object]] = {
    "entry-not-a-mapping": lambda raw: raw["files"].update(dict.fromkeys(raw["files"], 5)),
    "digest-not-text": lambda raw: next(iter(raw["files"].values())).update(digest=5),
    "fields-of-wrong-type": lambda raw: _result_of_first(raw).update(
        diagnostics="x", suppressed=1, failed="no"
    ),
    "rows-of-wrong-shape": lambda raw: _result_of_first(raw).update(diagnostics=[[1, 2]]),
    "negative-position": lambda raw: _result_of_first(raw)["diagnostics"][0].__setitem__(0, -1),
    "position-not-int": lambda raw: _result_of_first(raw)["diagnostics"][0].__setitem__(0, "5"),
    "unknown-severity": lambda raw: _result_of_first(raw)["diagnostics"][0].__setitem__(7, "fatal"),
    "snippets-not-text": lambda raw: _result_of_first(raw).update(snippets={"5": 5}),
    "snippet-line-not-a-number": lambda raw: _result_of_first(raw).update(snippets={"five": "x"}),
    "facts-of-wrong-type": lambda raw: next(iter(raw["files"].values())).update(
        facts={"async": [1, None]}
    ),
}


def _edit(data: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    raw = json.loads(data)
    change(raw)
    return json.dumps(raw).encode()


def _entry_corruption(change: Callable[[dict[str, Any]], object]) -> Callable[[bytes], bytes]:
    return lambda data: _edit(data, change)


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    **STORE_CORRUPTIONS,
    **{name: _entry_corruption(change) for name, change in ENTRY_CORRUPTIONS.items()},
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_a_corrupt_store_is_a_miss_and_is_rewritten(
    tmp_path: Path, corrupt: Callable[[bytes], bytes]
) -> None:
    source = tmp_path / "m.py"
    source.write_text(BUG, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    fresh = lint_cached([source], cache_dir)
    [store] = stores(cache_dir)
    store.write_bytes(corrupt(store.read_bytes()))
    assert lint_cached([source], cache_dir) == fresh
    # Rewritten: a third run reads a whole, valid store again.
    assert json.loads(store.read_bytes())["files"]["m.py"]["result"]["diagnostics"]


def test_corrupt_stores_under_the_cli(project: Path) -> None:
    first = run("pkg", cwd=project)
    cache_dir = project / ".conclint_cache"
    [store] = stores(cache_dir)
    store.write_bytes(b"[" * 1000)
    (cache_dir / __version__ / "left-by-a-killed-run.tmp").write_text("{", encoding="utf-8")
    second = run("-j", "2", "pkg", cwd=project)
    assert "Traceback" not in second.stderr
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert first.stdout.count("CCL101") == 10


def test_corrupt_project_index_facts_are_misses(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "net.py").write_text(
        "async def fetch() -> bytes:\n    return b''\n", encoding="utf-8"
    )
    (tmp_path / "app" / "main.py").write_text(
        "from app.net import fetch\n\n\nasync def main() -> None:\n    fetch()\n", encoding="utf-8"
    )
    first = run("app", cwd=tmp_path)
    assert "CCL102" in first.stdout
    [store] = stores(tmp_path / ".conclint_cache")
    raw = json.loads(store.read_bytes())
    for entry in raw["files"].values():
        entry["facts"] = {**entry["facts"], "async": [1, None]}
        entry["result"] = None  # so that the lint pass needs the index again
    store.write_text(json.dumps(raw), encoding="utf-8")
    second = run("app", cwd=tmp_path)
    assert "Traceback" not in second.stderr
    assert second.stdout == first.stdout


BROKEN = "x = 1\ndef f(:\n    pass\n"  # no rule can fire: only the index pass parses it
BROKEN_REPORT = "app/broken.py:2:7: CCL001 syntax error: invalid syntax\n"


def _broken_package(root: Path) -> None:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "broken.py").write_text(BROKEN, encoding="utf-8")


def _forge_syntax_verdicts(cache_dir: Path, verdict: object) -> None:
    """Give the cached facts another syntax verdict; drop the results, so that the
    lint pass asks the facts again."""
    [store] = stores(cache_dir)
    raw = json.loads(store.read_bytes())
    for entry in raw["files"].values():
        if entry["facts"] and entry["facts"]["syntax"]:
            entry["facts"]["syntax"] = verdict
        entry["result"] = None
    store.write_text(json.dumps(raw), encoding="utf-8")


@pytest.mark.parametrize("forged", [[1, 2], ["1", 0, "x"], [1, 0, 2], "syntax error", {}])
def test_a_malformed_syntax_verdict_is_a_miss(tmp_path: Path, forged: object) -> None:
    _broken_package(tmp_path)
    assert run("app", cwd=tmp_path).stdout == BROKEN_REPORT
    assert run("app", cwd=tmp_path).stdout == BROKEN_REPORT
    _forge_syntax_verdicts(tmp_path / ".conclint_cache", forged)
    third = run("app", cwd=tmp_path)
    assert "Traceback" not in third.stderr
    assert third.stdout == BROKEN_REPORT


def test_the_lint_pass_takes_the_syntax_verdict_from_the_index(tmp_path: Path) -> None:
    _broken_package(tmp_path)
    run("app", cwd=tmp_path)
    _forge_syntax_verdicts(tmp_path / ".conclint_cache", [1, 0, "told"])
    # Python's parser is not asked twice about a file: the index pass's verdict is used.
    assert run("app", cwd=tmp_path).stdout == "app/broken.py:1:1: CCL001 told\n"


def _forge(store: Path) -> None:
    """Rewrite a store to claim a finding the file does not have."""
    raw = json.loads(store.read_bytes())
    for entry in raw["files"].values():
        entry["result"]["diagnostics"] = [
            [99, 0, 99, 1, "CCL101", "dangling-task", "forged", "warning"]
        ]
    store.write_text(json.dumps(raw), encoding="utf-8")


def _one_cached_file(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A linted file, its cache directory and its one store."""
    source = tmp_path / "m.py"
    source.write_text(BUG, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    lint_cached([source], cache_dir)
    [store] = stores(cache_dir)
    return source, cache_dir, store


def test_another_versions_directory_is_never_read(tmp_path: Path) -> None:
    source, cache_dir, store = _one_cached_file(tmp_path)
    # Control: a forged store of this version is what the next run reads...
    _forge(store)
    [forged] = lint_cached([source], cache_dir)
    assert [d.message for d in forged.diagnostics] == ["forged"]
    # ...and the same store in another version's folder is not; that folder goes.
    (cache_dir / __version__).rename(cache_dir / "0.0.9")
    [result] = lint_cached([source], cache_dir)
    assert [(d.line, d.code) for d in result.diagnostics] == [(5, "CCL101")]
    assert not (cache_dir / "0.0.9").exists()


# Sharing, permissions, odd places -------------------------------------------


def test_two_processes_lint_the_same_tree_with_one_cache_at_once(project: Path) -> None:
    for n in range(30):
        (project / "pkg" / f"extra{n}.py").write_text(BUG * (n % 3 + 1), encoding="utf-8")
    expected = run("--no-cache", "pkg", cwd=project)
    environment = {k: v for k, v in os.environ.items() if k != "CONCLINT_CACHE_DIR"}
    command = [sys.executable, "-m", "conclint", "--cache-dir", "shared", "pkg"]
    processes = [
        subprocess.Popen(
            [*command, "-j", str(jobs)],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for jobs in (1, 2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for stdout, stderr in outputs:
        assert stderr == expected.stderr  # the summary, and no warning
        assert stdout == expected.stdout
    assert [process.returncode for process in processes] == [1, 1]
    assert not list((project / "shared").rglob("*.tmp"))
    assert run("--cache-dir", "shared", "pkg", cwd=project).stdout == expected.stdout


def test_an_unwritable_cache_runs_and_warns_once(project: Path) -> None:
    # A file where the directory should be stops even root from writing there.
    (project / "blocked").write_text("", encoding="utf-8")
    expected = run("--no-cache", "pkg", cwd=project)
    done = run("--cache-dir", "blocked/cache", "-j", "2", "pkg", cwd=project)
    assert (done.returncode, done.stdout) == (expected.returncode, expected.stdout)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("conclint:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("conclint: warning: cache disabled, cannot write ")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into read-only directories (the blocked path above runs everywhere)",
)
def test_a_read_only_cache_directory_runs_and_warns_once(project: Path) -> None:
    run("pkg", cwd=project)
    cache_dir = project / ".conclint_cache"
    for directory in [cache_dir, *[p for p in cache_dir.rglob("*") if p.is_dir()]]:
        directory.chmod(0o555)
    try:
        (project / "pkg" / "new.py").write_text(BUG, encoding="utf-8")
        done = run("-j", "2", "pkg", cwd=project)
    finally:
        for directory in [cache_dir, *[p for p in cache_dir.rglob("*") if p.is_dir()]]:
            directory.chmod(0o755)
    assert done.returncode == 1
    assert done.stdout.count("CCL101") == 11
    assert len(done.stderr.splitlines()) == 1


def test_a_cache_directory_with_spaces(project: Path) -> None:
    first = run("--cache-dir", "my cache/dir", "pkg", cwd=project)
    cache_dir = project / "my cache" / "dir"
    assert (cache_dir / "CACHEDIR.TAG").is_file()
    assert stores(cache_dir)
    before = snapshot(cache_dir)
    second = run("--cache-dir", "my cache/dir", "pkg", cwd=project)
    assert second.stdout == first.stdout
    assert snapshot(cache_dir) == before  # every result was read, none written again


# Never stale ------------------------------------------------------------------


def test_a_changed_file_is_linted_again(project: Path) -> None:
    target = project / "pkg" / "m0.py"
    assert "pkg/m0.py:5:5: CCL101" in run("pkg", cwd=project).stdout
    target.write_text(FIXED, encoding="utf-8")
    assert "pkg/m0.py" not in run("pkg", cwd=project).stdout
    target.write_text("\n\n" + BUG, encoding="utf-8")
    assert "pkg/m0.py:7:5: CCL101" in run("pkg", cwd=project).stdout


def test_changed_settings_give_changed_results(project: Path) -> None:
    assert run("pkg", cwd=project).stdout.count("CCL101") == 10
    assert "CCL101" not in run("--select", "CCL2", "pkg", cwd=project).stdout
    assert run("--select", "CCL1", "pkg", cwd=project).stdout.count("CCL101") == 10
    (project / "pkg" / "spawn.py").write_text(
        "import app\n\n\nasync def main() -> None:\n"
        "    app.spawn(main())\n"
        "    await app.settle()\n",
        encoding="utf-8",
    )
    assert "pkg/spawn.py" not in run("pkg", cwd=project).stdout
    (project / "pyproject.toml").write_text(
        '[tool.conclint]\nextra-spawners = ["app.spawn"]\n', encoding="utf-8"
    )
    assert "pkg/spawn.py:5:5: CCL101" in run("pkg", cwd=project).stdout


def test_a_change_in_another_file_reaches_its_importers(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    net = tmp_path / "app" / "net.py"
    net.write_text("async def fetch() -> bytes:\n    return b''\n", encoding="utf-8")
    (tmp_path / "app" / "main.py").write_text(
        "from app.net import fetch\n\n\nasync def main() -> None:\n    fetch()\n", encoding="utf-8"
    )
    assert "app/main.py:5:5: CCL102" in run("app", cwd=tmp_path).stdout
    net.write_text("def fetch() -> bytes:\n    return b''\n", encoding="utf-8")
    assert run("app", cwd=tmp_path).stdout == ""


def test_identical_files_keep_their_own_paths(project: Path) -> None:
    run("pkg", cwd=project)
    lines = run("pkg", cwd=project).stdout.splitlines()
    assert [line.split(":")[0] for line in lines if "CCL101" in line] == [
        f"pkg/m{n}.py" for n in range(10)
    ]


# Cleaning and opting out --------------------------------------------------------


def test_clean_removes_the_cache(project: Path) -> None:
    run("pkg", cwd=project)
    run("--cache-dir", "elsewhere", "pkg", cwd=project)
    assert (project / ".conclint_cache").is_dir() and (project / "elsewhere").is_dir()
    done = run("clean", cwd=project)
    assert done.returncode == 0 and "removed" in done.stderr
    assert not (project / ".conclint_cache").exists()
    assert run("clean", "--cache-dir", "elsewhere", cwd=project).returncode == 0
    assert not (project / "elsewhere").exists()
    assert "no cache to remove" in run("clean", cwd=project).stderr


def test_clean_removes_only_a_tagged_cache(project: Path) -> None:
    done = run("clean", "--cache-dir", "pkg", cwd=project)
    assert done.returncode == 2
    assert "holds files that conclint did not write" in done.stderr
    assert len(list((project / "pkg").iterdir())) == 12


def test_clean_finds_the_configured_cache(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.conclint]\ncache-dir = "c"\n', encoding="utf-8")
    run("pkg", cwd=project)
    assert (project / "c" / "CACHEDIR.TAG").is_file()
    run("clean", cwd=project)
    assert not (project / "c").exists()


def test_no_cache_writes_nothing(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.conclint]\ncache-dir = "c"\n', encoding="utf-8")
    before = snapshot(project)
    environment = {"CONCLINT_CACHE_DIR": str(project / "from-env")}
    for flags in ([], ["-j", "2"], ["--cache-dir", "flagged"]):
        done = run("--no-cache", *flags, "pkg", cwd=project, env=environment)
        assert done.returncode == 1
    assert snapshot(project) == before
    assert not (project / "from-env").exists()


# Never the project's own files (a cache directory that overlaps the project) -------

GITIGNORE = "build/\n"


def _user_project(root: Path) -> Path:
    """A project with its own .gitignore, a git directory and a file with a bug."""
    (root / "pkg").mkdir()
    (root / "pkg" / "m.py").write_text(BUG, encoding="utf-8")
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    return root


def _ways_to_name(directory: str) -> list[tuple[list[str], dict[str, str], str]]:
    """The flag, the environment and the configuration naming one cache directory."""
    return [
        (["--cache-dir", directory], {}, ""),
        ([], {"CONCLINT_CACHE_DIR": directory}, ""),
        ([], {}, f'cache-dir = "{directory}"\n'),
    ]


@pytest.mark.parametrize("directory", [".", "..", "pkg", "pkg/.."])
def test_a_cache_directory_over_the_project_is_refused(
    tmp_path: Path, directory: str, monkeypatch: pytest.MonkeyPatch, capsys: CaptureFixture[str]
) -> None:
    (tmp_path / "project").mkdir()
    root = _user_project(tmp_path / "project")
    monkeypatch.chdir(root)
    for flags, environment, config in _ways_to_name(directory):
        (root / "pyproject.toml").write_text(f"[tool.conclint]\n{config}", encoding="utf-8")
        before = snapshot(tmp_path)
        for name, value in {"CONCLINT_CACHE_DIR": "", **environment}.items():
            monkeypatch.setenv(name, value)
        assert main([*flags, "pkg"]) == 2, (flags, environment, config)
        assert main(["clean", *flags]) == 2, (flags, environment, config)
        out, err = capsys.readouterr()
        assert out == ""
        assert err.count("conclint: error: cache directory") == 2, err
        assert snapshot(tmp_path) == before
    assert (root / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
    assert (root / ".git" / "HEAD").is_file()


def test_a_symlink_to_the_project_is_refused_as_a_cache(tmp_path: Path) -> None:
    root = _user_project(tmp_path)
    (root / "link").symlink_to(root)
    before = snapshot(root)
    for command in (["check", "pkg"], ["clean"]):
        done = run(command[0], "--cache-dir", "link", *command[1:], cwd=root)
        assert done.returncode == 2
    assert snapshot(root) == before


def test_clean_refuses_a_tag_without_our_signature(project: Path) -> None:
    folder = project / "other"
    folder.mkdir()
    (folder / "CACHEDIR.TAG").write_text("Signature: 0000\n", encoding="utf-8")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    done = run("clean", "--cache-dir", "other", cwd=project)
    assert done.returncode == 2 and "did not write" in done.stderr
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("where", ["notes.txt", f"{__version__}/notes.txt", "sub/notes.txt"])
def test_clean_refuses_a_signed_cache_holding_foreign_files(project: Path, where: str) -> None:
    run("pkg", cwd=project)
    cache_dir = project / ".conclint_cache"
    (cache_dir / where).parent.mkdir(parents=True, exist_ok=True)
    (cache_dir / where).write_text("mine", encoding="utf-8")
    done = run("clean", cwd=project)
    assert done.returncode == 2 and "did not write" in done.stderr
    assert (cache_dir / where).read_text(encoding="utf-8") == "mine"


def test_an_empty_directory_becomes_a_cache_without_replacing_anything(project: Path) -> None:
    (project / "empty").mkdir()
    assert run("--cache-dir", "empty", "pkg", cwd=project).returncode == 1
    assert (project / "empty" / "CACHEDIR.TAG").is_file()
    assert (project / "empty" / ".gitignore").read_text(encoding="utf-8") == "*\n"
    assert run("clean", "--cache-dir", "empty", cwd=project).returncode == 0
    assert not (project / "empty").exists()


# Keyed by project, root-relative path and settings ----------------------------------


def test_per_file_ignores_are_keyed_by_the_path_from_the_root(tmp_path: Path) -> None:
    project = tmp_path / "x"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.conclint]\nper-file-ignores = {"tests/*" = ["CCL101"]}\n', encoding="utf-8"
    )
    (project / "t.py").write_text(BUG, encoding="utf-8")
    (project / "tests" / "t.py").write_text(BUG, encoding="utf-8")
    assert run("t.py", cwd=project / "tests").returncode == 0
    assert run("t.py", cwd=project).returncode == 1
    assert run("tests/t.py", cwd=project).returncode == 0
    assert run("../t.py", cwd=project / "tests").returncode == 1


def test_two_projects_sharing_a_cache_keep_their_own_results(tmp_path: Path) -> None:
    shared = str(tmp_path / "shared-cache")
    ignoring, strict = tmp_path / "ignoring", tmp_path / "strict"
    for root, config in ((ignoring, 'ignore = ["CCL101"]\n'), (strict, "")):
        root.mkdir()
        (root / "pyproject.toml").write_text(f"[tool.conclint]\n{config}", encoding="utf-8")
        (root / "m.py").write_text(BUG, encoding="utf-8")
    for _ in range(2):
        assert run("--cache-dir", shared, "m.py", cwd=ignoring).returncode == 0
        assert run("--cache-dir", shared, "m.py", cwd=strict).returncode == 1


def test_a_new_package_init_reaches_the_project_index(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "disk.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n")
    (app / "helpers.py").write_text("from .disk import pause\n\n\ndef wait():\n    pause()\n")
    (app / "main.py").write_text(
        "from app.helpers import wait\n\n\nasync def main():\n    wait()\n", encoding="utf-8"
    )
    assert "CCL604" not in run("app", cwd=tmp_path).stdout
    (app / "__init__.py").write_text("", encoding="utf-8")
    expected = run("--no-cache", "app", cwd=tmp_path).stdout
    assert "app/main.py:5:5: CCL604" in expected
    assert run("app", cwd=tmp_path).stdout == expected
    (app / "__init__.py").unlink()
    assert "CCL604" not in run("app", cwd=tmp_path).stdout


# Bounded --------------------------------------------------------------------------------


def test_the_cache_stays_the_size_of_the_tree(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    for n in range(9):
        (app / f"user{n}.py").write_text(
            "from app.core import *\n\n\nasync def main():\n    pass\n", encoding="utf-8"
        )
    cache_dir = tmp_path / ".conclint_cache"
    sizes = []
    for round_ in range(50):
        (app / "core.py").write_text(f"async def work{round_}():\n    pass\n", encoding="utf-8")
        lint_cached(sorted(app.iterdir()), cache_dir)
        sizes.append(sum(path.stat().st_size for path in stores(cache_dir)))
    [store] = stores(cache_dir)
    assert len(json.loads(store.read_bytes())["files"]) == 11
    assert max(sizes) < sizes[0] * 1.1
    (app / "user0.py").unlink()
    lint_cached(sorted(app.iterdir()), cache_dir)
    assert len(json.loads(store.read_bytes())["files"]) == 10


def test_stores_of_old_settings_are_evicted(project: Path) -> None:
    for code in ("CCL1", "CCL2", "CCL3", "CCL4", "CCL5", "CCL6"):
        run("--select", code, "pkg", cwd=project)
    assert len(stores(project / ".conclint_cache")) == 4


def test_a_failed_write_leaves_no_temporary_file(project: Path) -> None:
    """A file-size limit makes every write past a few bytes fail, as a full disk does."""
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))\n"
        "from conclint.cli import main\n"
        "sys.exit(main(['-j', '2', 'pkg']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and done.stdout.count("CCL101") == 10
    assert done.stderr.count("cache disabled") == 1
    assert not list((project / ".conclint_cache").rglob("*.tmp"))


def test_a_second_run_takes_every_result_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's digest keys every result: read back from the store (whose keys are
    sorted), the index must give the same one, or no result is ever reused."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    state = "import asyncio\n\nZETA = asyncio.Queue()\nALPHA = asyncio.Lock()\n"
    (tmp_path / "app" / "state.py").write_text(state, encoding="utf-8")
    paths = [tmp_path / "app" / "__init__.py", tmp_path / "app" / "state.py"]
    cache_dir = tmp_path / "cache"
    first = lint_cached(paths, cache_dir)
    linted: list[str] = []
    real = runner_module._lint_one
    monkeypatch.setattr(
        runner_module, "_lint_one", lambda path, *rest: linted.append(path) or real(path, *rest)
    )
    assert lint_cached(paths, cache_dir) == first
    assert linted == []
