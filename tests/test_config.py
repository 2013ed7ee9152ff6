"""Selection, validation and per-file ignores of [tool.conclint]."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from conclint import registry
from conclint.config import (
    ConfigError,
    Settings,
    find_config_file,
    is_enabled,
    load_settings,
    parse_codes,
    per_file_ignored,
)

KNOWN = ("CCL001", "CCL002", "CCL101", "CCL102", "CCL203", "CCL601")


def enabled(settings: Settings, code: str, preview: bool = False) -> bool:
    return is_enabled(code, settings, preview_rule=preview)


def test_prefixes_select_families() -> None:
    settings = Settings(select=("CCL1",))
    assert enabled(settings, "CCL101")
    assert not enabled(settings, "CCL203")


def test_most_specific_prefix_wins() -> None:
    settings = Settings(select=("CCL",), ignore=("CCL1",), extend_select=("CCL101",))
    assert enabled(settings, "CCL101")
    assert not enabled(settings, "CCL102")
    assert enabled(settings, "CCL203")


def test_tie_goes_to_ignore() -> None:
    assert not enabled(Settings(select=("CCL2",), ignore=("CCL2",)), "CCL203")


def test_preview_rules_need_preview() -> None:
    assert not enabled(Settings(), "CCL405", preview=True)
    assert enabled(Settings(preview=True), "CCL405", preview=True)


def test_tool_diagnostics_stay_on_unless_ignored() -> None:
    assert enabled(Settings(select=("CCL6",)), "CCL001")
    assert not enabled(Settings(ignore=("CCL001",)), "CCL001")


def test_codes_are_validated() -> None:
    assert parse_codes("ccl1, CCL203", "--select", KNOWN) == ("CCL1", "CCL203")
    with pytest.raises(ConfigError, match="'CCL9'"):
        parse_codes("CCL9", "--select", KNOWN)


def test_load_settings_reads_every_key(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        "[tool.conclint]\n"
        'select = ["CCL1"]\nignore = ["CCL102"]\nextend-select = ["CCL601"]\npreview = true\n'
        'exclude = ["gen"]\nextend-exclude = ["old"]\njobs = 2\ncache-dir = "c"\n'
        'extra-spawners = ["app.spawn"]\nextra-blocking-calls = ["app.io.read"]\n'
        "[tool.conclint.per-file-ignores]\n"
        '"tests/*" = ["CCL101"]\n',
        encoding="utf-8",
    )
    settings = load_settings(config, registry.known_codes())
    assert settings.select == ("CCL1",)
    assert settings.ignore == ("CCL102",)
    assert settings.extend_select == ("CCL601",)
    assert settings.preview is True
    assert (settings.exclude, settings.extend_exclude) == (("gen",), ("old",))
    assert (settings.jobs, settings.cache_dir) == (2, "c")
    assert settings.extra_spawners == ("app.spawn",)
    assert settings.extra_blocking_calls == ("app.io.read",)
    assert settings.per_file_ignores == (("tests/*", ("CCL101",)),)
    assert per_file_ignored(str(tmp_path / "tests" / "x.py"), settings) == ("CCL101",)
    assert per_file_ignored(str(tmp_path / "src" / "x.py"), settings) == ()


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.conclint]\nselectt = ["CCL1"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'selectt' \(did you mean 'select'\?\)"):
        load_settings(config, KNOWN)


def test_nearest_config_with_a_conclint_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    inner = tmp_path / "sub"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[tool.other]\n", encoding="utf-8")
    assert find_config_file(inner) == tmp_path / "pyproject.toml"


def test_settings_change_the_cache_key_only_when_results_can_change() -> None:
    base = Settings()
    assert base.options_key() == Settings(jobs=8, exclude=("x",)).options_key()
    assert base.options_key() != Settings(select=("CCL1",)).options_key()


# Any pyproject.toml: a configuration error naming the file, never a crash or a hang.


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail, rather than hang, when the block blocks (on a FIFO's open, say)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[tool.conclint]\nselect = ["CCL1"]\n# \xff\n', "byte 0xff on line 3 is not UTF-8"),
        (b"\xef\xbb\xbf[tool.conclint]\n\xc3(", "byte 0xc3 on line 2 is not UTF-8"),
        (b'[tool.conclint]\ncache-dir = "\xed\xa0\x80"\n', "byte 0xed on line 2 is not UTF-8"),
        (b"[tool.conclint]\nx = " + b"[" * 20000 + b"\n", "nested too deeply"),
        (b"[tool.conclint]\njobs = " + b"9" * 5000 + b"\n", "Exceeds the limit (4300 digits)"),
        (b"[tool.conclint\n", "Expected ']'"),
    ],
)
def test_a_file_that_is_no_toml_is_a_config_error_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, KNOWN)
    assert str(caught.value).startswith(f"{config}: invalid TOML: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    # Found upward, it is reported rather than passed over.
    assert find_config_file(tmp_path) == config


def test_cli_invalid_utf8_in_pyproject_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.conclint]\n# caf\xe9\n")
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "conclint", "--no-cache", "a.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    config = tmp_path / "pyproject.toml"
    assert (
        done.stderr
        == f"conclint: error: {config}: invalid TOML: byte 0xe9 on line 2 is not UTF-8\n"
    )


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_config_file_that_is_no_regular_file_is_refused_at_once(
    tmp_path: Path, kind: str
) -> None:
    config = tmp_path / "pyproject.toml"
    if kind == "fifo":
        os.mkfifo(config)
    else:
        config.mkdir()
    with deadline(5), pytest.raises(ConfigError) as caught:
        load_settings(config, KNOWN)
    what = "a FIFO" if kind == "fifo" else "a directory"
    assert str(caught.value) == f"{config}: cannot read: is {what}, not a regular file"


@pytest.mark.parametrize("tool", ["tool = 1", 'tool = "conclint"', "tool = [1]"])
def test_a_tool_key_that_is_no_table(tmp_path: Path, tool: str) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(f"{tool}\n", encoding="utf-8")
    assert find_config_file(tmp_path) is None  # not ours: looked past, as any other tool's
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool\] must be a table$"):
        load_settings(config, KNOWN)


@pytest.mark.parametrize("glob", ["tests\\\\", "!", "[z-a]"])
def test_a_per_file_ignores_glob_that_cannot_match_is_a_config_error(
    tmp_path: Path, glob: str
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(f'[tool.conclint.per-file-ignores]\n"{glob}" = ["CCL101"]\n', "utf-8")
    shown = glob.replace("\\\\", "\\")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, KNOWN)
    assert str(caught.value).endswith(f"'per-file-ignores': '{shown}' is not a valid glob")
