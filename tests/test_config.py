"""Selection, validation and per-file ignores of [tool.conclint]."""

from __future__ import annotations

from pathlib import Path

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
