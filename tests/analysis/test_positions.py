"""Positions agree with LibCST's PositionProvider on every node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from conclint.analysis.positions import Positions
from tests.analysis.test_walk import EVERY_SYNTAX
from tests.conftest import fixture_files

ODD_LAYOUT = (
    "x = (  # comment\r\n    1 +\r\n    2)\r\n"
    "def f(\r\n    a,\r\n):\r\n    return a\\\r\n        + 1\r\n"
    "s = '''é\r\nü'''; t = 1"  # no newline at the end of the file
)


def _check(source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = Positions(module)
    assert expected, "the module has nodes"
    for node, where in expected.items():
        assert ours[node] == where, type(node).__name__


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: path.name)
def test_same_positions_as_libcst_on_fixtures(path: Path) -> None:
    _check(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("source", [EVERY_SYNTAX, ODD_LAYOUT, "", "\n", "pass"])
def test_same_positions_as_libcst_on_odd_sources(source: str) -> None:
    _check(source)
