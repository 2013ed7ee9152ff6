from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>.*)$")
_CODE = re.compile(r"^CCL\d{3}(@\d+)?$")


@dataclass(frozen=True)
class Expectation:
    line: int
    code: str
    column: int | None


def parse_expectations(source: str) -> set[Expectation]:
    """`# expect: CCL101` / `# expect: CCL101,CCL203` / `# expect: CCL101@8` (0-based column)."""
    found: set[Expectation] = set()
    for number, text in enumerate(source.splitlines(), start=1):
        match = _EXPECT.search(text)
        if match is None:
            continue
        for item in match.group("codes").split(","):
            item = item.strip()
            if not _CODE.match(item):
                raise ValueError(f"line {number}: malformed expectation {item!r}")
            code, _, column = item.partition("@")
            found.add(Expectation(number, code, int(column) if column else None))
    return found


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.py"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
