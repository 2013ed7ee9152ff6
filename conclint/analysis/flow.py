"""Path-sensitive analysis of one function body, which rules query instead of walking trees.

A rule describes what it tracks as an `Analysis`: a state for one path (any
hashable value; `FactAnalysis` uses a frozenset of facts), `classify` which
picks the events of the control-flow graph (`cfg.py`) it cares about, once
per event, `transfer` for those events, `on_raise` for the state an
exception carries away from one, and `join`. `analyse(context, scope,
analysis)` runs it over the scope's graph and answers with every classified
event and the states that reach it (`FlowResult.at_events`).

The abstraction: each program point holds a *set of path states*, a path
state being (rule state, flags, tags). Keeping a set rather than one merged
state keeps facts tied to the paths they came from, so a close in the `if`
branch and one in the `else` branch never meet on one path: "some path
through here has X" is answered exactly, up to the bound below (a
may-analysis with bounded disjunction).

- *Flags* are boolean constants assigned to names and attributes
  (`self._closed = True`) and truths learned from branch tests (`if not
  closed:`), and whether a name assigned literals is None (`stage = None`,
  `if stage is None:`); a branch that contradicts them is infeasible and dropped.
  Constant tests (`while True:`) are decided the same way. Calls are assumed
  not to change flags (a method that sets `self._closed` is not followed).
- *Tags* say how a path entered the `finally` bodies it is in (see `cfg.py`).
- When a point holds more than `MAX_PATHS` states they are merged: first
  states that differ only in flags (keeping the flags they agree on), then all
  states with the same tags, by the analysis' `join`. So 200 sequential `if`s
  cost 200 times a bounded amount, not 2**200.

Loops run to a fixpoint with a worklist in reverse postorder. A block visited
more than `WIDEN_AFTER` times has its states merged on every later visit, so
each block is visited a number of times bounded by the height of the
analysis' lattice, whatever the nesting of loops; a budget proportional to
the size of the graph stops pathological cases (the result is then empty: no
findings rather than guesses). Graphs and results are cached per file, by
scope and `Analysis.key`: no function is walked twice for one analysis,
whichever rules ask.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

import libcst as cst

from conclint.analysis import cfg, exits
from conclint.analysis.cfg import Block, Edge, Event, Graph
from conclint.analysis.scopes import ScopeNode, dotted_name

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

S = TypeVar("S", bound=Hashable)
Op = TypeVar("Op")
F = TypeVar("F", bound=Hashable)

MAX_PATHS = 12
WIDEN_AFTER = 6
# Block visits allowed per block of the graph before the analysis gives up.
BUDGET_PER_BLOCK = 40

Flags = frozenset[tuple[str, bool]]
_NO_FLAGS: Flags = frozenset()


class Analysis(Generic[S, Op]):
    """What a rule tracks along paths; `Op` is what `classify` makes of an event."""

    # Analyses with the same key compute the same thing: their results are shared.
    key: ClassVar[str]

    def prepare(self, graph: Graph) -> None:
        """Look over the whole graph before `classify` is asked about its events."""

    def initial(self) -> S:
        raise NotImplementedError

    def classify(self, event: Event) -> Op | None:
        """What this event means to the analysis (None: nothing, skip it)."""
        return None

    def transfer(self, state: S, event: Event, op: Op) -> S:
        return state

    def on_raise(self, state: S, event: Event, op: Op) -> S:
        """The state an exception raised at `event` carries (default: the state before it)."""
        return state

    def join(self, states: Sequence[S]) -> S:
        raise NotImplementedError


class FactAnalysis(Analysis[frozenset[F], Op]):
    """A state is a set of facts; merging paths unites them."""

    def initial(self) -> frozenset[F]:
        return frozenset()

    def join(self, states: Sequence[frozenset[F]]) -> frozenset[F]:
        return frozenset().union(*states)


# A path state: (rule state, flags, tags).
_Path = tuple[S, Flags, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Step:
    event: Event
    op: object | None
    # ASSIGN: the flags it sets; ASSUME: the constant truth of the test, or its flag key
    # and whether the test is true when the flag is (False: `x is not None`).
    sets: tuple[tuple[str, bool], ...] = ()
    constant: bool | None = None
    flag: str | None = None
    polarity: bool = True


class FlowResult(Generic[S, Op]):
    """The states reaching every classified event of one scope."""

    def __init__(
        self,
        graph: Graph | None,
        analysis: Analysis[S, Op],
        programs: Sequence[list[_Step]] = (),
        inputs: Sequence[set[_Path[S]] | None] = (),
    ) -> None:
        self.graph = graph
        self.analysis = analysis
        self._programs = programs
        self._inputs = inputs

    def at_events(self) -> Iterator[tuple[Event, Op, frozenset[S]]]:
        """Each classified event that some path reaches, with the rule states before it."""
        for index, program in enumerate(self._programs):
            states = self._inputs[index]
            if not states or not any(step.op is not None for step in program):
                continue
            paths = list(states)
            for step in program:
                if step.op is not None:
                    yield step.event, step.op, frozenset(path[0] for path in paths)  # type: ignore[misc]
                paths = [after for path in paths if (after := _advance(self.analysis, step, path))]


def analyse(
    context: FileContext,
    scope: ScopeNode,
    analysis: Analysis[S, Op],
    chain: Sequence[ScopeNode] | None = None,
) -> FlowResult[S, Op]:
    """Run `analysis` over `scope` (a function or the module), once per file and key.

    `chain` is the scope chain ending at `scope` (default: the context's
    current chain, right when a rule visits or leaves `scope`).
    """
    cache = context.memo("flow", _FlowCache)
    key = (id(scope), analysis.key)
    found = cache.get(key)
    if found is None:
        try:
            graph = graph_of(context, scope, chain)
            found = _Solver(graph, analysis).result()
        except (RecursionError, _GaveUp):
            found = FlowResult(None, analysis)
        cache[key] = found
    return found  # type: ignore[return-value]


# Per file: (id of scope, analysis key or "" for the graph) -> result.
_FlowCache = dict[tuple[int, str], object]


def graph_of(
    context: FileContext, scope: ScopeNode, chain: Sequence[ScopeNode] | None = None
) -> Graph:
    """The control-flow graph of `scope`, built once per file."""
    cache = context.memo("flow", _FlowCache)
    key = (id(scope), "")
    found = cache.get(key)
    if found is None:
        scopes = tuple(chain if chain is not None else context.chain)
        found = cfg.build(scope, _ScopeLookup(context, scopes))
        cache[key] = found
    assert isinstance(found, Graph)
    return found


@dataclass(frozen=True, slots=True)
class _ScopeLookup:
    context: FileContext
    chain: tuple[ScopeNode, ...]

    def resolve(self, expr: cst.BaseExpression) -> str | None:
        return self.context.names.resolve(expr, self.chain)

    def kind_of(self, expr: cst.BaseExpression) -> str | None:
        return self.context.bindings.kind_of(expr, self.chain)

    def never_returns(self, value: cst.Call | cst.Await) -> bool:
        return exits.project_never_returns(value, self.context, self.chain)

    def constructs_quietly(self, call: cst.Call) -> bool:
        func = call.func
        spelled = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
        if not spelled or not spelled.lstrip("_")[:1].isupper():
            return False  # the cheap test first: classes are named so
        name = self.context.bindings.qualified(func, self.chain)
        return name is not None and self.context.model().constructs_quietly(name)


class _GaveUp(Exception):
    """The fixpoint took more steps than the budget allows."""


def _advance(analysis: Analysis[S, Op], step: _Step, path: _Path[S]) -> _Path[S] | None:
    """`path` after `step`, or None when the step contradicts it."""
    state, flags, tags = path
    event = step.event
    if event.kind == cfg.ASSUME:
        truth = event.truth
        if step.constant is not None:
            if step.constant != truth:
                return None
        elif step.flag is not None:
            truth = truth if step.polarity else not truth
            if (step.flag, not truth) in flags:
                return None
            flags = flags | {(step.flag, truth)}
    elif event.kind == cfg.ASSIGN and (flags or step.sets):
        flags = _rebind(flags, event.targets)
        if step.sets:
            flags = flags | set(step.sets)
    if step.op is not None:
        state = analysis.transfer(state, event, step.op)  # type: ignore[arg-type]
    return state, flags, tags


def touches(targets: Iterable[str], keys: Iterable[str]) -> bool:
    """Does re-binding `targets` end something known about one of `keys`?"""
    return any(cfg.rebinds(targets, key) for key in keys)


def _flags_set(event: Event, flag_keys: frozenset[str]) -> tuple[tuple[str, bool], ...]:
    """The flags an assignment of a constant sets: its truth, and whether it is None."""
    if len(event.targets) != 1 or event.value is None:
        return ()
    (target,) = event.targets
    found = []
    truth = cfg.constant_truth(event.value)
    if truth is not None and target in flag_keys:
        found.append((target, truth))
    is_none = cfg.literal_is_none(event.value)
    if is_none is not None and target + cfg.IS_NONE in flag_keys:
        found.append((target + cfg.IS_NONE, is_none))
    return tuple(found)


def _rebind(flags: Flags, targets: Sequence[str]) -> Flags:
    if not flags:
        return flags
    dropped = {flag for flag in flags if cfg.rebinds(targets, flag[0])}
    return flags - dropped if dropped else flags


class _Solver(Generic[S, Op]):
    def __init__(self, graph: Graph, analysis: Analysis[S, Op]) -> None:
        self.graph = graph
        self.analysis = analysis
        analysis.prepare(graph)
        self.programs = [self._program(block) for block in graph.blocks]
        self.inputs: list[set[_Path[S]] | None] = [None] * len(graph.blocks)
        self.visits = [0] * len(graph.blocks)
        self.queue: list[int] = []
        self.queued: set[int] = set()

    def _program(self, block: Block) -> list[_Step]:
        steps = []
        flag_keys = self.graph.flag_keys
        for event in block.events:
            op = self.analysis.classify(event)
            if event.kind == cfg.ASSUME:
                constant = cfg.constant_truth(event.node)
                tested = cfg.flag_test(event.node)
                flag, polarity = tested if tested and tested[0] in flag_keys else (None, True)
                if op is not None or constant is not None or flag is not None:
                    steps.append(_Step(event, op, constant=constant, flag=flag, polarity=polarity))
            elif event.kind == cfg.ASSIGN:
                sets = _flags_set(event, flag_keys)
                if op is not None or sets or touches(event.targets, flag_keys):
                    steps.append(_Step(event, op, sets=sets))
            elif op is not None or event.raises:
                if op is None and steps and steps[-1].op is None and steps[-1].event.raises:
                    continue  # nothing changed since the last raise point
                steps.append(_Step(event, op))
        return steps

    def result(self) -> FlowResult[S, Op]:
        entry = self.graph.entry.index
        self.inputs[entry] = {(self.analysis.initial(), _NO_FLAGS, ())}
        self._enqueue(entry)
        budget = BUDGET_PER_BLOCK * len(self.graph.blocks) + 1000
        while self.queue:
            index = heapq.heappop(self.queue)
            self.queued.discard(index)
            budget -= 1
            if budget < 0:
                raise _GaveUp
            self._visit(index)
        return FlowResult(self.graph, self.analysis, self.programs, self.inputs)

    def _enqueue(self, index: int) -> None:
        if index not in self.queued:
            self.queued.add(index)
            heapq.heappush(self.queue, index)

    def _visit(self, index: int) -> None:
        block = self.graph.blocks[index]
        paths = self.inputs[index]
        if not paths:
            return
        self.visits[index] += 1
        if self.visits[index] > WIDEN_AFTER:
            paths = self.inputs[index] = self._merge(paths, by_tags=True)
        if block.router is not None:
            for state, flags, tags in paths:
                for edge in block.router.get(tags[-1], ()):
                    self._send(edge, [(state, flags, tags[:-1])])
            return
        out: list[_Path[S]] = []
        raised: list[_Path[S]] = []
        program = self.programs[index]
        analysis = self.analysis
        for path in paths:
            current: _Path[S] | None = path
            for step in program:
                assert current is not None
                if step.event.raises:
                    if step.op is None:
                        raised.append(current)
                    else:
                        state = analysis.on_raise(current[0], step.event, step.op)  # type: ignore[arg-type]
                        raised.append((state, current[1], current[2]))
                current = _advance(analysis, step, current)
                if current is None:
                    break
            if current is not None:
                out.append(current)
        if raised and block.exc is not None:
            self._send(block.exc, raised)
        if out:
            for edge in block.succ:
                self._send(edge, out)

    def _send(self, edge: Edge, paths: Iterable[_Path[S]]) -> None:
        target = edge.target.index
        if edge.pops or edge.push:
            paths = [_retag(path, edge) for path in paths]
        before = self.inputs[target]
        merged = set(before) if before else set()
        merged.update(paths)
        if len(merged) > MAX_PATHS:
            merged = self._merge(merged, by_tags=False)
        if merged != before:
            self.inputs[target] = merged
            self._enqueue(target)

    def _merge(self, paths: set[_Path[S]], by_tags: bool) -> set[_Path[S]]:
        """Fewer paths: forget flags that separate equal states, then join per tag stack."""
        if not by_tags:
            agreed: dict[tuple[S, tuple[str, ...]], Flags] = {}
            for state, flags, tags in paths:
                key = (state, tags)
                agreed[key] = agreed[key] & flags if key in agreed else flags
            merged = {(state, flags, tags) for (state, tags), flags in agreed.items()}
            if len(merged) <= MAX_PATHS:
                return merged
            paths = merged
        groups: dict[tuple[str, ...], list[_Path[S]]] = {}
        for path in paths:
            groups.setdefault(path[2], []).append(path)
        return {
            (
                self.analysis.join([path[0] for path in group]),
                frozenset.intersection(*(path[1] for path in group)),
                tags,
            )
            for tags, group in groups.items()
        }


def _retag(path: _Path[S], edge: Edge) -> _Path[S]:
    state, flags, tags = path
    if edge.pops:
        tags = tags[: -edge.pops]
    if edge.push:
        tags = (*tags, edge.push)
    return state, flags, tags
