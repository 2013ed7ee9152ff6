"""Line numbers of other nodes, for messages that name a second place ("closed on line 31").

Positions cost a code-generation pass over the module, so they are resolved
only when a rule asks, and then once per file for every rule that asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from conclint.analysis.names import NameResolver

if TYPE_CHECKING:
    from conclint.analysis.context import FileContext

_CACHE: WeakKeyDictionary[NameResolver, Mapping[cst.CSTNode, CodeRange]] = WeakKeyDictionary()


def line_of(context: FileContext, node: cst.CSTNode) -> int:
    """The 1-based line where `node` (a node of the linted module) starts."""
    positions = _CACHE.get(context.names)
    if positions is None:
        # The parser's tree shares no nodes, so the wrapper can skip its copy (as the engine does).
        wrapper = MetadataWrapper(context.module, unsafe_skip_copy=True)
        positions = _CACHE[context.names] = wrapper.resolve(PositionProvider)
    return positions[node].start.line
