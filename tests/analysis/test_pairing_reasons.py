"""The reason an unpaired take names is the path that really leaves it unpaired."""

from __future__ import annotations

from conclint.config import Settings
from conclint.engine import lint_source
from conclint.registry import by_code

LOADER = """
import asyncio


class Loader:
    def __init__(self) -> None:
        self.jobs: asyncio.Queue[int] = asyncio.Queue()
        self.lock = asyncio.Lock()

    async def drain(self) -> None:
        await self.jobs.join()

    async def run(self) -> None:
        while True:
            job = await self.jobs.get()
            {before}
                try:
                    await work(job)
                except ValueError:
                    {jump}
                finally:
                    self.jobs.task_done()


async def work(job: int) -> None:
    await asyncio.sleep(job)
"""


def messages(before: str, jump: str) -> list[str]:
    rule = by_code("CCL401")
    assert rule is not None
    source = LOADER.format(before=before, jump=jump)
    return [
        d.message for d in lint_source(source, "loader.py", Settings(), rules=[rule]).diagnostics
    ]


def test_break_covered_by_finally_is_not_the_reason() -> None:
    # Entering the lock can raise (cancellation) before the try: that is the real path.
    [message] = messages("async with self.lock:", "break")
    assert "when an exception escapes" in message


def test_nothing_unpaired_when_the_finally_covers_everything() -> None:
    assert messages("if True:", "break") == []
    assert messages("if True:", "continue") == []
