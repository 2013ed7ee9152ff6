"""Source ranges of nodes, as LibCST's PositionProvider gives them, at a fraction of its cost.

PositionProvider regenerates the module's code while splitting every token on
newlines and building two position objects per node. Here the code generation
only notes token indices per node (two integers); lines and columns are
worked out afterwards, with one pass over the joined text, and only for the
nodes that are asked about (the few that carry findings).

`positions_of` goes further for a handful of nodes: only the top-level or
class-level statements that hold them are generated again, and each one's code
is found in the source text, where it must occur exactly once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterator, Mapping
from itertools import accumulate
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

from conclint.analysis.walk import descendants

_NEWLINE = re.compile(r"\r\n?|\n")

# Start and end of a node as indices into the generated tokens.
Span = tuple[int, int]


class _SpanRecorder(CodegenState):
    """Code generation that records each node's token span, with LibCST's rules:
    a node's syntactic span (which leaves out the whitespace it owns) wins over the
    span of all the tokens it generated."""

    def __init__(self, module: cst.Module, indents: tuple[str, ...] = ()) -> None:
        super().__init__(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            indent_tokens=list(indents),
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
        return _position(self._offsets[index], self._line_starts)


def _position(offset: int, line_starts: list[int]) -> CodePosition:
    line = bisect_right(line_starts, offset)
    return CodePosition(line, offset - line_starts[line - 1])


def positions_of(
    module: cst.Module, source: str, nodes: Collection[cst.CSTNode]
) -> dict[cst.CSTNode, CodeRange]:
    """The ranges of `nodes` (parsed from `source`), as `Positions(module)` gives them.

    Only the statements of the module or of a class body that hold one of them are
    generated again, each with the indentation of its block; where a statement's code
    occurs in `source` says where it starts. When it does not occur exactly once
    (the same code twice, or LibCST dropped a character of the source), the whole
    module is generated, as `Positions` does.
    """
    wanted = {id(node): node for node in nodes}
    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(source))]
    found: dict[cst.CSTNode, CodeRange] = {}
    for statement, indents in _holders(module.body, (), wanted, module.default_indent):
        recorder = _SpanRecorder(module, indents)
        statement._codegen(recorder)
        code = "".join(recorder.tokens)
        start = source.find(code)
        if start < 0 or source.find(code, start + 1) >= 0:
            return _from_whole_module(module, nodes)
        offsets = list(accumulate(map(len, recorder.tokens), initial=start))
        for node, (first, last) in recorder.spans.items():
            if id(node) in wanted:
                found[node] = CodeRange(
                    _position(offsets[first], line_starts), _position(offsets[last], line_starts)
                )
    if len(found) < len(wanted):
        return _from_whole_module(module, nodes)  # a node outside every statement
    return found


def _from_whole_module(
    module: cst.Module, nodes: Collection[cst.CSTNode]
) -> dict[cst.CSTNode, CodeRange]:
    everything = Positions(module)
    return {node: everything[node] for node in nodes}


def _holders(
    statements: Collection[cst.BaseStatement],
    indents: tuple[str, ...],
    wanted: Mapping[int, cst.CSTNode],
    default_indent: str,
) -> Iterator[tuple[cst.BaseStatement, tuple[str, ...]]]:
    """The statements, with their block's indentation, that hold a wanted node; a class
    whose header holds none is looked into, statement by statement."""
    for statement in statements:
        if isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            body = statement.body
            in_header = (id(node) in wanted for node in descendants(statement, prune=body.__eq__))
            if id(statement) not in wanted and not any(in_header):
                indent = default_indent if body.indent is None else body.indent
                yield from _holders(body.body, (*indents, indent), wanted, default_indent)
                continue
        if id(statement) in wanted or any(id(node) in wanted for node in descendants(statement)):
            yield statement, indents
