"""Data only: the library objects the rules know, by canonical dotted name."""

from __future__ import annotations

# Constructor or factory -> the kind of object it returns.
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
}

# Awaited factories that return a tuple: `reader, writer = await asyncio.open_connection(...)`.
TUPLE_FACTORIES: dict[str, tuple[str, ...]] = {
    "asyncio.open_connection": ("asyncio.StreamReader", "asyncio.StreamWriter"),
    "asyncio.open_unix_connection": ("asyncio.StreamReader", "asyncio.StreamWriter"),
    "socket.socketpair": ("socket.socket", "socket.socket"),
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
    "asyncio.StreamReader": frozenset(
        {"read", "readline", "readexactly", "readuntil"}
    ),
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
    "concurrent.futures.wait": "use `await asyncio.wait(...)` on `asyncio.wrap_future(...)` futures",
    "concurrent.futures.as_completed": "use `asyncio.as_completed(...)` on wrapped futures",
    "builtins.input": "use `await asyncio.to_thread(input, ...)`",
    "builtins.open": _FILES,
    "io.open": _FILES,
}

# Blocking methods by receiver kind: method -> (position of its block flag, position of its
# timeout), so that `acquire(False)`, `get(block=False)` and `wait(timeout=0)` count as
# non-blocking; None where the method has no such argument.
_LOCK = {"acquire": (0, 1)}
_CONDITION = {"acquire": (0, 1), "wait": (None, 0), "wait_for": (None, 1)}
_EVENT = {"wait": (None, 0)}
_QUEUE = {"get": (0, 1), "put": (1, 2), "join": (None, None)}
_NO_ARGS: tuple[int | None, int | None] = (None, None)
BLOCKING_METHODS: dict[str, dict[str, tuple[int | None, int | None]]] = {
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
    "multiprocessing.Pool": {name: _NO_ARGS for name in ("apply", "map", "starmap", "join")},
    "threading.Thread": {"join": (None, 0)},
    "multiprocessing.Process": {"join": (None, 0)},
    "subprocess.Popen": {"wait": (None, 0), "communicate": (None, 1)},
    "socket.socket": {
        name: _NO_ARGS
        for name in (
            "accept", "connect", "recv", "recv_into", "recvfrom", "recvfrom_into",
            "send", "sendall", "sendto", "sendfile",
        )
    },
    "requests.Session": {name: _NO_ARGS for name in (*_HTTP_VERBS, "send")},
    "httpx.Client": {name: _NO_ARGS for name in (*_HTTP_VERBS, "send", "stream")},
    "io.IOBase": {
        name: _NO_ARGS for name in ("read", "readline", "readlines", "write", "writelines")
    },
    "pathlib.Path": {
        name: _NO_ARGS for name in ("read_text", "read_bytes", "write_text", "write_bytes", "open")
    },
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
    "multiprocessing.SimpleQueue": f"call it through `await asyncio.to_thread(...)`",
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

# What a method or attribute of a known object gives: `executor.submit(...)` is a Future.
DERIVED_KINDS: dict[str, dict[str, str]] = {
    "concurrent.futures.Executor": {"submit": "concurrent.futures.Future"},
    "pathlib.Path": {
        **{
            name: "pathlib.Path"
            for name in (
                "parent", "with_name", "with_stem", "with_suffix", "joinpath",
                "resolve", "absolute", "expanduser",
            )
        },
        "open": "io.IOBase",
    },
}

# Calls whose arguments are handed to a worker thread (a blocking call there is the point).
THREAD_OFFLOADS: frozenset[str] = frozenset(
    {"asyncio.to_thread", "anyio.to_thread.run_sync", "trio.to_thread.run_sync"}
)
# The same, as methods of any receiver (`loop.run_in_executor(...)`).
THREAD_OFFLOAD_METHODS: frozenset[str] = frozenset({"run_in_executor"})
