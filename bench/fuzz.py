"""Mutate the running Python's standard library and check that the engine survives it.

Each mutant is a standard library module with one to three lines deleted,
duplicated or swapped, linted by `lint_source` with every rule (preview
included) and without the text pre-filter, so that every mutant is parsed and
traversed. The script counts files, diagnostics, crashes (an exception escaping
the engine, or a worker process that died) and hangs (files that ran into the
per-file time guard), and names the slowest file. Not a test: it takes about
ten minutes for the default 5,000 mutants on two cores.

    python bench/fuzz.py                 # 5,000 mutants
    python bench/fuzz.py 500 --seed 7    # another sample
    python bench/fuzz.py --save crashes  # keep the source of every crash and hang
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import sysconfig
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from conclint.config import Settings
from conclint.engine import DecodeError, decode_source, lint_source

# Test suites are as large as the rest of the library together and add nothing new.
SKIPPED_DIRS = frozenset({"site-packages", "dist-packages", "test", "tests", "idle_test"})
OPERATIONS = ("delete", "duplicate", "swap")


@dataclass(frozen=True)
class Mutant:
    number: int
    path: str
    seed: int


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    seconds: float
    codes: tuple[str, ...] = ()
    hang: bool = False
    crash: str = ""  # the escaping exception, or why the worker died
    description: str = ""


def library_files() -> list[str]:
    """The standard library's modules, in a stable order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in SKIPPED_DIRS)
        found.extend(os.path.join(directory, name) for name in filenames if name.endswith(".py"))
    return sorted(found)


def mutate(source: str, rng: random.Random) -> tuple[str, str]:
    """One to three line edits; returns the new text and what was done."""
    lines = source.splitlines(keepends=True) or ["\n"]
    done = []
    for _ in range(rng.randint(1, 3)):
        operation = rng.choice(OPERATIONS)
        where = rng.randrange(len(lines))
        if operation == "delete" and len(lines) > 1:
            del lines[where]
        elif operation == "duplicate":
            lines.insert(where, lines[where])
        else:
            other = rng.randrange(len(lines))
            lines[where], lines[other] = lines[other], lines[where]
            where = min(where, other)
        done.append(f"{operation}@{where + 1}")
    return "".join(lines), " ".join(done)


def mutant_source(mutant: Mutant) -> tuple[str, str] | None:
    try:
        source = decode_source(Path(mutant.path).read_bytes())
    except (OSError, DecodeError):
        return None
    return mutate(source, random.Random(mutant.seed))


def run_one(mutant: Mutant, settings: Settings) -> Outcome:
    made = mutant_source(mutant)
    if made is None:
        return Outcome(mutant, 0.0, description="unreadable")
    source, description = made
    started = time.perf_counter()
    try:
        result = lint_source(source, mutant.path, settings, prefilter=False)
    except BaseException as error:  # exactly what this script looks for
        if isinstance(error, KeyboardInterrupt):
            raise
        crash = "".join(traceback.format_exception_only(type(error), error)).strip()
        return Outcome(mutant, time.perf_counter() - started, crash=crash, description=description)
    seconds = time.perf_counter() - started
    codes = tuple(d.code for d in result.diagnostics)
    hang = result.failed and "file-timeout" in result.diagnostics[0].message
    return Outcome(mutant, seconds, codes, hang, description=description)


def run_all(mutants: Sequence[Mutant], settings: Settings, jobs: int) -> list[Outcome]:
    """Every mutant in worker processes; a worker that dies is a crash of the mutant it ran."""
    outcomes: list[Outcome] = []
    pending = list(mutants)
    while pending:
        batch, pending = pending[: jobs * 16], pending[jobs * 16 :]
        try:
            outcomes.extend(_batch(batch, settings, jobs))
        except BrokenProcessPool:
            # Find the culprit: one mutant per fresh process.
            for mutant in batch:
                try:
                    outcomes.extend(_batch([mutant], settings, 1))
                except BrokenProcessPool:
                    outcomes.append(Outcome(mutant, 0.0, crash="worker process died"))
        print(f"\r{len(outcomes)}/{len(mutants)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return outcomes


def _batch(batch: Sequence[Mutant], settings: Settings, jobs: int) -> list[Outcome]:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures: list[Future[Outcome]] = [pool.submit(run_one, m, settings) for m in batch]
        return [future.result() for future in futures]


def summary(outcomes: Sequence[Outcome], wall: float) -> str:
    linted = [o for o in outcomes if o.description != "unreadable"]
    codes = Counter(code for o in linted for code in o.codes)
    crashes = [o for o in linted if o.crash]
    hangs = [o for o in linted if o.hang]
    lines = [
        f"files: {len(linted)}",
        f"diagnostics: {sum(codes.values())} "
        f"({', '.join(f'{code} {n}' for code, n in sorted(codes.items()))})",
        f"files not analysed: {sum(1 for o in linted if {'CCL001', 'CCL002'} & set(o.codes))}",
        f"crashes: {len(crashes)}",
        f"hangs: {len(hangs)}",
    ]
    if linted:
        slowest = max(linted, key=lambda o: o.seconds)
        lines.append(
            f"slowest: {slowest.seconds:.2f} s {slowest.mutant.path} ({slowest.description})"
        )
        engine = sum(o.seconds for o in linted)
        lines.append(f"total engine time: {engine:.0f} s, wall {wall:.0f} s")
    lines.extend(
        f"  crash: {o.mutant.path} ({o.description}, seed {o.mutant.seed}): {o.crash}"
        for o in crashes
    )
    lines.extend(f"  hang: {o.mutant.path} ({o.description})" for o in hangs)
    return "\n".join(lines)


def save(outcomes: Sequence[Outcome], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        if outcome.crash or outcome.hang:
            made = mutant_source(outcome.mutant)
            if made is not None:
                name = f"{outcome.mutant.number:05d}_{Path(outcome.mutant.path).stem}.py"
                (directory / name).write_text(made[0], encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=5000, help="mutants (5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--file-timeout", type=float, default=20.0, help="the engine's time guard (20 s)"
    )
    parser.add_argument("--save", type=Path, help="write crashing and hanging mutants here")
    args = parser.parse_args(argv)

    files = library_files()
    rng = random.Random(args.seed)
    mutants = [Mutant(n, rng.choice(files), rng.getrandbits(64)) for n in range(args.count)]
    settings = Settings(preview=True, file_timeout=args.file_timeout)
    started = time.perf_counter()
    outcomes = run_all(mutants, settings, args.jobs)
    print(summary(outcomes, time.perf_counter() - started))
    if args.save is not None:
        save(outcomes, args.save)
    return 1 if any(o.crash for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
