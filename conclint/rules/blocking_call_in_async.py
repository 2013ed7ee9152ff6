"""CCL601: a blocking call made directly inside `async def`."""

from __future__ import annotations

import libcst as cst

from conclint.analysis.blocking import BlockingCall, BlockingCallScan
from conclint.rules.base import Rule


class BlockingCallInAsync(BlockingCallScan, Rule):
    code = "CCL601"
    name = "blocking-call-in-async"
    summary = "A blocking call inside `async def` stalls every task on the event loop"
    message = "`{call}` blocks the event loop; {remedy}"
    needles = ("async",)
    async_only = True
    tags = ("asyncio", "blocking")

    def scans(self) -> bool:
        # Nested sync defs and lambdas run wherever they are called: not on the loop here.
        return self.context.in_async_function

    def saw_call(self, node: cst.Call, found: BlockingCall | None) -> None:
        if found is not None:
            self.report(node, call=found.shown, remedy=found.remedy)
