"""CCL403: a lock or semaphore acquired and not released on every path."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import pairing
from conclint.analysis.context import FileContext
from conclint.analysis.flow import ScopeAnalyses, analyse
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

_NEVER = "anywhere in this module"


class AcquireWithoutRelease(ScopeAnalyses, Rule):
    code = "CCL403"
    name = "acquire-without-release"
    summary = "A lock or semaphore is acquired and not released on every path"
    message = (
        "`{target}.acquire()` is not released {reason}: the next `acquire()` blocks forever; "
        "use `with {target}:` or `try`/`finally`"
    )
    needles = ("acquire",)
    tags = ("lock",)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Last names of everything released in the module (`executor._idle_semaphore`).
        self._released: set[str] = set()
        # Acquires in functions that never release: fine if some other function does.
        self._handed_over: list[tuple[cst.Call, tuple[str, str]]] = []

    def visit_Call(self, node: cst.Call) -> None:
        found = pairing.receiver_key(node, ("acquire", "release"))
        if found is None:
            return
        if found[1] == "acquire":
            self.mark_scope()
        else:
            self._released.add(found[0].rpartition(".")[2])

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        events = list(analyse(self.context, scope, pairing.Locks(self.context)).at_events())
        released: set[str] = set()
        release_loops: set[tuple[str, int]] = set()
        acquires: dict[cst.CSTNode, tuple[tuple[cst.For | cst.While, ...], str]] = {}
        for event, op, _ in events:
            if op.action == pairing.RELEASE:
                released.add(op.key)
                release_loops.update((op.key, id(loop)) for loop in event.loops)
            elif op.action == pairing.ACQUIRE:
                acquires[event.node] = (event.loops, op.kind)
        unpaired = pairing.Unpaired()
        jumps: dict[cst.Call, set[str]] = {}
        for event, op, states in events:
            if op.action not in pairing.ENDINGS:
                continue
            for key, call in {held for state in states for held in pairing.held_calls(state)}:
                loops, kind = acquires[call]
                if op.action == pairing.JUMP:
                    jumps.setdefault(call, set()).add(op.how)
                elif op.action == pairing.EXIT:
                    unpaired.add(call, key, kind, op.how if op.how == "raise" else "path")
                elif (
                    op.action == pairing.BACK
                    and event.node in loops
                    and (key, id(event.node)) in release_loops
                ):
                    unpaired.add(call, key, kind, "path")
        for call, (key, _kind, reasons) in unpaired.found.items():
            assert isinstance(call.func, cst.Attribute)
            if key in released:
                reason = pairing.Unpaired.reason(reasons | jumps.get(call, set()))
                self.report(call, target=key, reason=reason)
            else:
                self._handed_over.append((call, pairing.identity(self.context, call.func.value)))

    def finish(self) -> None:
        for call, identity in self._handed_over:
            # A local may be released by whoever it was handed to, a public attribute by any
            # holder of the object; a split acquire/release API (`__enter__`/`__exit__`, a
            # worker releasing `executor._sem`) releases it elsewhere, under the same name.
            kind, name = identity
            target = name.rpartition(".")[2]
            owned = kind == "global" or (kind == "attribute" and target.startswith("_"))
            if owned and target not in self._released:
                assert isinstance(call.func, cst.Attribute)
                self.report(call, target=dotted_name(call.func.value), reason=_NEVER)
