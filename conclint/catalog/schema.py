"""The shape of the catalog's data files, and their validation.

A data file (`data/*.toml`, one per library or family of libraries) holds:

    [library]
    modules = ["asyncio"]          # top-level modules it describes
    concurrency = true             # its objects are tasks, threads, queues, locks...
    # Package -> its submodules whose names it re-exports (`asyncio.tasks.sleep` is
    # `asyncio.sleep`), named below it (`_core._eventloop`); each package is one of
    # `modules` or inside one.
    reexports = { "asyncio" = ["tasks", "queues"] }

    [kinds."asyncio.Queue"]        # a kind: what an object is
    classes = ["asyncio.Queue"]    # called to make one, and named in annotations
    factories = []                 # called to make one (functions, not types)
    annotations = []               # named in annotations only (base classes, ABCs)
    traits = ["queue"]             # what rules group kinds by (TRAITS below)
    noun = "queue"                 # what messages call it
    remedy = "..."                 # what to do instead of one of its blocking methods
    closed-error = "..."           # what a send raises once it is closed
    bound = { keyword = "maxsize", position = 0 }   # or false: it cannot be bounded
    bound-remedy = "use `queue.Queue(maxsize=...)`"  # how to get a bound (no `bound`)
    async-alternative = "asyncio.Lock"  # what to use in async code (thread locks)
    release-bound = "max_value"    # the keyword that makes a release past the acquires raise
    initial-count = [0, "value"]   # where its constructor takes its starting count (semaphores)
    daemon = "daemon"              # the keyword and attribute that make it a daemon (threads)
    shield = "shield"              # the keyword and attribute that shield it (cancel scopes)

    [kinds."asyncio.Queue".methods]
    get = ["coroutine", "take"]    # roles (METHOD_ROLES), or a table with parameters:
    put = { roles = ["coroutine", "put"], block = [1, "block"], timeout = [2, "timeout"] }
    # `future`: what messages call the future it returns; `future-remedy`: what to do with it
    submit = { roles = ["spawn"], future = "future", future-remedy = "keep it and ..." }
    # `status-keyword`: the argument a `waits-started` method passes the task's status under
    start = { roles = ["coroutine", "waits-started"], status-keyword = "task_status" }

    [functions]                    # module-level functions (and classes called as such)
    "asyncio.sleep" = ["coroutine", "paces"]
    "asyncio.wait" = { roles = ["leaves-pending"], timeout = [false, "timeout"],
        return-when = [false, "return_when"] }   # where it takes them: [position, keyword]
    "time.sleep" = { roles = ["blocking"], remedy = "use `await asyncio.sleep(...)`",
        async-form = ["asyncio.sleep", "trio.sleep"] }   # the same call, awaited (`--fix`)
    # `unless`: the forms that do not block (here `os.waitpid(pid, os.WNOHANG)`); a
    # method's may be told by the call that made its object instead: `made-with = [1,
    # "type"]` for `socket.socket(AF_INET, SOCK_DGRAM).connect(...)`
    "os.waitpid" = { roles = ["blocking"], remedy = "...", unless = { argument = [1,
        "options"], names = ["os.WNOHANG"] } }

    [names]                        # values, constants and exception classes
    "asyncio.CancelledError" = ["cancellation"]

    [any-receiver]                 # methods matched by name on any object
    run_in_executor = ["offload"]

Every key, role and trait is checked against the vocabularies below when the
file is loaded; a mistake is a `CatalogError` naming the file and the entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# What rules group kinds by.
TRAITS = frozenset(
    {
        "lock",  # acquire()/release(), and `with lock as x` binds True, not the lock
        "release-unbounded",  # a release() past the acquires raises the count silently
        "condition",  # wait() must sit in a loop that re-checks
        "event",
        "thread-lock",  # blocks the thread: held across `await`, it can stall the loop
        "limiter",  # bounds how much runs at once
        "put-waits-when-full",  # put() waits for room once the queue is bounded
        "thread",  # must be joined unless it is a daemon
        "executor",  # workers live until it is shut down
        "lazy-workers",  # starts its first worker on the first submit: unused, it has none
        "closed-by-with",  # `with`/`async with` closes it on the way out
        "cancellation-class",  # is the running framework's cancellation exception
        "task",
        "loop",
        # A cancel scope or timeout: cancels what runs inside it, at a checkpoint
        # (`trio.move_on_after`, `anyio.CancelScope`, `asyncio.timeout`).
        "cancel-scope",
        "task-group",  # waits for the tasks started in it when its block ends (a nursery)
        "async-with",  # entered with `async with` (asyncio's locks), not `with`
        # Made by a blocking call (`open`, `Popen`, `connect`) that stands for its use:
        # its blocking methods are reported at that call, not again on the object.
        "opened",
        # Can be switched to non-blocking mode (`sock.setblocking(False)`), after which its
        # blocking methods return at once.
        "non-blocking-mode",
        "file-descriptor",  # an int naming an open file (`os.open`'s): `closes-fd` calls close it
        # Every method it does not list blocks (any call on a sync file: `f.anything()`); the
        # ones that do not are listed without the `blocking` role (`fileno = []`).
        "unlisted-methods-block",
        # Given an argument, it wraps that existing lock (`Condition(lock)`): entering it
        # takes that lock.
        "wraps-lock",
        "future",  # an asyncio future: `ensure_future` hands it back as it is
    }
)

METHOD_ROLES = frozenset(
    {
        "coroutine",  # returns a coroutine to await
        "blocking",  # blocks the thread (with `block`/`timeout` to tell the forms that do not)
        "take",  # takes an item (a queue's get)
        "fill",  # adds an item (a queue's put, a deque's append)
        "task-done",  # marks a taken item done (queue.task_done)
        "send",  # sends into a closable object
        "close",  # closes or shuts it down
        "shutdown",  # stops an executor's workers
        "spawn",  # starts a task or job from the call's arguments
        # Starts an asyncio task from the coroutine it is given (`create_task`, or a loop
        # runner's main task: `asyncio.run`, `run_until_complete`): that coroutine is the
        # task's top, which may end normally on the task's own cancellation (trio's and
        # anyio's tasks must re-raise it).
        "ends-on-cancel",
        "starts",  # starts the object itself (thread.start())
        "offload",  # runs its callable argument on a worker thread
        "formats",  # turns its arguments into text (a logger's methods)
        "cannot-raise",
        "retains",  # keeps its argument beyond the call (containers, registries)
        "acquire",  # takes the lock, or one slot of a semaphore
        "release",  # gives back what `acquire` took
        "wait",  # waits to be notified (a condition's wait)
        "wait-for",  # waits until the predicate it is given holds
        "join",  # waits until its work is done (thread, process, future, a queue's items)
        "waits",  # waits for the work it is given (`loop.run_until_complete(task)`)
        # Waits until told or its timeout (a thread event's `wait(1.0)`): a loop calling
        # it each turn is paced, as by a sleep.
        "paces",
        "closing-state",  # true once it is closed or closing (`writer.is_closing()`)
        "cancel",  # asks it to stop (task.cancel())
        "cancel-state",  # reads or undoes a cancellation under way (Task.cancelling/uncancel)
        # May raise the cancellation of the future it reads (`fut.result()` of a cancelled
        # future): a plain call that a handler of the cancellation can receive.
        "raises-cancellation",
        "queues",  # spawns into a pool's backlog: what grows is the backlog, not what runs
        "cleanup",  # ends it for good, as leaving `with` does: what messages say to call
        "is-set",  # tells whether an event is set
        "looks-up",  # gives back a value stored in the receiver (`handlers.get(key)`)
        "size",  # reads how full it is (`qsize()`, `full()`)
        "is-empty",  # tells whether it holds no item (`empty()`)
        # Raises only when it holds no item, and only the loop's own thread changes it (an
        # asyncio queue's `get_nowait()`): right after a check that it is not empty, with
        # no `await` between, it cannot fail.
        "fails-when-empty",
        # Given a literal False or 0, switches it to non-blocking mode (`setblocking(False)`).
        "sets-non-blocking",
        "is-done",  # tells whether it has finished; once it has, its blocking methods return
        "daemonizes",  # makes it a daemon, which need not be joined (`setDaemon(True)`)
        "safe-in-cleanup",  # awaiting it in cleanup works under cancellation (`x.aclose()`)
        # Starts a task and waits until it reports it has started (`nursery.start(fn)`);
        # `status-keyword` names the argument it passes the task's status object under.
        "waits-started",
        "started",  # the task status method that reports the start (`task_status.started()`)
        # Its coroutine holds no cleanup: cancelled, it ends at its next step with nothing
        # left to run or to fail (a queue's `get`, an event's `wait`).
        "no-cleanup",
        # A blocking method that only makes an iterator: it blocks where that iterator is
        # advanced (`Path.walk`), not where the call is handed on.
        "lazy-iterator",
        # Awaited, it reads a response's whole body, which gives its connection back: a
        # `with` of the response then has nothing left to clean up (`resp.text()`).
        "reads-to-end",
    }
)

FUNCTION_ROLES = frozenset(
    {
        "coroutine",  # a coroutine function
        "spawn",  # starts a task from a coroutine: its result must be kept
        # Starts an asyncio task from the coroutine it is given (`create_task`, or a loop
        # runner's main task: `asyncio.run`, `run_until_complete`): that coroutine is the
        # task's top, which may end normally on the task's own cancellation (trio's and
        # anyio's tasks must re-raise it).
        "ends-on-cancel",
        # Makes an event loop and runs the coroutine it is given (a call, or a coroutine
        # function and its arguments) as its first task, to the end (`asyncio.run`): until
        # that coroutine first suspends, nothing else runs on the loop.
        "runs-alone",
        # Runs each coroutine given as a positional argument as its own task, and once
        # cancelled raises the cancellation to its awaiter whatever they end with
        # (`asyncio.gather`): each may end normally on its own cancellation.
        "ends-on-cancel-each",
        # Given a future (trait `future`), returns it as it is: it starts a task only for a
        # coroutine (`asyncio.ensure_future`).
        "keeps-futures",
        "blocking",
        "offload",
        "waits",  # waits for the work it is given (gather, wait, as_completed)
        "paces",  # sleeps
        "never-returns",  # raises SystemExit or ends the process
        # Awaiting it always checks for cancellation, and its library's cancellation is
        # level-triggered (trio's async functions): awaited in a handler of a cancellation,
        # while the scope is still cancelled, it raises that again.
        "checkpoint",
        "ends-process",  # ends the process on the spot: no `finally` runs
        "cannot-raise",
        "formats",  # turns its arguments into text
        "truth-test",  # only asks whether its argument is true
        "returns-non-callable",
        "returns-callable",
        "gets-attribute",  # the attribute of its first argument its second names (`getattr`)
        "partial",  # gives a callable that calls its first argument with the others first
        "closes-on-exit",  # a context manager that closes what it is given on the way out
        "plain-decorator",  # leaves a function returning what its body returns
        "memoises",  # a decorator that runs the body once per arguments, then answers from memory
        "binds-class",  # a method decorator whose function takes the class, not an instance
        "keeps-coroutine",  # a decorator after which an async def still gives a coroutine
        "closes-fd",  # closes the descriptor given as its first argument
        "cancel-settles",  # a cancel() of what it makes ends it, as a join() does
        "current-task",  # returns the task running the caller (`asyncio.current_task()`)
        "tests-coroutine-function",  # whether its argument is an `async def` function
        "handled-exception",  # the exception being handled (`sys.exc_info()`, `sys.exception()`)
        # A class decorator whose generated `__init__` keeps each argument in the field of
        # its name, the class's annotated names in order (`dataclasses.dataclass`).
        "generates-init",
        "declares-field",  # declares such a field's options (`default_factory=`, `init=`)
        "reaps",  # awaiting it waits for the tasks given as arguments, cancelled ones too
        # Awaits the awaitable given as its first argument and, when it gives up on it (a
        # timeout), cancels it and waits for it to end (`asyncio.wait_for(q.get(), 5)`).
        "cancels-on-timeout",
        # Awaiting it awaits the awaitable given as its first argument and raises what that
        # raises, a cancellation too (`asyncio.shield(task)`).
        "passes-awaitable",
        "leaves-pending",  # returns (done, pending), maybe before all is done (`return-when`)
        # Hands back the awaitables it is given as they finish (`as_completed`): a loop over
        # it that is left early leaves the others running.
        "yields-as-done",
        "suppresses",  # a context manager that swallows the exceptions it is given
        "size",  # only reads its argument's size
        "finite-iteration",  # what it returns runs out: `async for` over it is no endless loop
        # Counts through the integers its arguments bound (`range`): given literals, whether
        # it gives any item is known.
        "counts",
        # Makes the thread future it is given awaitable: the code waits for that future
        # there, so its blocking methods are taken to return at once (`asyncio.wrap_future`).
        "wraps-future",
        # Takes the task status a nursery's `start()` passes, and reports through it.
        "startable",
        # Its first parameter is a reserved `group` that must be None: the callable of its
        # `handoff` comes second or by keyword (`threading.Thread(group, target)`).
        "group-first",
        # A decorator that makes a context manager of a generator: the code before its
        # first `yield` runs when the context is entered (`contextlib.asynccontextmanager`).
        "generator-context",
        # Its deadline counts from the call that makes it (`anyio.move_on_after(5)`), not
        # from when it is entered.
        "relative-deadline",
        # A decorator under which the generator's `yield` hands control to code that
        # resumes it to the end (a context manager, a fixture, a safe channel), or a call
        # given the generator function to do so (a framework's `Depends(get_session)`): a
        # `yield` inside `with` is what such a generator is for.
        "manages-generator",
        # Awaiting it in cleanup is meant to work under cancellation: it finishes at once
        # when cancelled, or is no cancel point (`trio.aclose_forcefully`).
        "safe-in-cleanup",
        "no-cleanup",  # its coroutine holds no cleanup (`asyncio.sleep`), as for methods
        # A context manager whose block must raise (`pytest.raises`): a call written in it
        # is expected to fail before it returns anything.
        "expects-raise",
        # A blocking function that only makes an iterator (a generator: `os.walk`): it
        # blocks where that iterator is advanced, not where the call is handed on.
        "lazy-iterator",
        "iterates",  # advances the iterator it is given (`list`, `sorted`, `next`)
    }
)

NAME_ROLES = frozenset(
    {
        "cancellation",  # an exception class a handler of the cancellation catches
        "endless",  # an iterable that never ends (sys.stdin)
        "returns-early",  # a `return_when` after which `wait` may leave work pending
        "catch-all",  # a handler of it counts as catching every failure of ordinary work
        "not-cancellation",  # an exception class a cancellation is never an instance of
        # The cancellation of a library that runs coroutines itself, an ordinary exception
        # (Twisted's Deferreds): a module importing that library and none whose
        # cancellation is a BaseException has coroutines no such cancellation reaches.
        "runner-cancellation",
        "no-return-type",  # a return annotation saying the function never returns
        # Raised by a method left for subclasses to define (`NotImplementedError`): that the
        # method raises says nothing of what the subclasses' methods do.
        "placeholder",
        # Raised by a non-blocking call that would have to wait: code that handles it expects
        # the calls of its `try` not to block (`BlockingIOError`).
        "would-block",
        # A base class that gives its subclasses no method of their own (`typing.Generic`):
        # the project's classes derived from it are known whole.
        "empty-base",
        "type-wrapper",  # an annotation `W[X, ...]` that means its first argument (`Optional`)
        "type-union",  # an annotation `U[X, Y, ...]` that means one of its arguments (`Union`)
    }
)

_KIND_KEYS = frozenset(
    {
        "classes",
        "factories",
        "annotations",
        "traits",
        "noun",
        "remedy",
        "closed-error",
        "bound",
        "methods",
        "async-alternative",
        "bound-remedy",
        "release-bound",
        "initial-count",
        "daemon",
        "shield",
    }
)
_METHOD_KEYS = frozenset(
    {
        "roles",
        "block",
        "timeout",
        "returns",
        "handoff",
        "future",
        "future-remedy",
        "unless",
        "status-keyword",
    }
)
_FUNCTION_KEYS = frozenset(
    {
        "roles",
        "remedy",
        "handoff",
        "unpacks",
        "endless-with-args",
        "timeout",
        "return-when",
        "unless",
        "async-form",
    }
)
_FILE_KEYS = frozenset({"library", "kinds", "functions", "names", "any-receiver"})


class CatalogError(Exception):
    """A catalog entry that does not fit the schema; the message names where it is."""


@dataclass(frozen=True)
class Argument:
    """Where a call takes one argument: its position (None: keyword only) and keyword."""

    position: int | None
    keyword: str


@dataclass(frozen=True)
class Handoff:
    """How a call hands a callable over to run elsewhere: the callable's position and
    keyword, and where its arguments go (a position of an `args` tuple, also accepted
    as `args=`; "rest": the positional arguments after the callable; None: nowhere)."""

    callable: int
    keyword: str | None = None
    args: int | str | None = None


@dataclass(frozen=True)
class Unless:
    """When a blocking call does not block: its `argument` names one of `names`
    (`flags=socket.AI_NUMERICHOST`, also as part of `a | b` or a call such as
    `io.BytesIO(data)`), or the call is written as the argument of one of `inside`
    (`trio.wrap_file(os.fdopen(fd))`), or, for a method, every call that made its object
    passes one of `names` as `made_with` (`socket.socket(AF_INET, SOCK_DGRAM)`: connecting
    a datagram socket sends nothing)."""

    argument: Argument | None = None
    names: frozenset[str] = frozenset()
    inside: frozenset[str] = frozenset()
    made_with: Argument | None = None


@dataclass(frozen=True)
class Method:
    roles: frozenset[str]
    block: Argument | None = None  # the flag that, when false, makes it return at once
    timeout: Argument | None = None  # the timeout that, when zero, does the same
    returns: str | None = None  # the kind it returns
    handoff: Handoff | None = None
    future: str | None = None  # what messages call the future it returns
    future_remedy: str | None = None  # what to do with that future rather than drop it
    unless: Unless | None = None  # the forms of a blocking method that do not block
    # `waits-started` methods: the keyword under which the started function gets its status.
    status_keyword: str | None = None


@dataclass(frozen=True)
class Function:
    roles: frozenset[str]
    remedy: str | None = None
    handoff: Handoff | None = None
    unpacks: tuple[str, ...] = ()  # kinds of the tuple it returns, in order
    endless_with_args: frozenset[int] = frozenset()  # argument counts it never ends with
    timeout: Argument | None = None  # after which it returns with what is done
    return_when: Argument | None = None  # what it waits for (`leaves-pending` functions)
    unless: Unless | None = None  # the forms of a blocking function that do not block
    # Coroutine functions that do what it does without blocking, taking its one positional
    # argument alike, one per framework (`asyncio.sleep`, `trio.sleep`): `--fix` awaits
    # the one of the framework the file uses.
    async_form: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bound:
    keyword: str
    position: int


@dataclass(frozen=True)
class Kind:
    name: str
    classes: tuple[str, ...] = ()
    factories: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    traits: frozenset[str] = frozenset()
    noun: str | None = None
    remedy: str | None = None
    closed_error: str | None = None
    bound: Bound | Literal[False] | None = None  # None: not a buffer; False: no bound exists
    methods: dict[str, Method] = field(default_factory=dict)
    async_alternative: str | None = None  # the class to use instead in async code (messages)
    bound_remedy: str | None = None  # what to use so that it is bounded (messages)
    # The keyword that, when passed, makes a release past the acquires raise (`max_value=`).
    release_bound: str | None = None
    # Where its constructor takes its starting count: `Semaphore(0)` counts items, not slots.
    initial_count: Argument | None = None
    # The constructor keyword and attribute that, when true, make it a daemon (`daemon=True`).
    daemon: str | None = None
    # The constructor keyword and attribute that, when true, keep cancellation from outside
    # away from its block (`shield=True`, `scope.shield = True`).
    shield: str | None = None


@dataclass(frozen=True)
class Library:
    """One data file's entries."""

    source: str
    modules: tuple[str, ...]
    concurrency: bool
    kinds: tuple[Kind, ...]
    functions: dict[str, Function]
    names: dict[str, frozenset[str]]
    any_receiver: dict[str, Method]
    # Package -> the submodules whose names it re-exports (`asyncio` -> `tasks`, ...).
    reexports: dict[str, frozenset[str]] = field(default_factory=dict)


def library(raw: dict[str, Any], source: str) -> Library:
    """Validate one parsed data file; `source` names it in errors."""
    where = _Where(source)
    where.keys(raw, _FILE_KEYS, "the file")
    header = where.table(raw.get("library", {}), "[library]")
    where.keys(header, frozenset({"modules", "concurrency", "reexports"}), "[library]")
    modules = where.names(header.get("modules", []), "[library] modules")
    kinds = where.table(raw.get("kinds", {}), "[kinds]")
    functions = where.table(raw.get("functions", {}), "[functions]")
    names = where.table(raw.get("names", {}), "[names]")
    any_receiver = where.table(raw.get("any-receiver", {}), "[any-receiver]")
    return Library(
        source,
        modules,
        where.flag(header.get("concurrency", False), "[library] concurrency"),
        tuple(_kind(name, where.table(value, name), where) for name, value in kinds.items()),
        {name: _function(name, value, where) for name, value in functions.items()},
        {name: where.roles(value, NAME_ROLES, f"[names] {name}") for name, value in names.items()},
        {name: _method(name, value, where) for name, value in any_receiver.items()},
        _reexports(header.get("reexports", {}), modules, where),
    )


def _reexports(raw: object, modules: tuple[str, ...], where: _Where) -> dict[str, frozenset[str]]:
    label = "[library] reexports"
    found: dict[str, frozenset[str]] = {}
    for package, submodules in where.table(raw, label).items():
        where.dotted(package, label)
        if package.partition(".")[0] not in modules:
            raise where.error(f"{label}: {package} is not in the library's modules")
        found[package] = frozenset(where.names(submodules, f"{label} {package}"))
    return found


def _kind(name: str, raw: dict[str, Any], where: _Where) -> Kind:
    label = f"kind {name}"
    where.dotted(name, label)
    where.keys(raw, _KIND_KEYS, label)
    methods = where.table(raw.get("methods", {}), f"{label} methods")
    kind = Kind(
        name,
        where.names(raw.get("classes", []), f"{label} classes"),
        where.names(raw.get("factories", []), f"{label} factories"),
        where.names(raw.get("annotations", []), f"{label} annotations"),
        where.roles(raw.get("traits", []), TRAITS, f"{label} traits"),
        where.text(raw.get("noun"), f"{label} noun"),
        where.text(raw.get("remedy"), f"{label} remedy"),
        where.text(raw.get("closed-error"), f"{label} closed-error"),
        _bound(raw.get("bound"), where, label),
        {method: _method(method, value, where, label) for method, value in methods.items()},
        async_alternative=where.dotted_text(
            raw.get("async-alternative"), f"{label} async-alternative"
        ),
        bound_remedy=where.text(raw.get("bound-remedy"), f"{label} bound-remedy"),
        release_bound=where.text(raw.get("release-bound"), f"{label} release-bound"),
        initial_count=_argument(raw.get("initial-count"), where, f"{label} initial-count"),
        daemon=where.text(raw.get("daemon"), f"{label} daemon"),
        shield=where.text(raw.get("shield"), f"{label} shield"),
    )
    if kind.daemon is not None and not kind.daemon.isidentifier():
        raise where.error(f"{label} daemon: {kind.daemon!r} is not a keyword name")
    if kind.shield is not None and not kind.shield.isidentifier():
        raise where.error(f"{label} shield: {kind.shield!r} is not a keyword name")
    switches = sorted(n for n, m in kind.methods.items() if "sets-non-blocking" in m.roles)
    if switches and "non-blocking-mode" not in kind.traits:
        raise where.error(
            f"{label} method {switches[0]}: sets-non-blocking needs the non-blocking-mode trait"
        )
    if "unlisted-methods-block" in kind.traits and kind.remedy is None:
        raise where.error(f"{label}: unlisted-methods-block needs the remedy its calls name")
    return kind


def _bound(raw: object, where: _Where, label: str) -> Bound | Literal[False] | None:
    if raw is None:
        return None
    if raw is False:
        return False
    table = where.table(raw, f"{label} bound")
    where.keys(table, frozenset({"keyword", "position"}), f"{label} bound")
    keyword, position = table.get("keyword"), table.get("position")
    if not isinstance(keyword, str) or type(position) is not int or position < 0:
        raise where.error(f"{label} bound: give keyword (text) and position (0 or more)")
    return Bound(keyword, position)


def _method(name: str, raw: object, where: _Where, owner: str = "[any-receiver]") -> Method:
    label = f"{owner} method {name}"
    if not name.isidentifier():
        raise where.error(f"{label}: not a method name")
    if isinstance(raw, list):
        return Method(where.roles(raw, METHOD_ROLES, label))
    table = where.table(raw, label)
    where.keys(table, _METHOD_KEYS, label)
    return Method(
        where.roles(table.get("roles", []), METHOD_ROLES, label),
        _argument(table.get("block"), where, f"{label} block"),
        _argument(table.get("timeout"), where, f"{label} timeout"),
        where.text(table.get("returns"), f"{label} returns"),
        _handoff(table.get("handoff"), where, label),
        where.text(table.get("future"), f"{label} future"),
        where.text(table.get("future-remedy"), f"{label} future-remedy"),
        _unless(table, where, label, method=True),
        where.text(table.get("status-keyword"), f"{label} status-keyword"),
    )


def _function(name: str, raw: object, where: _Where) -> Function:
    label = f"function {name}"
    where.dotted(name, label)
    table = {"roles": raw} if isinstance(raw, list) else where.table(raw, label)
    where.keys(table, _FUNCTION_KEYS, label)
    counts = table.get("endless-with-args", [])
    if not isinstance(counts, list) or not all(type(n) is int and n >= 0 for n in counts):
        raise where.error(f"{label} endless-with-args: a list of argument counts")
    roles = where.roles(table.get("roles", []), FUNCTION_ROLES, label)
    if "blocking" in roles and not isinstance(table.get("remedy"), str):
        raise where.error(f"{label}: a blocking function names its remedy")
    return Function(
        roles,
        where.text(table.get("remedy"), f"{label} remedy"),
        _handoff(table.get("handoff"), where, label),
        where.names(table.get("unpacks", []), f"{label} unpacks"),
        frozenset(counts),
        _argument(table.get("timeout"), where, f"{label} timeout"),
        _argument(table.get("return-when"), where, f"{label} return-when"),
        _unless(table, where, label),
        where.names(table.get("async-form", []), f"{label} async-form"),
    )


def _argument(raw: object, where: _Where, label: str) -> Argument | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not (raw[0] is False or (type(raw[0]) is int and raw[0] >= 0))
        or not isinstance(raw[1], str)
    ):
        raise where.error(f"{label}: give [position, keyword] (position false: keyword only)")
    return Argument(None if raw[0] is False else raw[0], raw[1])


def _handoff(raw: object, where: _Where, label: str) -> Handoff | None:
    if raw is None:
        return None
    table = where.table(raw, f"{label} handoff")
    where.keys(table, frozenset({"callable", "keyword", "args"}), f"{label} handoff")
    position, keyword, args = table.get("callable"), table.get("keyword"), table.get("args")
    if (
        type(position) is not int
        or not (keyword is None or isinstance(keyword, str))
        or not (args is None or args == "rest" or (type(args) is int and args >= 0))
    ):
        raise where.error(f"{label} handoff: callable (position), keyword, args (position/rest)")
    return Handoff(position, keyword, args)


def _unless(
    table: dict[str, Any], where: _Where, label: str, method: bool = False
) -> Unless | None:
    raw = table.get("unless")
    if raw is None:
        return None
    label = f"{label} unless"
    if "blocking" not in table.get("roles", []):
        raise where.error(f"{label}: only a blocking function or method has forms that do not")
    unless = where.table(raw, label)
    where.keys(unless, frozenset({"argument", "names", "inside", "made-with"}), label)
    found = Unless(
        _argument(unless.get("argument"), where, f"{label} argument"),
        frozenset(where.names(unless.get("names", []), f"{label} names")),
        frozenset(where.names(unless.get("inside", []), f"{label} inside")),
        _argument(unless.get("made-with"), where, f"{label} made-with"),
    )
    told = (found.argument is not None) + (found.made_with is not None)
    if told > 1 or (told == 1) != bool(found.names) or not (found.names or found.inside):
        raise where.error(
            f"{label}: give argument (or made-with) and names, or inside, or all three"
        )
    if found.made_with is not None and not method:
        raise where.error(f"{label}: made-with tells a method's form, not a function's")
    return found


@dataclass(frozen=True)
class _Where:
    source: str

    def error(self, message: str) -> CatalogError:
        return CatalogError(f"{self.source}: {message}")

    def table(self, value: object, label: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(f"{label}: expected a table")
        return value

    def keys(self, table: dict[str, Any], allowed: frozenset[str], label: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.error(f"{label}: unknown key {unknown[0]!r}")

    def names(self, value: object, label: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"{label}: expected a list of dotted names")
        for item in value:
            self.dotted(item, label)
        return tuple(value)

    def dotted(self, name: str, label: str) -> None:
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise self.error(f"{label}: {name!r} is not a dotted name")

    def roles(self, value: object, allowed: frozenset[str], label: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"{label}: expected a list of roles")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.error(f"{label}: unknown role or trait {unknown[0]!r}")
        return frozenset(value)

    def dotted_text(self, value: object, label: str) -> str | None:
        """Optional text that is a dotted name."""
        if value is not None:
            if not isinstance(value, str):
                raise self.error(f"{label}: expected a dotted name")
            self.dotted(value, label)
        return value

    def text(self, value: object, label: str) -> str | None:
        if value is not None and not isinstance(value, str):
            raise self.error(f"{label}: expected text")
        return value

    def flag(self, value: object, label: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"{label}: expected true or false")
        return value
