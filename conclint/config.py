"""`[tool.conclint]` in pyproject.toml: loading, validation and rule selection."""

from __future__ import annotations

import difflib
import functools
import glob
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
from conclint.options import Option, OptionValue

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

# Tests, examples and documentation snippets do on purpose what the rules report in
# shipped code: they block the event loop (a test reads its fixture file or polls with a
# sleep; an example calls `requests.get` to stay short), start tasks and threads they
# never wait for, take locks they never give back and catch cancellations, to exercise
# the code under test or to stay short. Read on real projects, nearly every finding
# there was such. By default only the rules about code that cannot do what it says (a
# coroutine never awaited: the test's body never runs; a thread's target called instead
# of passed; a thread given its target as `group`) apply to them. The globs are read
# from the configuration's directory (base ""), as a user's own would be.
DELIBERATE_IN_TESTS = (
    "CCL101",
    "CCL103",
    "CCL104",
    "CCL105",
    "CCL108",
    "CCL109",
    "CCL2",
    "CCL3",
    "CCL4",
    "CCL5",
    "CCL6",
)
# A command-line entry point (a `cli.py` or `__main__.py` module) runs one command on an
# event loop of its own: blocking it delays only that command (reading its config file,
# listing a directory), the tasks it leaves behind are cancelled by `asyncio.run()` as it
# returns, and catching the cancellation of Ctrl-C is how it exits without a traceback.
# Read on real projects, every finding of these rules there was such; a dropped task
# (CCL101) was not. A `cli/` package is not one: it may hold a server its commands start.
DELIBERATE_IN_COMMANDS = ("CCL202", "CCL203", "CCL6")
DEFAULT_PER_FILE_IGNORES: tuple[tuple[str, tuple[str, ...], str], ...] = tuple(
    (glob, DELIBERATE_IN_TESTS, "")
    for glob in (
        "tests/",
        "test_*.py",
        "*_test.py",
        "conftest.py",
        # A library's test support (`litestar.testing`, `daphne.testing`, a pytest plugin
        # it ships): helpers and fixtures that drive the library from a test.
        "testing/",
        "testing.py",
        "pytest_plugin.py",
        "examples/",
        "docs/",
    )
) + tuple((glob, DELIBERATE_IN_COMMANDS, "") for glob in ("cli.py", "__main__.py"))

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
    # (glob, code prefixes, the directory the glob is relative to: that of its config file)
    per_file_ignores: tuple[tuple[str, tuple[str, ...], str], ...] = DEFAULT_PER_FILE_IGNORES
    jobs: int | None = None
    cache_dir: str | None = None
    # The baseline file (`--baseline`), absolute: relative to the config file holding it.
    baseline: str | None = None
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
    # The values the configuration gives the options rules declare (`options.Option`), by
    # key, sorted; `option()` gives the default of the others.
    options: tuple[tuple[str, OptionValue], ...] = ()
    # Where the configuration came from: the directory of its file (excludes and the
    # cache directory are relative to it), the file, and the files it extends in order.
    root: str = field(default=".", compare=False)
    config_file: str | None = field(default=None, compare=False)
    extends: tuple[str, ...] = field(default=(), compare=False)

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

    def option(self, declared: Option) -> Any:
        """The value of an option a rule declares: the configuration's, or its default."""
        for key, value in self.options:
            if key == declared.key:
                return value
        return declared.default

    def options_key(self) -> tuple[Any, ...]:
        """Everything that changes what a file produces (for the cache key)."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in _NOT_RESULTS)


def _last_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({name.rpartition(".")[2] for name in names}))


# Settings that choose files or workers but never change one file's findings.
_NOT_RESULTS = frozenset(
    {"jobs", "cache_dir", "root", "config_file", "extends", "exclude", "extend_exclude"}
    | {"respect_gitignore", "baseline"}
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
    "extend-per-file-ignores": ("extend_per_file_ignores", "per-file"),
    "extend": ("extend", "extend"),
    "jobs": ("jobs", "jobs"),
    "cache-dir": ("cache_dir", "str"),
    "baseline": ("baseline", "str"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "file-timeout": ("file_timeout", "seconds"),
    "catalog": ("catalog", "catalog"),
    "extra-spawners": ("extra_spawners", "names"),
    "extra-blocking-calls": ("extra_blocking_calls", "names"),
    "extra-queue-factories": ("extra_queue_factories", "names"),
    "extra-lock-factories": ("extra_lock_factories", "names"),
}


def declared_options() -> dict[str, Option]:
    """The options the rules (and the model they share) declare, by key."""
    from conclint.registry import RULES  # the rules import this module

    return {option.key: option for rule in RULES for option in rule.options}


def find_config_file(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.conclint] table, upward from `start`; the
    search stops at a repository root (a directory holding `.git`)."""
    directory = start if os.path.isdir(start) else start.parent
    directory = directory.resolve()
    for candidate_dir in (directory, *directory.parents):
        found = _config_in(candidate_dir)
        if found is not None:
            return found
        if os.path.exists(candidate_dir / ".git"):
            break
    return None


def _config_in(directory: Path) -> Path | None:
    """`directory`'s pyproject.toml when it has a [tool.conclint] table."""
    candidate = directory / "pyproject.toml"
    if not os.path.isfile(candidate):
        return None
    try:
        data = _read_toml(candidate)
    except ConfigError:
        return candidate  # report the broken file rather than skip it silently
    tool = data.get("tool")
    return candidate if isinstance(tool, dict) and "conclint" in tool else None


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
    """Read and validate `[tool.conclint]`, and the files it `extend`s; defaults when
    there is no file."""
    if config_file is None:
        return Settings(root=str(Path.cwd()))
    known = tuple(known_codes)
    chain = _extend_chain(config_file)
    values: dict[str, Any] = {}
    for index, (path, table) in enumerate(reversed(chain)):  # the last base first
        where = f"{path}: [tool.conclint]"
        layer = parse_table(table, where, known)
        base = str(Path(os.path.abspath(path)).parent.resolve())
        values = _merged(values, _anchored(layer, base, inherited=index < len(chain) - 1))
    values["per_file_ignores"] = values.get(
        "per_file_ignores", DEFAULT_PER_FILE_IGNORES
    ) + values.pop("extend_per_file_ignores", ())
    settings = replace(
        Settings(),
        **values,
        root=str(config_file.parent.resolve()),
        config_file=str(config_file),
        extends=tuple(str(path) for path, _ in chain[1:]),
    )
    try:
        settings.catalog()  # an unknown kind or a clash with what conclint knows (exit 2)
    except CatalogError as error:
        raise ConfigError(f"{config_file}: {error}") from None
    return settings


def _extend_chain(config_file: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The file's `[tool.conclint]` table, then that of the file it `extend`s, and so
    on (as ruff: `extend` is relative to the file that holds it); a cycle is an error."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []
    path: Path | None = config_file
    while path is not None:
        identity = Path(os.path.abspath(path)).resolve()
        if identity in seen:
            cycle = " extends ".join(f"`{p}`" for p in [*(p for p, _ in chain), path])
            raise ConfigError(f"circular configuration: {cycle}")
        seen.append(identity)
        table = _conclint_table(path, extended_by=chain[-1][0] if chain else None)
        chain.append((path, table))
        path = _extended(table.get("extend"), path)
    return chain


def _conclint_table(path: Path, extended_by: Path | None) -> dict[str, Any]:
    tool = _read_toml(path).get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    if extended_by is not None and "conclint" not in tool:
        raise ConfigError(f"{extended_by}: 'extend': {path} has no [tool.conclint] table")
    table = tool.get("conclint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.conclint] must be a table")
    return table


def _extended(value: Any, holder: Path) -> Path | None:
    """The file `extend = "..."` names, from the directory of the file holding it."""
    if value is None:
        return None
    where = f"{holder}: [tool.conclint] 'extend'"
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be the path of a pyproject.toml, not {value!r}")
    target = Path(os.path.expandvars(os.path.expanduser(value)))
    if not target.is_absolute():
        target = Path(os.path.normpath(Path(os.path.abspath(holder)).parent / target))
    if not os.path.lexists(target):
        raise ConfigError(f"{where}: {value} not found (looked for {target})")
    return target


# Keys whose lists add up along an `extend` chain (as ruff's `extend-*` keys do).
_ACCUMULATED = ("extend_exclude", "extend_per_file_ignores")
_SELECTION = ("select", "ignore", "extend_select")


def _merged(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """A config file's values over those of the file it extends: each key replaces the
    base's, the `extend-*` lists add up, and the rule selection is layered."""
    merged = {**base}
    for key, value in layer.items():
        if key == "options":  # each option's value replaces the base's
            merged[key] = tuple(sorted({**dict(base.get(key, ())), **dict(value)}.items()))
        elif key in _ACCUMULATED:
            merged[key] = base.get(key, ()) + value
        elif key not in _SELECTION:
            merged[key] = value
    default = Settings()
    select, ignore, extend_select = layered_selection(
        (
            base.get("select", default.select),
            base.get("ignore", default.ignore),
            base.get("extend_select", default.extend_select),
        ),
        layer.get("select"),
        layer.get("ignore", ()),
        layer.get("extend_select", ()),
    )
    merged.update(select=select, ignore=ignore, extend_select=extend_select)
    return merged


Selection = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # select, ignore, extend


def layered_selection(
    below: Selection,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
) -> Selection:
    """A selection on top of another (a config over the one it extends, the flags over
    a config), as ruff layers them: a `select` starts afresh; otherwise a code the new
    layer ignores is dropped from what was selected below, and one it selects is
    dropped from what was ignored below, so the later layer decides the codes it names.
    Within one layer the most specific prefix decides (see `is_enabled`)."""
    if select is not None:
        return select, ignore, extend_select
    old_select, old_ignore, old_extend = below
    return (
        tuple(code for code in old_select if not code.startswith(ignore)),
        tuple(code for code in old_ignore if not code.startswith(extend_select)) + ignore,
        tuple(code for code in old_extend if not code.startswith(ignore)) + extend_select,
    )


def _anchored(layer: dict[str, Any], base: str, *, inherited: bool) -> dict[str, Any]:
    """One file's values with its paths tied to its directory: per-file-ignores (they
    carry it) and the baseline always; excludes and the cache directory when a file
    extending it will have a directory of its own."""
    values = dict(layer)
    for key in ("per_file_ignores", "extend_per_file_ignores"):
        if key in values:
            values[key] = tuple((glob, codes, base) for glob, codes in values[key])
    if "baseline" in values:
        values["baseline"] = os.path.join(base, values["baseline"])
    if inherited:
        for key in ("exclude", "extend_exclude"):
            if key in values:
                values[key] = anchored_globs(values[key], base)
        if "cache_dir" in values:
            values["cache_dir"] = os.path.join(base, values["cache_dir"])
    return values


def anchored_globs(patterns: Iterable[str], base: str | Path) -> tuple[str, ...]:
    """Exclude globs tied to `base`: a glob with a `/` inside matches paths from the
    directory it was written in, so it becomes absolute; a bare name matches anywhere."""
    prefix = glob.escape(os.path.abspath(base)).replace(os.sep, "/").rstrip("/")
    return tuple(
        f"{prefix}/{pattern}" if "/" in pattern and not os.path.isabs(pattern) else pattern
        for pattern in patterns
    )


def exclude_glob(text: str) -> str:
    """An exclude glob as written, without the slashes around it (`/build/` is `build`):
    a glob that starts with `/` in `Settings` is one tied to its directory."""
    return text.strip().strip("/")


def parse_table(
    table: Mapping[str, Any], where: str, known_codes: tuple[str, ...]
) -> dict[str, Any]:
    """Validate a `[tool.conclint]` table into `Settings` field values."""
    values: dict[str, Any] = {}
    options = declared_options()
    chosen: dict[str, OptionValue] = {}
    for key, value in table.items():
        if key in options:
            chosen[key] = _convert(value, options[key].kind, f"{where}: '{key}'", known_codes)
            continue
        if key not in _KEYS:
            hint = difflib.get_close_matches(key, [*_KEYS, *options], n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{where}: unknown key '{key}'{suggestion}")
        name, kind = _KEYS[key]
        if kind == "extend":
            continue  # followed, and checked, by `_extend_chain`
        if kind == "catalog":
            # `[tool.conclint]` -> `[tool.conclint.catalog]`, as the user wrote it
            values.update(_catalog_table(value, f"{where.removesuffix(']')}.{key}]"))
        else:
            values[name] = _convert(value, kind, f"{where}: '{key}'", known_codes)
    if chosen:
        values["options"] = tuple(sorted(chosen.items()))
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
    if kind == "globs":
        return tuple(glob for glob in map(exclude_glob, value) if glob)
    if kind == "identifiers":
        for item in value:
            if not item.isidentifier():
                raise ConfigError(f"{where}: '{item}' is not a method name like 'close'")
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
    """Code prefixes that `per-file-ignores` turns off for `path`; each glob is matched
    against the path from the directory of the config file that holds it (the defaults,
    from the configuration's root)."""
    if not settings.per_file_ignores:
        return ()
    codes: list[str] = []
    for spec, ignored, base in _compiled_per_file(settings.per_file_ignores):
        if spec.match_file(_relative_to_root(path, base or settings.root)):
            codes.extend(ignored)
    return tuple(codes)


@functools.cache
def _compiled_per_file(
    table: tuple[tuple[str, tuple[str, ...], str], ...],
) -> tuple[tuple[pathspec.PathSpec[Any], tuple[str, ...], str], ...]:
    return tuple((_per_file_spec(glob), codes, base) for glob, codes, base in table)


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
    """`[tool.conclint]` upward from the cwd, read once per process: what the plugins
    use for a file with no configuration of its own above it."""
    from conclint.registry import known_codes

    return load_settings(find_config_file(Path.cwd()), known_codes())


@functools.cache
def _plugin_resolver() -> Resolver:
    from conclint.registry import known_codes

    return Resolver(known_codes(), fallback=settings_from_cwd())


def settings_for_file(path: str) -> Settings:
    """The settings of one file for the plugins, as the CLI resolves them: flake8 does
    not read pyproject.toml, and pylint has no place for our keys."""
    return _plugin_resolver().settings_for(path)


@dataclass(frozen=True)
class Overrides:
    """What the command line sets on top of every configuration file of a run."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    preview: bool = False
    exclude: tuple[str, ...] | None = None  # anchored (see `anchored_globs`)
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    jobs: int | None = None

    def apply(self, settings: Settings) -> Settings:
        select, ignore, extend_select = layered_selection(
            (settings.select, settings.ignore, settings.extend_select),
            self.select,
            self.ignore,
            self.extend_select,
        )
        changes: dict[str, Any] = {
            "select": select,
            "ignore": ignore,
            "extend_select": extend_select,
            "extend_exclude": settings.extend_exclude + self.extend_exclude,
        }
        if self.preview:
            changes["preview"] = True
        if self.exclude is not None:
            changes["exclude"] = self.exclude
        if self.respect_gitignore is not None:
            changes["respect_gitignore"] = self.respect_gitignore
        if self.jobs is not None:
            changes["jobs"] = self.jobs
        return replace(settings, **changes)


class Resolver:
    """The settings of each file, as ruff resolves them: the nearest pyproject.toml with
    a `[tool.conclint]` table above the file (the search stops at a repository root),
    else the `fallback` (the configuration found from the working directory); or, when
    `fixed`, one configuration for every file (`--config`, `--isolated`). The flags'
    `overrides` go on top of each. Every file is read once per run."""

    def __init__(
        self,
        known_codes: Iterable[str],
        *,
        fallback: Settings | None = None,
        fixed: Settings | None = None,
        overrides: Overrides = Overrides(),
    ) -> None:
        self._known = tuple(known_codes)
        self._overrides = overrides
        self._fixed = overrides.apply(fixed) if fixed is not None else None
        if fallback is None and fixed is None:
            fallback = load_settings(find_config_file(Path.cwd()), self._known)
        self._fallback = overrides.apply(fallback) if fallback is not None else None
        self._nearest: dict[str, Path | None] = {}
        self._loaded: dict[Path, Settings] = {}
        if self._fallback is not None and self._fallback.config_file is not None:
            self._loaded[Path(self._fallback.config_file)] = self._fallback  # read once

    @classmethod
    def of(cls, settings: Settings | Resolver) -> Resolver:
        """A resolver as it is, or one that gives these settings to every file."""
        if isinstance(settings, Resolver):
            return settings
        return cls((), fixed=settings)

    @property
    def default(self) -> Settings:
        """The settings of the run as a whole (those of the working directory)."""
        found = self._fixed or self._fallback
        assert found is not None
        return found

    def settings_for(self, path: str) -> Settings:
        """The settings of a file (which need not exist: `--stdin-filename`)."""
        return self.settings_in(os.path.dirname(os.path.abspath(path)))

    def settings_in(self, directory: str) -> Settings:
        """The settings of the entries of `directory`."""
        if self._fixed is not None:
            return self._fixed
        config = self._config_above(directory)
        if config is None:
            return self.default
        if config not in self._loaded:
            self._loaded[config] = self._overrides.apply(load_settings(config, self._known))
        return self._loaded[config]

    def used(self) -> list[Settings]:
        """Every configuration resolved so far, the run's own first."""
        return [self.default, *(s for s in self._loaded.values() if s is not self.default)]

    def _config_above(self, directory: str) -> Path | None:
        """`find_config_file`, remembered for every directory on the way up."""
        passed = []
        found: Path | None = None
        current = Path(directory).resolve()
        for candidate_dir in (current, *current.parents):
            key = str(candidate_dir)
            if key in self._nearest:
                found = self._nearest[key]
                break
            passed.append(key)
            found = _config_in(candidate_dir)
            if found is not None or os.path.exists(candidate_dir / ".git"):
                break
        for key in passed:
            self._nearest[key] = found
        return found


def selection_warnings(
    settings: Settings, rules: Mapping[str, bool], tool_codes: Mapping[str, str]
) -> list[str]:
    """What these settings ask for that does nothing, in ruff's words: selecting only
    preview rules without preview (`rules`: code -> is it preview), and ignoring only the
    tool's own codes (`tool_codes`: code -> name), which are always reported."""
    found = []
    if not settings.preview:
        for selector in dict.fromkeys(settings.select + settings.extend_select):
            covered = [preview for code, preview in rules.items() if code.startswith(selector)]
            if covered and all(covered):
                found.append(
                    f"Selection `{selector}` has no effect because preview is not enabled."
                )
    per_file = tuple(code for _, codes, _ in settings.per_file_ignores for code in codes)
    for selector in dict.fromkeys(settings.ignore + per_file):
        tools = [code for code in sorted(tool_codes) if code.startswith(selector)]
        if tools and not any(code.startswith(selector) for code in rules):
            named = " and ".join(f"`{code}` ({tool_codes[code]})" for code in tools)
            found.append(
                f"Ignoring `{selector}` has no effect: {named} {'is' if len(tools) == 1 else 'are'}"
                " always reported, as the file was not analysed; exclude a file to skip it."
            )
    return found


def settings_table(settings: Settings) -> dict[str, Any]:
    """The settings under their keys in `[tool.conclint]` (for `--show-settings`); paths
    tied to a directory are shown absolute, and per-file-ignores with theirs."""
    table: dict[str, Any] = {}
    for key, (name, kind) in _KEYS.items():
        if kind in ("extend", "catalog") or key == "extend-per-file-ignores":
            continue
        value = getattr(settings, name)
        if kind == "per-file":
            value = [{"glob": g, "codes": list(c), "from": base} for g, c, base in value]
        table[key] = list(value) if isinstance(value, tuple) else value
    for key, name in _CATALOG_KEYS.items():
        value = getattr(settings, name)
        table[f"catalog.{key}"] = dict(value) if key == "like" else list(value)
    for key, option in sorted(declared_options().items()):
        value = settings.option(option)
        table[key] = list(value) if isinstance(value, tuple) else value
    return table
