"""The catalog's answers that the analysis and the rules ask for on every file, computed
once per process from `conclint.catalog` (the data): no API is named here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from conclint.catalog import Catalog, load, top_modules
from conclint.catalog.schema import Argument, Handoff, Kind, Method

_CATALOG = load()
# The catalog as shipped, for callers with no settings (tests, the index of a lone file).
SHIPPED = _CATALOG
T = TypeVar("T")


def _by_kind(field: Callable[[Kind], T | None]) -> dict[str, T]:
    """Kind -> its `field`, for the kinds that set it."""
    return {name: value for name, kind in _CATALOG.kinds.items() if (value := field(kind))}


def _by_method(field: Callable[[Method], T | None]) -> dict[str, dict[str, T]]:
    """Kind -> method -> its `field`, for the kinds with methods that set it."""
    found = {
        kind.name: {
            name: value for name, method in kind.methods.items() if (value := field(method))
        }
        for kind in _CATALOG.kinds.values()
    }
    return {name: methods for name, methods in found.items() if methods}


# What a source must spell: the pre-filter's needles and module gates -----------------


def words(names: Iterable[str]) -> tuple[str, ...]:
    """The last parts of dotted names: a file calls or names one of them only by spelling it
    (an import alias still spells it in the import)."""
    return tuple(sorted({name.rpartition(".")[2] for name in names}))


def _makers(kind: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """Every name a file must spell to hold an object of `kind`: its classes, factories and
    annotations, the functions that unpack into it, and the makers of the kinds one of
    whose methods returns it."""
    described = _CATALOG.kinds.get(kind)
    if described is None or kind in seen:
        return set()
    found = {*described.classes, *described.factories, *described.annotations}
    found.update(name for name, entry in _CATALOG.functions.items() if kind in entry.unpacks)
    for other in _CATALOG.kinds.values():
        if any(method.returns == kind for method in other.methods.values()):
            found |= _makers(other.name, seen | {kind})
    return found


def kind_words(kinds: Iterable[str]) -> tuple[str, ...]:
    """Needles for a rule about objects of `kinds`: their makers' last names."""
    return words(name for kind in kinds for name in _makers(kind))


def method_needles(
    methods: Mapping[str, Iterable[str]],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`Rule.method_needles` for a rule about these methods (kind -> their names, or a
    table keyed by them): what makes objects of those kinds, and the methods' names."""
    return kind_words(methods), words(name for names in methods.values() for name in names)


def kind_modules(kinds: Iterable[str]) -> frozenset[str]:
    """Module gate for a rule about objects of `kinds`: the modules of their makers."""
    return top_modules(name for kind in kinds for name in _makers(kind))


# Kinds -------------------------------------------------------------------------------

# Constructor or factory -> the kind of object it returns.
CONSTRUCTORS = _CATALOG.constructors
# Classes named in annotations -> kind (`q: asyncio.Queue[int]`).
ANNOTATION_KINDS = _CATALOG.annotation_kinds
# Awaited factories that return a tuple: `reader, writer = await asyncio.open_connection(...)`.
TUPLE_FACTORIES = {
    name: entry.unpacks for name, entry in _CATALOG.functions.items() if entry.unpacks
}
# What a method of a known object gives: `executor.submit(...)` is a Future.
DERIVED_KINDS = _by_method(lambda method: method.returns)
# The kind of what `anyio.get_cancelled_exc_class()` returns, and how messages show it.
(CANCELLED_CLASS_KIND,) = _CATALOG.kinds_with("cancellation-class")
CANCELLED_CLASS_SHOWN = f"{_CATALOG.kinds[CANCELLED_CLASS_KIND].factories[0]}()"
# The kind of a descriptor passed to a function that closes one (`os.close(fd)`).
(FILE_DESCRIPTOR,) = _CATALOG.kinds_with("file-descriptor")


def _reexports() -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for library in _CATALOG.libraries:
        for package, submodules in library.reexports.items():
            found[package] = found.get(package, frozenset()) | submodules
    return found


# Package -> the submodules whose names it re-exports (`asyncio.tasks.sleep` is `asyncio.sleep`).
REEXPORTS = _reexports()

# CCL102: coroutine functions and methods --------------------------------------------

ASYNCIO_COROUTINES = _CATALOG.functions_with("coroutine")
COROUTINE_METHODS = _CATALOG.methods_by_kind("coroutine")
# A file with no `async def` that imports none of these calls no coroutine function CCL102
# knows (but the project's).
COROUTINE_MODULES = top_modules((*ASYNCIO_COROUTINES, *COROUTINE_METHODS))
COROUTINE_KEEPING_DECORATORS = _CATALOG.functions_with("keeps-coroutine")
TEXT_CALLS = _CATALOG.functions_with("formats")
# Functions that only read what they are given: they keep nothing of it.
READS_ARGUMENT_ONLY = frozenset().union(
    *(
        _CATALOG.functions_with(role)
        for role in ("formats", "cannot-raise", "truth-test", "size", "returns-callable")
    )
)
LOGGER_METHODS = _CATALOG.methods_with("formats")
TRUTH_CALLS = _CATALOG.functions_with("truth-test")
# Methods that turn their arguments into text, by receiver kind (a logger's).
FORMATTING_METHODS = _CATALOG.methods_by_kind("formats")
TASK_SPAWNERS = _CATALOG.functions_with("spawn")
_LOOP_KINDS = _CATALOG.kinds_with("loop")
# Loop kind -> its methods that start a task at once (`loop.create_task`; not
# `run_in_executor`, which queues a job), for `FileContext.is_task_spawn`.
TASK_SPAWN_METHODS = {
    kind: _CATALOG.methods_with("spawn", kind) - _CATALOG.methods_with("queues", kind)
    for kind in _LOOP_KINDS
}
# What a file spells to start a task: the spawn functions' names and those methods.
TASK_SPAWN_WORDS = words({*TASK_SPAWNERS, *(m for ms in TASK_SPAWN_METHODS.values() for m in ms)})
TASK_SPAWN_MODULES = top_modules(TASK_SPAWNERS) | kind_modules(_LOOP_KINDS)
TASK_KINDS = _CATALOG.kinds_with("task")
# Spawners that hand a future back as it is, and the kinds they do so for.
FUTURE_KEEPERS = _CATALOG.functions_with("keeps-futures")
FUTURE_KINDS = _CATALOG.kinds_with("future")

# CCL203: cancellation -------------------------------------------------------------------

CANCELLATION_EXCEPTIONS = _CATALOG.names_with("cancellation")
CHECKPOINTS = _CATALOG.functions_with("checkpoint")
# Exception classes a cancellation is never an instance of (besides the builtin ones).
NOT_CANCELLATION = _CATALOG.names_with("not-cancellation")
# Awaiting these waits for the tasks given to them, as `await task` does.
REAPING_CALLS = _CATALOG.functions_with("reaps")
TIMEOUT_CANCELLERS = _CATALOG.functions_with("cancels-on-timeout")
# Where a reaping call takes its timeout, which is no task (`wait_for(task, None)`).
REAPING_TIMEOUTS = {
    name: timeout for name in REAPING_CALLS if (timeout := _CATALOG.functions[name].timeout)
}
# Awaiting these awaits their first argument and raises what it raises (`shield(task)`).
AWAITABLE_WRAPPERS = _CATALOG.functions_with("passes-awaitable")
# Method names that ask a task to stop, and that read or undo a cancellation under way.
CANCEL_METHODS = _CATALOG.methods_with("cancel")
CANCEL_METHODS_BY_KIND = _CATALOG.methods_by_kind("cancel")
# Methods that, awaited, read a response's whole body (`resp.text()`), by kind.
BODY_READERS = _CATALOG.methods_by_kind("reads-to-end")
CANCEL_STATE_METHODS = _CATALOG.methods_with("cancel-state")
ATTRIBUTE_GETTERS = _CATALOG.functions_with("gets-attribute")
# Methods that may raise the cancellation of what they read, on any receiver (`result()`).
CANCELLATION_RAISING_METHODS = _CATALOG.any_receiver_with("raises-cancellation")
# What starts an asyncio task whose top coroutine may end on its own cancellation: the
# functions, and the methods by name (the index pass sees no receiver's kind).
TOP_SPAWNERS = _CATALOG.functions_with("ends-on-cancel")
TOP_SPAWN_METHODS = _CATALOG.methods_with("ends-on-cancel")
# `asyncio.gather`: each coroutine it is given is a task's top.
EACH_TOP_SPAWNERS = _CATALOG.functions_with("ends-on-cancel-each")
# A handler of these counts as catching any failure of ordinary work (`except Exception`).
CATCH_ALL_EXCEPTIONS = _CATALOG.names_with("catch-all")
# Context managers that swallow the exceptions they are given (`contextlib.suppress`).
SUPPRESSORS = _CATALOG.functions_with("suppresses")
# Return annotations of a function that never returns.
NO_RETURN_TYPES = _CATALOG.names_with("no-return-type")

# Calls that never return normally, and those that end the process on the spot.
NO_RETURN_CALLS = _CATALOG.functions_with("never-returns")
PROCESS_ENDING_CALLS = _CATALOG.functions_with("ends-process")
NON_RAISING_CALLS = _CATALOG.functions_with("cannot-raise")
NON_RAISING_METHODS = _CATALOG.methods_by_kind("cannot-raise")
# Methods that raise only when their object holds nothing (an asyncio queue's
# `get_nowait()`), and those that tell whether it is empty or how full it is.
FAILING_WHEN_EMPTY = _CATALOG.methods_by_kind("fails-when-empty")
EMPTINESS_METHODS = _CATALOG.methods_with("is-empty")

# CCL601, CCL604: blocking calls ---------------------------------------------------------

_BLOCKING_FUNCTIONS = _CATALOG.functions_with("blocking")
# Blocking function -> remedy, for the project index, which sees no arguments: only the
# functions that block whatever they are given (not `getaddrinfo`, which does not with
# `AI_NUMERICHOST`). CCL601 and CCL604 ask the catalog, forms included.
BLOCKING_CALLS = {
    name: _CATALOG.functions[name].remedy or ""
    for name in _BLOCKING_FUNCTIONS
    if _CATALOG.functions[name].unless is None
}
# Where a blocking method takes its block flag and its timeout (positions; None: no such
# argument), so that `acquire(False)`, `get(block=False)` and `wait(timeout=0)` count as
# non-blocking.
ArgPositions = tuple[int | None, int | None]


def _position(argument: Argument | None) -> int | None:
    return argument.position if argument is not None else None


BLOCKING_METHODS: dict[str, dict[str, ArgPositions]] = _by_method(
    lambda method: (
        (_position(method.block), _position(method.timeout)) if "blocking" in method.roles else None
    )
)
# Keywords that, when literally False, make a blocking method return at once.
NON_BLOCKING_FLAGS = frozenset(
    flag.keyword
    for flags in _by_method(lambda method: method.block).values()
    for flag in flags.values()
)
# Keywords of the timeouts that, when zero, do the same (`get(timeout=0)`).
NON_BLOCKING_TIMEOUTS = frozenset(
    timeout.keyword
    for timeouts in _by_method(lambda method: method.timeout).values()
    for timeout in timeouts.values()
)
# Methods that, given a literal False or 0, switch their object to non-blocking mode
# (`sock.setblocking(False)`), matched by name: the blocking call's receiver decides.
NON_BLOCKING_SWITCHES = _CATALOG.methods_with("sets-non-blocking")
# Exceptions a handler of which shows the calls in its `try` are expected not to block.
WOULD_BLOCK = _CATALOG.names_with("would-block")
# Kind -> its methods that tell whether it has finished (`future.done()`): after a true
# answer, or once a `wraps-future` call has been given it, its blocking methods return.
DONE_METHODS = _CATALOG.methods_by_kind("is-done")
FUTURE_WRAPPERS = _CATALOG.functions_with("wraps-future")
# Kinds whose methods all block but those they list without the role (a sync file's, a
# urllib3 pool's: `f.anything()`), and the entry such an unlisted method gets.
UNLISTED_BLOCKING_KINDS = _CATALOG.kinds_with("unlisted-methods-block")
_UNLISTED_BLOCKING = Method(frozenset({"blocking"}))


def blocking_method(known: Catalog, kind: str | None, name: str) -> Method | None:
    """The entry of `kind`'s method `name` if calling it blocks: a method with role
    `blocking`, or one `kind` does not list when it has the trait `unlisted-methods-block`.
    `known` is the file's catalog (the user's entries in it)."""
    described = known.kinds.get(kind or "")
    if described is None:
        return None
    method = described.methods.get(name)
    if method is None:
        return _UNLISTED_BLOCKING if "unlisted-methods-block" in described.traits else None
    return method if "blocking" in method.roles else None


# What a file must import (or, for builtins, spell) to make a blocking call: the modules of
# the blocking functions and of the makers of the objects with blocking methods.
_BLOCKING_KINDS = {*BLOCKING_METHODS, *UNLISTED_BLOCKING_KINDS}
_BLOCKING_MAKERS = {*_BLOCKING_FUNCTIONS, *(n for kind in _BLOCKING_KINDS for n in _makers(kind))}
BLOCKING_MODULES = top_modules(_BLOCKING_MAKERS) - {"builtins"}
BLOCKING_BUILTINS = words(name for name in _BLOCKING_MAKERS if name.startswith("builtins."))
# Calls whose arguments are handed to a worker thread (a blocking call there is the point),
# as functions and as methods of any receiver (`loop.run_in_executor(...)`).
THREAD_OFFLOADS = _CATALOG.functions_with("offload")
THREAD_OFFLOAD_METHODS = _CATALOG.any_receiver_with("offload")

# CCL105, CCL106, CCL501, CCL502, CCL602, CCL603 ----------------------------------------

# Calls that hand a callable over to run elsewhere: (position of the callable, its keyword,
# where its arguments go). An int there is the position of the `args` tuple (also accepted
# as `args=`), HANDOFF_REST means "the positional arguments after the callable", None that
# none are passed through.
HANDOFF_REST = -1
_Handoff = tuple[int, str | None, int | None]


def _handoff(spec: Handoff) -> _Handoff:
    args = HANDOFF_REST if spec.args == "rest" else spec.args
    assert not isinstance(args, str)
    return spec.callable, spec.keyword, args


HANDOFF_FUNCTIONS = {
    name: _handoff(entry.handoff)
    for name, entry in _CATALOG.functions.items()
    if entry.handoff is not None
}
HANDOFF_METHODS = _by_method(lambda method: _handoff(method.handoff) if method.handoff else None)
NON_CALLABLE_RESULTS = _CATALOG.functions_with("returns-non-callable")
CALLABLE_FACTORIES = _CATALOG.functions_with("returns-callable")
PLAIN_DECORATORS = _CATALOG.functions_with("plain-decorator")
MEMOISERS = _CATALOG.functions_with("memoises")
CLASS_BINDERS = _CATALOG.functions_with("binds-class")
# What the futures of executors and loops are called, by receiver kind and method (CCL105).
FUTURE_METHODS = _by_method(lambda method: method.future)
# What to do with such a future rather than drop it, by receiver kind and method.
FUTURE_REMEDIES = _by_method(lambda method: method.future_remedy)
# Queue and buffer constructors -> (keyword, position) of their bound; None: no bound exists.
QUEUE_BOUNDS: dict[str, tuple[str, int] | None] = {
    constructor: (kind.bound.keyword, kind.bound.position) if kind.bound else None
    for kind in _CATALOG.kinds.values()
    if kind.bound is not None
    for constructor in (*kind.classes, *kind.factories)
}
# The same by kind: (keyword, position) of its bound, None when it cannot be bounded.
KIND_BOUNDS: dict[str, tuple[str, int] | None] = {
    kind.name: (kind.bound.keyword, kind.bound.position) if kind.bound else None
    for kind in _CATALOG.kinds.values()
    if kind.bound is not None
}
FILL_METHODS = _CATALOG.methods_with("fill")
TAKE_METHODS = _CATALOG.methods_with("take")
# Methods that add to any collection (`tasks.append(t)`): what they add is its content.
COLLECTION_FILLS = _CATALOG.any_receiver_with("fill")
# Container lookups that may hand back a stored callable (`HANDLERS.get(kind)`).
LOOKUP_METHODS = _CATALOG.any_receiver_with("looks-up")
# Calls and method names that only read how full something is (`len(buf)`, `q.qsize()`).
SIZE_CALLS = _CATALOG.functions_with("size")
SIZE_METHODS = _CATALOG.methods_with("size")
# Kind -> the keyword that bounds its releases (`trio.Semaphore(n, max_value=n)`).
RELEASE_BOUNDS = _by_kind(lambda kind: kind.release_bound)
# What to use so that it is bounded, by kind (`queue.SimpleQueue`, `threading.Semaphore`).
BOUND_REMEDIES = _by_kind(lambda kind: kind.bound_remedy)
# Kind -> where its constructor takes its starting count (`Semaphore(0)` counts items).
INITIAL_COUNTS = _by_kind(lambda kind: kind.initial_count)
# Endless sources for a `for` loop: iterables, and callables -> argument counts that never end.
ENDLESS_STREAMS = _CATALOG.names_with("endless")
ENDLESS_ITERATORS = {
    name: entry.endless_with_args
    for name, entry in _CATALOG.functions.items()
    if entry.endless_with_args
}
EVENT_KINDS = _CATALOG.kinds_with("event")
SPAWN_METHODS = _CATALOG.methods_by_kind("spawn")
# Spawn methods that queue a job for a pool of workers rather than start it.
QUEUED_SPAWN_METHODS = _CATALOG.methods_with("queues")
START_METHODS = _CATALOG.methods_by_kind("starts")
# Method names that wait for an object's work to end (`thread.join()`, `future.result()`),
# and the same by kind.
JOIN_METHODS = _CATALOG.methods_with("join")
# `contextlib.aclosing`: closes the generator it is given on the way out of its block.
CURRENT_TASK = _CATALOG.functions_with("current-task")
COROUTINE_FUNCTION_TESTS = _CATALOG.functions_with("tests-coroutine-function")
HANDLED_EXCEPTION = _CATALOG.functions_with("handled-exception")
# `functools.partial`: what it makes calls its first argument.
PARTIAL_CALLS = _CATALOG.functions_with("partial")
# Methods that wait for the work they are given (`loop.run_until_complete(task)`), by kind.
WAITING_METHODS = _CATALOG.methods_by_kind("waits")
JOINS = _CATALOG.methods_by_kind("join")
# Kind -> the methods that tell whether an event is set.
IS_SET_METHODS = _CATALOG.methods_by_kind("is-set")
LIMITER_KINDS = _CATALOG.kinds_with("limiter")
WAITING_CALLS = _CATALOG.functions_with("waits")
# Calls whose result runs out: `async for` over it is no endless loop.
FINITE_ITERATIONS = _CATALOG.functions_with("finite-iteration")
COUNTING_CALLS = _CATALOG.functions_with("counts")
PACING_CALLS = _CATALOG.functions_with("paces")
PACING_METHODS = _CATALOG.methods_by_kind("paces")
BLOCKING_PUT_KINDS = _CATALOG.kinds_with("put-waits-when-full")
# Kind -> its fills that wait for room once it is bounded (`put`, not `put_nowait`).
WAITING_FILLS = {
    kind: _CATALOG.methods_with("fill", kind)
    & (_CATALOG.methods_with("coroutine", kind) | _CATALOG.methods_with("blocking", kind))
    for kind in BLOCKING_PUT_KINDS
}
SYNC_LOCK_KINDS = _CATALOG.kinds_with("thread-lock")
# What to use instead in async code, by kind (`threading.Lock` -> `asyncio.Lock`).
ASYNC_ALTERNATIVES = _by_kind(lambda kind: kind.async_alternative)

# CCL103/104/201/202/204 lifecycle and cancellation --------------------------------------


THREAD_KINDS = _CATALOG.kinds_with("thread")
# Kind -> the constructor keyword and attribute that make it a daemon, and its methods that
# do (`Thread(daemon=True)`, `t.daemon = True`, `t.setDaemon(True)`): none need be joined.
DAEMON_FLAGS = _by_kind(lambda kind: kind.daemon)
DAEMONIZING_METHODS = _CATALOG.methods_by_kind("daemonizes")
TIMER_CLASSES = _CATALOG.functions_with("cancel-settles")
EXECUTOR_KINDS = _CATALOG.kinds_with("executor")
# Executors with no worker until the first submit: one never used leaks nothing.
LAZY_EXECUTOR_KINDS = _CATALOG.kinds_with("lazy-workers")
EXECUTOR_SHUTDOWN_METHODS = frozenset().union(
    *(_CATALOG.methods_with("shutdown", name) for name in _CATALOG.kinds_with("executor"))
)
# Kind -> what messages say to call in `finally` to end it (`shutdown()`, `terminate()`).
CLEANUP_METHODS = _CATALOG.methods_by_kind("cleanup")
RETAINING_CALLS = _CATALOG.any_receiver_with("retains")
# `return_when` values after which `asyncio.wait` may leave tasks pending.
WAIT_RETURN_EARLY = {name: name.rpartition(".")[2] for name in _CATALOG.names_with("returns-early")}
# Functions that return (done, pending), maybe early -> where they take their timeout and
# their `return_when`.
PENDING_WAITS: dict[str, tuple[Argument | None, Argument | None]] = {
    name: (entry.timeout, entry.return_when)
    for name, entry in _CATALOG.functions.items()
    if "leaves-pending" in entry.roles
}
AS_DONE_ITERATORS = _CATALOG.functions_with("yields-as-done")

# CCL301/302 double-close, use-after-close -----------------------------------------------

CLOSE_METHODS = _CATALOG.methods_by_kind("close")
CLOSING_STATE_METHODS = _CATALOG.methods_by_kind("closing-state")
# The modules that make closable objects: a file that imports none of them holds none.
CLOSABLE_MODULES = kind_modules(CLOSE_METHODS)
FD_CLOSERS = _CATALOG.functions_with("closes-fd")
FD_CLOSER_MODULES = top_modules(FD_CLOSERS)
CLOSED_BY_WITH = _CATALOG.kinds_with("closed-by-with")
SEND_METHODS = _CATALOG.methods_by_kind("send")
CLOSED_ERRORS = _by_kind(lambda kind: kind.closed_error)
CLOSABLE_NOUNS = _by_kind(lambda kind: kind.noun)

# CCL401-405 queue items and locks that must pair -----------------------------------------

TASK_DONES = _CATALOG.methods_by_kind("task-done")
TASK_DONE_QUEUES = frozenset(TASK_DONES)
QUEUE_TAKES = frozenset().union(*(_CATALOG.methods_with("take", q) for q in TASK_DONE_QUEUES))
TASK_DONE_METHODS = _CATALOG.methods_with("task-done")
# Kind -> its method that waits until every item is marked done (`queue.join()`).
QUEUE_JOINS = {kind: _CATALOG.methods_with("join", kind) for kind in TASK_DONE_QUEUES}
LOCK_KINDS = _CATALOG.kinds_with("lock")
# Method names that take and give back a lock; matched by name, the receiver's kind decides.
ACQUIRE_METHODS = _CATALOG.methods_with("acquire")
RELEASE_METHODS = _CATALOG.methods_with("release")
UNBOUNDED_SEMAPHORES = _CATALOG.kinds_with("release-unbounded")
CONDITION_KINDS = _CATALOG.kinds_with("condition")
# Kind -> its methods that wait to be notified, and that wait for a predicate.
WAIT_METHODS = _CATALOG.methods_by_kind("wait")
WAIT_FOR_METHODS = _CATALOG.methods_by_kind("wait-for")
# Kinds entered with `async with` (whose waits are awaited), not with `with`.
ASYNC_WITH_KINDS = _CATALOG.kinds_with("async-with")


def with_form(kind: str | None) -> str:
    """How code enters an object of `kind` as a context manager, for messages."""
    return "async with" if kind in ASYNC_WITH_KINDS else "with"


def awaited(kind: str | None, method: str) -> str:
    """`await ` when `method` of `kind` returns a coroutine, else nothing: for messages."""
    return "await " if method in COROUTINE_METHODS.get(kind or "", ()) else ""


# Kind -> method -> the timeout argument that, when zero, makes it return at once.
TIMEOUTS = _by_method(lambda method: method.timeout)
# `with x as y:` binds something else than `x` for these (a lock's `__enter__` gives True).
ENTER_RETURNS_OTHER = LOCK_KINDS

# CCL107-109, CCL406, CCL605 -------------------------------------------------------------

# Thread-like classes whose first parameter is a reserved `group`; their callable's place.
GROUP_FIRST = {
    name: HANDOFF_FUNCTIONS[name]
    for name in _CATALOG.functions_with("group-first")
    if name in HANDOFF_FUNCTIONS
}
# Kind -> its method that starts a task and waits for it to report it has started
# (`nursery.start`), and the keyword it passes the task's status under (`task_status`).
START_WAITING_METHODS = _CATALOG.methods_by_kind("waits-started")
STATUS_KEYWORDS = {
    kind: method.status_keyword
    for kind, methods in START_WAITING_METHODS.items()
    for name in methods
    if (method := _CATALOG.kinds[kind].methods[name]).status_keyword
}
# Kind -> its methods that start a task without waiting for it (`nursery.start_soon`).
START_SOON_METHODS = {
    kind: _CATALOG.methods_with("spawn", kind) - methods
    for kind, methods in START_WAITING_METHODS.items()
}
# Functions of the libraries that take a task status (`trio.serve_tcp`).
STARTABLE_FUNCTIONS = _CATALOG.functions_with("startable")
# Kind -> the method of a task status that reports the start (`task_status.started`).
STARTED_METHODS = _CATALOG.methods_by_kind("started")
GENERATOR_CONTEXTS = _CATALOG.functions_with("generator-context")
# Lock classes (not factories, which may hand back a shared lock) -> their kind.
LOCK_CLASSES = {name: kind for kind in LOCK_KINDS for name in _CATALOG.kinds[kind].classes}
WRAPPING_LOCK_KINDS = _CATALOG.kinds_with("wraps-lock")
# Sleeps that are awaited (`asyncio.sleep`, `trio.sleep_until`).
ASYNC_SLEEPS = PACING_CALLS & ASYNCIO_COROUTINES

# CCL205-209: timeouts, cancel scopes and task groups ----------------------------------

CANCEL_SCOPE_KINDS = _CATALOG.kinds_with("cancel-scope")
TASK_GROUP_KINDS = _CATALOG.kinds_with("task-group")
# Kind -> its methods that start a task in it (`nursery.start_soon`).
TASK_GROUP_SPAWNS = {kind: _CATALOG.methods_with("spawn", kind) for kind in TASK_GROUP_KINDS}
# Kind -> the keyword and attribute that shield it (`CancelScope(shield=True)`).
SHIELD_FLAGS = _by_kind(lambda kind: kind.shield)
# Libraries whose scopes can be shielded cancel level-triggered: once a scope is cancelled,
# every checkpoint inside it raises again, so an await in cleanup fails at once.
LEVEL_CANCELLATION_MODULES = kind_modules(SHIELD_FLAGS)
# The others deliver a cancellation once (asyncio): an await in cleanup then runs.
EDGE_CANCELLATION_MODULES = (
    top_modules(CANCELLATION_EXCEPTIONS) & _CATALOG.concurrency_modules
) - LEVEL_CANCELLATION_MODULES
# Libraries that run coroutines themselves and cancel them with an ordinary exception.
OWN_RUNNER_MODULES = top_modules(_CATALOG.names_with("runner-cancellation"))
RELATIVE_DEADLINES = _CATALOG.functions_with("relative-deadline")
RELATIVE_DEADLINE_MODULES = top_modules(RELATIVE_DEADLINES)
GENERATOR_MANAGERS = _CATALOG.functions_with("manages-generator")
SAFE_IN_CLEANUP_CALLS = _CATALOG.functions_with("safe-in-cleanup")
SAFE_IN_CLEANUP_METHODS = _CATALOG.any_receiver_with("safe-in-cleanup")
