"""CCL102: work in progress."""

from __future__ import annotations

from conclint.rules.base import Rule


class UnawaitedCoroutine(Rule):
    code = "CCL102"
    name = "unawaited-coroutine"
    summary = "TODO"
    message = "TODO"
    needles = ("async",)
