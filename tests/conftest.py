from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conclint.analysis.project import ModuleFacts, facts_of

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


def app_module_facts(tmp_path: Path, name: str, source: str) -> ModuleFacts:
    """The index's facts of `source` as the module `app.<name>` of a package in `tmp_path`."""
    package = tmp_path / "app"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").touch()
    path = package / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return facts_of(source, str(path))


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.py"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
