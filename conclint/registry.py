"""Every rule, listed explicitly; selection of the enabled ones."""

from __future__ import annotations

from functools import cache

from conclint.config import Settings, is_enabled
from conclint.rules.acquire_without_release import AcquireWithoutRelease
from conclint.rules.async_busy_loop import AsyncBusyLoop
from conclint.rules.await_in_cleanup import AwaitInCleanup
from conclint.rules.base import Rule
from conclint.rules.blocking_call_in_async import BlockingCallInAsync
from conclint.rules.blocking_call_via_helper import BlockingCallViaHelper
from conclint.rules.cancel_not_awaited import CancelNotAwaited
from conclint.rules.condition_wait_no_loop import ConditionWaitNoLoop
from conclint.rules.control_flow_in_task_group import ControlFlowInTaskGroup
from conclint.rules.dangling_task import DanglingTask
from conclint.rules.discarded_future import DiscardedFuture
from conclint.rules.double_close import DoubleClose
from conclint.rules.executor_not_shutdown import ExecutorNotShutdown
from conclint.rules.pending_not_cancelled import PendingNotCancelled
from conclint.rules.release_without_acquire import ReleaseWithoutAcquire
from conclint.rules.sleep_polling_loop import SleepPollingLoop
from conclint.rules.start_soon_in_aenter import StartSoonInAenter
from conclint.rules.swallowed_cancellation import SwallowedCancellation
from conclint.rules.sync_lock_across_await import SyncLockAcrossAwait
from conclint.rules.target_called_not_passed import TargetCalledNotPassed
from conclint.rules.task_done_extra import TaskDoneExtra
from conclint.rules.task_done_missing import TaskDoneMissing
from conclint.rules.task_never_cancelled import TaskNeverCancelled
from conclint.rules.task_status_never_started import TaskStatusNeverStarted
from conclint.rules.thread_bad_instantiation import ThreadBadInstantiation
from conclint.rules.thread_not_joined import ThreadNotJoined
from conclint.rules.timeout_created_early import TimeoutCreatedEarly
from conclint.rules.timeout_without_await import TimeoutWithoutAwait
from conclint.rules.unawaited_coroutine import UnawaitedCoroutine
from conclint.rules.unbounded_queue import UnboundedQueue
from conclint.rules.unbounded_spawn import UnboundedSpawn
from conclint.rules.use_after_close import UseAfterClose
from conclint.rules.useless_lock import UselessLock
from conclint.rules.yield_in_async_context import YieldInAsyncContext

# In code order: `conclint rules`, SARIF and the docs list them so.
RULES: tuple[type[Rule], ...] = (
    DanglingTask,
    UnawaitedCoroutine,
    ThreadNotJoined,
    ExecutorNotShutdown,
    DiscardedFuture,
    TargetCalledNotPassed,
    ThreadBadInstantiation,
    StartSoonInAenter,
    TaskStatusNeverStarted,
    TaskNeverCancelled,
    PendingNotCancelled,
    SwallowedCancellation,
    CancelNotAwaited,
    TimeoutWithoutAwait,
    AwaitInCleanup,
    YieldInAsyncContext,
    ControlFlowInTaskGroup,
    TimeoutCreatedEarly,
    DoubleClose,
    UseAfterClose,
    TaskDoneMissing,
    TaskDoneExtra,
    AcquireWithoutRelease,
    ConditionWaitNoLoop,
    ReleaseWithoutAcquire,
    UselessLock,
    UnboundedQueue,
    UnboundedSpawn,
    BlockingCallInAsync,
    AsyncBusyLoop,
    SyncLockAcrossAwait,
    BlockingCallViaHelper,
    SleepPollingLoop,
)

# Diagnostics of the tool itself: (code, name, summary).
TOOL_CODES: tuple[tuple[str, str, str], ...] = (
    ("CCL001", "syntax-error", "The file does not parse, so it was not analysed"),
    ("CCL002", "unreadable-file", "The file cannot be read or decoded, so it was not analysed"),
)

# Codes once released and since removed: never to be reused.
RETIRED: frozenset[str] = frozenset()


def known_codes() -> tuple[str, ...]:
    return tuple(code for code, _, _ in TOOL_CODES) + tuple(rule.code for rule in RULES)


@cache
def peer_codes() -> dict[str, frozenset[str]]:
    """A peer's code (ruff's, flake8-async's) -> the rules that report the same bug."""
    found: dict[str, set[str]] = {}
    for rule in RULES:
        for peer in rule.peers:
            found.setdefault(peer, set()).add(rule.code)
    return {peer: frozenset(codes) for peer, codes in found.items()}


def by_code(code: str) -> type[Rule] | None:
    return next((rule for rule in RULES if rule.code == code.upper()), None)


@cache
def enabled_rules(settings: Settings) -> tuple[type[Rule], ...]:
    return tuple(
        rule for rule in RULES if is_enabled(rule.code, settings, preview_rule=rule.preview)
    )
