"""SARIF and `github` paths start at the repository root, as GitHub resolves them: the
upload-sarif action reads a relative URI from the checkout (the repository root) and
ignores `uriBaseId`; the runner reads an annotation's relative `file` from the repository
root too and makes an absolute one relative to it, whatever `working-directory:` the step
ran in. Real git repositories, the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import pytest

from conclint.report import paths
from tests.test_cli import run
from tests.test_sarif import assert_valid

BUGGY = "import asyncio\n\n\nasync def handle(reader):\n    asyncio.create_task(reader.read())\n"


def conclint(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run("check", "--no-cache", *args, cwd=cwd, env=env)


def annotated_files(run: subprocess.CompletedProcess[str]) -> list[str]:
    assert run.returncode == 1, run.stderr
    files = []
    for line in run.stdout.splitlines():
        head = line[2:].split("::", 1)[0]
        properties = dict(item.split("=", 1) for item in head.split(" ", 1)[1].split(","))
        files.append(properties["file"])
    return files


def sarif_uris(run: subprocess.CompletedProcess[str]) -> tuple[str, list[tuple[str, str | None]]]:
    assert run.returncode == 1, run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    assert_valid(document)
    (sarif_run,) = document["runs"]
    base = sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    artifacts = [
        result["locations"][0]["physicalLocation"]["artifactLocation"]
        for result in sarif_run["results"]
    ]
    return base, [(artifact["uri"], artifact.get("uriBaseId")) for artifact in artifacts]


def github_reads(workspace: Path, file: str) -> Path:
    """The file an annotation names, as the runner finds it: an absolute path is made
    relative to the workspace (the repository root); a relative one is taken as it is,
    from the repository root (actions/runner, `IssueCommandExtension`)."""
    if os.path.isabs(file):
        file = os.path.relpath(file, workspace)
    return workspace / file


def upload_sarif_reads(checkout: Path, uri: str) -> Path:
    """The file a result names, as the upload-sarif action finds it: the URI decoded, a
    `file://` scheme dropped, a relative path taken from the checkout; `uriBaseId` plays
    no part (github/codeql-action, `resolveUriToFile`)."""
    path = unquote(uri).removeprefix("file://")
    return Path(path) if os.path.isabs(path) else checkout / path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A monorepo: the Python project is `backend/`, with its own pyproject.toml."""
    root = tmp_path / "repo"
    (root / "backend" / "app").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    (root / "backend" / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    (root / "backend" / "app" / "handlers.py").write_text(BUGGY, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("working_directory", "path"),
    [("", "backend"), ("backend", "."), ("backend", "app/handlers.py"), ("backend/app", ".")],
)
def test_github_annotations_name_files_from_the_repository_root(
    repo: Path, working_directory: str, path: str
) -> None:
    run = conclint("--output-format", "github", path, cwd=repo / working_directory)
    assert annotated_files(run) == ["backend/app/handlers.py"]
    assert github_reads(repo, "backend/app/handlers.py").is_file()


@pytest.mark.parametrize("working_directory", ["", "backend", "backend/app"])
def test_sarif_uris_start_at_the_repository_root(repo: Path, working_directory: str) -> None:
    run = conclint("--output-format", "sarif", str(repo / "backend"), cwd=repo / working_directory)
    base, uris = sarif_uris(run)
    assert base == repo.resolve().as_uri() + "/"
    assert uris == [("backend/app/handlers.py", "%SRCROOT%")]
    assert upload_sarif_reads(repo, uris[0][0]).is_file()


def test_paths_through_a_symlink_are_resolved(tmp_path: Path, repo: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(repo, target_is_directory=True)
    inside = conclint("--output-format", "github", ".", cwd=link / "backend")
    assert annotated_files(inside) == ["backend/app/handlers.py"]
    # GitHub shows no result at a symlinked path: the real one is named.
    named = conclint("--output-format", "github", "link/backend", cwd=tmp_path)
    assert annotated_files(named) == ["backend/app/handlers.py"]


def test_report_root_flag_overrides_git(repo: Path) -> None:
    backend = repo / "backend"
    github = conclint("--output-format", "github", "--report-root", ".", ".", cwd=backend)
    assert annotated_files(github) == ["app/handlers.py"]
    sarif = conclint("--output-format", "sarif", "--report-root", "backend", "backend", cwd=repo)
    base, uris = sarif_uris(sarif)
    assert base == backend.resolve().as_uri() + "/"
    assert uris == [("app/handlers.py", "%SRCROOT%")]


def test_report_root_must_be_a_directory(repo: Path) -> None:
    run = conclint("--report-root", "nowhere", ".", cwd=repo)
    assert run.returncode == 2
    assert "--report-root: no such directory: 'nowhere'" in run.stderr


def test_without_git_paths_start_at_the_project_root(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    (project / "app" / "handlers.py").write_text(BUGGY, encoding="utf-8")
    outside = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}  # whatever holds the temporary files
    run = conclint("--output-format", "github", ".", cwd=project / "app", env=outside)
    assert annotated_files(run) == ["app/handlers.py"]
    base, uris = sarif_uris(
        conclint("--output-format", "sarif", ".", cwd=project / "app", env=outside)
    )
    assert base == project.resolve().as_uri() + "/"
    assert uris == [("app/handlers.py", "%SRCROOT%")]


def test_files_outside_the_root_are_named_by_absolute_paths(tmp_path: Path, repo: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "script.py").write_text(BUGGY, encoding="utf-8")
    target = str(elsewhere / "script.py")
    github = conclint("--output-format", "github", target, cwd=repo / "backend")
    assert annotated_files(github) == [PurePosixPath(elsewhere.resolve(), "script.py").as_posix()]
    _, uris = sarif_uris(conclint("--output-format", "sarif", target, cwd=repo / "backend"))
    assert uris == [((elsewhere / "script.py").resolve().as_uri(), None)]


def test_repository_root_asks_git(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paths.repository_root(str(repo / "backend" / "app")) == str(repo.resolve())
    assert paths.repository_root(str(tmp_path / "does-not-exist")) is None
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert paths.repository_root(str(plain)) is None
    assert paths.report_root(str(plain), str(tmp_path)) == str(tmp_path.resolve())
    assert paths.report_root(str(repo / "backend"), str(plain)) == str(repo.resolve())
    assert paths.report_root(str(repo), str(plain), str(plain)) == str(plain.resolve())
    # Without git, the nearest directory holding `.git`.
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert paths.repository_root(str(repo / "backend" / "app")) == str(repo.resolve())
    assert paths.repository_root(str(plain)) is None


def test_a_checkout_git_refuses_to_read_is_still_found(repo: Path) -> None:
    """git refuses a repository another user owns ("dubious ownership"), as in a
    container: the repository root is then the directory holding `.git`."""
    # git's own switch for testing this (git 2.35.2+): the checkout is taken as another's.
    env = {"GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"}
    refused = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=repo,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert refused.returncode != 0 and b"safe.directory" in refused.stderr
    run = conclint("--output-format", "github", ".", cwd=repo / "backend", env=env)
    assert annotated_files(run) == ["backend/app/handlers.py"]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("app/x.py", "app/x.py"),
        ("./app/../lib/x.py", "lib/x.py"),
        ("/root/app/x.py", "app/x.py"),
        ("../other/x.py", "/other/x.py"),
        ("/elsewhere/x.py", "/elsewhere/x.py"),
    ],
)
def test_shown_path(path: str, shown: str) -> None:
    assert paths.shown_path(path, "/root", "/root") == shown
