"""Selection, validation and per-file ignores of [tool.conclint]."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conclint import registry
from conclint.catalog import load
from conclint.config import (
    ConfigError,
    Settings,
    find_config_file,
    is_enabled,
    load_settings,
    parse_codes,
    per_file_ignored,
)
from tests.test_files import deadline

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
    # Each glob keeps the directory of the config file it is relative to.
    assert settings.per_file_ignores == (("tests/*", ("CCL101",), str(tmp_path.resolve())),)
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


# [tool.conclint.catalog]: the user's entries, merged with the shipped catalog.

CATALOG_TABLE = """\
[tool.conclint.catalog]
like = { "aiologic.Lock" = "asyncio.Lock", "janus.Queue" = "asyncio.LifoQueue" }
blocking = ["app.storage.read_blob", "app.db.Connection.execute", "sqlite3x.fetch"]
spawners = ["app.tasks.spawn"]
coroutines = ["app.rpc.call", "app.rpc.Client.fetch"]
"""


def test_the_catalog_table_extends_what_conclint_knows(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(CATALOG_TABLE, encoding="utf-8")
    settings = load_settings(config, KNOWN)
    assert settings.catalog_like == (
        ("aiologic.Lock", "asyncio.Lock"),
        ("janus.Queue", "asyncio.LifoQueue"),
    )
    known = settings.catalog()
    # `like`: constructor and annotation, with the kind's methods (a class names its kind).
    assert known.made_by("aiologic.Lock") == known.annotated_by("aiologic.Lock") == "asyncio.Lock"
    assert known.made_by("janus.Queue") == "asyncio.Queue"
    assert "take" in known.kinds["asyncio.Queue"].methods["get"].roles
    # `blocking`: a function, and `Class.method` on a kind named after the class.
    assert known.functions["app.storage.read_blob"].roles == {"blocking"}
    assert known.made_by("app.db.Connection") == known.annotated_by("app.db.Connection")
    method = known.method("app.db.Connection", "execute")
    assert method is not None and method.roles == {"blocking"}
    assert known.kinds["app.db.Connection"].remedy == known.functions["sqlite3x.fetch"].remedy
    assert known.kind_named("sqlite3x") is None  # a lower-case owner is a module
    assert "app.tasks.spawn" in known.functions_with("spawn")
    assert {"app.rpc.call", "app.rpc.Client.fetch"} <= known.functions_with("coroutine")
    assert known.methods_with("coroutine", "app.rpc.Client") == {"fetch"}
    # The pre-filter's questions: the modules to let through, the spawners' names.
    assert settings.configured_modules() == {"aiologic", "janus", "app", "sqlite3x"}
    assert settings.spawner_needles() == ("spawn",)
    assert settings.configured_needles() == (
        *("Client", "Connection", "Lock", "Queue"),
        *("call", "execute", "fetch", "read_blob", "spawn"),
    )


def test_a_method_of_a_known_class_extends_its_kind(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        '[tool.conclint.catalog]\nlike = { "aiologic.Lock" = "threading.Lock" }\n'
        'blocking = ["aiologic.Lock.green_acquire", "asyncio.Lock.locked"]\n',
        encoding="utf-8",
    )
    known = load_settings(config, KNOWN).catalog()
    shipped = load()
    # The kind keeps what it had, and gains the method (and a remedy, for the message).
    assert (
        known.kinds["threading.Lock"].methods["acquire"]
        == (shipped.kinds["threading.Lock"].methods["acquire"])
    )
    assert known.methods_with("blocking", "threading.Lock") == (
        shipped.methods_with("blocking", "threading.Lock") | {"green_acquire"}
    )
    assert known.method("asyncio.Lock", "locked") is not None
    assert shipped.kinds["asyncio.Lock"].remedy is None
    assert known.kinds["asyncio.Lock"].remedy is not None
    assert "aiologic.Lock" not in shipped.kinds["threading.Lock"].classes


def test_the_older_keys_are_entries_of_the_table() -> None:
    older = Settings(
        extra_spawners=("app.spawn",),
        extra_blocking_calls=("app.io.read",),
        extra_queue_factories=("app.make_queue",),
        extra_lock_factories=("app.make_lock",),
    )
    newer = Settings(
        catalog_spawners=("app.spawn",),
        catalog_blocking=("app.io.read",),
        catalog_like=(("app.make_queue", "queue.Queue"), ("app.make_lock", "threading.Lock")),
    )
    for settings in (older, newer):
        known = settings.catalog()
        assert known.made_by("app.make_queue") == "queue.Queue"
        assert known.made_by("app.make_lock") == "threading.Lock"
        assert "blocking" in known.functions["app.io.read"].roles
        assert "app.spawn" in known.functions_with("spawn")
    assert older.catalog().functions == newer.catalog().functions
    assert older.catalog().kinds == newer.catalog().kinds


def test_default_settings_ask_the_shipped_catalog_and_entries_are_built_once() -> None:
    assert Settings().catalog() is load()
    assert Settings(preview=True).catalog() is load()
    assert Settings().configured_modules() == frozenset()
    assert Settings().spawner_needles() == Settings().configured_needles() == ()
    first = Settings(catalog_blocking=("app.io.read",)).catalog()
    assert first is not load()
    assert Settings(catalog_blocking=("app.io.read",), jobs=3).catalog() is first
    # The shipped catalog itself is not touched by anyone's entries.
    assert "app.io.read" not in load().functions


def test_catalog_entries_are_part_of_the_cache_key() -> None:
    base = Settings().options_key()
    changed = [
        Settings(catalog_like=(("a.Lock", "asyncio.Lock"),)),
        Settings(catalog_like=(("a.Lock", "threading.Lock"),)),
        Settings(catalog_blocking=("a.read",)),
        Settings(catalog_spawners=("a.spawn",)),
        Settings(catalog_coroutines=("a.call",)),
        Settings(extra_queue_factories=("a.make",)),
    ]
    keys = {settings.options_key() for settings in changed}
    assert base not in keys and len(keys) == len(changed)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'like = { "aiologic.Lock" = "asyncio.Lok" }',
            "[tool.conclint.catalog] like: 'aiologic.Lock' = 'asyncio.Lok': no kind is called "
            "'asyncio.Lok' (did you mean 'asyncio.Lock'?)",
        ),
        ('like = { "aiologic Lock" = "asyncio.Lock" }', "'aiologic Lock' is not a dotted name"),
        ('like = { "aiologic.Lock" = "asyncio..Lock" }', "'asyncio..Lock' is not a dotted name"),
        ('like = ["aiologic.Lock"]', '\'like\' must be a table of "class" = "kind"'),
        ('like = { "aiologic.Lock" = 1 }', '\'like\' must be a table of "class" = "kind"'),
        ('blocking = "app.read"', "[tool.conclint.catalog] 'blocking' must be a list of strings"),
        ("spawners = [1]", "'spawners' must be a list of strings"),
        ('coroutines = ["app.call()"]', "'app.call()' is not a dotted name"),
        ('blockin = ["app.read"]', "unknown key 'blockin' (did you mean 'blocking'?)"),
        (
            'like = { "asyncio.Queue" = "threading.Lock" }',
            "asyncio.Queue is already kind asyncio.Queue, not threading.Lock",
        ),
    ],
)
def test_a_bad_catalog_entry_is_a_config_error_naming_it(
    tmp_path: Path, table: str, message: str
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.conclint.catalog]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, KNOWN)
    assert str(caught.value).startswith(f"{config}: [tool.conclint")
    assert message in str(caught.value)


def test_the_catalog_key_must_be_a_table(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.conclint]\ncatalog = ["x.y"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[tool\.conclint\.catalog\] must be a table"):
        load_settings(config, KNOWN)


def test_an_older_key_that_clashes_with_the_table_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        '[tool.conclint]\nextra-lock-factories = ["app.make"]\n'
        '[tool.conclint.catalog]\nlike = { "app.make" = "asyncio.Queue" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"app\.make is already kind asyncio\.Queue"):
        load_settings(config, KNOWN)


def test_options_the_rules_declare_are_read_and_layered(tmp_path: Path) -> None:
    from conclint.analysis.teardown import TEARDOWN_METHODS
    from conclint.rules.unbounded_queue import STRICT

    codes = registry.known_codes()
    base = tmp_path / "pyproject.toml"
    base.write_text('[tool.conclint]\nteardown-methods = ["dispose"]\n', encoding="utf-8")
    child = tmp_path / "sub" / "pyproject.toml"
    child.parent.mkdir()
    child.write_text(
        '[tool.conclint]\nextend = "../pyproject.toml"\nunbounded-queue-strict = true\n',
        encoding="utf-8",
    )
    settings = load_settings(child, codes)
    assert settings.option(TEARDOWN_METHODS) == ("dispose",)  # from the file it extends
    assert settings.option(STRICT) is True
    assert load_settings(base, codes).option(STRICT) is False  # the default
    assert Settings().option(TEARDOWN_METHODS) == TEARDOWN_METHODS.default
    child.write_text(
        '[tool.conclint]\nextend = "../pyproject.toml"\nteardown-methods = ["end"]\n',
        encoding="utf-8",
    )
    assert load_settings(child, codes).option(TEARDOWN_METHODS) == ("end",)
    # Changed options change the cache key; a bad value is the user's error.
    assert load_settings(child, codes).options_key() != load_settings(base, codes).options_key()
    base.write_text('[tool.conclint]\nunbounded-queue-strict = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'unbounded-queue-strict' must be true or false"):
        load_settings(base, codes)
