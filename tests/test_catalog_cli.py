"""`conclint catalog`: what conclint knows, filtered by kind or role, the user's entries merged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conclint.catalog import load
from conclint.cli import main

TABLE = """\
[tool.conclint.catalog]
like = { "aiologic.Lock" = "asyncio.Lock" }
blocking = ["app.db.Connection.execute"]
spawners = ["app.tasks.spawn"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project without configuration, as the working directory."""
    (tmp_path / ".git").mkdir()  # the search for a configuration stops here
    monkeypatch.chdir(tmp_path)
    return tmp_path


def catalog(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["catalog", *args])
    out, err = capsys.readouterr()
    return status, out, err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    status, out, err = catalog(capsys, "--output-format", "json", *args)
    assert (status, err) == (0, "")
    found: dict[str, Any] = json.loads(out)
    return found


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in entries]


def test_json_holds_the_whole_catalog_sorted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = load()
    found = as_json(capsys)
    assert list(found) == ["kinds", "functions", "names", "any_receiver"]
    assert names(found["kinds"]) == sorted(known.kinds)
    assert names(found["functions"]) == sorted(known.functions)
    assert names(found["names"]) == sorted(known.names)
    assert names(found["any_receiver"]) == sorted(known.any_receiver)
    queue = next(kind for kind in found["kinds"] if kind["name"] == "asyncio.Queue")
    described = known.kinds["asyncio.Queue"]
    assert queue["classes"] == list(described.classes)
    assert queue["traits"] == sorted(described.traits)
    assert {m["name"]: m["roles"] for m in queue["methods"]} == {
        name: sorted(method.roles) for name, method in described.methods.items()
    }
    sleep = next(entry for entry in found["functions"] if entry["name"] == "time.sleep")
    assert set(sleep) == {"name", "roles", "remedy", "unpacks"}
    assert "blocking" in sleep["roles"] and sleep["remedy"] == known.functions["time.sleep"].remedy


def test_text_is_one_entry_per_line_under_a_heading_per_group(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = load()
    status, out, _ = catalog(capsys)
    assert status == 0
    lines = out.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert headings == [
        "kinds and their methods:",
        "functions:",
        "names:",
        "methods of any object:",
    ]
    starts = {line.split()[0] for line in lines if line.startswith(" ")}
    assert set(known.kinds) <= starts
    assert {f"{kind}.{method}" for kind in known.kinds for method in known.kinds[kind].methods} <= (
        starts
    )
    assert set(known.functions) | set(known.names) <= starts
    assert {f".{name}" for name in known.any_receiver} <= starts
    queue = next(line for line in lines if line.split()[0] == "asyncio.Queue")
    assert "classes: asyncio.LifoQueue, asyncio.PriorityQueue, asyncio.Queue" in queue
    get = next(line for line in lines if line.split()[0] == "asyncio.Queue.get")
    assert get.split(maxsplit=1)[1] == ", ".join(
        sorted(known.kinds["asyncio.Queue"].methods["get"].roles)
    )


def test_kind_takes_a_kind_or_a_class_of_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = as_json(capsys, "--kind", "asyncio.LifoQueue")
    assert names(found["kinds"]) == ["asyncio.Queue"]
    assert found["functions"] == found["names"] == found["any_receiver"] == []
    # The functions that make one by unpacking come with it.
    stream = as_json(capsys, "--kind", "asyncio.StreamWriter")
    assert "asyncio.open_connection" in names(stream["functions"])
    assert all("asyncio.StreamWriter" in entry["unpacks"] for entry in stream["functions"])


def test_role_keeps_the_entries_that_have_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = load()
    locks = as_json(capsys, "--role", "lock")  # a trait: the kinds, with all their methods
    assert names(locks["kinds"]) == sorted(known.kinds_with("lock"))
    lock = next(kind for kind in locks["kinds"] if kind["name"] == "threading.Lock")
    assert names(lock["methods"]) == sorted(known.kinds["threading.Lock"].methods)
    closes = as_json(capsys, "--role", "close")  # a method role: those methods only
    assert {(k["name"], m["name"]) for k in closes["kinds"] for m in k["methods"]} == {
        (kind, method)
        for kind, methods in known.methods_by_kind("close").items()
        for method in methods
    }
    spawns = as_json(capsys, "--role", "spawn")
    assert names(spawns["functions"]) == sorted(known.functions_with("spawn"))
    cancellation = as_json(capsys, "--role", "cancellation")
    assert names(cancellation["names"]) == sorted(known.names_with("cancellation"))
    both = as_json(capsys, "--kind", "asyncio.Queue", "--role", "take")
    assert [names(kind["methods"]) for kind in both["kinds"]] == [
        sorted(known.methods_with("take", "asyncio.Queue"))
    ]


def test_the_users_entries_are_merged_from_the_configuration(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(TABLE, encoding="utf-8")
    lock = as_json(capsys, "--kind", "aiologic.Lock")
    assert names(lock["kinds"]) == ["asyncio.Lock"]
    assert "aiologic.Lock" in lock["kinds"][0]["classes"]
    client = as_json(capsys, "--kind", "app.db.Connection")
    assert client["kinds"][0]["methods"] == [{"name": "execute", "roles": ["blocking"]}]
    assert "app.tasks.spawn" in names(as_json(capsys, "--role", "spawn")["functions"])
    _, text, _ = catalog(capsys, "--role", "blocking")
    assert ["app.db.Connection.execute", "blocking"] in [line.split() for line in text.splitlines()]
    # --isolated: the shipped catalog only; --config: that file.
    (project / "other.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    shipped = as_json(capsys, "--isolated")
    assert "app.tasks.spawn" not in names(shipped["functions"])
    assert as_json(capsys, "--config", str(project / "other.toml")) == shipped


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "asyncio.Lok"], "unknown kind 'asyncio.Lok' (did you mean 'asyncio.Lock'?)"),
        (["--role", "spwan"], "unknown role 'spwan' (did you mean 'spawn'?)"),
        (["--config", "missing.toml"], "config file not found: missing.toml"),
        (["--output-format", "sarif"], "invalid choice: 'sarif'"),
    ],
)
def test_an_unknown_kind_or_role_exits_2_with_a_clear_message(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, out, err = catalog(capsys, *args)
    assert (status, out) == (2, "")
    assert err.startswith("conclint: error: ") and message in err


def test_a_bad_entry_in_the_configuration_exits_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.conclint.catalog]\nspawners = "app.spawn"\n', encoding="utf-8"
    )
    status, out, err = catalog(capsys)
    assert (status, out) == (2, "")
    assert "[tool.conclint.catalog] 'spawners' must be a list of strings" in err


def test_nothing_matching_is_said_on_stderr(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = catalog(capsys, "--kind", "asyncio.Lock", "--role", "offload")
    assert (status, out, err) == (0, "", "nothing in the catalog matches\n")
    assert as_json(capsys, "--kind", "asyncio.Lock", "--role", "offload") == {
        "kinds": [],
        "functions": [],
        "names": [],
        "any_receiver": [],
    }


def test_the_command_runs_as_a_subcommand(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conclint", "catalog", "--role", "closes-fd"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["functions:", "  os.close  closes-fd"]
