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
}

# Awaited factories that return a tuple: `reader, writer = await asyncio.open_connection(...)`.
TUPLE_FACTORIES: dict[str, tuple[str, ...]] = {
    "asyncio.open_connection": ("asyncio.StreamReader", "asyncio.StreamWriter"),
    "asyncio.open_unix_connection": ("asyncio.StreamReader", "asyncio.StreamWriter"),
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
