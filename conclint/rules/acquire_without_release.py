"""CCL403: a lock or semaphore acquired and not released on every path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import libcst as cst

from conclint import fixes
from conclint.analysis import acquires, catalog, cfg, pairing
from conclint.analysis.context import FileContext
from conclint.analysis.flow import analyse
from conclint.analysis.scopes import dotted_name
from conclint.analysis.tracking import MarkedScopes
from conclint.analysis.walk import descendants, is_scope
from conclint.rules.base import Rule

_NEVER = "anywhere in this module"
# The releaser of a bound `release` method handed on as a value: no function's id.
_HANDED_ON = 0
_LOCK_METHODS = catalog.ACQUIRE_METHODS | catalog.RELEASE_METHODS
_ASYNC_WITH = "async with"
_ESCAPES = (cst.Return, cst.Break, cst.Continue)
_TARGETS = (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.NamedExpr, cst.For, cst.AsName)


def _statement_call(statement: cst.BaseStatement) -> cst.Call | None:
    """The call of a line that is one call (`x.m()`, or `await x.m()`) and nothing else."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.Expr) or isinstance(small.semicolon, cst.Semicolon):
        return None
    value = small.value.expression if isinstance(small.value, cst.Await) else small.value
    return value if isinstance(value, cst.Call) else None


def _acquire_method(scope: cst.FunctionDef | cst.Module) -> bool:
    """`acquire()` or `__enter__()` of a class: returning with the lock held is what it is
    for (another method gives it back), whatever escapes it on the way."""
    if not isinstance(scope, cst.FunctionDef):
        return False
    name = scope.name.value
    return name in catalog.ACQUIRE_METHODS or any(name == enter for enter, _ in acquires.ENTRIES)


def _dies_with(
    scope: cst.FunctionDef | cst.Module, lock: cst.BaseExpression, context: FileContext
) -> bool:
    """`lock` is a name the function alone binds, to a lock it makes (`sem =
    asyncio.Semaphore(4)`), and uses only to take it, in its own body, and give it back,
    also in functions it defines: nothing can wait for it once the function has ended."""
    if not isinstance(scope, cst.FunctionDef) or not isinstance(lock, cst.Name):
        return False
    name = lock.value
    bindings = context.names.table(scope).bindings.get(name, [])
    if not bindings or any(
        binding.how != "assign"
        or not isinstance(binding.value, cst.Call)
        or context.qualname(binding.value.func) not in context.catalog.constructors
        for binding in bindings
    ):
        return False
    own = {id(node) for node in descendants(scope.body, prune=is_scope)}
    targets = {
        id(target.target)
        for binding in bindings
        if isinstance(binding.node, cst.Assign)
        for target in binding.node.targets
    }
    receivers = set()
    for node in descendants(scope.body):
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            if node.value.value != name:
                continue
            method = node.attr.value
            taken_here = method in catalog.ACQUIRE_METHODS and id(node) in own
            if method not in catalog.RELEASE_METHODS and not taken_here:
                return False
            receivers.add(id(node.value))
    return all(
        id(node) in receivers or id(node) in targets
        for node in descendants(scope.body)
        if isinstance(node, cst.Name) and node.value == name
    )


def _releases(statement: cst.BaseStatement, receiver: str) -> bool:
    call = _statement_call(statement)
    found = pairing.receiver_key(call, catalog.RELEASE_METHODS) if call is not None else None
    return found is not None and found[0] == receiver and not call.args  # type: ignore[union-attr]


def _stays(node: cst.CSTNode, receiver: str) -> bool:
    """`node`, between the acquire and the release, neither leaves the block early, nor
    touches the lock, nor holds text that indenting would change."""
    if isinstance(node, _ESCAPES):
        return False
    if isinstance(node, cst.Call):
        found = pairing.receiver_key(node, _LOCK_METHODS)
        return found is None or found[0] != receiver
    if isinstance(node, _TARGETS):
        target = node.name if isinstance(node, cst.AsName) else node.target
        name = dotted_name(target) if isinstance(target, cst.BaseExpression) else None
        return name is None or not (receiver == name or receiver.startswith(f"{name}."))
    if isinstance(node, cst.SimpleString | cst.FormattedStringText):
        return "\n" not in node.value
    return True


class _Acquire(NamedTuple):
    """An acquire judged at the end of the module, once every releaser is known."""

    call: cst.Call
    target: str  # the receiver as written, for the message
    identity: tuple[str, str]  # `pairing.identity` of the receiver
    scope: int  # id of the function that acquires
    kind: str  # the catalog kind of the lock
    reason: str = ""  # where it is not released
    # The reason that holds even when another method releases it, or "".
    leaks: str = ""
    released_by_class: bool = False  # a method of the class or a base gives it back


class AcquireWithoutRelease(Rule):
    code = "CCL403"
    uses = (MarkedScopes,)
    name = "acquire-without-release"
    summary = "A lock or semaphore is acquired and not released on every path"
    message = (
        "`{target}.{method}()` is not released {reason}: the next `{method}()` blocks forever; "
        "use `{with_} {target}:` or `try`/`finally`"
    )
    needles = catalog.words(catalog.ACQUIRE_METHODS)
    imports = catalog.kind_modules(catalog.LOCK_KINDS)
    tags = ("lock",)
    fixable = True

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Last names of what is released on an object of unknown class (`executor._sem`
        # of a parameter `executor`): it may be any object's, owned ones included.
        self._released_somewhere: set[str] = set()
        # Acquires in functions that never release: fine if some other function does.
        self._handed_over: list[_Acquire] = []
        # Identity of a receiver -> ids of the functions that release it (`_HANDED_ON`
        # for a bound `release` method handed on as a value).
        self._releasers: dict[tuple[str, str], set[int]] = {}
        # ids of the `x.release` attributes that are called where they are written.
        self._called_releases: set[int] = set()
        # Attribute acquires held on success: fine if another method releases them.
        self._kept: list[_Acquire] = []
        # id of an acquire written as a statement -> (its block, its index there).
        self._blocks: dict[int, tuple[Sequence[cst.BaseStatement], int]] = {}
        # The `with` blocks being visited: their function, what they hold, and which of
        # those the block has given back for a while (`lock.release()`, then later
        # `lock.acquire()`: the `with` releases it again on the way out).
        self._withs: list[tuple[int, frozenset[str], set[str]]] = []
        # ids of such acquires, which the `with` pairs.
        self._retaken: set[int] = set()

    def visit_Module(self, node: cst.Module) -> None:
        self._note_block(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._note_block(node.body)

    def _note_block(self, body: Sequence[cst.BaseStatement]) -> None:
        """Where each `lock.acquire()` written as a statement of its own is: its block and
        its index there (what the fix needs; cheap: a look at each statement of a block)."""
        for index, statement in enumerate(body):
            call = _statement_call(statement)
            if call is not None and pairing.receiver_key(call, catalog.ACQUIRE_METHODS):
                self._blocks[id(call)] = (body, index)

    def visit_With(self, node: cst.With) -> None:
        held = frozenset(filter(None, (dotted_name(item.item) for item in node.items)))
        self._withs.append((id(self.context.function), held, set()))

    def leave_With(self, original_node: cst.With) -> None:
        self._withs.pop()

    def _holding(self, key: str) -> Iterator[set[str]]:
        """What the enclosing `with` blocks of this function that hold `key` gave back."""
        function = id(self.context.function)
        for owner, held, given_back in self._withs:
            if owner == function and key in held:
                yield given_back

    def visit_Call(self, node: cst.Call) -> None:
        found = pairing.receiver_key(node, _LOCK_METHODS)
        if found is None:
            return
        key, method = found
        if method in catalog.ACQUIRE_METHODS:
            self.context.tracker(MarkedScopes).mark(self)
            if any(key in given_back for given_back in self._holding(key)):
                self._retaken.add(id(node))
        else:
            for given_back in self._holding(key):
                given_back.add(key)
            assert isinstance(node.func, cst.Attribute)
            self._called_releases.add(id(node.func))
            self._note_release(node.func.value, id(self.context.function))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `cleanup = self._sem.release`, handed on with the work: whoever calls it releases.
        released = node.attr.value in catalog.RELEASE_METHODS
        if released and id(node) not in self._called_releases and dotted_name(node.value):
            self._note_release(node.value, _HANDED_ON)

    def _note_release(self, receiver: cst.BaseExpression, releaser: int) -> None:
        identity = pairing.identity(self.context, receiver)
        self._releasers.setdefault(identity, set()).add(releaser)
        if identity[0] == "local" and "." in identity[1]:
            self._released_somewhere.add(identity[1].rpartition(".")[2])

    def check_scope(self, scope: cst.FunctionDef | cst.Module) -> None:
        result = analyse(self.context, scope, pairing.Locks(self.context))
        found = pairing.unpaired(
            result.at_events(), pairing.ACQUIRE, pairing.RELEASE, pairing.held_calls
        )
        for call, (key, kind, reasons) in found.found.items():
            if id(call) in self._retaken:
                continue
            assert isinstance(call.func, cst.Attribute)
            identity = pairing.identity(self.context, call.func.value)
            if key not in found.ended:
                if not self._entered(scope, call.func.value):
                    released = self._released_by_class(call.func.value)
                    self._handed_over.append(
                        _Acquire(call, key, identity, id(scope), kind, released_by_class=released)
                    )
            elif identity[0] == "attribute" or (
                identity[0] == "global" and call in found.kept_on_return
            ):
                # Released here only on failure and held on success: maybe a pool's slot,
                # or the lock's own `acquire()` of a lock-like class, which another method
                # gives back (or a global held on every return, which another function of
                # the module gives back: a split acquire/release API); then what leaves it
                # held without returning still leaks, where an exception can escape.
                leaks = ""
                if cfg.RAISE in reasons and not _acquire_method(scope):
                    leaks = next(
                        text
                        for how, text in pairing.REASONS.items()
                        if how in reasons and how != cfg.RETURN
                    )
                reason = found.reason(call)
                self._kept.append(_Acquire(call, key, identity, id(scope), kind, reason, leaks))
            elif reasons == {cfg.RAISE} and _dies_with(scope, call.func.value, self.context):
                continue  # the call's own lock: an exception that ends the call ends it too
            else:
                self._report(call, key, found.reason(call), kind)

    def _report(self, call: cst.Call, target: str, reason: str, kind: str) -> None:
        assert isinstance(call.func, cst.Attribute)
        method = call.func.attr.value
        with_ = catalog.with_form(kind)
        self.report(
            call,
            self._with_fix(call, with_),
            target=target,
            method=method,
            reason=reason,
            with_=with_,
        )

    def _with_fix(self, call: cst.Call, with_: str) -> fixes.Proposal | None:
        """`lock.acquire()`, statements, `lock.release()` in one block become `with lock:`
        and the statements, indented: the lock is then released on every way out, as
        before on the way that reached `release()`. Only when the two are statements
        of their own (`await lock.acquire()` for `async with`), nothing between them
        returns, breaks, continues, rebinds the lock or takes or gives it back, and no
        string between them spans lines (indenting it would change it)."""
        found = self._blocks.get(id(call))
        receiver = dotted_name(call.func.value) if isinstance(call.func, cst.Attribute) else None
        if found is None or receiver is None or call.args:
            return None
        body, index = found
        acquire = body[index]
        assert isinstance(acquire, cst.SimpleStatementLine)
        statement = acquire.body[0]
        assert isinstance(statement, cst.Expr)
        if isinstance(statement.value, cst.Await) != (with_ == _ASYNC_WITH):
            return None
        end = next((j for j in range(index + 1, len(body)) if _releases(body[j], receiver)), None)
        if end is None or end == index + 1:
            return None
        release = body[end]
        assert isinstance(release, cst.SimpleStatementLine)
        if release.trailing_whitespace.comment is not None:
            return None  # deleting the line would take the comment with it
        between = body[index + 1 : end]
        if not all(_stays(node, receiver) for line in between for node in descendants(line)):
            return None
        edits = (
            fixes.Replace(statement, f"{with_} {receiver}:"),
            fixes.IndentBetween(acquire, release, self.context.module.default_indent),
            fixes.DeleteLines(release),
        )
        return fixes.Proposal(f"Use `{with_} {receiver}:`", edits)

    def _entered(self, scope: cst.FunctionDef | cst.Module, lock: cst.BaseExpression) -> bool:
        """`self.x.acquire()` in `__enter__` (`__aenter__`) of a class whose summary says
        its instances hold `x` until `__exit__` gives it back (`acquires.py`)."""
        if not isinstance(scope, cst.FunctionDef) or not isinstance(lock, cst.Attribute):
            return False
        entries = {enter for enter, _ in acquires.ENTRIES}
        if scope.name.value not in entries or not isinstance(lock.value, cst.Name):
            return False
        owner = self.context.bindings.class_of_receiver(lock.value, self.context.chain)
        cls = self.context.bindings.class_name(owner) if owner is not None else None
        if cls is None:
            return False
        held = self.context.model().class_holds(cls)
        return any(
            ref.partition(acquires.ALTERNATIVE)[0].rpartition(":")[2] == lock.attr.value
            for ref in held
        )

    def _released_by_class(self, lock: cst.BaseExpression) -> bool:
        """`self.x`, where a method of the class or of a project base (another module's
        too) gives `x` back on every path (an `ack()`, a `_done()`)."""
        if not isinstance(lock, cst.Attribute) or not isinstance(lock.value, cst.Name):
            return False
        cls = acquires.receiver_class(self.context, lock.value)
        return cls is not None and self.context.model().releases_along_mro(cls, lock.attr.value)

    def leave_Module(self, original_node: cst.Module) -> None:
        for kept in self._kept:
            # Another method releases it (a connection pool returning its slot): handed over.
            if not self._releasers.get(kept.identity, set()) - {kept.scope}:
                self._report(kept.call, kept.target, kept.reason, kept.kind)
            elif kept.leaks:
                self._report(kept.call, kept.target, kept.leaks, kept.kind)
        for handed in self._handed_over:
            # A local may be released by whoever it was handed to, a public attribute by any
            # holder of the object; a split acquire/release API (a worker releasing
            # `self._sem`, an `ack()` of the class or a base) releases it elsewhere, and so
            # may code releasing the same name on an object of unknown class.
            how, name = handed.identity
            target = name.rpartition(".")[2]
            owned = how == "global" or (how == "attribute" and target.startswith("_"))
            elsewhere = (
                handed.released_by_class
                or bool(self._releasers.get(handed.identity, set()) - {handed.scope})
                or target in self._released_somewhere
            )
            if owned and not elsewhere:
                call = handed.call
                assert isinstance(call.func, cst.Attribute)
                self._report(call, dotted_name(call.func.value) or name, _NEVER, handed.kind)
