"""Source ranges of nodes, as LibCST's PositionProvider gives them, at a fraction of its cost.

PositionProvider regenerates the module's code while splitting every token on
newlines and building two position objects per node. Here the code generation
only notes token indices per node (two integers); lines and columns are
worked out afterwards, with one pass over the joined text, and only for the
nodes that are asked about (the few that carry findings).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")

# Start and end of a node as indices into the generated tokens.
Span = tuple[int, int]


class _SpanRecorder(CodegenState):
    """Code generation that records each node's token span, with LibCST's rules:
    a node's syntactic span (which leaves out the whitespace it owns) wins over the
    span of all the tokens it generated."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.spans: dict[cst.CSTNode, Span] = {}
        self._starts: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.spans:
            self.spans[node] = (start, len(self.tokens))

    def pop_trailing_newline(self) -> None:
        # The text is not wanted, only positions, and LibCST counts this newline in them.
        pass

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """The context manager LibCST's code generation wraps a node's own tokens in."""

    __slots__ = ("end_node", "node", "recorder", "start", "start_node")

    def __init__(
        self,
        recorder: _SpanRecorder,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self.recorder = recorder
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.start = 0

    def __enter__(self) -> None:
        self.start = len(self.recorder.tokens)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        spans = self.recorder.spans
        start = spans[self.start_node][0] if self.start_node is not None else self.start
        end = spans[self.end_node][1] if self.end_node is not None else len(self.recorder.tokens)
        spans[self.node] = (start, end)


class Positions:
    """A mapping from every node of a module to its CodeRange, converted when asked."""

    def __init__(self, module: cst.Module) -> None:
        recorder = _SpanRecorder(module)
        module._codegen(recorder)
        self._spans = recorder.spans
        tokens = recorder.tokens
        # Character offset at each token index.
        self._offsets = [0, *accumulate(map(len, tokens))]
        code = "".join(tokens)
        self._line_starts = [0, *(match.end() for match in _NEWLINE.finditer(code))]

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        start, end = self._spans[node]
        return CodeRange(self._point(start), self._point(end))

    def __contains__(self, node: object) -> bool:
        return node in self._spans

    def _point(self, index: int) -> CodePosition:
        offset = self._offsets[index]
        line = bisect_right(self._line_starts, offset)
        return CodePosition(line, offset - self._line_starts[line - 1])
