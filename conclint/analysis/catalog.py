"""Data only: the library objects the rules know, by canonical dotted name."""

from __future__ import annotations

# Constructor or factory -> the kind of object it returns.
# The top-level modules that make the tasks, threads, executors, queues, channels and
# locks the lifecycle, close, pairing and growth rules follow: a file that imports none
# of them (and is no module of theirs) has nothing those rules can report.
CONCURRENCY_MODULES: frozenset[str] = frozenset(
    {"asyncio", "threading", "_thread", "queue", "multiprocessing", "concurrent", "trio", "anyio"}
)

CONSTRUCTORS: dict[str, str] = {
    # asyncio
    "asyncio.Queue": "asyncio.Queue",
    "asyncio.PriorityQueue": "asyncio.Queue",
    "asyncio.LifoQueue": "asyncio.Queue",
    "asyncio.Lock": "asyncio.Lock",
    "asyncio.Event": "asyncio.Event",
    "asyncio.Semaphore": "asyncio.Semaphore",
    "asyncio.BoundedSemaphore": "asyncio.BoundedSemaphore",
    "asyncio.Condition": "asyncio.Condition",
    "asyncio.get_running_loop": "asyncio.AbstractEventLoop",
    "asyncio.get_event_loop": "asyncio.AbstractEventLoop",
    "asyncio.new_event_loop": "asyncio.AbstractEventLoop",
    "asyncio.create_task": "asyncio.Task",
    "asyncio.ensure_future": "asyncio.Task",
    "asyncio.TaskGroup": "asyncio.TaskGroup",
    # threading / queue
    "queue.Queue": "queue.Queue",
    "queue.LifoQueue": "queue.Queue",
    "queue.PriorityQueue": "queue.Queue",
    "queue.SimpleQueue": "queue.SimpleQueue",
    "threading.Lock": "threading.Lock",
    "threading.RLock": "threading.RLock",
    "threading.Semaphore": "threading.Semaphore",
    "threading.BoundedSemaphore": "threading.BoundedSemaphore",
    "threading.Condition": "threading.Condition",
    "threading.Event": "threading.Event",
    "threading.Thread": "threading.Thread",
    "threading.Timer": "threading.Thread",
    # concurrent.futures / multiprocessing
    "concurrent.futures.ThreadPoolExecutor": "concurrent.futures.Executor",
    "concurrent.futures.ProcessPoolExecutor": "concurrent.futures.Executor",
    "multiprocessing.Queue": "multiprocessing.Queue",
    "multiprocessing.JoinableQueue": "multiprocessing.JoinableQueue",
    "multiprocessing.SimpleQueue": "multiprocessing.SimpleQueue",
    "multiprocessing.Lock": "multiprocessing.Lock",
    "multiprocessing.RLock": "multiprocessing.RLock",
    "multiprocessing.Semaphore": "multiprocessing.Semaphore",
    "multiprocessing.BoundedSemaphore": "multiprocessing.BoundedSemaphore",
    "multiprocessing.Condition": "multiprocessing.Condition",
    "multiprocessing.Event": "multiprocessing.Event",
    "multiprocessing.Process": "multiprocessing.Process",
    "multiprocessing.Pool": "multiprocessing.Pool",
    "multiprocessing.pool.Pool": "multiprocessing.Pool",
    "multiprocessing.pool.ThreadPool": "multiprocessing.Pool",
    # blocking I/O objects (CCL601) and the anyio cancellation class (CCL203)
    "builtins.open": "io.IOBase",
    "io.open": "io.IOBase",
    "pathlib.Path": "pathlib.Path",
    "pathlib.PosixPath": "pathlib.Path",
    "pathlib.WindowsPath": "pathlib.Path",
    "requests.Session": "requests.Session",
    "requests.session": "requests.Session",
    "httpx.Client": "httpx.Client",
    "socket.socket": "socket.socket",
    "socket.create_connection": "socket.socket",
    "socket.create_server": "socket.socket",
    "subprocess.Popen": "subprocess.Popen",
    "concurrent.futures.Future": "concurrent.futures.Future",
    "asyncio.run_coroutine_threadsafe": "concurrent.futures.Future",
    "anyio.get_cancelled_exc_class": "anyio.cancelled_exc_class",
    # loggers, whose calls format their arguments into text (CCL102)
    "logging.getLogger": "logging.Logger",
    "logging.Logger": "logging.Logger",
    "logging.LoggerAdapter": "logging.Logger",
    # buffers and concurrency limiters (CCL501, CCL502)
    "collections.deque": "collections.deque",
    "anyio.CapacityLimiter": "anyio.CapacityLimiter",
    "trio.CapacityLimiter": "trio.CapacityLimiter",
    # connections that close (CCL301, CCL302)
    "multiprocessing.connection.Client": "multiprocessing.connection.Connection",
}

# Classes named in annotations -> kind (`q: asyncio.Queue[int]`).
ANNOTATION_KINDS: dict[str, str] = {
    **{name: kind for name, kind in CONSTRUCTORS.items() if name.rpartition(".")[2][:1].isupper()},
    "asyncio.AbstractEventLoop": "asyncio.AbstractEventLoop",
    "asyncio.BaseEventLoop": "asyncio.AbstractEventLoop",
    "asyncio.StreamWriter": "asyncio.StreamWriter",
    "asyncio.StreamReader": "asyncio.StreamReader",
    "asyncio.Task": "asyncio.Task",
    "asyncio.Future": "asyncio.Future",
    "concurrent.futures.Executor": "concurrent.futures.Executor",
    "concurrent.futures.Future": "concurrent.futures.Future",
    "socket.socket": "socket.socket",
    "collections.deque": "collections.deque",
    "typing.Deque": "collections.deque",
    # closable streams, channels and connections (CCL301, CCL302)
    "multiprocessing.connection.Connection": "multiprocessing.connection.Connection",
    "multiprocessing.queues.Queue": "multiprocessing.Queue",
    "multiprocessing.queues.JoinableQueue": "multiprocessing.JoinableQueue",
    "anyio.streams.memory.MemoryObjectSendStream": "anyio.MemoryObjectSendStream",
    "anyio.streams.memory.MemoryObjectReceiveStream": "anyio.MemoryObjectReceiveStream",
    "anyio.abc.ObjectSendStream": "anyio.MemoryObjectSendStream",
    "anyio.abc.ObjectReceiveStream": "anyio.MemoryObjectReceiveStream",
    "trio.MemorySendChannel": "trio.MemorySendChannel",
    "trio.MemoryReceiveChannel": "trio.MemoryReceiveChannel",
    "trio.abc.SendChannel": "trio.MemorySendChannel",
    "trio.abc.ReceiveChannel": "trio.MemoryReceiveChannel",
    # the classes behind multiprocessing's lock factories (CCL403-405)
    **{
        f"multiprocessing.synchronize.{name}": f"multiprocessing.{name}"
        for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")
    },
}

# Awaited factories that return a tuple: `reader, writer = await asyncio.open_connection(...)`.
TUPLE_FACTORIES: dict[str, tuple[str, ...]] = {
    "asyncio.open_connection": ("asyncio.StreamReader", "asyncio.StreamWriter"),
    "asyncio.open_unix_connection": ("asyncio.StreamReader", "asyncio.StreamWriter"),
    "socket.socketpair": ("socket.socket", "socket.socket"),
    # `send, receive = anyio.create_memory_object_stream[int](10)` (CCL301, CCL302)
    "anyio.create_memory_object_stream": (
        "anyio.MemoryObjectSendStream",
        "anyio.MemoryObjectReceiveStream",
    ),
    "trio.open_memory_channel": ("trio.MemorySendChannel", "trio.MemoryReceiveChannel"),
    "multiprocessing.Pipe": (
        "multiprocessing.connection.Connection",
        "multiprocessing.connection.Connection",
    ),
    "multiprocessing.connection.Pipe": (
        "multiprocessing.connection.Connection",
        "multiprocessing.connection.Connection",
    ),
}

# Functions that start a task from a coroutine: their result must be kept.
TASK_SPAWNERS: frozenset[str] = frozenset(
    {"asyncio.create_task", "asyncio.ensure_future", "asyncio.run_coroutine_threadsafe"}
)

# Coroutine functions of the standard library (canonical names).
ASYNCIO_COROUTINES: frozenset[str] = frozenset(
    {
        "asyncio.sleep",
        "asyncio.wait_for",
        "asyncio.wait",
        "asyncio.open_connection",
        "asyncio.open_unix_connection",
        "asyncio.start_server",
        "asyncio.start_unix_server",
        "asyncio.to_thread",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "asyncio.staggered_race",
    }
)

# Coroutine methods by receiver kind.
COROUTINE_METHODS: dict[str, frozenset[str]] = {
    "asyncio.Queue": frozenset({"get", "put", "join"}),
    "asyncio.Lock": frozenset({"acquire"}),
    "asyncio.Semaphore": frozenset({"acquire"}),
    "asyncio.BoundedSemaphore": frozenset({"acquire"}),
    "asyncio.Event": frozenset({"wait"}),
    "asyncio.Condition": frozenset({"acquire", "wait", "wait_for"}),
    "asyncio.StreamWriter": frozenset({"drain", "wait_closed", "start_tls"}),
    "asyncio.StreamReader": frozenset({"read", "readline", "readexactly", "readuntil"}),
    "asyncio.AbstractEventLoop": frozenset(
        {
            "sock_recv",
            "sock_sendall",
            "sock_connect",
            "sock_accept",
            "getaddrinfo",
            "create_connection",
            "create_server",
            "shutdown_asyncgens",
            "shutdown_default_executor",
        }
    ),
}

# The modules those coroutine functions and methods come from: a file with no `async def`
# that imports none of them calls no coroutine function CCL102 knows (but the project's).
COROUTINE_MODULES: frozenset[str] = frozenset(
    name.partition(".")[0] for name in (*ASYNCIO_COROUTINES, *COROUTINE_METHODS)
)

# -- CCL203 swallowed-cancellation --------------------------------------------

# Exception classes whose handlers catch a task's cancellation. (Since 3.8
# `concurrent.futures.CancelledError` is a different, Exception-derived class.)
CANCELLATION_EXCEPTIONS: frozenset[str] = frozenset(
    {"asyncio.CancelledError", "builtins.BaseException", "trio.Cancelled"}
)

# The kind of what `anyio.get_cancelled_exc_class()` returns: the backend's cancellation class.
CANCELLED_CLASS_KIND = "anyio.cancelled_exc_class"

# Calls that never return normally.
NO_RETURN_CALLS: frozenset[str] = frozenset(
    {"sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit"}
)

# -- CCL601 blocking-call-in-async ---------------------------------------------

_ASYNC_HTTP = "use an async client (`httpx.AsyncClient`, `aiohttp`) or `asyncio.to_thread(...)`"
_SUBPROCESS = "use `await asyncio.create_subprocess_exec(...)`"
_FILES = "use `anyio.open_file`/`aiofiles.open` or `await asyncio.to_thread(...)`"
_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Blocking functions -> the non-blocking remedy to suggest.
BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": "use `await asyncio.sleep(...)`",
    **{f"requests.{verb}": _ASYNC_HTTP for verb in _HTTP_VERBS},
    **{f"httpx.{verb}": "use `httpx.AsyncClient`" for verb in (*_HTTP_VERBS, "stream")},
    "urllib.request.urlopen": _ASYNC_HTTP,
    "urllib.request.urlretrieve": _ASYNC_HTTP,
    "subprocess.run": _SUBPROCESS,
    "subprocess.call": _SUBPROCESS,
    "subprocess.check_call": _SUBPROCESS,
    "subprocess.check_output": _SUBPROCESS,
    "subprocess.getoutput": _SUBPROCESS,
    "subprocess.getstatusoutput": _SUBPROCESS,
    "os.system": "use `await asyncio.create_subprocess_shell(...)`",
    "socket.create_connection": "use `await asyncio.open_connection(...)`",
    "socket.getaddrinfo": "use `await loop.getaddrinfo(...)`",
    "socket.gethostbyname": "use `await loop.getaddrinfo(...)`",
    "concurrent.futures.wait": "use `await asyncio.wait(...)` on `asyncio.wrap_future(...)`s",
    "concurrent.futures.as_completed": "use `asyncio.as_completed(...)` on wrapped futures",
    "builtins.input": "use `await asyncio.to_thread(input, ...)`",
    "builtins.open": _FILES,
    "io.open": _FILES,
}

# Where a blocking method takes its block flag and its timeout (positions; None: no such
# argument), so that `acquire(False)`, `get(block=False)` and `wait(timeout=0)` count as
# non-blocking.
ArgPositions = tuple[int | None, int | None]
_NO_ARGS: ArgPositions = (None, None)
_LOCK: dict[str, ArgPositions] = {"acquire": (0, 1)}
_CONDITION: dict[str, ArgPositions] = {"acquire": (0, 1), "wait": (None, 0), "wait_for": (None, 1)}
_EVENT: dict[str, ArgPositions] = {"wait": (None, 0)}
_QUEUE: dict[str, ArgPositions] = {"get": (0, 1), "put": (1, 2), "join": _NO_ARGS}
_SOCKET_IO = (
    "accept",
    "connect",
    "recv",
    "recv_into",
    "recvfrom",
    "recvfrom_into",
    "send",
    "sendall",
    "sendto",
    "sendfile",
)

# Blocking methods by receiver kind.
BLOCKING_METHODS: dict[str, dict[str, ArgPositions]] = {
    "threading.Lock": _LOCK,
    "threading.RLock": _LOCK,
    "threading.Semaphore": _LOCK,
    "threading.BoundedSemaphore": _LOCK,
    "threading.Condition": _CONDITION,
    "threading.Event": _EVENT,
    "multiprocessing.Lock": _LOCK,
    "multiprocessing.RLock": _LOCK,
    "multiprocessing.Semaphore": _LOCK,
    "multiprocessing.BoundedSemaphore": _LOCK,
    "multiprocessing.Condition": _CONDITION,
    "multiprocessing.Event": _EVENT,
    "queue.Queue": _QUEUE,
    "queue.SimpleQueue": {"get": (0, 1)},
    "multiprocessing.Queue": {"get": (0, 1), "put": (1, 2)},
    "multiprocessing.JoinableQueue": _QUEUE,
    "multiprocessing.SimpleQueue": {"get": _NO_ARGS},
    "concurrent.futures.Future": {"result": (None, 0), "exception": (None, 0)},
    "concurrent.futures.Executor": {"shutdown": (0, None)},
    "multiprocessing.Pool": dict.fromkeys(("apply", "map", "starmap", "join"), _NO_ARGS),
    "threading.Thread": {"join": (None, 0)},
    "multiprocessing.Process": {"join": (None, 0)},
    "subprocess.Popen": {"wait": (None, 0), "communicate": (None, 1)},
    "socket.socket": dict.fromkeys(_SOCKET_IO, _NO_ARGS),
    "requests.Session": dict.fromkeys((*_HTTP_VERBS, "send"), _NO_ARGS),
    "httpx.Client": dict.fromkeys((*_HTTP_VERBS, "send", "stream"), _NO_ARGS),
    "io.IOBase": dict.fromkeys(("read", "readline", "readlines", "write", "writelines"), _NO_ARGS),
    "pathlib.Path": dict.fromkeys(
        ("read_text", "read_bytes", "write_text", "write_bytes", "open"), _NO_ARGS
    ),
}

# Keywords that, when literally False, make a blocking method return at once.
NON_BLOCKING_FLAGS: frozenset[str] = frozenset({"blocking", "block", "wait"})

_TO_THREAD = "or call it through `await asyncio.to_thread(...)`"
# What to suggest for a blocking method, by receiver kind.
BLOCKING_METHOD_REMEDIES: dict[str, str] = {
    **{
        f"{module}.{name}": f"use `asyncio.{name}` {_TO_THREAD}"
        for module in ("threading", "multiprocessing")
        for name in ("Lock", "Semaphore", "BoundedSemaphore", "Condition", "Event")
    },
    "threading.RLock": f"use `asyncio.Lock` {_TO_THREAD}",
    "multiprocessing.RLock": f"use `asyncio.Lock` {_TO_THREAD}",
    "queue.Queue": f"use `get_nowait()`/`put_nowait()` {_TO_THREAD}",
    "queue.SimpleQueue": f"use `get_nowait()` {_TO_THREAD}",
    "multiprocessing.Queue": f"use `get_nowait()`/`put_nowait()` {_TO_THREAD}",
    "multiprocessing.JoinableQueue": f"use `get_nowait()`/`put_nowait()` {_TO_THREAD}",
    "multiprocessing.SimpleQueue": "call it through `await asyncio.to_thread(...)`",
    "concurrent.futures.Future": "use `await asyncio.wrap_future(future)`",
    "concurrent.futures.Executor": "use `shutdown(wait=False)` or `await asyncio.to_thread(...)`",
    "multiprocessing.Pool": "use `await loop.run_in_executor(...)` or the `*_async` methods",
    "threading.Thread": "use `await asyncio.to_thread(thread.join)`",
    "multiprocessing.Process": "use `await asyncio.to_thread(process.join)`",
    "subprocess.Popen": _SUBPROCESS,
    "socket.socket": "use asyncio streams or `await loop.sock_*(...)` on a non-blocking socket",
    "requests.Session": _ASYNC_HTTP,
    "httpx.Client": "use `httpx.AsyncClient`",
    "io.IOBase": _FILES,
    "pathlib.Path": "use `anyio.Path` or `await asyncio.to_thread(...)`",
}

_PATH_DERIVING = (
    "parent",
    "with_name",
    "with_stem",
    "with_suffix",
    "joinpath",
    "resolve",
    "absolute",
    "expanduser",
)
# What a method or attribute of a known object gives: `executor.submit(...)` is a Future.
DERIVED_KINDS: dict[str, dict[str, str]] = {
    "concurrent.futures.Executor": {"submit": "concurrent.futures.Future"},
    "pathlib.Path": {**dict.fromkeys(_PATH_DERIVING, "pathlib.Path"), "open": "io.IOBase"},
}

# Calls whose arguments are handed to a worker thread (a blocking call there is the point).
THREAD_OFFLOADS: frozenset[str] = frozenset(
    {"asyncio.to_thread", "anyio.to_thread.run_sync", "trio.to_thread.run_sync"}
)
# The same, as methods of any receiver (`loop.run_in_executor(...)`).
THREAD_OFFLOAD_METHODS: frozenset[str] = frozenset({"run_in_executor"})

# -- CCL102 unawaited-coroutine ------------------------------------------------

# Decorators after which calling an `async def` still gives a coroutine.
COROUTINE_KEEPING_DECORATORS: frozenset[str] = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "abc.abstractmethod",
        "functools.wraps",
        "typing.overload",
        "typing.override",
        "typing_extensions.overload",
        "typing_extensions.override",
    }
)

_LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "fatal")

# Calls that turn their arguments into text: a coroutine there is shown, never run.
TEXT_CALLS: frozenset[str] = frozenset(
    {
        "builtins.str",
        "builtins.repr",
        "builtins.format",
        "builtins.print",
        "logging.log",
        *(f"logging.{method}" for method in _LOG_METHODS),
    }
)
# The same, as methods of a `logging.Logger`.
LOGGER_METHODS: frozenset[str] = frozenset({"log", *_LOG_METHODS})
# Calls that only ask whether their argument is true (a coroutine always is).
TRUTH_CALLS: frozenset[str] = frozenset({"builtins.bool"})

# -- CCL105, CCL106, CCL501, CCL502, CCL602, CCL603 ------------------------------

# Calls that hand a callable over to run elsewhere (a thread, a process, the loop):
# (position of the callable, its keyword, where its arguments go). An int there is
# the position of the `args` tuple (also accepted as `args=`), HANDOFF_REST means
# "the positional arguments after the callable", None that none are passed through.
HANDOFF_REST = -1
_Handoff = tuple[int, str | None, int | None]
HANDOFF_FUNCTIONS: dict[str, _Handoff] = {
    "threading.Thread": (1, "target", 3),
    "threading.Timer": (1, "function", 2),
    "multiprocessing.Process": (1, "target", 3),
    "asyncio.to_thread": (0, None, HANDOFF_REST),
    "anyio.to_thread.run_sync": (0, None, HANDOFF_REST),
    "trio.to_thread.run_sync": (0, None, HANDOFF_REST),
}
_POOL_MAPS = ("map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")
# The same, as methods by receiver kind.
HANDOFF_METHODS: dict[str, dict[str, _Handoff]] = {
    "concurrent.futures.Executor": {"submit": (0, None, HANDOFF_REST), "map": (0, None, None)},
    "asyncio.AbstractEventLoop": {
        "run_in_executor": (1, None, HANDOFF_REST),
        "call_soon": (0, None, HANDOFF_REST),
        "call_soon_threadsafe": (0, None, HANDOFF_REST),
        "call_later": (1, None, HANDOFF_REST),
        "call_at": (1, None, HANDOFF_REST),
    },
    "multiprocessing.Pool": {
        "apply": (0, "func", 1),
        "apply_async": (0, "func", 1),
        **dict.fromkeys(_POOL_MAPS, (0, "func", None)),
    },
}

# Standard functions whose result is never a callable (CCL106: `Thread(target=time.sleep(1))`).
NON_CALLABLE_RESULTS: frozenset[str] = frozenset(
    {
        "time.sleep",
        "builtins.print",
        "builtins.input",
        "builtins.open",
        "os.system",
        "os.remove",
        "os.unlink",
        "os.rename",
        "os.replace",
        "os.makedirs",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "json.dump",
        "json.load",
        *(f"requests.{verb}" for verb in _HTTP_VERBS),
    }
)
# Calls that return a callable (`return functools.partial(...)` makes a factory).
CALLABLE_FACTORIES: frozenset[str] = frozenset(
    {
        "functools.partial",
        "functools.partialmethod",
        "functools.wraps",
        "functools.update_wrapper",
        "functools.cache",
        "functools.lru_cache",
        "functools.singledispatch",
        "operator.attrgetter",
        "operator.itemgetter",
        "operator.methodcaller",
        "builtins.getattr",
        "builtins.type",
        "types.MethodType",
        "types.FunctionType",
    }
)
# Decorators that leave a function returning what its body returns.
PLAIN_DECORATORS: frozenset[str] = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "functools.cache",
        "functools.lru_cache",
        "abc.abstractmethod",
        "typing.override",
        "typing_extensions.override",
    }
)

# What the futures of executors and loops are called, by receiver kind and method (CCL105).
FUTURE_METHODS: dict[str, dict[str, str]] = {
    "concurrent.futures.Executor": {"submit": "future", "map": "result iterator"},
    "asyncio.AbstractEventLoop": {"run_in_executor": "asyncio future"},
    "multiprocessing.Pool": {
        "apply_async": "result",
        "map_async": "result",
        "starmap_async": "result",
    },
}

# Queue and buffer constructors -> (keyword, position) of their bound; None: no bound exists.
QUEUE_BOUNDS: dict[str, tuple[str, int] | None] = {
    **{
        f"{module}.{name}": ("maxsize", 0)
        for module in ("asyncio", "queue")
        for name in ("Queue", "LifoQueue", "PriorityQueue")
    },
    "queue.SimpleQueue": None,
    "multiprocessing.Queue": ("maxsize", 0),
    "multiprocessing.JoinableQueue": ("maxsize", 0),
    "collections.deque": ("maxlen", 1),
}
# Methods that add to / take from a queue or deque.
FILL_METHODS: frozenset[str] = frozenset(
    {"put", "put_nowait", "append", "appendleft", "extend", "extendleft"}
)
TAKE_METHODS: frozenset[str] = frozenset({"get", "get_nowait", "pop", "popleft"})

# Endless sources for a `for` loop: iterables, and callables -> argument counts that never end.
ENDLESS_STREAMS: frozenset[str] = frozenset({"sys.stdin", "sys.stdin.buffer"})
ENDLESS_ITERATORS: dict[str, frozenset[int]] = {
    "itertools.count": frozenset({0, 1, 2}),
    "itertools.cycle": frozenset({1}),
    "itertools.repeat": frozenset({1}),
    "builtins.iter": frozenset({2}),
}
EVENT_KINDS: frozenset[str] = frozenset(
    {"threading.Event", "asyncio.Event", "multiprocessing.Event"}
)

# Spawning methods by receiver kind, and kinds started with `.start()` (CCL502).
SPAWN_METHODS: dict[str, frozenset[str]] = {
    "asyncio.TaskGroup": frozenset({"create_task"}),
    "asyncio.AbstractEventLoop": frozenset({"create_task", "run_in_executor"}),
    "concurrent.futures.Executor": frozenset({"submit"}),
    "multiprocessing.Pool": frozenset({"apply_async"}),
}
STARTED_KINDS: frozenset[str] = frozenset({"threading.Thread", "multiprocessing.Process"})
# What bounds concurrency: limiters, calls that wait for work, calls that pace a loop.
LIMITER_KINDS: frozenset[str] = frozenset(
    {
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "multiprocessing.Semaphore",
        "multiprocessing.BoundedSemaphore",
        "anyio.CapacityLimiter",
        "trio.CapacityLimiter",
    }
)
WAITING_CALLS: frozenset[str] = frozenset(
    {
        "asyncio.gather",
        "asyncio.wait",
        "asyncio.wait_for",
        "asyncio.as_completed",
        "concurrent.futures.wait",
        "concurrent.futures.as_completed",
    }
)
PACING_CALLS: frozenset[str] = frozenset(
    {"asyncio.sleep", "time.sleep", "trio.sleep", "anyio.sleep"}
)
# Queue kinds whose `put` blocks when full (a bounded one paces the loop).
BLOCKING_PUT_KINDS: frozenset[str] = frozenset(
    {"asyncio.Queue", "queue.Queue", "multiprocessing.Queue", "multiprocessing.JoinableQueue"}
)

# Locks that block the thread, so holding one across `await` can deadlock the loop (CCL603).
SYNC_LOCK_KINDS: frozenset[str] = frozenset(
    {
        f"{module}.{name}"
        for module in ("threading", "multiprocessing")
        for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")
    }
)

# -- CCL103/104/201/202/204 lifecycle and cancellation -------------------------

# Thread classes whose instances must be joined unless they are daemons.
THREAD_CLASSES: frozenset[str] = frozenset({"threading.Thread", "threading.Timer"})
# A cancelled timer ends on its own, so `cancel()` settles it as `join()` does.
TIMER_CLASSES: frozenset[str] = frozenset({"threading.Timer"})

# Executors and process pools whose workers live until shut down.
EXECUTOR_CLASSES: frozenset[str] = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.ProcessPoolExecutor",
        "multiprocessing.Pool",
        "multiprocessing.pool.Pool",
        "multiprocessing.pool.ThreadPool",
        "multiprocessing.dummy.Pool",
    }
)
# Methods that stop an executor's or pool's workers (`__exit__` is what `with` calls).
EXECUTOR_SHUTDOWN_METHODS: frozenset[str] = frozenset(
    {"shutdown", "close", "terminate", "join", "__exit__"}
)

# Calls that keep their argument beyond the call (containers, exit stacks, registries):
# an object handed to one of them is owned elsewhere. Matched on the callee's last name.
RETAINING_CALLS: frozenset[str] = frozenset(
    {
        "append", "appendleft", "add", "extend", "insert", "setdefault", "put", "put_nowait",
        "enter_context", "enter_async_context", "push", "push_async_exit", "callback",
        "register", "finalize", "closing", "partial", "set_default_executor", "setattr",
    }
)  # fmt: skip

# `return_when` values after which `asyncio.wait` may leave tasks pending.
WAIT_RETURN_EARLY: dict[str, str] = {
    "asyncio.FIRST_COMPLETED": "FIRST_COMPLETED",
    "asyncio.FIRST_EXCEPTION": "FIRST_EXCEPTION",
    "concurrent.futures.FIRST_COMPLETED": "FIRST_COMPLETED",
    "concurrent.futures.FIRST_EXCEPTION": "FIRST_EXCEPTION",
}

# -- CCL301/302 double-close, use-after-close ------------------------------------

_ANYIO_STREAMS = ("anyio.MemoryObjectSendStream", "anyio.MemoryObjectReceiveStream")
_TRIO_CHANNELS = ("trio.MemorySendChannel", "trio.MemoryReceiveChannel")
_MP_QUEUES = ("multiprocessing.Queue", "multiprocessing.JoinableQueue")
_CONNECTION = "multiprocessing.connection.Connection"
# The kind of a descriptor passed to `os.close(fd)`.
FILE_DESCRIPTOR = "os.fd"

# Closable kinds -> the methods that close or shut them down.
CLOSE_METHODS: dict[str, frozenset[str]] = {
    "asyncio.Queue": frozenset({"shutdown"}),
    "queue.Queue": frozenset({"shutdown"}),
    **dict.fromkeys(_MP_QUEUES, frozenset({"close"})),
    "multiprocessing.SimpleQueue": frozenset({"close"}),
    _CONNECTION: frozenset({"close"}),
    **dict.fromkeys(_ANYIO_STREAMS + _TRIO_CHANNELS, frozenset({"close", "aclose"})),
    "asyncio.StreamWriter": frozenset({"close"}),
}
# The modules that make closable objects: a file that imports none of them holds none.
CLOSABLE_MODULES: frozenset[str] = frozenset(kind.partition(".")[0] for kind in CLOSE_METHODS)
# Functions that close the descriptor given as their first argument.
FD_CLOSERS: frozenset[str] = frozenset({"os.close"})
# Calls taken not to raise, so that they open no exception path (CCL3xx, CCL4xx); logging
# calls are also taken not to (logging reports its own failures).
NON_RAISING_CALLS: frozenset[str] = frozenset(
    {
        "contextlib.suppress",
        "contextlib.nullcontext",
        "builtins.isinstance",
        "builtins.id",
        "builtins.print",
    }
)
# Calls that end the process on the spot: no `finally` runs after them (unlike `sys.exit`).
PROCESS_ENDING_CALLS: frozenset[str] = frozenset({"os._exit", "os.abort"})
# Kinds that `with`/`async with` closes on the way out.
CLOSED_BY_WITH: frozenset[str] = frozenset({_CONNECTION, *_ANYIO_STREAMS, *_TRIO_CHANNELS})
# Methods that send into a closable, by kind.
SEND_METHODS: dict[str, frozenset[str]] = {
    "asyncio.Queue": frozenset({"put", "put_nowait"}),
    "queue.Queue": frozenset({"put", "put_nowait"}),
    **dict.fromkeys(_MP_QUEUES, frozenset({"put", "put_nowait"})),
    "multiprocessing.SimpleQueue": frozenset({"put"}),
    _CONNECTION: frozenset({"send", "send_bytes"}),
    "anyio.MemoryObjectSendStream": frozenset({"send", "send_nowait"}),
    "trio.MemorySendChannel": frozenset({"send", "send_nowait"}),
}
# What a send raises once the closable is closed.
CLOSED_ERRORS: dict[str, str] = {
    "asyncio.Queue": "asyncio.QueueShutDown",
    "queue.Queue": "queue.ShutDown",
    **dict.fromkeys(_MP_QUEUES, "ValueError"),
    "multiprocessing.SimpleQueue": "OSError",
    _CONNECTION: "OSError",
    "anyio.MemoryObjectSendStream": "anyio.ClosedResourceError",
    "trio.MemorySendChannel": "trio.ClosedResourceError",
}
# What messages call each closable kind.
CLOSABLE_NOUNS: dict[str, str] = {
    "asyncio.Queue": "queue",
    "queue.Queue": "queue",
    **dict.fromkeys(_MP_QUEUES, "queue"),
    "multiprocessing.SimpleQueue": "queue",
    _CONNECTION: "connection",
    **dict.fromkeys(_ANYIO_STREAMS, "stream"),
    **dict.fromkeys(_TRIO_CHANNELS, "channel"),
    "asyncio.StreamWriter": "stream writer",
    FILE_DESCRIPTOR: "file descriptor",
}

# -- CCL401-405 queue items and locks that must pair ------------------------------

# Queues whose `join()` waits for one `task_done()` per item taken.
TASK_DONE_QUEUES: frozenset[str] = frozenset(
    {"asyncio.Queue", "queue.Queue", "multiprocessing.JoinableQueue"}
)
QUEUE_TAKES: frozenset[str] = frozenset({"get", "get_nowait"})
# Objects with `acquire()`/`release()` (CCL403) ...
LOCK_KINDS: frozenset[str] = frozenset(
    {
        f"{module}.{name}"
        for module in ("threading", "asyncio", "multiprocessing")
        for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")
    }
    - {"asyncio.RLock"}
)
# ... the semaphores whose extra `release()` silently raises the count (CCL405) ...
UNBOUNDED_SEMAPHORES: frozenset[str] = frozenset(
    {"threading.Semaphore", "asyncio.Semaphore", "multiprocessing.Semaphore"}
)
# ... and the conditions whose `wait()` must sit in a loop that re-checks (CCL404).
CONDITION_KINDS: frozenset[str] = frozenset(
    {"threading.Condition", "asyncio.Condition", "multiprocessing.Condition"}
)
# `with x as y:` binds something else than `x` for these (a lock's `__enter__` gives True).
ENTER_RETURNS_OTHER: frozenset[str] = LOCK_KINDS
