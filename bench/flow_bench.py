"""Time the path-sensitive analysis on generated worst cases: many branches, deep loop nests.

Run it from the repository root: `python bench/flow_bench.py`. It prints, for
each generated module, the parse time, the time of the whole engine with the
rules built on the flow analysis, and the time of each flow analysis alone
(graph construction included) with the size of the graph. The target is well
under a second for each.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import libcst as cst

from conclint import registry
from conclint.analysis import closing, flow, pairing
from conclint.analysis.context import FileContext
from conclint.config import Settings
from conclint.engine import lint_source
from conclint.rules.base import Rule

HEADER = """import queue
import threading

jobs: "queue.Queue[int]" = queue.Queue(maxsize=10)
results: "queue.Queue[int]" = queue.Queue(maxsize=10)
lock = threading.Lock()


def work(value: int) -> int:
    return value * 2


def main() -> None:
    jobs.join()

"""

# What one branch does: pairs and closes that the three analyses follow.
BRANCH_BODIES = (
    "lock.acquire()\n{i}try:\n{i}    work({k})\n{i}finally:\n{i}    lock.release()",
    "item = jobs.get()\n{i}try:\n{i}    work(item)\n{i}finally:\n{i}    jobs.task_done()",
    "results.put({k})",
    "results.shutdown()",
    "flag_{k} = True",
    "if not lock.acquire(timeout={k}):\n{i}    continue\n{i}lock.release()",
    "item = jobs.get_nowait()\n{i}work(item)\n{i}jobs.task_done()",
)


def branchy_loops(branches: int, depth: int) -> str:
    """One function: `depth` nested loops, `branches` if/else branches spread over the levels."""
    lines = ["def branchy(values: list[int], flags: list[bool]) -> None:"]
    per_level = branches // depth
    for level in range(depth):
        indent = "    " * (level + 1)
        lines.append(f"{indent}for v{level} in values:")
        inner = indent + "    "
        for offset in range(per_level):
            k = level * per_level + offset
            body = BRANCH_BODIES[k % len(BRANCH_BODIES)].format(i=inner + "    ", k=k)
            lines.append(f"{inner}if flags[{k}]:")
            lines.append(f"{inner}    {body}")
            lines.append(f"{inner}elif v{level} == {k}:")
            lines.append(f"{inner}    break")
    lines.append("    " * (depth + 1) + "results.shutdown()")
    return HEADER + "\n".join(lines) + "\n"


def sequential_ifs(count: int) -> str:
    """One function: `count` if statements one after the other, each doing something tracked."""
    lines = ["def sequential(flags: list[bool]) -> None:"]
    for k in range(count):
        body = BRANCH_BODIES[k % len(BRANCH_BODIES)].replace("continue", "return")
        lines.append(f"    if flags[{k}]:")
        lines.append(f"        {body.format(i='        ', k=k)}")
    return HEADER + "\n".join(lines) + "\n"


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    """The best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def flow_rules() -> list[type[Rule]]:
    return [rule for rule in registry.RULES if rule.code[3] in "34"]


def measure(name: str, source: str) -> None:
    module = cst.parse_module(source)
    function = next(node for node in reversed(module.body) if isinstance(node, cst.FunctionDef))
    settings = Settings(preview=True)
    print(f"{name}: {len(source.splitlines())} lines")
    print(f"  parse                      {timed(lambda: cst.parse_module(source)):7.3f} s")
    rules = flow_rules()
    engine = timed(lambda: lint_source(source, "bench.py", settings, rules=rules))
    print(f"  engine, {len(rules)} flow rules        {engine:7.3f} s (parse included)")
    every = timed(lambda: lint_source(source, "bench.py", settings), repeat=1)
    print(f"  engine, all {len(registry.RULES)} rules        {every:7.3f} s (parse included)")
    analyses: list[tuple[str, Callable[[FileContext], flow.Analysis[object, object]]]] = [
        ("closes", closing.Closes),  # type: ignore[list-item]
        ("takes", pairing.Takes),  # type: ignore[list-item]
        ("locks", pairing.Locks),  # type: ignore[list-item]
    ]
    for label, make in analyses:

        def run(make: Callable[[FileContext], flow.Analysis[object, object]] = make) -> object:
            # A fresh context each time, so nothing comes from the per-file cache.
            context = FileContext("bench.py", module, settings)
            result = flow.analyse(context, function, make(context), chain=[module, function])
            for _ in result.at_events():
                pass
            return result

        seconds = timed(run)
        result = run()
        assert isinstance(result, flow.FlowResult)
        blocks = len(result.graph.blocks) if result.graph is not None else 0
        gave_up = " (gave up)" if result.graph is None else ""
        print(f"  flow analysis {label:<12} {seconds:7.3f} s, {blocks} blocks{gave_up}")


def main() -> None:
    measure("500 branches in 50 nested loops", branchy_loops(500, 50))
    measure("200 sequential ifs", sequential_ifs(200))


if __name__ == "__main__":
    main()
