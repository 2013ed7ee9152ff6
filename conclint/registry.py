"""Every rule, listed explicitly; selection of the enabled ones."""

from __future__ import annotations

from functools import cache

from conclint.config import Settings, is_enabled
from conclint.rules.base import Rule
from conclint.rules.blocking_call_in_async import BlockingCallInAsync
from conclint.rules.dangling_task import DanglingTask
from conclint.rules.swallowed_cancellation import SwallowedCancellation
from conclint.rules.unawaited_coroutine import UnawaitedCoroutine

RULES: tuple[type[Rule], ...] = (
    DanglingTask,
    UnawaitedCoroutine,
    SwallowedCancellation,
    BlockingCallInAsync,
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


def by_code(code: str) -> type[Rule] | None:
    return next((rule for rule in RULES if rule.code == code.upper()), None)


@cache
def enabled_rules(settings: Settings) -> tuple[type[Rule], ...]:
    return tuple(
        rule for rule in RULES if is_enabled(rule.code, settings, preview_rule=rule.preview)
    )
