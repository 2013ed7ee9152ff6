"""The catalog's answers that the analysis and the rules ask for on every file, computed
once per process from `conclint.catalog` (the data): no API is named here."""

from __future__ import annotations

from conclint.catalog import load, top_modules
from conclint.catalog.schema import Argument, Handoff

_CATALOG = load()

# Kinds -------------------------------------------------------------------------------

# The top-level modules that make the tasks, threads, executors, queues, channels and
# locks the lifecycle, close, pairing and growth rules follow: a file that imports none
# of them (and is no module of theirs) has nothing those rules can report.
CONCURRENCY_MODULES = _CATALOG.concurrency_modules
# Constructor or factory -> the kind of object it returns.
CONSTRUCTORS = _CATALOG.constructors
# Classes named in annotations -> kind (`q: asyncio.Queue[int]`).
ANNOTATION_KINDS = _CATALOG.annotation_kinds
# Awaited factories that return a tuple: `reader, writer = await asyncio.open_connection(...)`.
TUPLE_FACTORIES = {
    name: entry.unpacks for name, entry in _CATALOG.functions.items() if entry.unpacks
}
# What a method of a known object gives: `executor.submit(...)` is a Future.
DERIVED_KINDS = {
    kind.name: {name: method.returns for name, method in kind.methods.items() if method.returns}
    for kind in _CATALOG.kinds.values()
    if any(method.returns for method in kind.methods.values())
}
# The kind of what `anyio.get_cancelled_exc_class()` returns.
(CANCELLED_CLASS_KIND,) = _CATALOG.kinds_with("cancellation-class")
# The kind of a descriptor passed to a function that closes one (`os.close(fd)`).
FILE_DESCRIPTOR = "os.fd"

# CCL102: coroutine functions and methods --------------------------------------------

ASYNCIO_COROUTINES = _CATALOG.functions_with("coroutine")
COROUTINE_METHODS = _CATALOG.methods_by_kind("coroutine")
# A file with no `async def` that imports none of these calls no coroutine function CCL102
# knows (but the project's).
COROUTINE_MODULES = top_modules((*ASYNCIO_COROUTINES, *COROUTINE_METHODS))
COROUTINE_KEEPING_DECORATORS = _CATALOG.functions_with("keeps-coroutine")
TEXT_CALLS = _CATALOG.functions_with("formats")
LOGGER_METHODS = _CATALOG.methods_with("formats")
TRUTH_CALLS = _CATALOG.functions_with("truth-test")
TASK_SPAWNERS = _CATALOG.functions_with("spawn")

# CCL203: cancellation -------------------------------------------------------------------

CANCELLATION_EXCEPTIONS = _CATALOG.names_with("cancellation")

# Calls that never return normally, and those that end the process on the spot.
NO_RETURN_CALLS = _CATALOG.functions_with("never-returns")
PROCESS_ENDING_CALLS = _CATALOG.functions_with("ends-process")
NON_RAISING_CALLS = _CATALOG.functions_with("cannot-raise")

# CCL601, CCL604: blocking calls ---------------------------------------------------------

BLOCKING_CALLS = {
    name: entry.remedy or ""
    for name, entry in _CATALOG.functions.items()
    if "blocking" in entry.roles
}
# Where a blocking method takes its block flag and its timeout (positions; None: no such
# argument), so that `acquire(False)`, `get(block=False)` and `wait(timeout=0)` count as
# non-blocking.
ArgPositions = tuple[int | None, int | None]


def _position(argument: Argument | None) -> int | None:
    return argument.position if argument is not None else None


BLOCKING_METHODS: dict[str, dict[str, ArgPositions]] = {
    kind.name: {
        name: (_position(method.block), _position(method.timeout))
        for name, method in kind.methods.items()
        if "blocking" in method.roles
    }
    for kind in _CATALOG.kinds.values()
    if any("blocking" in method.roles for method in kind.methods.values())
}
# Keywords that, when literally False, make a blocking method return at once.
NON_BLOCKING_FLAGS = frozenset(
    method.block.keyword
    for kind in _CATALOG.kinds.values()
    for method in kind.methods.values()
    if method.block is not None
)
# What to suggest for a blocking method, by receiver kind.
BLOCKING_METHOD_REMEDIES = {
    name: kind.remedy for name, kind in _CATALOG.kinds.items() if kind.remedy is not None
}
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
HANDOFF_METHODS = {
    kind.name: {
        name: _handoff(method.handoff)
        for name, method in kind.methods.items()
        if method.handoff is not None
    }
    for kind in _CATALOG.kinds.values()
    if any(method.handoff for method in kind.methods.values())
}
NON_CALLABLE_RESULTS = _CATALOG.functions_with("returns-non-callable")
CALLABLE_FACTORIES = _CATALOG.functions_with("returns-callable")
PLAIN_DECORATORS = _CATALOG.functions_with("plain-decorator")
# What the futures of executors and loops are called, by receiver kind and method (CCL105).
FUTURE_METHODS = {
    kind.name: {name: method.future for name, method in kind.methods.items() if method.future}
    for kind in _CATALOG.kinds.values()
    if any(method.future for method in kind.methods.values())
}
# Queue and buffer constructors -> (keyword, position) of their bound; None: no bound exists.
QUEUE_BOUNDS: dict[str, tuple[str, int] | None] = {
    constructor: (kind.bound.keyword, kind.bound.position) if kind.bound else None
    for kind in _CATALOG.kinds.values()
    if kind.bound is not None
    for constructor in (*kind.classes, *kind.factories)
}
FILL_METHODS = _CATALOG.methods_with("fill")
TAKE_METHODS = _CATALOG.methods_with("take")
# Endless sources for a `for` loop: iterables, and callables -> argument counts that never end.
ENDLESS_STREAMS = _CATALOG.names_with("endless")
ENDLESS_ITERATORS = {
    name: entry.endless_with_args
    for name, entry in _CATALOG.functions.items()
    if entry.endless_with_args
}
EVENT_KINDS = _CATALOG.kinds_with("event")
SPAWN_METHODS = _CATALOG.methods_by_kind("spawn")
STARTED_KINDS = frozenset(_CATALOG.methods_by_kind("starts"))
LIMITER_KINDS = _CATALOG.kinds_with("limiter")
WAITING_CALLS = _CATALOG.functions_with("waits")
PACING_CALLS = _CATALOG.functions_with("paces")
BLOCKING_PUT_KINDS = _CATALOG.kinds_with("put-waits-when-full")
SYNC_LOCK_KINDS = _CATALOG.kinds_with("thread-lock")

# CCL103/104/201/202/204 lifecycle and cancellation --------------------------------------


def _made_by_kinds(trait: str) -> frozenset[str]:
    return frozenset(
        callee
        for name in _CATALOG.kinds_with(trait)
        for callee in (*_CATALOG.kinds[name].classes, *_CATALOG.kinds[name].factories)
    )


THREAD_CLASSES = _made_by_kinds("thread")
TIMER_CLASSES = _CATALOG.functions_with("cancel-settles")
EXECUTOR_CLASSES = _made_by_kinds("executor")
EXECUTOR_SHUTDOWN_METHODS = frozenset().union(
    *(_CATALOG.methods_with("shutdown", name) for name in _CATALOG.kinds_with("executor"))
)
RETAINING_CALLS = _CATALOG.any_receiver_with("retains")
# `return_when` values after which `asyncio.wait` may leave tasks pending.
WAIT_RETURN_EARLY = {name: name.rpartition(".")[2] for name in _CATALOG.names_with("returns-early")}

# CCL301/302 double-close, use-after-close -----------------------------------------------

CLOSE_METHODS = _CATALOG.methods_by_kind("close")
# The modules that make closable objects: a file that imports none of them holds none.
CLOSABLE_MODULES = top_modules(CLOSE_METHODS)
FD_CLOSERS = _CATALOG.functions_with("closes-fd")
CLOSED_BY_WITH = _CATALOG.kinds_with("closed-by-with")
SEND_METHODS = _CATALOG.methods_by_kind("send")
CLOSED_ERRORS = {
    name: kind.closed_error for name, kind in _CATALOG.kinds.items() if kind.closed_error
}
CLOSABLE_NOUNS = {name: kind.noun for name, kind in _CATALOG.kinds.items() if kind.noun}

# CCL401-405 queue items and locks that must pair -----------------------------------------

TASK_DONE_QUEUES = frozenset(_CATALOG.methods_by_kind("task-done"))
QUEUE_TAKES = frozenset().union(*(_CATALOG.methods_with("take", q) for q in TASK_DONE_QUEUES))
LOCK_KINDS = _CATALOG.kinds_with("lock")
UNBOUNDED_SEMAPHORES = _CATALOG.kinds_with("release-unbounded")
CONDITION_KINDS = _CATALOG.kinds_with("condition")
# `with x as y:` binds something else than `x` for these (a lock's `__enter__` gives True).
ENTER_RETURNS_OTHER = LOCK_KINDS
