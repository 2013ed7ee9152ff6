"""CCL301: the same queue, stream, channel or descriptor closed twice on one path."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, closing
from conclint.analysis.flow import ScopeAnalyses
from conclint.config import Settings
from conclint.prefilter import Source
from conclint.rules.base import Rule

_DESCRIPTOR_REASON = "the number may belong to a newer file by now"
_REASON = "even if harmless, nobody owns the close; close it once"


_OS = frozenset({"os"})


def _may_close_descriptor(source: Source) -> bool:
    """Can `os.close` be called here, under any name it is imported as?"""
    if "close" not in source.text or not source.imports_any(_OS):
        return False
    imports = source.imports
    return (
        "os.close" in source.text
        or not {("os", "close"), ("os", "*")}.isdisjoint(imports.names)
        or any(
            f"{alias}.close" in source.text for module, alias in imports.aliases if module == "os"
        )
    )


class DoubleClose(ScopeAnalyses, Rule):
    code = "CCL301"
    name = "double-close"
    summary = "A queue, stream, channel or file descriptor is closed twice on one path"
    message = "{noun} `{target}` {verb} on line {line} was already {verb} {first}: {reason}"
    needles = ("close", "shutdown")
    imports = catalog.CLOSABLE_MODULES
    tags = ("close", "queue", "stream")

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        return super().may_fire(source, settings) or _may_close_descriptor(source)

    def visit_Call(self, node: cst.Call) -> None:
        if closing.may_close_or_send(node):
            self.mark_scope()

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        for event, op, first in closing.after_close(self.context, scope, closing.CLOSE):
            descriptor = op.kind == catalog.FILE_DESCRIPTOR
            self.report(
                event.node,
                noun=closing.noun(op.kind).capitalize(),
                target=op.key,
                verb=closing.verb(op.method),
                line=self.context.line_of(event.node),
                first=closing.describe_close(self.context, first, event.node),
                reason=_DESCRIPTOR_REASON if descriptor else _REASON,
            )
