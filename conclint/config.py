"""`[tool.conclint]` in pyproject.toml: loading, validation and rule selection."""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import pathspec

from conclint.catalog import Catalog, CatalogError, extended, load
from conclint.files import MAX_SOURCE_BYTES, read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "__pycache__",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".eggs",
    "node_modules",
    "site-packages",
    ".mypy_cache",
    ".ruff_cache",
    ".conclint_cache",
)

_DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class ConfigError(Exception):
    """A user error in configuration or flags; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class Settings:
    """Effective settings of one run. Frozen and plain, so it pickles and hashes."""

    select: tuple[str, ...] = ("CCL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    preview: bool = False
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    jobs: int | None = None
    cache_dir: str | None = None
    respect_gitignore: bool = True
    # Seconds one file may take before it is skipped with CCL002 (0: no limit).
    file_timeout: float = 60.0
    # [tool.conclint.catalog]: what the user adds to the catalog (see `catalog()`).
    catalog_like: tuple[tuple[str, str], ...] = ()  # (class, the kind it behaves as)
    catalog_blocking: tuple[str, ...] = ()
    catalog_spawners: tuple[str, ...] = ()
    catalog_coroutines: tuple[str, ...] = ()
    # The older keys for some of the same entries, still read.
    extra_spawners: tuple[str, ...] = ()
    extra_blocking_calls: tuple[str, ...] = ()
    extra_queue_factories: tuple[str, ...] = ()
    extra_lock_factories: tuple[str, ...] = ()
    # Rule options (documented on the rule pages that use them).
    unbounded_queue_strict: bool = False
    # Where the configuration came from; paths in per-file-ignores are relative to it.
    root: str = field(default=".", compare=False)
    config_file: str | None = field(default=None, compare=False)

    def catalog(self) -> Catalog:
        """What conclint knows under these settings: the shipped catalog with the user's
        entries merged in, built once per distinct set of entries (the shipped catalog
        itself when there are none). The `extra-*` keys are entries of the table."""
        if not self._has_entries():
            return load()  # asked per rule per file by the pre-filter: the cheapest answer
        like = (
            *self.catalog_like,
            *((name, "queue.Queue") for name in self.extra_queue_factories),
            *((name, "threading.Lock") for name in self.extra_lock_factories),
        )
        return extended(
            like,
            self.catalog_blocking + self.extra_blocking_calls,
            self.catalog_spawners + self.extra_spawners,
            self.catalog_coroutines,
        )

    def _has_entries(self) -> bool:
        """Has the user added to the catalog (here, or with the older keys)?"""
        return bool(
            self.catalog_like
            or self.catalog_blocking
            or self.catalog_spawners
            or self.catalog_coroutines
            or self.extra_spawners
            or self.extra_blocking_calls
            or self.extra_queue_factories
            or self.extra_lock_factories
        )

    def spawner_needles(self) -> tuple[str, ...]:
        """A spawner of the user's is called by its last name, however it is imported."""
        if not self._has_entries():
            return ()
        return _last_names(self.catalog().added_functions_with("spawn"))

    def configured_needles(self) -> tuple[str, ...]:
        """Last names of the user's catalog entries: a file uses one only by spelling it
        (for the pre-filter's needles, as the shipped ones come from the catalog)."""
        return _last_names(self.catalog().added_names) if self._has_entries() else ()

    def configured_modules(self) -> frozenset[str]:
        """Top-level modules the user's catalog entries name (the pre-filter's gates)."""
        return self.catalog().added_modules

    def options_key(self) -> tuple[Any, ...]:
        """Everything that changes what a file produces (for the cache key)."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in _NOT_RESULTS)


def _last_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({name.rpartition(".")[2] for name in names}))


# Settings that choose files or workers but never change one file's findings.
_NOT_RESULTS = frozenset(
    {"jobs", "cache_dir", "root", "config_file", "exclude", "extend_exclude", "respect_gitignore"}
    # A file that ran out of time is never cached, so the limit changes no cached result.
    | {"file_timeout"}
)

# key in TOML -> (field name, kind); kind drives validation.
_KEYS: dict[str, tuple[str, str]] = {
    "select": ("select", "codes"),
    "ignore": ("ignore", "codes"),
    "extend-select": ("extend_select", "codes"),
    "preview": ("preview", "bool"),
    "exclude": ("exclude", "globs"),
    "extend-exclude": ("extend_exclude", "globs"),
    "per-file-ignores": ("per_file_ignores", "per-file"),
    "jobs": ("jobs", "jobs"),
    "cache-dir": ("cache_dir", "str"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "file-timeout": ("file_timeout", "seconds"),
    "catalog": ("catalog", "catalog"),
    "extra-spawners": ("extra_spawners", "names"),
    "extra-blocking-calls": ("extra_blocking_calls", "names"),
    "extra-queue-factories": ("extra_queue_factories", "names"),
    "extra-lock-factories": ("extra_lock_factories", "names"),
    "unbounded-queue-strict": ("unbounded_queue_strict", "bool"),
}


def find_config_file(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.conclint] table, upward from `start`."""
    directory = start if os.path.isdir(start) else start.parent
    directory = directory.resolve()
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / "pyproject.toml"
        if os.path.isfile(candidate):
            try:
                data = _read_toml(candidate)
            except ConfigError:
                return candidate  # report the broken file rather than skip it silently
            tool = data.get("tool")
            if isinstance(tool, dict) and "conclint" in tool:
                return candidate
        if os.path.exists(candidate_dir / ".git"):
            break
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or a ConfigError naming the file: any bytes, never a crash."""
    try:
        data = read_regular_file(path, MAX_SOURCE_BYTES)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")  # TOML is UTF-8, and tomllib.load would not say where
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        message = f"{path}: invalid TOML: byte {byte:#04x} on line {line} is not UTF-8"
        raise ConfigError(message) from None
    try:
        table: dict[str, Any] = tomllib.loads(text)
        return table
    # TOMLDecodeError is a ValueError, as is the error for an integer of over 4300 digits.
    except ValueError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None


def load_settings(config_file: Path | None, known_codes: Iterable[str]) -> Settings:
    """Read and validate `[tool.conclint]`; defaults when there is no file."""
    if config_file is None:
        return Settings(root=str(Path.cwd()))
    tool = _read_toml(config_file).get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{config_file}: [tool] must be a table")
    table = tool.get("conclint", {})
    where = f"{config_file}: [tool.conclint]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    values = parse_table(table, where, tuple(known_codes))
    settings = replace(
        Settings(), **values, root=str(config_file.parent.resolve()), config_file=str(config_file)
    )
    try:
        settings.catalog()  # an unknown kind or a clash with what conclint knows (exit 2)
    except CatalogError as error:
        raise ConfigError(f"{config_file}: {error}") from None
    return settings


def parse_table(
    table: Mapping[str, Any], where: str, known_codes: tuple[str, ...]
) -> dict[str, Any]:
    """Validate a `[tool.conclint]` table into `Settings` field values."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            hint = difflib.get_close_matches(key, list(_KEYS), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{where}: unknown key '{key}'{suggestion}")
        name, kind = _KEYS[key]
        if kind == "catalog":
            # `[tool.conclint]` -> `[tool.conclint.catalog]`, as the user wrote it
            values.update(_catalog_table(value, f"{where.removesuffix(']')}.{key}]"))
        else:
            values[name] = _convert(value, kind, f"{where}: '{key}'", known_codes)
    return values


# key in [tool.conclint.catalog] -> Settings field.
_CATALOG_KEYS = {
    "like": "catalog_like",
    "blocking": "catalog_blocking",
    "spawners": "catalog_spawners",
    "coroutines": "catalog_coroutines",
}


def _catalog_table(table: Any, where: str) -> dict[str, Any]:
    """`[tool.conclint.catalog]` into `Settings` fields; the kinds are checked by `catalog()`."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table with the keys {', '.join(_CATALOG_KEYS)}")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _CATALOG_KEYS:
            hint = difflib.get_close_matches(key, list(_CATALOG_KEYS), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{where}: unknown key '{key}'{suggestion}")
        inner = f"{where} '{key}'"
        if key != "like":
            values[_CATALOG_KEYS[key]] = _string_list(value, inner, "names", ())
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f'{inner} must be a table of "class" = "kind"')
        for name, kind in value.items():
            for item in (name, kind):
                if not _DOTTED_NAME.match(item):
                    raise ConfigError(f"{inner}: '{item}' is not a dotted name like 'app.Lock'")
        values[_CATALOG_KEYS[key]] = tuple(value.items())
    return values


def _convert(value: Any, kind: str, where: str, known_codes: tuple[str, ...]) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a non-empty string")
        return value
    if kind == "jobs":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where} must be a positive integer, not {value!r}")
        return value
    if kind == "seconds":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
            raise ConfigError(f"{where} must be a number of seconds (0: no limit), not {value!r}")
        return float(value)
    if kind == "per-file":
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table of glob = [codes]")
        return tuple(
            (_glob(glob, where), _string_list(codes, f"{where} '{glob}'", "codes", known_codes))
            for glob, codes in value.items()
        )
    return _string_list(value, where, kind, known_codes)


def _glob(glob: str, where: str) -> str:
    try:
        _per_file_spec(glob)
    except (ValueError, re.error):  # `tests\`, `!`, `[z-a]`
        raise ConfigError(f"{where}: '{glob}' is not a valid glob") from None
    return glob


def _string_list(
    value: Any, where: str, kind: str, known_codes: tuple[str, ...]
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings")
    if kind == "codes":
        return tuple(check_code(item, where, known_codes) for item in value)
    if kind == "names":
        for item in value:
            if not _DOTTED_NAME.match(item):
                raise ConfigError(f"{where}: '{item}' is not a dotted name like 'app.tasks.spawn'")
    return tuple(value)


def check_code(code: str, where: str, known_codes: tuple[str, ...]) -> str:
    """Validate a code or prefix (`CCL`, `CCL1`, `CCL101`) against the known rules."""
    normalised = code.strip().upper()
    if not normalised or not any(known.startswith(normalised) for known in known_codes):
        raise ConfigError(f"{where}: unknown rule code or prefix '{code}'")
    return normalised


def parse_codes(text: str, where: str, known_codes: Iterable[str]) -> tuple[str, ...]:
    """`--select CCL1,CCL203` as given on the command line."""
    known = tuple(known_codes)
    return tuple(check_code(part, where, known) for part in text.split(",") if part.strip())


def is_enabled(code: str, settings: Settings, *, preview_rule: bool) -> bool:
    """The most specific prefix wins: select CCL, ignore CCL1, extend-select CCL101 keeps CCL101."""
    if preview_rule and not settings.preview:
        return False
    chosen = _longest_prefix(code, settings.select + settings.extend_select)
    dropped = _longest_prefix(code, settings.ignore)
    if code.startswith("CCL0"):  # the tool's own diagnostics are on unless ignored
        chosen = max(chosen, 0)
    return chosen >= 0 and chosen > dropped


def _longest_prefix(code: str, prefixes: tuple[str, ...]) -> int:
    return max((len(prefix) for prefix in prefixes if code.startswith(prefix)), default=-1)


def per_file_ignored(path: str, settings: Settings) -> tuple[str, ...]:
    """Code prefixes that `per-file-ignores` turns off for `path`."""
    if not settings.per_file_ignores:
        return ()
    relative = _relative_to_root(path, settings.root)
    codes: list[str] = []
    for spec, ignored in _compiled_per_file(settings.per_file_ignores):
        if spec.match_file(relative):
            codes.extend(ignored)
    return tuple(codes)


@functools.cache
def _compiled_per_file(
    table: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[pathspec.PathSpec[Any], tuple[str, ...]], ...]:
    return tuple((_per_file_spec(glob), codes) for glob, codes in table)


def _per_file_spec(glob: str) -> pathspec.PathSpec[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `re` warns of sets like `[[` (FutureWarning)
        return pathspec.PathSpec.from_lines("gitignore", [glob])


def _relative_to_root(path: str, root: str) -> str:
    absolute = os.path.abspath(path)
    try:
        return os.path.relpath(absolute, root).replace(os.sep, "/")
    except ValueError:  # another drive on Windows
        return absolute.replace(os.sep, "/")


@functools.cache
def settings_from_cwd() -> Settings:
    """`[tool.conclint]` upward from the cwd, read once per process (for the plugins:
    flake8 does not read pyproject.toml, and pylint has no place for our keys)."""
    from conclint.registry import known_codes

    return load_settings(find_config_file(Path.cwd()), known_codes())
