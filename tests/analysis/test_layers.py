"""The shared analysis knows no rule; rules share it through trackers, not mixins."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conclint import registry
from conclint.rules.base import Rule

PACKAGE = Path(__file__).resolve().parents[2] / "conclint"
ANALYSIS = sorted((PACKAGE / "analysis").glob("*.py"))


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", ANALYSIS, ids=lambda path: path.name)
def test_the_analysis_imports_no_rule(path: Path) -> None:
    rules = sorted(name for name in _imported(path) if name.startswith("conclint.rules"))
    assert rules == []


def test_every_rule_derives_from_rule_alone() -> None:
    # Shared analyses are trackers a rule listens to (`Rule.uses`), never mixed in.
    mixed = [rule.code for rule in registry.RULES if rule.__bases__ != (Rule,)]
    assert mixed == []
