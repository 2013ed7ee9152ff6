"""Command line: argument parsing, exit codes and output; the work is the engine's."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from conclint import __version__

if TYPE_CHECKING:
    from collections import Counter

    from conclint.analysis.project import ProjectIndex
    from conclint.baseline import Key
    from conclint.config import Resolver, Settings
    from conclint.diagnostics import FileResult
    from conclint.discovery import Discovery
    from conclint.fixes import FixRun
    from conclint.runner import Group

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
    check.add_argument(
        "--statistics", action="store_true", help="print the count of findings per code instead"
    )
    check.add_argument(
        "--show-source", action="store_true", help="show the source line of findings"
    )
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when something is found"
    )
    check.add_argument("--fix", action="store_true", help="apply the fixes findings come with")
    check.add_argument(
        "--unsafe-fixes",
        action="store_const",
        const=True,
        default=None,
        help="also apply (and count as fixable) fixes that may change what the code does",
    )
    check.add_argument(
        "--no-unsafe-fixes",
        action="store_const",
        const=False,
        dest="unsafe_fixes",
        help="neither apply nor mention the unsafe fixes",
    )
    check.add_argument(
        "--fix-only", action="store_true", help="apply the fixes and report nothing that is left"
    )
    check.add_argument(
        "--diff", action="store_true", help="print the fixes as a diff and change no file"
    )
    check.add_argument("--show-fixes", action="store_true", help="list what was fixed, per file")
    check.add_argument(
        "--exit-non-zero-on-fix",
        action="store_true",
        help="exit 1 when something was fixed, even if nothing is left",
    )
    check.add_argument(
        "--add-noqa", action="store_true", help="add `# noqa: CODES` to each line with findings"
    )
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only")
    check.add_argument(
        "-j", "--jobs", type=_positive_int, help="worker processes (default: all cores)"
    )
    check.add_argument("--config", help="pyproject.toml to read [tool.conclint] from")
    check.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    check.add_argument(
        "--show-settings",
        action="store_true",
        help="print the settings of the first file under PATH, and their config file",
    )
    check.add_argument(
        "--show-files", action="store_true", help="print the files that would be linted"
    )
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
        "--baseline", metavar="FILE", help="report only findings this baseline file lacks"
    )
    check.add_argument("--no-baseline", action="store_true", help="ignore the `baseline` setting")
    check.add_argument(
        "--write-baseline", metavar="FILE", help="record today's findings in FILE, report none"
    )
    check.add_argument(
        "--report-root",
        metavar="DIR",
        type=_directory,
        help="SARIF, github and baseline paths start here (default: the git top level)",
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


def _directory(text: str) -> str:
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such directory: {text!r}")
    return text


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
            from conclint.catalog_command import show_catalog

            return show_catalog(args)
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
        (
            *(rule.code, rule.name, rule.family(), "preview" if rule.preview else ""),
            *("fixable" if rule.fixable else "", rule.summary),
        )
        for rule in registry.RULES
    ]
    if markdown:
        lines = ["| code | name | family | status | fix | summary |", "|---|---|---|---|---|---|"]
        lines += [f"| {c} | {n} | {f} | {p or 'stable'} | {x} | {s} |" for c, n, f, p, x, s in rows]
    else:
        lines = [f"{c}  {n:<28} {f:<13} {p:<8} {x:<8} {s}".rstrip() for c, n, f, p, x, s in rows]
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


def run_resolver(args: argparse.Namespace) -> Resolver:
    """Each file's settings: from its nearest config file, `--config` or none
    (`--isolated`), with the flags on top."""
    from conclint import registry
    from conclint.config import Overrides, Resolver, Settings, load_settings, parse_codes

    known = registry.known_codes()

    def codes(text: str | None, flag: str) -> tuple[str, ...]:
        return parse_codes(text, flag, known) if text is not None else ()

    overrides = Overrides(
        select=codes(args.select, "--select") if args.select is not None else None,
        ignore=codes(args.ignore, "--ignore"),
        extend_select=codes(args.extend_select, "--extend-select"),
        preview=bool(args.preview),
        exclude=_globs(args.exclude) if args.exclude is not None else None,
        extend_exclude=_globs(args.extend_exclude) if args.extend_exclude is not None else (),
        respect_gitignore=False if args.no_respect_gitignore else None,
        jobs=args.jobs,
    )
    if args.isolated:
        return Resolver(known, fixed=Settings(root=str(Path.cwd())), overrides=overrides)
    if args.config:
        if not os.path.lexists(args.config):
            raise UsageError(f"config file not found: {args.config}")
        fixed = load_settings(Path(args.config), known)
        return Resolver(known, fixed=fixed, overrides=overrides)
    return Resolver(known, overrides=overrides)


def _globs(text: str) -> tuple[str, ...]:
    """Exclude globs of a flag: a glob with a `/` is relative to the working directory."""
    from conclint.config import anchored_globs, exclude_glob

    return anchored_globs((g for g in map(exclude_glob, text.split(",")) if g), Path.cwd())


def _output_format(args: argparse.Namespace) -> str:
    """The format asked for (flag, then `CONCLINT_OUTPUT_FORMAT`), checked against
    `--statistics`, which writes its counts as text or JSON only (as ruff)."""
    from conclint.report import STATISTICS_FORMATS, formats

    chosen = args.output_format or os.environ.get("CONCLINT_OUTPUT_FORMAT") or "text"
    if chosen not in formats():
        known = ", ".join(sorted(formats()))
        raise UsageError(f"unknown output format '{chosen}' in CONCLINT_OUTPUT_FORMAT ({known})")
    if args.statistics and chosen not in STATISTICS_FORMATS:
        known = ", ".join(STATISTICS_FORMATS)
        raise UsageError(f"--statistics cannot be written as {chosen}; use one of {known}")
    return chosen


def _check(args: argparse.Namespace) -> int:
    from conclint.discovery import is_excluded
    from conclint.engine import UNREADABLE, failure, lint_source
    from conclint.report import TEXT_FORMATS

    _warned.clear()  # once per run, also when `main` runs again in one process
    resolver = run_resolver(args)
    settings = resolver.default  # of the run as a whole; each file's own are resolved
    output_format = _output_format(args)
    paths = args.paths or ["."]
    if args.show_settings or args.show_files:
        return _show(args, resolver, paths)
    # Read before linting, so that a bad baseline fails fast; writing one ignores the old.
    baselines: dict[str, Counter[Key]] = {}
    if not args.write_baseline:
        _baseline_for(args, settings, baselines)

    groups: list[Group] = []  # of the files linted, for `--fix`
    stdin: tuple[str, Settings, str | None] | None = None  # name, settings and text
    if "-" in paths:
        if len(paths) > 1:
            raise UsageError("'-' (standard input) cannot be combined with other paths")
        display = args.stdin_filename or "-"
        own = resolver.settings_for(display) if args.stdin_filename else settings
        source = _read_stdin()
        if args.stdin_filename and args.force_exclude and is_excluded(display, resolver):
            results = []  # an editor linting a file the project excludes, as ruff
        elif source is None:
            results = [failure(display, UNREADABLE, "standard input is larger than conclint reads")]
        else:
            project = _stdin_project(args, resolver, display, source, own)
            results = [lint_source(source, display, own, project=project)]
        stdin = (display, own, source)
    else:
        if args.stdin_filename:
            raise UsageError("--stdin-filename needs '-' as the path")
        found = _discover(args, resolver, paths)
        results, groups = _lint(found.files, resolver, args)
        # What discovery could not list or would not open is reported, not skipped.
        failed = [failure(path, UNREADABLE, why) for path, why in found.unreadable]
        results = sorted([*results, *failed], key=lambda result: result.path)

    _warn_about_selection(args, resolver)
    if args.add_noqa:
        return _add_noqa(results, args, "-" in paths)
    fixing = None
    if args.fix or args.fix_only or args.diff:
        fixing = _fix(args, results, groups, stdin)
        results = fixing.results
    if args.write_baseline:
        return _write_baseline(results, settings, args)
    if not args.no_baseline and (args.baseline or any(s.baseline for s in resolver.used())):
        results = _apply_baselines(results, args, resolver, baselines)
    if not (args.fix_only or args.diff):  # those report what they fixed, nothing else
        _write_report(results, settings, args, output_format, resolver.used())
    has_findings = any(result.diagnostics for result in results)
    if not args.quiet and output_format in TEXT_FORMATS:
        _summarize(results, fixing, args)
    return _exit_status(args, has_findings, fixing)


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


def _lint(
    files: list[str], resolver: Resolver, args: argparse.Namespace
) -> tuple[list[FileResult], list[Group]]:
    from conclint.cache import resolve_dir
    from conclint.runner import lint_groups

    def cache_dir(settings: Settings) -> Path:  # each configuration's own, unless a flag says
        return resolve_dir(args.cache_dir, settings)

    jobs = resolver.default.jobs
    return lint_groups(files, resolver, jobs, None if args.no_cache else cache_dir)


def _stdin_project(
    args: argparse.Namespace, resolver: Resolver, name: str, source: str, settings: Settings
) -> ProjectIndex | None:
    """The index of the project standard input belongs to, by its `--stdin-filename`:
    what the file of that name would be linted with."""
    if not args.stdin_filename:
        return None
    from conclint.cache import resolve_dir
    from conclint.runner import FileProjects

    def cache_dir(settings: Settings) -> Path:
        return resolve_dir(args.cache_dir, settings)

    projects = FileProjects(resolver, None if args.no_cache else cache_dir, resolver.default.jobs)
    return projects.index_for(name, source, settings)


def _fix(
    args: argparse.Namespace,
    results: list[FileResult],
    groups: list[Group],
    stdin: tuple[str, Settings, str | None] | None,
) -> FixRun:
    """`--fix`, `--fix-only`, `--diff`: fix the files (write them, or print the diff);
    standard input's fixed text (or diff) goes to stdout, as ruff does."""
    from conclint import fixes

    unsafe = bool(args.unsafe_fixes)
    if stdin is not None:
        name, settings, source = stdin
        run = fixes.FixRun(results)
        if source is not None and results:
            fixed = fixes.fix_source(source, name, settings, unsafe, result=results[0])
            run = fixes.FixRun([fixed.result], problems=fixed.problems)
            if fixed.source != source:
                run.changed.append(fixes.FileFix(name, source, fixed.source, fixed.fixed))
        if args.diff:
            name_shown = args.stdin_filename
            diffs = [fixes.unified_diff(c.before, c.after, name_shown) for c in run.changed]
            sys.stdout.write("".join(diffs))
        elif source is not None:  # the source, fixed or as it came (an editor replaces its buffer)
            text = run.changed[0].after if run.changed else source
            # In the encoding its coding cookie names, as it was read; no newline translated.
            try:
                encoding = fixes.encoding_of(text[:4096].encode("utf-8", "replace"))
            except SyntaxError:  # a cookie naming no codec: it was read as UTF-8
                encoding = "utf-8"
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode(encoding.removesuffix("-sig"), "replace"))
    else:
        where = {path: (group.settings, group.project) for group in groups for path in group.files}
        run = fixes.fix_files(results, where.get, unsafe, write=not args.diff)
        if args.diff:
            diffs = [fixes.unified_diff(c.before, c.after, c.path) for c in run.changed]
            sys.stdout.write("".join(diffs))
    sys.stdout.flush()
    for problem in run.problems:
        _warn(args, problem)
    return run


def _summarize(results: list[FileResult], fixing: FixRun | None, args: argparse.Namespace) -> None:
    """The closing lines of text output, on stderr: "Found 3 errors.", what is fixable,
    and with `--show-fixes` what was fixed."""
    from conclint import registry
    from conclint.report.summary import Fixing, fix_list, summary

    mode = "diff" if args.diff else "fix-only" if args.fix_only else "check"
    fixed = sum(fixing.fixed.values()) if fixing else 0
    lines = summary(results, fixed, Fixing(mode, args.unsafe_fixes))
    if args.show_fixes and fixing is not None:
        names = {rule.code: rule.name for rule in registry.RULES}
        changed = [(change.path, change.fixed) for change in fixing.changed]
        lines = [*fix_list(changed, names), *lines]
    for line in lines:
        print(line, file=sys.stderr)


def _exit_status(args: argparse.Namespace, has_findings: bool, fixing: FixRun | None) -> int:
    """As ruff: `--diff` fails when it would fix something, `--fix-only` never (but with
    `--exit-non-zero-on-fix`), and otherwise findings left fail the run."""
    fixed = bool(fixing and fixing.changed)
    if args.exit_zero:
        return EXIT_CLEAN
    if args.diff:
        return EXIT_FINDINGS if fixed else EXIT_CLEAN
    failed = (has_findings and not args.fix_only) or (fixed and args.exit_non_zero_on_fix)
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _add_noqa(results: list[FileResult], args: argparse.Namespace, stdin: bool) -> int:
    """`--add-noqa`: a `# noqa: CODES` on each line with findings, as ruff adds them."""
    from conclint.add_noqa import add_noqa

    if stdin:
        raise UsageError("--add-noqa changes files: give paths, not '-'")
    if args.fix or args.fix_only or args.diff:
        _warn(args, "--fix, --fix-only and --diff are ignored with --add-noqa")
    added, problems = add_noqa(results)
    for problem in problems:
        _warn(args, problem)
    if added and not args.quiet:
        print(f"Added {added} noqa directive{'' if added == 1 else 's'}.", file=sys.stderr)
    return EXIT_CLEAN


def _discover(args: argparse.Namespace, resolver: Resolver, paths: list[str]) -> Discovery:
    """The files under `paths`; a directory with none is a warning (as ruff)."""
    from conclint.discovery import discover

    found = discover(paths, resolver, force_exclude=args.force_exclude)
    if found.missing:
        raise UsageError(f"no such file or directory: {', '.join(found.missing)}")
    for directory in found.empty:
        _warn(args, f"No Python files found under `{directory}`")
    if not found.files and not found.unreadable and not found.empty:
        _warn(args, "No Python files found under the given path(s)")
    return found


def _warn_about_selection(args: argparse.Namespace, resolver: Resolver) -> None:
    """Selections that do nothing, in any configuration the run used."""
    from conclint import registry
    from conclint.config import selection_warnings

    rules = {rule.code: rule.preview for rule in registry.RULES}
    tools = {code: name for code, name, _ in registry.TOOL_CODES}
    for settings in resolver.used():
        for message in selection_warnings(settings, rules, tools):
            _warn(args, message)


_warned: set[str] = set()


def _warn(args: argparse.Namespace, message: str) -> None:
    """A warning on stderr, once per run, never with `-q`; it leaves the exit status."""
    if args.quiet or message in _warned:
        return
    _warned.add(message)
    print(_shown(f"conclint: warning: {message}"), file=sys.stderr)


def _show(args: argparse.Namespace, resolver: Resolver, paths: list[str]) -> int:
    """`--show-files`: the files a run would lint, sorted, one a line. `--show-settings`:
    the settings of the first of them (or of `--stdin-filename`), where they come from."""
    if paths == ["-"] and args.stdin_filename:
        files = [args.stdin_filename]
    elif "-" in paths:
        raise UsageError("--show-settings and --show-files need paths or --stdin-filename")
    else:
        files = sorted(os.path.abspath(path) for path in _discover(args, resolver, paths).files)
    if args.show_files:
        if files:
            print("\n".join(files))
        return EXIT_CLEAN
    if not files:
        raise UsageError("no files found under the given path")
    print(_settings_text(files[0], resolver.settings_for(files[0]), args))
    return EXIT_CLEAN


def _settings_text(path: str, settings: Settings, args: argparse.Namespace) -> str:
    import json

    from conclint import registry
    from conclint.cache import resolve_dir
    from conclint.config import per_file_ignored, settings_table

    shown = json.dumps(os.path.abspath(path))
    source = json.dumps(settings.config_file) if settings.config_file else "none (the defaults)"
    lines = [f"Resolved settings for: {shown}", f"Settings path: {source}"]
    lines += [f"Extends: {json.dumps(base)}" for base in settings.extends]
    lines.append("")
    table = settings_table(settings)
    table["cache-dir"] = str(resolve_dir(args.cache_dir, settings).resolve())
    table["jobs"] = settings.jobs or os.cpu_count() or 1
    lines += [
        f"{key} = {json.dumps(value)}" if value is not None else f"# {key}: not set"
        for key, value in table.items()
    ]
    ignored = per_file_ignored(path, settings)
    enabled = [r for r in registry.enabled_rules(settings) if not r.code.startswith(ignored)]
    lines.append(f"per-file-ignored = {json.dumps(list(ignored))}")
    lines.append("enabled-rules = [")
    lines += [f'    "{rule.code}",  # {rule.name}' for rule in enabled]
    lines.append("]")
    return "\n".join(lines)


def _write_report(
    results: list[FileResult],
    settings: Settings,
    args: argparse.Namespace,
    fmt: str,
    used: Sequence[Settings] = (),
) -> None:
    from conclint import registry
    from conclint.report import TEXT_FORMATS, ReportOptions, RuleInfo, formats, statistics

    # Every rule some configuration of the run enabled, in registry order.
    enabled = {rule for each in (used or [settings]) for rule in registry.enabled_rules(each)}
    infos = tuple(RuleInfo.of(rule) for rule in registry.RULES if rule in enabled)
    options = ReportOptions(
        rules=infos,
        root=_report_root(args, settings),
        version=__version__,
        cwd=str(Path.cwd()),
        color=fmt in TEXT_FORMATS
        and args.output_file is None
        and _use_color(args.color, sys.stdout),
        show_source=args.show_source,
        include_suppressed=args.sarif_include_suppressed,
        unsafe_fixes=bool(args.unsafe_fixes),
        fix_status=not args.fix,  # what `--fix` left, it could not fix
    )
    if args.statistics:  # the counts instead of the findings, as ruff
        render = statistics.render_json if fmt == "json" else statistics.render
        text = render(results, options)
    else:
        text = formats()[fmt](results, options)
    if args.output_file:
        try:
            Path(args.output_file).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {args.output_file}: {error.strerror}") from None
    else:
        # With `--fix` on standard input, stdout carries the fixed text: findings go to stderr.
        stream = sys.stderr if args.fix and "-" in args.paths else sys.stdout
        stream.write(text)
        stream.flush()


def _report_root(args: argparse.Namespace, settings: Settings) -> str:
    """Where SARIF, `github` and baseline paths start: `--report-root`, else the git top
    level of the first path linted, else the project root."""
    from conclint.report.paths import report_root

    first = next((path for path in args.paths if path != "-"), None) or args.stdin_filename
    start = first if first and os.path.isdir(first) else os.path.dirname(first or "") or "."
    return report_root(start, settings.root, args.report_root)


def _baseline_for(
    args: argparse.Namespace, settings: Settings, loaded: dict[str, Counter[Key]]
) -> str | None:
    """The baseline file of files with these settings (`--baseline`, else their config's
    `baseline`), read into `loaded` once."""
    from conclint.baseline import BaselineError, load

    file = None if args.no_baseline else args.baseline or settings.baseline
    if file is not None and file not in loaded:
        try:
            loaded[file] = load(Path(file))
        except BaselineError as error:
            raise UsageError(str(error)) from None
    return file


def _write_baseline(results: list[FileResult], settings: Settings, args: argparse.Namespace) -> int:
    """`--write-baseline FILE`: today's findings recorded, none reported, exit 0."""
    from conclint.baseline import BaselineError, write

    file = args.write_baseline
    try:
        count = write(Path(file), results, _report_root(args, settings), str(Path.cwd()))
    except BaselineError as error:
        raise UsageError(str(error)) from None
    if not args.quiet:
        print(_shown(f"Wrote {_findings(count)} to the baseline {file}."), file=sys.stderr)
    return EXIT_CLEAN


def _apply_baselines(
    results: list[FileResult],
    args: argparse.Namespace,
    resolver: Resolver,
    loaded: dict[str, Counter[Key]],
) -> list[FileResult]:
    """Each file's findings less those of its baseline (`--baseline`, else that of its
    configuration); for each baseline, the findings it holds that are gone, on stderr."""
    from conclint.baseline import apply

    held: dict[str, list[int]] = {}  # baseline file -> the results it applies to
    for index, result in enumerate(results):
        # `--baseline` was read before linting; a config's is read when a file needs it.
        own = args.baseline or _baseline_for(args, resolver.settings_for(result.path), loaded)
        if own is not None:
            held.setdefault(own, []).append(index)
    root = _report_root(args, resolver.default)
    kept = list(results)
    for file, indexes in sorted(held.items()):
        applied = apply(loaded[file], [results[i] for i in indexes], root, str(Path.cwd()))
        for index, result in zip(indexes, applied.results, strict=True):
            kept[index] = result
        if applied.fixed and not args.quiet:
            fixed = "1 finding is" if applied.fixed == 1 else f"{applied.fixed} findings are"
            name = _near(file)
            message = f"{fixed} fixed since the baseline; `--write-baseline {name}` updates it."
            print(_shown(message), file=sys.stderr)
    return kept


def _findings(count: int) -> str:
    return f"{count} finding" if count == 1 else f"{count} findings"


def _near(path: str) -> str:
    """`path` from the working directory when it lies below it (as a user would type it)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith(os.pardir) else relative


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()
