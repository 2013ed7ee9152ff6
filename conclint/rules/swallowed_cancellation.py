"""CCL203: work in progress."""

from __future__ import annotations

from conclint.rules.base import Rule


class SwallowedCancellation(Rule):
    code = "CCL203"
    name = "swallowed-cancellation"
    summary = "TODO"
    message = "TODO"
    needles = ("async",)
