"""Positions agree with LibCST's PositionProvider on every node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from conclint.analysis.positions import Positions, positions_of
from conclint.analysis.walk import descendants
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


def _check_some(source: str) -> None:
    """`positions_of` a fifth of the nodes at a time equals the whole module's positions."""
    module = cst.parse_module(source)
    everything = Positions(module)
    nodes = [module, *descendants(module)]
    for start in range(5):
        some = nodes[start::5]
        assert positions_of(module, source, some) == {node: everything[node] for node in some}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: path.name)
def test_positions_of_a_few_nodes_on_fixtures(path: Path) -> None:
    _check_some(path.read_text(encoding="utf-8"))


NESTED_CLASSES = (
    "class Outer:\n"
    "\tclass Inner:\n"
    "\t\t@staticmethod\n"
    "\t\tdef f():\n"
    "\t\t\treturn 1\n"
    "\t# between\n"
    "\tdef g(self):  # same code twice below: found by the whole module\n"
    "\t\tpass\n"
    "class Other:\n"
    "\tdef g(self):  # same code twice below: found by the whole module\n"
    "\t\tpass\n"
    "class Short: pass\n"
    "@decorated(call())\n"
    "class Header(Base, metaclass=Meta):\n"
    "    x = 1\n"
)


@pytest.mark.parametrize("source", [EVERY_SYNTAX, ODD_LAYOUT, NESTED_CLASSES, "pass"])
def test_positions_of_a_few_nodes_on_odd_sources(source: str) -> None:
    _check_some(source)
