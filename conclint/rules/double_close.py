"""CCL301: the same queue, stream, channel or descriptor closed twice on one path."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, closing
from conclint.analysis.tracking import MarkedScopes
from conclint.config import Settings
from conclint.prefilter import Source
from conclint.rules.base import Rule

_DESCRIPTOR_REASON = "the number may belong to a newer file by now"
_REASON = "even if harmless, nobody owns the close; close it once"


def _may_close_descriptor(source: Source) -> bool:
    """Can a descriptor closer (`os.close`) be called here, under any name it is imported as?"""
    spelled = [name for name in catalog.FD_CLOSERS if name.rpartition(".")[2] in source.text]
    if not spelled or not source.imports_any(catalog.FD_CLOSER_MODULES):
        return False
    imports = source.imports
    for closer in spelled:
        module, _, name = closer.rpartition(".")
        if (
            source.spells_dotted(closer)
            or not {(module, name), (module, "*")}.isdisjoint(imports.names)
            or any(
                source.spells_dotted(f"{alias}.{name}")
                for m, alias in imports.aliases
                if m == module
            )
        ):
            return True
    return False


class DoubleClose(Rule):
    code = "CCL301"
    uses = (MarkedScopes,)
    name = "double-close"
    summary = "A queue, stream, channel or file descriptor is closed twice on one path"
    message = "{noun} `{target}` {verb} on line {line} was already {verb} {first}: {reason}"
    needles = catalog.words(name for names in catalog.CLOSE_METHODS.values() for name in names)
    imports = catalog.CLOSABLE_MODULES
    tags = ("close", "queue", "stream")

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        return super().may_fire(source, settings) or _may_close_descriptor(source)

    def visit_Call(self, node: cst.Call) -> None:
        if closing.may_close_or_send(node):
            self.context.tracker(MarkedScopes).mark(self)

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
