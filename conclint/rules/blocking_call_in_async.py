"""CCL601: work in progress."""

from __future__ import annotations

from conclint.rules.base import Rule


class BlockingCallInAsync(Rule):
    code = "CCL601"
    name = "blocking-call-in-async"
    summary = "TODO"
    message = "TODO"
    needles = ("async",)
