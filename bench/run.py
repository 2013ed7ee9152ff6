"""Time conclint against peer linters and a LibCST parse floor on the same files, in one run."""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import corpus  # bench/corpus.py: run.py is started as a script, so bench/ is on sys.path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
PEERS = WORK / "peers"
LOGS = WORK / "logs"
REQUIREMENTS = HERE / "requirements.txt"
CONCLINT = [sys.executable, "-m", "conclint", "check", "--isolated", "--preview"]
RUFF_SELECT = ("--select", "RUF006,ASYNC", "--output-format", "concise")
PYLINT_CHECKS = (
    "not-async-context-manager,yield-inside-async-function,bad-thread-instantiation,"
    "useless-with-lock,lost-exception,broad-exception-caught,bare-except"
)
PYLINT_OPTIONS = ("--disable=all", f"--enable={PYLINT_CHECKS}", "--score=n", "--persistent=n")
ONE_JOB, REFERENCE = "conclint -j 1, cold (--no-cache)", "conclint -j 2, cold (--no-cache)"


def findings_or_clean(code: int) -> bool:
    return code in (0, 1)


@dataclass
class Tool:
    """One row of a table: a command run over the files of one set."""

    key: str  # what --skip names
    name: str
    argv: list[str]
    root: Path  # the working directory; file paths are relative to it
    before: Callable[[], None] | None = None  # before every run
    files: bool = True  # whether the file list is appended to argv
    ok: Callable[[int], bool] = findings_or_clean
    warm_up: bool = False  # one untimed run first (fills a cache)


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system, the whole process tree
    peak_kb: int = 0
    failure: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cells(self) -> str:
        """Markdown cells: seconds, CPU seconds, peak MB (or why there are none)."""
        if self.failure:
            return f"{self.failure} | | "
        peak = self.peak_kb / 1024
        return f"{self.median:.2f} | {statistics.median(self.cpu):.2f} | {peak:,.0f}"


# Each tool is started from this small interpreter, not from run.py: Linux carries a
# parent's peak RSS over into a child's, so run.py's own memory would set a floor.
LAUNCHER = """\
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)  # usage of the whole tree: peak RSS of its largest process
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    out.write(f"{seconds} {os.waitstatus_to_exitcode(status)} {cpu} {usage.ru_maxrss}")
"""


@dataclass
class Run:
    seconds: float
    code: int
    cpu: float
    peak_kb: int


# Installed tools run from compiled bytecode (pip writes it when it installs them); an
# environment that forbids writing it would make conclint, run from its source tree,
# compile itself on every run.
TOOL_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: Sequence[str], cwd: Path, log: str, timeout: float) -> Run | str:
    """One run as the launcher measured it, or why there is no measurement."""
    LOGS.mkdir(parents=True, exist_ok=True)
    usage = LOGS / f"{log}.usage"
    usage.unlink(missing_ok=True)
    with open(LOGS / f"{log}.out", "wb") as out, open(LOGS / f"{log}.err", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER, str(usage), *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            env=TOOL_ENV,
        )
        # A hung tool must not hang the benchmark: end its whole process group.
        timer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        process.wait()
        timer.cancel()
    if not usage.is_file():
        killed = process.returncode == -signal.SIGKILL
        return (
            f"timed out after {timeout:.0f} s"
            if killed
            else f"could not run ({process.returncode})"
        )
    seconds, code, cpu, peak = usage.read_text(encoding="utf-8").split()
    return Run(float(seconds), int(code), float(cpu), int(peak))


def measure(tool: Tool, files: Sequence[str], runs: int, log: str, timeout: float) -> Timing:
    argv = [*tool.argv, *files] if tool.files else tool.argv
    timing = Timing()
    print(f"  {tool.name} ...", file=sys.stderr, flush=True)
    for index in range(-1 if tool.warm_up else 0, runs):
        if tool.before is not None:
            tool.before()
        run = run_once(argv, tool.root, log, timeout)
        if isinstance(run, str) or not tool.ok(run.code):
            reason = run if isinstance(run, str) else f"crashed (exit {run.code})"
            timing.failure = f"{reason}, see {LOGS.relative_to(HERE.parent)}/{log}.err"
            return timing
        if index >= 0:
            timing.seconds.append(run.seconds)
            timing.cpu.append(run.cpu)
            timing.peak_kb = max(timing.peak_kb, run.peak_kb)
    return timing


def peer_bin() -> Path:
    """The venv of the peer linters, built from requirements.txt when that file changes."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = PEERS / "requirements.sha256"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted:
        return PEERS / "bin"
    print(f"installing peer linters into {PEERS} ...", file=sys.stderr)
    shutil.rmtree(PEERS, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    pip = [str(PEERS / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    if subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=False).returncode != 0:
        # One peer that does not install (Fixit, say) must not cost the others.
        for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
            wanted_line = line.split("#")[0].strip()
            if wanted_line and subprocess.run([*pip, wanted_line], check=False).returncode:
                print(f"  {wanted_line} did not install; its row is left out", file=sys.stderr)
    stamp.write_text(wanted, encoding="utf-8")
    return PEERS / "bin"


def set_files(directories: Sequence[str], sample: int | None) -> list[str]:
    """The *.py files of some corpus directories, relative to the corpus root."""
    files = [
        path.relative_to(corpus.CORPUS).as_posix()
        for directory in directories
        for path in corpus.python_files(corpus.CORPUS / directory)
    ]
    if sample and sample < len(files):
        files = [files[index * len(files) // sample] for index in range(sample)]
    return files


def async_file_near(root: Path, files: Sequence[str], lines: int) -> str:
    """The file with `async def` whose length is closest to `lines`."""
    best = min(
        (f for f in files if b"async def" in (root / f).read_bytes()),
        key=lambda f: abs(corpus.count_lines(root / f) - lines),
    )
    return best


def edit_one_file(path: Path) -> Callable[[], None]:
    """A `before` hook that changes the content of one file on every call."""
    original = path.read_bytes()
    calls = [0]

    def before() -> None:
        calls[0] += 1
        path.write_bytes(original + f"\n# bench edit {calls[0]}\n".encode())

    return before


def clear(directory: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(directory, ignore_errors=True)


def tools_for(
    label: str, files: list[str], peers: Path, copy_root: Path, changed: str
) -> list[Tool]:
    """Every row of one table, in the order printed."""
    root = corpus.CORPUS
    cache, copy_cache = WORK / f"cache-{label}", WORK / f"cache-{label}-copy"
    list_file = WORK / f"{label}.files"
    list_file.write_text("\n".join(files) + "\n", encoding="utf-8")
    empty_rc = WORK / "empty.pylintrc"
    empty_rc.write_text("", encoding="utf-8")
    with_cache = [*CONCLINT, "-j", "2", "--cache-dir", str(cache)]
    rows = [
        Tool("conclint", ONE_JOB, [*CONCLINT, "-j", "1", "--no-cache"], root),
        Tool("conclint", REFERENCE, [*CONCLINT, "-j", "2", "--no-cache"], root),
        Tool("conclint", "conclint -j 2, cold (cache cleared)", with_cache, root, clear(cache)),
        Tool("conclint", "conclint -j 2, cached, nothing changed", with_cache, root, warm_up=True),
        Tool(
            "conclint",
            "conclint -j 2, cached, one file changed",
            [*CONCLINT, "-j", "2", "--cache-dir", str(copy_cache)],
            copy_root,
            edit_one_file(copy_root / changed),
            warm_up=True,
        ),
        Tool(
            "ruff",
            "ruff --select RUF006,ASYNC",
            [str(peers / "ruff"), "check", "--isolated", "--no-cache", *RUFF_SELECT],
            root,
        ),
        Tool(
            "flake8",
            "flake8 -j 2 --select ASYNC (flake8-async)",
            [str(peers / "flake8"), "--isolated", "--select", "ASYNC", "-j", "2"],
            root,
        ),
        Tool(
            "pylint",
            f"pylint -j 2, {PYLINT_CHECKS.count(',') + 1} checks",
            [str(peers / "pylint"), "-j", "2", f"--rcfile={empty_rc}", *PYLINT_OPTIONS],
            root,
            # A bit mask of message categories; 32 is a usage error, more is a crash.
            ok=lambda code: 0 <= code < 32,
        ),
        Tool(
            "fixit",
            "Fixit, default rules",
            [str(peers / "fixit"), "lint"],
            root,
            # 1: violations found, 2: files it could not lint; both are results.
            ok=lambda code: code in (0, 1, 2, 3),
        ),
        Tool(
            "libcst", "LibCST parse only, 1 process", floor_command(list_file, 1), root, files=False
        ),
        Tool(
            "libcst",
            "LibCST parse only, 2 processes",
            floor_command(list_file, 2),
            root,
            files=False,
        ),
    ]
    return [row for row in rows if Path(row.argv[0]).exists()]


def table(files: list[str], lines: int, results: list[tuple[Tool, Timing]]) -> str:
    medians = [t.median for tool, t in results if tool.name == REFERENCE and t.seconds]
    out = [
        "| tool | files | lines | seconds (median) | CPU s | peak MB | lines/s "
        "| ratio to conclint -j 2 cold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool, timing in results:
        speed = ratio = ""
        if not timing.failure:
            speed = f"{lines / timing.median:,.0f}"
            ratio = f"{timing.median / medians[0]:.2f}" if medians else ""
        out.append(
            f"| {tool.name} | {len(files):,} | {lines:,} | {timing.cells} | {speed} | {ratio} |"
        )
    return "\n".join(out)


def bench_set(label: str, directories: list[str], args: argparse.Namespace) -> str:
    files = set_files(directories, args.sample)
    lines = sum(corpus.count_lines(corpus.CORPUS / f) for f in files)
    print(f"{label}: {len(files):,} files, {lines:,} lines", file=sys.stderr)
    # The "one file changed" runs edit a copy, never the corpus itself.
    copy_root = WORK / "copy"
    corpus.mark_root(corpus.CORPUS)
    corpus.mark_root(copy_root)
    for directory in directories:
        shutil.rmtree(copy_root / directory, ignore_errors=True)
        shutil.copytree(corpus.CORPUS / directory, copy_root / directory)
    changed = async_file_near(corpus.CORPUS, files, 2000)
    results: list[tuple[Tool, Timing]] = []
    for tool in tools_for(label, files, args.peers, copy_root, changed):
        if tool.key not in args.skip:
            log = f"{label}-{len(results)}-{tool.key}"
            results.append((tool, measure(tool, files, args.runs, log, args.timeout)))
    text = table(files, lines, results)
    by_name = {tool.name: timing for tool, timing in results if timing.seconds}
    one, two = by_name.get(ONE_JOB), by_name.get(REFERENCE)
    if one and two:
        text += f"\n\nconclint -j 2 speed-up over -j 1: {one.median / two.median:.2f}x"
    return text + f"\n\n(one file changed: {changed})"


def flake8_plugin_cost(file: Path, runs: int, timeout: float) -> str:
    """flake8 on one file, with the conclint plugin active and with it switched off."""
    # The flake8 of this environment, where conclint's plugin is installed.
    flake8 = [sys.executable, "-m", "flake8", "--isolated", str(file)]
    lines = corpus.count_lines(file)
    rows: list[tuple[str, Timing]] = []
    for name, argv in (
        ("flake8 with conclint", flake8),
        ("flake8 without conclint (--extend-ignore=CCL)", [*flake8, "--extend-ignore=CCL"]),
    ):
        tool = Tool("flake8", name, argv, WORK, files=False)
        rows.append((name, measure(tool, [], runs, f"plugin-{len(rows)}", timeout)))
    out = [
        f"flake8 on one {lines:,}-line file ({file.relative_to(corpus.CORPUS)}), median of {runs}:",
        "",
        "| run | seconds | CPU s | peak MB |",
        "|---|---:|---:|---:|",
    ]
    out += [f"| {name} | {timing.cells} |" for name, timing in rows]
    return "\n".join(out)


def generated_source(sources: Sequence[Path], target: int) -> str:
    """Real async modules concatenated to about `target` lines, renamed so it parses.

    Each copy's top-level functions and classes get a suffix, so the copies do not
    shadow each other; `from __future__` imports are hoisted to the top.
    """
    futures: set[str] = set()
    chunks: list[str] = []
    total = copy = 0
    while total < target * 0.99:
        added = False
        for path in sources:
            if total >= target * 0.99:
                break
            # Renaming keeps the line count: skip what does not fit before the work.
            if total + corpus.count_lines(path) > target:
                continue
            chunk = _renamed(path, f"_c{copy}", futures)
            if chunk:
                chunks.append(chunk)
                total, copy, added = total + chunk.count("\n"), copy + 1, True
        if not added:
            break
    head = f"from __future__ import {', '.join(sorted(futures))}\n" if futures else ""
    text = '"""Real async modules concatenated for the benchmark."""\n' + head + "".join(chunks)
    ast.parse(text)  # a generator bug must show here, not as a slow or failed lint
    return text


def _renamed(path: Path, suffix: str, futures: set[str]) -> str:
    """One module with its top-level definitions renamed, or "" if it does not parse here."""
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, UnicodeDecodeError, tokenize.TokenError, ValueError):
        return ""
    lines = text.splitlines(keepends=True)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            futures.update(alias.name for alias in node.names)
            for number in range(node.lineno - 1, node.end_lineno or node.lineno):
                lines[number] = "\n"
    # Right to left, so the columns of earlier tokens on a line stay valid.
    for token in reversed(tokens):
        if token.type == tokenize.NAME and token.string in names:
            row, col = token.start
            line = lines[row - 1]
            lines[row - 1] = line[:col] + token.string + suffix + line[col + len(token.string) :]
    joined = "".join(lines)
    return joined if joined.endswith("\n") else joined + "\n"


def time_per_line(sources: Sequence[Path], runs: int, timeout: float) -> str:
    """conclint on one generated file of 1k and one of 100k lines, against a two-line file."""
    directory = WORK / "generated"
    directory.mkdir(parents=True, exist_ok=True)
    files = {"2 lines (start-up)": "async def main():\n    await other()\n"}
    for target in (1_000, 100_000):
        files[f"{target:,} lines"] = generated_source(sources, target)
    out = [
        f"conclint -j 1 --no-cache on one generated file, median of {runs}; per line in CPU time,"
        " which a busy machine disturbs less than wall time:",
        "",
        "| file | lines | seconds | CPU s | peak MB | CPU µs/line | after start-up "
        "| LibCST parse only, after start-up |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    start_up: dict[str, float] = {}
    for name, text in files.items():
        path = directory / f"{name.split()[0].replace(',', '')}.py"
        path.write_text(text, encoding="utf-8")
        path.with_suffix(".files").write_text(f"{path}\n", encoding="utf-8")
        lines = text.count("\n")
        commands = {
            "conclint": [*CONCLINT, "-j", "1", "--no-cache", str(path)],
            "libcst": floor_command(path.with_suffix(".files"), 1),
        }
        timings = {
            key: measure(
                Tool(key, f"{key}, {name}", argv, WORK, files=False),
                [],
                runs,
                f"per-line-{key}-{path.stem}",
                timeout,
            )
            for key, argv in commands.items()
        }
        cpu = {key: statistics.median(t.cpu) for key, t in timings.items() if not t.failure}
        for key, seconds in cpu.items():
            start_up.setdefault(key, seconds)
        per_line = {key: f"{seconds / lines * 1e6:,.1f}" for key, seconds in cpu.items()}
        net = {
            key: f"{(seconds - start_up[key]) / lines * 1e6:,.1f}" for key, seconds in cpu.items()
        }
        out.append(
            f"| {name} | {lines:,} | {timings['conclint'].cells} | {per_line.get('conclint', '')} "
            f"| {net.get('conclint', '')} | {net.get('libcst', '')} |"
        )
    return "\n".join(out)


def floor_command(list_file: Path, jobs: int) -> list[str]:
    """The command line of the parse-only floor over the files listed in `list_file`."""
    here = str(Path(__file__).resolve())
    return [sys.executable, here, "--parse-floor", str(list_file), "-j", str(jobs)]


def parse_floor(list_file: Path, jobs: int) -> int:
    """The floor: libcst.parse_module on every listed file and nothing else."""
    files = list_file.read_text(encoding="utf-8").split()
    if jobs == 1:
        failed = sum(map(_parse_fails, files))
    else:
        from multiprocessing import Pool

        with Pool(jobs) as pool:
            failed = sum(pool.imap_unordered(_parse_fails, files, chunksize=8))
    print(f"{len(files)} files, {failed} did not parse")
    return 0


def _parse_fails(path: str) -> bool:
    import libcst

    try:
        libcst.parse_module(Path(path).read_bytes())
    except Exception:  # the floor only counts; any failure is "did not parse"
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=3, help="timed runs per tool (3)")
    parser.add_argument("--sets", default="corpus,stdlib", help="tables to make (corpus,stdlib)")
    parser.add_argument(
        "--skip",
        default="",
        help="what to leave out: conclint,ruff,flake8,pylint,fixit,libcst,extras",
    )
    parser.add_argument("--sample", type=int, help="only this many files of each set (quick check)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run (3600)")
    parser.add_argument("--parse-floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("-j", "--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_floor:
        return parse_floor(args.parse_floor, args.jobs)

    args.skip = {name.strip().lower() for name in args.skip.split(",") if name.strip()}
    projects, stdlib = corpus.load_manifest()
    args.peers = peer_bin()
    print(f"conclint: {' '.join(CONCLINT)}; {os.cpu_count()} CPUs; {args.runs} run(s) per tool")
    if "corpus" in args.sets:
        print(f"\n## Corpus: {len(projects)} projects\n\n{bench_set('corpus', projects, args)}")
    if "stdlib" in args.sets:
        print(f"\n## Standard library ({stdlib}, without tests)\n")
        print(bench_set("stdlib", [stdlib], args))

    if "extras" in args.skip:
        return 0
    project_files = set_files(projects, None)
    two_thousand = corpus.CORPUS / async_file_near(corpus.CORPUS, project_files, 2000)
    print("\n## Extras\n\n" + flake8_plugin_cost(two_thousand, 5, args.timeout))
    sources = [corpus.CORPUS / f for f in project_files]
    sources = [path for path in sources if b"async def" in path.read_bytes()]
    print("\n" + time_per_line(sources, args.runs, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
