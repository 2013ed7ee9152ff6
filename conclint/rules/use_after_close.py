"""CCL302: a put or send into a queue, stream or channel already closed on the same path."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, closing
from conclint.analysis.tracking import MarkedScopes
from conclint.rules.base import Rule


class UseAfterClose(Rule):
    code = "CCL302"
    uses = (MarkedScopes,)
    name = "use-after-close"
    summary = "A put or send follows a close of the same queue, stream or channel"
    message = (
        "`{target}.{method}()` after the {noun} was {verb} {first}: it raises `{error}`; "
        "send everything before closing"
    )
    needles = catalog.words(name for names in catalog.SEND_METHODS.values() for name in names)
    imports = catalog.CLOSABLE_MODULES
    tags = ("close", "queue", "stream")

    def visit_Call(self, node: cst.Call) -> None:
        if closing.may_close_or_send(node):
            self.context.tracker(MarkedScopes).mark(self)

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        for event, op, first in closing.after_close(self.context, scope, closing.SEND):
            self.report(
                event.node,
                target=op.key,
                method=op.method,
                noun=closing.noun(op.kind),
                verb=closing.kind_verb(op.kind),
                first=closing.describe_close(self.context, first, event.node),
                error=catalog.CLOSED_ERRORS.get(op.kind, "an error"),
            )
