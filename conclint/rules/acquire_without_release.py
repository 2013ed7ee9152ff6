"""CCL403: a lock or semaphore acquired and not released on every path."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, cfg, pairing
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
    imports = catalog.CONCURRENCY_MODULES
    tags = ("lock",)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Last names of everything released in the module (`executor._idle_semaphore`).
        self._released: set[str] = set()
        # Acquires in functions that never release: fine if some other function does.
        self._handed_over: list[tuple[cst.Call, tuple[str, str]]] = []
        # Identity of a receiver -> ids of the functions that release it.
        self._releasers: dict[tuple[str, str], set[int]] = {}
        # Attribute acquires held on success: (call, key, identity, scope id, reason).
        self._kept: list[tuple[cst.Call, str, tuple[str, str], int, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        found = pairing.receiver_key(node, ("acquire", "release"))
        if found is None:
            return
        if found[1] == "acquire":
            self.mark_scope()
        else:
            self._released.add(found[0].rpartition(".")[2])
            assert isinstance(node.func, cst.Attribute)
            identity = pairing.identity(self.context, node.func.value)
            self._releasers.setdefault(identity, set()).add(id(self.context.function))

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        result = analyse(self.context, scope, pairing.Locks(self.context))
        found = pairing.unpaired(
            result.at_events(), pairing.ACQUIRE, pairing.RELEASE, pairing.held_calls
        )
        for call, (key, _, reasons) in found.found.items():
            assert isinstance(call.func, cst.Attribute)
            identity = pairing.identity(self.context, call.func.value)
            if key not in found.ended:
                self._handed_over.append((call, identity))
            elif identity[0] == "attribute" and cfg.RAISE not in reasons:
                # Released here only on failure and held on success: maybe a pool's slot.
                self._kept.append((call, key, identity, id(scope), found.reason(call)))
            else:
                self.report(call, target=key, reason=found.reason(call))

    def finish(self) -> None:
        for call, key, identity, scope, reason in self._kept:
            # Another method releases it (a connection pool returning its slot): handed over.
            if not self._releasers.get(identity, set()) - {scope}:
                self.report(call, target=key, reason=reason)
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
