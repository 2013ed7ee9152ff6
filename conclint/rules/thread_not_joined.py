"""CCL103: a non-daemon thread started by a function that neither joins it nor hands it on."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.scopes import ScopeNode, dotted_name, iter_statements, scope_body
from conclint.analysis.teardown import TEARDOWN_METHODS, Teardown, teardown_of
from conclint.analysis.tracking import SingleAssignments
from conclint.analysis.uses import (
    ARG,
    ATTR,
    ATTR_SET,
    BIND,
    ITER,
    KEPT,
    METHOD,
    WITH,
    Use,
    callee,
    keyword,
    local_bindings,
    of_instances,
    uses_in,
)
from conclint.rules.base import Rule

# Uses after which the thread is reachable from elsewhere: someone else may join it.
_HANDED_ON = KEPT | {ARG, ITER, WITH}
_MAX_BASES = 3
_START_NAMES = frozenset().union(*catalog.START_METHODS.values())
# What makes any thread kind a daemon (`daemon=`, `setDaemon`): a class of the module that
# uses one on itself is not provably a non-daemon, whatever thread kind it derives from.
_DAEMON_FLAGS = frozenset(catalog.DAEMON_FLAGS.values())
_DAEMONIZING = frozenset().union(*catalog.DAEMONIZING_METHODS.values())


class ThreadNotJoined(Rule):
    """A started non-daemon thread that nothing joins keeps running after its owner is gone."""

    code = "CCL103"
    uses = (SingleAssignments,)
    name = "thread-not-joined"
    summary = "A non-daemon thread is started and never joined nor kept"
    message = "thread `{callee}(...)` {problem}; `{join}()` it{there}"
    needles = catalog.kind_words(catalog.THREAD_KINDS)
    imports = catalog.kind_modules(catalog.THREAD_KINDS)
    tags = ("threading",)
    options = (TEARDOWN_METHODS,)

    def visit_Call(self, node: cst.Call) -> None:
        # `Thread(...).start()` in one expression: nobody can ever join it.
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _START_NAMES
            and isinstance(func.value, cst.Call)
        ):
            cls = self._thread_class(func.value)
            if cls is not None and func.attr.value in self._methods(catalog.START_METHODS, cls):
                self._report(func.value, cls)

    def assigned(
        self, statement: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None:
        if isinstance(target, cst.Attribute) and isinstance(value, cst.Call):
            self._kept_on_attribute(target, value)
        if not isinstance(target, cst.Name) or not isinstance(value, cst.Call):
            return
        cls = self._thread_class(value)
        bindings = local_bindings(self.context, target.value)
        if cls is None or bindings is None or len(bindings) != 1:
            return  # not a thread, not a local (self./global outlive the call), or re-bound
        function = self.context.function
        assert function is not None
        start = daemon = None
        kept_in = None  # `self._threads.append(t)`: the class and the collection keeping it
        for use in uses_in(self.context, function).of(target.value):
            if use.how == BIND:
                continue
            collection = self._collection(use) if kept_in is None else None
            if collection is not None:
                kept_in = collection
                continue
            if use.nested or use.how in _HANDED_ON:
                return
            if use.how in (METHOD, ATTR) and self._ends(use.attr, cls):
                return
            starts = self._methods(catalog.START_METHODS, cls)
            if use.how == METHOD and use.attr in starts and start is None:
                start = use.order
            if daemon is None and self._makes_daemon(use, cls):
                daemon = use.order
        if start is None or (daemon is not None and daemon < start):
            return
        if kept_in is None:
            self._report(value, cls)
            return
        owner, holder = kept_in
        teardown = self._collection_teardown(owner, holder.attr.value)
        if teardown is not None:
            self._report(value, cls, f"in `{dotted_name(holder)}`", teardown)

    def _collection(self, use: Use) -> tuple[cst.ClassDef, cst.Attribute] | None:
        """For `self._threads.append(t)`: the class, and the attribute keeping the thread."""
        call = use.call
        if use.how != ARG or use.nested or call is None:
            return None
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in catalog.RETAINING_CALLS:
            return None
        holder = func.value
        if not isinstance(holder, cst.Attribute) or not isinstance(holder.value, cst.Name):
            return None
        if not any(arg.value is use.node and not arg.keyword for arg in call.args):
            return None
        owner = self.context.bindings.class_of_receiver(holder.value, self.context.chain)
        return (owner, holder) if owner is not None else None

    def _collection_teardown(self, owner: cst.ClassDef, attribute: str) -> Teardown | None:
        """The teardown of `owner`, when it never joins the threads of its collection
        `attribute` and nothing else in the module may (the collection handed on)."""
        uses = uses_in(self.context, self.context.module).of_attribute(attribute)
        by_self = False
        for use in of_instances(uses, owner):
            if use.how == BIND:
                continue
            if use.owner is None or use.how in KEPT:
                return None  # reachable from elsewhere: someone else may join them
            by_self = by_self or use.how in _HANDED_ON
        teardown = teardown_of(self.context, owner, attribute, by_self)
        return teardown if teardown is not None and teardown.stops is False else None

    def _kept_on_attribute(self, target: cst.Attribute, value: cst.Call) -> None:
        """`self._t = Thread(...)`, started: the teardown of the class must join it."""
        if not isinstance(target.value, cst.Name):
            return
        owner = self.context.bindings.class_of_receiver(target.value, self.context.chain)
        cls = self._thread_class(value) if owner is not None else None
        if owner is None or cls is None:
            return
        attribute = target.attr.value
        uses = uses_in(self.context, self.context.module).of_attribute(attribute)
        started = joined_by_self = False
        for use in of_instances(uses, owner):
            if use.how == BIND:
                continue
            if use.how in (METHOD, ATTR) and self._ends(use.attr, cls):
                if use.how == ATTR or use.owner is None:
                    return  # joined through another reference, or its `join` handed on
                joined_by_self = True
            elif use.how in _HANDED_ON or self._makes_daemon(use, cls):
                return
            elif use.how == METHOD and use.attr in self._methods(catalog.START_METHODS, cls):
                started = True
        if not started:
            return
        teardown = teardown_of(self.context, owner, attribute, joined_by_self)
        if teardown is not None and teardown.stops is False:
            self._report(value, cls, f"on `{dotted_name(target)}`", teardown)

    def _ends(self, method: str | None, cls: str) -> bool:
        """`join()`, or `cancel()` of a timer (which then ends by itself)."""
        return method in self._methods(catalog.JOINS, cls) or (
            method in catalog.CANCEL_METHODS and cls in catalog.TIMER_CLASSES
        )

    def _report(
        self,
        call: cst.Call,
        cls: str,
        kept_on: str | None = None,
        teardown: Teardown | None = None,
    ) -> None:
        joins = sorted(self._methods(catalog.JOINS, cls))
        shown = dotted_name(call.func) or cls.rpartition(".")[2]
        if kept_on is None or teardown is None:
            problem = "is started but never joined or kept, so it outlives the function"
            there = ""
        else:
            problem = (
                f"kept {kept_on} is never joined in {teardown.shown()}, so it outlives its owner"
            )
            there = " there"
        self.report(call, callee=shown, join=joins[0], problem=problem, there=there)

    def _thread_class(self, call: cst.Call) -> str | None:
        """`threading.Thread`/`Timer` for a non-daemon thread constructor call, else None."""
        qualified = callee(self.context, call)
        if not self._makes_thread(qualified):
            if not isinstance(call.func, cst.Name):
                return None
            qualified = self._subclass_base(call.func, self.context.chain, 0)
        if qualified is None:
            return None
        flag = catalog.DAEMON_FLAGS.get(self._kind(qualified))
        daemon = keyword(call, flag) if flag is not None else None
        if daemon is not None and not _is_false(daemon.value):
            return None
        return qualified

    def _kind(self, cls: str) -> str:
        """The kind of thread `cls` makes."""
        return self.context.bindings.constructors.get(cls, "")

    def _methods(self, by_kind: dict[str, frozenset[str]], cls: str) -> frozenset[str]:
        """The methods of the kind `cls` makes that `by_kind` lists."""
        return by_kind.get(self._kind(cls), frozenset())

    def _makes_daemon(self, use: Use, cls: str) -> bool:
        """`t.daemon = <not False>` or `t.setDaemon(<not False>)`."""
        if use.how == ATTR_SET and use.attr == catalog.DAEMON_FLAGS.get(self._kind(cls)):
            return not _is_false(use.value)
        if (
            use.how == METHOD
            and use.attr in self._methods(catalog.DAEMONIZING_METHODS, cls)
            and use.call is not None
        ):
            return not (use.call.args and _is_false(use.call.args[0].value))
        return False

    def _makes_thread(self, qualified: str | None) -> bool:
        """A class of a thread kind: the catalog's, or one the user says is like them."""
        return self.context.bindings.constructors.get(qualified or "") in catalog.THREAD_KINDS

    def _subclass_base(self, name: cst.Name, chain: Sequence[ScopeNode], depth: int) -> str | None:
        """For a class of this module derived from Thread and not made a daemon: its Thread base."""
        found = self.context.names.lookup(name.value, chain)
        if found is None or depth > _MAX_BASES:
            return None
        index, bindings = found
        if len(bindings) != 1 or not isinstance(bindings[0].node, cst.ClassDef):
            return None
        cls = bindings[0].node
        if _may_be_daemon(cls):
            return None
        outer = chain[: index + 1]
        for base in cls.bases:
            qualified = self.context.names.resolve(base.value, outer)
            if self._makes_thread(qualified):
                return qualified
            if isinstance(base.value, cst.Name):
                inherited = self._subclass_base(base.value, outer, depth + 1)
                if inherited is not None:
                    return inherited
        return None


def _is_false(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def _may_be_daemon(cls: cst.ClassDef) -> bool:
    """The class sets `daemon` itself (class attribute, `__init__`): not provably a non-daemon."""
    for statement in scope_body(cls):
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value in _DAEMON_FLAGS
                    for t in small.targets
                ):
                    return True
        if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
            return any(_sets_daemon(inner) for inner in iter_statements(scope_body(statement)))
    return False


def _sets_daemon(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
        call = statement.value
        found = next((a for a in call.args if a.keyword and a.keyword.value in _DAEMON_FLAGS), None)
        if found is not None:
            return not _is_false(found.value)
        return isinstance(call.func, cst.Attribute) and call.func.attr.value in _DAEMONIZING
    if isinstance(statement, cst.Assign):
        return any(
            isinstance(t.target, cst.Attribute) and t.target.attr.value in _DAEMON_FLAGS
            for t in statement.targets
        ) and not _is_false(statement.value)
    return False
