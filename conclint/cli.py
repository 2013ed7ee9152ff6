"""Command line: argument parsing, exit codes and output; the work is the engine's."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from conclint import __version__

if TYPE_CHECKING:
    from conclint.catalog import Catalog
    from conclint.config import Settings
    from conclint.diagnostics import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMMANDS = ("check", "rule", "rules", "clean", "catalog")


class UsageError(Exception):
    """Bad flags or configuration: one line on stderr and exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from conclint.report import formats

    parser = _Parser(prog="conclint", description="Find concurrency bugs in Python code.")
    parser.add_argument("--version", action="version", version=f"conclint {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = commands.add_parser("check", help="lint files and directories (the default command)")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories, '-' for stdin"
    )
    check.add_argument("--select", help="comma-separated codes or prefixes to enable (CCL1,CCL203)")
    check.add_argument("--ignore", help="codes or prefixes to disable")
    check.add_argument(
        "--extend-select", help="codes or prefixes to enable on top of the selection"
    )
    check.add_argument("--preview", action="store_true", default=None, help="enable preview rules")
    check.add_argument(
        "--output-format", choices=sorted(formats()), default=None, help="output format (text)"
    )
    check.add_argument("-o", "--output-file", help="write the report to this file")
    check.add_argument("--statistics", action="store_true", help="count findings per code")
    check.add_argument(
        "--show-source", action="store_true", help="show the source line of findings"
    )
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when something is found"
    )
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only")
    check.add_argument(
        "-j", "--jobs", type=_positive_int, help="worker processes (default: all cores)"
    )
    check.add_argument("--config", help="pyproject.toml to read [tool.conclint] from")
    check.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    check.add_argument(
        "--stdin-filename", "--stdin-display-name", help="the path standard input is linted as"
    )
    check.add_argument("--exclude", help="comma-separated globs replacing the default excludes")
    check.add_argument("--extend-exclude", help="comma-separated globs to exclude as well")
    check.add_argument(
        "--force-exclude", action="store_true", help="apply excludes to files named explicitly"
    )
    check.add_argument(
        "--no-respect-gitignore", action="store_true", help="lint files that .gitignore lists"
    )
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument("--cache-dir", help="where the cache lives (default .conclint_cache)")
    check.add_argument(
        "--sarif-include-suppressed",
        action="store_true",
        help="keep # noqa-suppressed findings in SARIF, marked as suppressed",
    )
    check.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour text output"
    )

    rule = commands.add_parser("rule", help="print the page of one rule")
    rule.add_argument("code", nargs="?", help="rule code, e.g. CCL101")
    rule.add_argument("--all", action="store_true", help="print every rule's page")

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--markdown", action="store_true", help="as a markdown table")

    clean = commands.add_parser("clean", help="remove the cache directory")
    clean.add_argument("--cache-dir", help="the cache directory to remove")

    catalog = commands.add_parser(
        "catalog", help="print what conclint knows: kinds, functions and their roles"
    )
    catalog.add_argument("--kind", help="only this kind (or a class that makes one)")
    catalog.add_argument("--role", help="only the entries with this role or trait")
    catalog.add_argument("--output-format", choices=("text", "json"), default="text")
    catalog.add_argument("--config", help="pyproject.toml to read [tool.conclint.catalog] from")
    catalog.add_argument("--isolated", action="store_true", help="the shipped catalog only")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # `conclint src/` means `conclint check src/`.
    if not args or (args[0] not in COMMANDS and args[0] not in ("-h", "--help", "--version")):
        args.insert(0, "check")
    try:
        return _dispatch(build_parser().parse_args(args))
    except UsageError as error:
        print(_shown(f"conclint: error: {error}"), file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `conclint ... | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug of ours: say so, and never look like "findings"
        message = f"conclint: internal error, please report: {type(error).__name__}: {error}"
        print(_shown(message), file=sys.stderr)
        return EXIT_ERROR


def _shown(text: str) -> str:
    """A message naming user paths, with the characters a terminal acts on escaped."""
    from conclint.report.escape import printable

    return printable(text)


def _dispatch(args: argparse.Namespace) -> int:
    from conclint.config import ConfigError

    try:
        if args.command == "rule":
            return _show_rule(args.code, args.all)
        if args.command == "rules":
            return _list_rules(args.markdown)
        if args.command == "clean":
            return _clean(args.cache_dir)
        if args.command == "catalog":
            return _show_catalog(args)
        return _check(args)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _show_rule(code: str | None, every: bool) -> int:
    from conclint import registry
    from conclint.pages import page

    if every:
        sys.stdout.write("\n".join(page(rule.code) or "" for rule in registry.RULES))
        return EXIT_CLEAN
    if not code:
        raise UsageError("give a rule code, e.g. `conclint rule CCL101`, or --all")
    known = registry.by_code(code) is not None or code.upper() in registry.known_codes()
    text = page(code) if known else None
    if text is None:
        raise UsageError(f"unknown rule code '{code}'")
    sys.stdout.write(text)
    return EXIT_CLEAN


def _list_rules(markdown: bool) -> int:
    from conclint import registry

    rows = [
        (rule.code, rule.name, rule.family(), "preview" if rule.preview else "", rule.summary)
        for rule in registry.RULES
    ]
    if markdown:
        lines = ["| code | name | family | status | summary |", "|---|---|---|---|---|"]
        lines += [f"| {c} | {n} | {f} | {p or 'stable'} | {s} |" for c, n, f, p, s in rows]
    else:
        lines = [f"{c}  {n:<28} {f:<13} {p:<8} {s}".rstrip() for c, n, f, p, s in rows]
    print("\n".join(lines))
    return EXIT_CLEAN


def _clean(cache_dir: str | None) -> int:
    from conclint import cache, registry
    from conclint.config import find_config_file, load_settings

    settings = load_settings(find_config_file(Path.cwd()), registry.known_codes())
    directory = cache.resolve_dir(cache_dir, settings)
    removed = cache.clean(directory, Path(settings.root))
    print(_shown(f"removed {directory}") if removed else "no cache to remove", file=sys.stderr)
    return EXIT_CLEAN


def _show_catalog(args: argparse.Namespace) -> int:
    """The catalog with the user's entries merged (read from the configuration as `check`
    reads it), as text (a line per entry, grouped) or JSON (the shape in the README)."""
    import json

    from conclint import registry
    from conclint.config import Settings, find_config_file, load_settings

    if args.isolated:
        settings = Settings()
    else:
        if args.config and not os.path.lexists(args.config):
            raise UsageError(f"config file not found: {args.config}")
        config_file = Path(args.config) if args.config else find_config_file(Path.cwd())
        settings = load_settings(config_file, registry.known_codes())
    known = settings.catalog()
    entries = _catalog_entries(known, _known_kind(known, args.kind), _known_role(args.role))
    if args.output_format == "json":
        print(json.dumps(entries, indent=2))
    elif any(entries.values()):
        print(_catalog_text(entries))
    else:
        print("nothing in the catalog matches", file=sys.stderr)
    return EXIT_CLEAN


def _known_kind(known: Catalog, name: str | None) -> str | None:
    if name is None:
        return None
    kind = known.kind_named(name)
    if kind is None:
        raise UsageError(
            f"unknown kind '{name}'{_hint(name, known.kinds)}; `conclint catalog` lists them"
        )
    return kind


def _known_role(role: str | None) -> str | None:
    from conclint.catalog import schema

    roles = schema.TRAITS | schema.METHOD_ROLES | schema.FUNCTION_ROLES | schema.NAME_ROLES
    if role is not None and role not in roles:
        known = ", ".join(sorted(roles))
        raise UsageError(
            f"unknown role '{role}'{_hint(role, roles)}; the roles and traits: {known}"
        )
    return role


def _hint(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _catalog_entries(known: Catalog, kind: str | None, role: str | None) -> dict[str, list[Any]]:
    """The entries `conclint catalog` prints, as JSON-ready data: with `kind`, that kind and
    the functions that unpack into it; with `role`, the entries that have it (a kind with
    it as a trait, or with methods that have it: those methods)."""
    kinds = []
    for described in sorted(known.kinds.values(), key=lambda k: k.name):
        if kind is not None and described.name != kind:
            continue
        methods = described.methods
        if role is not None and role not in described.traits:
            methods = {n: m for n, m in methods.items() if role in m.roles}
            if not methods:
                continue
        kinds.append(
            {
                "name": described.name,
                "classes": list(described.classes),
                "factories": list(described.factories),
                "annotations": list(described.annotations),
                "traits": sorted(described.traits),
                "remedy": described.remedy,
                "methods": [
                    {"name": name, "roles": sorted(methods[name].roles)} for name in sorted(methods)
                ],
            }
        )
    functions = [
        {
            "name": name,
            "roles": sorted(entry.roles),
            "remedy": entry.remedy,
            "unpacks": list(entry.unpacks),
        }
        for name, entry in sorted(known.functions.items())
        if (role is None or role in entry.roles) and (kind is None or kind in entry.unpacks)
    ]
    others = kind is None
    names = [
        {"name": name, "roles": sorted(roles)}
        for name, roles in sorted(known.names.items())
        if others and (role is None or role in roles)
    ]
    any_receiver = [
        {"name": name, "roles": sorted(method.roles)}
        for name, method in sorted(known.any_receiver.items())
        if others and (role is None or role in method.roles)
    ]
    return {"kinds": kinds, "functions": functions, "names": names, "any_receiver": any_receiver}


def _catalog_text(entries: dict[str, list[Any]]) -> str:
    """A line per kind, method, function and name, grouped under a heading, aligned."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    kinds: list[tuple[str, str]] = []
    for kind in entries["kinds"]:
        facts = [
            f"{label}: {', '.join(kind[key])}"
            for key, label in (
                ("traits", "traits"),
                ("classes", "classes"),
                ("factories", "factories"),
                ("annotations", "annotations"),
            )
            if kind[key]
        ]
        if kind["remedy"]:
            facts.append(f"remedy: {kind['remedy']}")
        kinds.append((kind["name"], "; ".join(facts)))
        kinds += [
            (f"  {kind['name']}.{method['name']}", ", ".join(method["roles"]) or "-")
            for method in kind["methods"]
        ]
    groups.append(("kinds and their methods", kinds))
    functions = []
    for function in entries["functions"]:
        facts = [", ".join(function["roles"]) or "-"]
        if function["unpacks"]:
            facts.append(f"unpacks: {', '.join(function['unpacks'])}")
        if function["remedy"]:
            facts.append(f"remedy: {function['remedy']}")
        functions.append((function["name"], "; ".join(facts)))
    groups.append(("functions", functions))
    groups.append(("names", [(e["name"], ", ".join(e["roles"])) for e in entries["names"]]))
    methods = [(f".{e['name']}", ", ".join(e["roles"]) or "-") for e in entries["any_receiver"]]
    groups.append(("methods of any object", methods))
    blocks = []
    for title, rows in groups:
        if rows:
            width = min(max(len(name) for name, _ in rows), 40)
            lines = [f"{name:<{width}}  {facts}".rstrip() for name, facts in rows]
            blocks.append("\n".join([f"{title}:", *(f"  {line}" for line in lines)]))
    return "\n\n".join(blocks)


def load_run_settings(args: argparse.Namespace) -> Settings:
    """Settings from the config file, then the flags on top."""
    from conclint import registry
    from conclint.config import Settings, find_config_file, load_settings, parse_codes

    known = registry.known_codes()
    if args.isolated:
        settings = Settings(root=str(Path.cwd()))
    else:
        config_file: Path | None
        if args.config:
            config_file = Path(args.config)
            if not os.path.lexists(config_file):
                raise UsageError(f"config file not found: {args.config}")
        else:
            first = next((p for p in args.paths if p != "-"), None)
            start = Path(first) if first else Path.cwd()
            if args.stdin_filename and not first:
                start = Path(args.stdin_filename).parent
            config_file = find_config_file(start if os.path.exists(start) else Path.cwd())
        settings = load_settings(config_file, known)

    changes: dict[str, Any] = {}
    if args.select is not None:
        changes["select"] = parse_codes(args.select, "--select", known)
    if args.ignore is not None:
        changes["ignore"] = settings.ignore + parse_codes(args.ignore, "--ignore", known)
    if args.extend_select is not None:
        changes["extend_select"] = settings.extend_select + parse_codes(
            args.extend_select, "--extend-select", known
        )
    if args.preview:
        changes["preview"] = True
    if args.exclude is not None:
        changes["exclude"] = _globs(args.exclude)
    if args.extend_exclude is not None:
        changes["extend_exclude"] = settings.extend_exclude + _globs(args.extend_exclude)
    if args.no_respect_gitignore:
        changes["respect_gitignore"] = False
    if args.jobs is not None:
        changes["jobs"] = args.jobs
    return replace(settings, **changes)


def _globs(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check(args: argparse.Namespace) -> int:
    from conclint.discovery import discover
    from conclint.engine import UNREADABLE, failure, lint_source

    settings = load_run_settings(args)
    output_format = args.output_format or os.environ.get("CONCLINT_OUTPUT_FORMAT") or "text"
    paths = args.paths or ["."]

    if "-" in paths:
        if len(paths) > 1:
            raise UsageError("'-' (standard input) cannot be combined with other paths")
        display = args.stdin_filename or "-"
        source = _read_stdin()
        if source is None:
            results = [failure(display, UNREADABLE, "standard input is larger than conclint reads")]
        else:
            results = [lint_source(source, display, settings)]
    else:
        if args.stdin_filename:
            raise UsageError("--stdin-filename needs '-' as the path")
        found = discover(paths, settings, force_exclude=args.force_exclude)
        if found.missing:
            raise UsageError(f"no such file or directory: {', '.join(found.missing)}")
        results = _lint(found.files, settings, args)
        # What discovery could not list or would not open is reported, not skipped.
        failed = [failure(path, UNREADABLE, why) for path, why in found.unreadable]
        results = sorted([*results, *failed], key=lambda result: result.path)

    _write_report(results, settings, args, output_format)
    has_findings = any(result.diagnostics for result in results)
    if not args.quiet and output_format == "text" and not has_findings:
        print("All checks passed!", file=sys.stderr)
    return EXIT_FINDINGS if has_findings and not args.exit_zero else EXIT_CLEAN


def _read_stdin() -> str | None:
    """Standard input as text; None when it holds more than a source file may."""
    from conclint.engine import DecodeError, decode_source
    from conclint.files import MAX_SOURCE_BYTES

    data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        return None
    try:
        return decode_source(data)
    except DecodeError:
        # Undecodable stdin is linted as text with replacements rather than rejected.
        return data.decode("utf-8", errors="replace")


def _lint(files: list[str], settings: Settings, args: argparse.Namespace) -> list[FileResult]:
    from conclint.cache import resolve_dir
    from conclint.runner import lint_paths

    cache_dir = None if args.no_cache else resolve_dir(args.cache_dir, settings)
    return lint_paths(files, settings, settings.jobs, cache_dir)


def _write_report(
    results: list[FileResult], settings: Settings, args: argparse.Namespace, fmt: str
) -> None:
    from conclint import registry
    from conclint.report import ReportOptions, RuleInfo, formats
    from conclint.report.text import statistics

    infos = tuple(RuleInfo.of(rule) for rule in registry.enabled_rules(settings))
    options = ReportOptions(
        rules=infos,
        root=str(Path(settings.root).resolve()),
        version=__version__,
        cwd=str(Path.cwd()),
        color=fmt == "text" and args.output_file is None and _use_color(args.color, sys.stdout),
        show_source=args.show_source,
        include_suppressed=args.sarif_include_suppressed,
    )
    text = formats()[fmt](results, options)
    if args.statistics and fmt == "text":
        text += statistics(results)
    if args.output_file:
        try:
            Path(args.output_file).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {args.output_file}: {error.strerror}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()
