"""CCL403: a lock or semaphore acquired and not released on every path."""

from __future__ import annotations

import libcst as cst

from conclint.analysis import catalog, cfg, pairing
from conclint.analysis.context import FileContext
from conclint.analysis.flow import ScopeAnalyses, analyse
from conclint.analysis.scopes import dotted_name
from conclint.rules.base import Rule

_NEVER = "anywhere in this module"
_LOCK_METHODS = catalog.ACQUIRE_METHODS | catalog.RELEASE_METHODS


class AcquireWithoutRelease(ScopeAnalyses, Rule):
    code = "CCL403"
    name = "acquire-without-release"
    summary = "A lock or semaphore is acquired and not released on every path"
    message = (
        "`{target}.{method}()` is not released {reason}: the next `{method}()` blocks forever; "
        "use `{with_} {target}:` or `try`/`finally`"
    )
    needles = catalog.words(catalog.ACQUIRE_METHODS)
    imports = catalog.kind_modules(catalog.LOCK_KINDS)
    tags = ("lock",)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Last names of everything released in the module (`executor._idle_semaphore`).
        self._released: set[str] = set()
        # Acquires in functions that never release: fine if some other function does.
        self._handed_over: list[tuple[cst.Call, tuple[str, str], str]] = []
        # Identity of a receiver -> ids of the functions that release it.
        self._releasers: dict[tuple[str, str], set[int]] = {}
        # Attribute acquires held on success: (call, key, identity, scope id, reason, kind).
        self._kept: list[tuple[cst.Call, str, tuple[str, str], int, str, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        found = pairing.receiver_key(node, _LOCK_METHODS)
        if found is None:
            return
        if found[1] in catalog.ACQUIRE_METHODS:
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
        for call, (key, kind, reasons) in found.found.items():
            assert isinstance(call.func, cst.Attribute)
            identity = pairing.identity(self.context, call.func.value)
            if key not in found.ended:
                self._handed_over.append((call, identity, kind))
            elif identity[0] == "attribute" and cfg.RAISE not in reasons:
                # Released here only on failure and held on success: maybe a pool's slot.
                self._kept.append((call, key, identity, id(scope), found.reason(call), kind))
            else:
                self._report(call, key, found.reason(call), kind)

    def _report(self, call: cst.Call, target: str, reason: str, kind: str) -> None:
        assert isinstance(call.func, cst.Attribute)
        method = call.func.attr.value
        self.report(
            call, target=target, method=method, reason=reason, with_=catalog.with_form(kind)
        )

    def finish(self) -> None:
        for call, key, identity, scope, reason, kind in self._kept:
            # Another method releases it (a connection pool returning its slot): handed over.
            if not self._releasers.get(identity, set()) - {scope}:
                self._report(call, key, reason, kind)
        for call, identity, kind in self._handed_over:
            # A local may be released by whoever it was handed to, a public attribute by any
            # holder of the object; a split acquire/release API (`__enter__`/`__exit__`, a
            # worker releasing `executor._sem`) releases it elsewhere, under the same name.
            how, name = identity
            target = name.rpartition(".")[2]
            owned = how == "global" or (how == "attribute" and target.startswith("_"))
            if owned and target not in self._released:
                assert isinstance(call.func, cst.Attribute)
                self._report(call, dotted_name(call.func.value) or name, _NEVER, kind)
