"""The text pre-filter is exact: skipping a file never hides a finding."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest

from conclint import registry
from conclint.config import Settings
from conclint.engine import DecodeError, decode_source, lint_source
from tests.conftest import FIXTURES, fixture_files

EVERY_RULE = Settings(preview=True)


def _same_with_and_without_prefilter(source: str, path: str) -> None:
    """Each rule whose needles are all absent must find nothing when made to run anyway."""
    skipped = [
        rule
        for rule in registry.RULES
        if not any(needle in source for needle in rule.needles_for(EVERY_RULE))
    ]
    if skipped:
        forced = lint_source(source, path, EVERY_RULE, rules=skipped, prefilter=False)
        assert [d for d in forced.diagnostics if not forced.failed] == []


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_prefilter_exact_on_fixtures(path: Path) -> None:
    _same_with_and_without_prefilter(path.read_text(encoding="utf-8"), str(path))


def test_prefilter_exact_on_a_stdlib_sample() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py")) + sorted((stdlib / "asyncio").glob("*.py"))
    for path in random.Random(7).sample(files, 30):
        try:
            source = decode_source(path.read_bytes())
        except DecodeError:
            continue
        _same_with_and_without_prefilter(source, str(path))
