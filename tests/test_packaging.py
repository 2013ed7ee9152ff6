"""What a user installs and reads: the package metadata, the license, the changelog, and the
README's settings, pre-commit snippet and per-file-ignores, each tried for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import yaml

from conclint.config import _KEYS, DEFAULT_PER_FILE_IGNORES, declared_options
from tests.conftest import ROOT
from tests.test_cli import run
from tests.test_precommit import GIT, _snapshot

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REPOSITORY = "https://github.com/conclint/conclint"


def subsection(markdown: str, title: str) -> str:
    """The text under `### title`, up to the next heading (a `#` line outside a fence)."""
    lines = markdown.splitlines()
    start = lines.index(f"### {title}") + 1
    inside_fence = False
    for end in range(start, len(lines)):
        if lines[end].startswith("```"):
            inside_fence = not inside_fence
        elif lines[end].startswith("#") and not inside_fence:
            return "\n".join(lines[start:end])
    return "\n".join(lines[start:])


def fenced(markdown: str, language: str) -> str:
    """The first fenced block of `language` in `markdown`."""
    return markdown.split(f"```{language}\n", 1)[1].split("```", 1)[0]


# The package metadata --------------------------------------------------------------------


def test_license_is_mit_and_ships_as_a_file() -> None:
    assert PYPROJECT["license"] == "MIT"
    assert PYPROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "conclint developers" in text


def test_installed_metadata_names_the_license_file_urls_and_pythons() -> None:
    """The metadata pip wrote when it installed this checkout (as `pip install -e .` does)."""
    meta = metadata.metadata("conclint")
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert urls["Homepage"] == urls["Repository"] == REPOSITORY
    assert urls["Changelog"] == f"{REPOSITORY}/blob/main/CHANGELOG.md"
    assert urls["Issues"] == f"{REPOSITORY}/issues"
    classifiers = set(meta.get_all("Classifier") or [])
    assert meta["Requires-Python"] == ">=3.10"
    pythons = {c.rsplit(" ", 1)[1] for c in classifiers if re.search(r":: 3\.\d+$", c)}
    assert pythons == {"3.10", "3.11", "3.12", "3.13"}
    # The license text itself is in the distribution (`.dist-info/licenses/` in a wheel).
    distribution = metadata.distribution("conclint")
    assert (distribution.read_text("licenses/LICENSE") or "").startswith("MIT License")


def test_the_rule_pages_link_to_the_repository_the_metadata_names() -> None:
    from conclint.rules.base import DOCS_BASE

    assert DOCS_BASE.startswith(PYPROJECT["urls"]["Repository"] + "/")


def test_changelog_has_the_unreleased_changes_and_the_current_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", changelog, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert PYPROJECT["version"] in headings
    sdist = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]
    assert {"CHANGELOG.md", "LICENSE"} <= set(sdist["build"]["targets"]["sdist"]["include"])


# The README: every setting in one place ---------------------------------------------------------


def test_readme_lists_every_setting() -> None:
    settings = subsection(README, "Settings")
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", settings, flags=re.MULTILINE))
    options = declared_options()
    assert documented == {*_KEYS, *options}, "document every [tool.conclint] key in the README"
    # The options the rules declare, as they declare them.
    for key, option in options.items():
        default = json.dumps(
            list(option.default) if isinstance(option.default, tuple) else option.default
        )
        assert f"| `{key}` | `{default}` | {option.help} |" in settings, key


# The README: a pre-commit snippet that works as written, pinned the way it says ----------------


def test_readme_precommit_snippet_gets_pinned_to_a_commit_by_autoupdate(tmp_path: Path) -> None:
    part = subsection(README, "pre-commit")
    snippet = fenced(part, "yaml")
    config = yaml.safe_load(snippet)
    (repo,) = config["repos"]
    assert repo["repo"] == REPOSITORY and [hook["id"] for hook in repo["hooks"]] == ["conclint"]
    command = f"pre-commit autoupdate --repo {REPOSITORY}"
    assert command in part

    # The hook repository as users clone it (this checkout, with no tag), and a project using it.
    hook_repo, consumer = tmp_path / "hook-repo", tmp_path / "consumer"
    hook_repo.mkdir()
    consumer.mkdir()
    head = _snapshot(hook_repo)
    subprocess.run(["git", "update-ref", "refs/heads/main", head], cwd=hook_repo, check=True)
    subprocess.run([*GIT, "init", "-q"], cwd=consumer, check=True)
    config_file = consumer / ".pre-commit-config.yaml"
    config_file.write_text(snippet.replace(REPOSITORY, hook_repo.as_uri()), encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PRE_COMMIT", None)

    # As written, the rev names a commit of the repository (no tag is published), and
    # pre-commit warns that it moves, as the README says.
    resolves = ["git", "rev-parse", "--verify", "--quiet", f"{repo['rev']}^{{commit}}"]
    assert subprocess.run(resolves, cwd=hook_repo, capture_output=True).returncode == 0
    check = [sys.executable, "-m", "pre_commit", "validate-config", str(config_file)]
    unpinned = subprocess.run(check, cwd=consumer, env=env, capture_output=True, text=True)
    assert unpinned.returncode == 0 and "mutable reference" in unpinned.stdout + unpinned.stderr
    update = [sys.executable, "-m", "pre_commit", *command.split()[1:3], hook_repo.as_uri()]
    done = subprocess.run(update, cwd=consumer, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

    pinned = yaml.safe_load(config_file.read_text(encoding="utf-8"))["repos"][0]["rev"]
    assert pinned == head and re.fullmatch(r"[0-9a-f]{40}", pinned)
    # A full SHA is what pre-commit accepts without its "mutable reference" warning.
    validated = subprocess.run(check, cwd=consumer, env=env, capture_output=True, text=True)
    assert validated.returncode == 0 and "mutable" not in validated.stdout + validated.stderr


# The README: the per-file-ignores for tests, examples and docs ---------------------------------

BLOCKING = """\
import asyncio
import time


async def handler() -> None:
    time.sleep(1)
    asyncio.create_task(asyncio.to_thread(print))


async def broken() -> None:
    asyncio.sleep(1)
"""


def test_readme_shows_the_default_per_file_ignores() -> None:
    table = tomllib.loads(fenced(subsection(README, "Tests, examples, docs and commands"), "toml"))
    shown = table["tool"]["conclint"]["per-file-ignores"]
    assert shown == {glob: list(codes) for glob, codes, _ in DEFAULT_PER_FILE_IGNORES}


def test_by_default_most_rules_are_for_shipped_code(tmp_path: Path) -> None:
    deliberate = [
        "tests/test_app.py",
        "pkg/tests/helpers.py",
        "pkg/test_io.py",
        "pkg/io_test.py",
        "conftest.py",
        "pkg/testing.py",
        "pkg/testing/client.py",
        "pkg/pytest_plugin.py",
        "examples/demo.py",
        "docs/snippets/quickstart.py",
    ]
    # A project that itself sits in a directory named `tests`: the globs are read from
    # the project's root, so that directory makes nothing a test.
    project = tmp_path / "tests" / "project"
    for name in [*deliberate, "src/pkg/app.py", "src/pkg/testsuite.py"]:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(BLOCKING, encoding="utf-8")

    def reported() -> list[str]:
        """The files with findings other than CCL102's, which every file gets: a coroutine
        never awaited is a bug in a test too (its body never runs)."""
        done = run("--no-cache", "--output-format", "concise", ".", cwd=project)
        assert done.returncode == 1, done.stderr
        lines = [
            line
            for line in done.stdout.splitlines()
            if line.startswith(tuple("./abcdefghijklmnopqrstuvwxyz"))
        ]
        unawaited = sorted(line.split(":", 1)[0] for line in lines if " CCL102 " in line)
        assert unawaited == sorted(["src/pkg/app.py", "src/pkg/testsuite.py", *deliberate])
        others = [line for line in lines if " CCL102 " not in line]
        assert all(" CCL601 " in line or " CCL101 " in line for line in others)
        return sorted({line.split(":", 1)[0] for line in others})

    assert reported() == ["src/pkg/app.py", "src/pkg/testsuite.py"]
    (project / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    assert reported() == ["src/pkg/app.py", "src/pkg/testsuite.py"]
    # A table of one's own replaces the defaults; an empty one lints everything.
    (project / "pyproject.toml").write_text(
        "[tool.conclint]\nper-file-ignores = {}\n", encoding="utf-8"
    )
    assert reported() == sorted([*deliberate, "src/pkg/app.py", "src/pkg/testsuite.py"])
    # `extend-per-file-ignores` adds to the defaults.
    (project / "pyproject.toml").write_text(
        '[tool.conclint.extend-per-file-ignores]\n"src/pkg/app.py" = ["CCL601", "CCL101"]\n',
        encoding="utf-8",
    )
    assert reported() == ["src/pkg/testsuite.py"]


COMMAND = """\
import asyncio
import time


async def main() -> None:
    time.sleep(1)
    asyncio.create_task(asyncio.to_thread(print))
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("interrupted")
"""


def test_by_default_commands_may_block_and_end_on_ctrl_c(tmp_path: Path) -> None:
    commands = ["pkg/cli.py", "pkg/commands/cli.py", "pkg/__main__.py"]
    # A `cli/` package may hold a server one of its commands starts: every rule applies.
    for name in [*commands, "pkg/client.py", "pkg/cli/fileserver.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(COMMAND, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    done = run("--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    found = {(Path(f["path"]).as_posix(), f["code"]) for f in json.loads(done.stdout)}
    # The dropped task is reported everywhere; blocking and the swallowed Ctrl-C only
    # outside the commands.
    assert found == {
        *((name, "CCL101") for name in commands),
        *(
            (name, code)
            for name in ("pkg/client.py", "pkg/cli/fileserver.py")
            for code in ("CCL101", "CCL601", "CCL203")
        ),
    }
