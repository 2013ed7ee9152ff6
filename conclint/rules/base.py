"""The base class every rule derives from."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from conclint.analysis.context import FileContext
from conclint.analysis.tracking import Tracker, hook_names
from conclint.config import Settings
from conclint.diagnostics import Severity
from conclint.fixes import Proposal
from conclint.options import Option
from conclint.prefilter import Source

_CODE = re.compile(r"^CCL[1-9]\d{2}$")
_NAME = re.compile(r"^[a-z]+(-[a-z]+)*$")
DOCS_BASE = "https://github.com/conclint/conclint/blob/main/rules"

FAMILIES = {
    "1": "leak",
    "2": "cancellation",
    "3": "close",
    "4": "pairing",
    "5": "growth",
    "6": "blocking",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule reports: the node and the finished message. Positions come later."""

    node: cst.CSTNode
    code: str
    name: str
    message: str
    severity: Severity
    fix: Proposal | None = None


class Rule(cst.BatchableCSTVisitor):
    """One rule: a batchable visitor over one file, fresh for every file.

    Subclasses set `code`, `name`, `summary` (one line), `message` (a format
    string filled by `report(node, **fields)`) and `needles`: substrings of
    which a file must contain at least one for the rule to be able to fire,
    and optionally `imports` (see `may_fire`). The engine runs on a file only
    the rules that may fire on it, and parses no file where none may, so these
    must be necessary conditions, never guesses. Both are derived from the
    catalog entries of the roles the rule asks about (`catalog.words`,
    `catalog.kind_words`, `catalog.kind_modules`), so that a kind or role added
    to the catalog reaches the pre-filter too; only language words (`async`)
    are written here.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    message: ClassVar[str]
    needles: ClassVar[tuple[str, ...]] = ()
    # For rules about methods of objects of some kinds: (what makes such an object, the
    # methods). A file that spells one of each may also hold a finding.
    method_needles: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = ((), ())
    preview: ClassVar[bool] = False
    severity: ClassVar[Severity] = Severity.WARNING
    precision: ClassVar[str] = "high"
    tags: ClassVar[tuple[str, ...]] = ()
    # Top-level modules of which a file must import one (or belong to one) for the rule
    # to fire, because they make the objects it reports on. Empty: no such condition.
    imports: ClassVar[frozenset[str]] = frozenset()
    # The rule reports code inside `async def` only, so a file without one is skipped.
    async_only: ClassVar[bool] = False
    # Some of its findings come with a fix (`--fix`): the rule says so, as ruff's
    # "Fix is sometimes available".
    fixable: ClassVar[bool] = False
    # The shared trackers the rule listens to (`analysis/tracking.py`): each tells the rule
    # what it finds through the methods of its listener protocol, which the rule defines.
    uses: ClassVar[tuple[type[Tracker[Any]], ...]] = ()
    # The codes of ruff's and flake8-async's checks for the same bug (`ASYNC230`): a noqa
    # comment naming one suppresses this rule's finding on its line, as it did the peer's.
    peers: ClassVar[tuple[str, ...]] = ()
    # The options of `[tool.conclint]` it reads (`settings.option(...)`), documented under
    # `## Options` on its page; the configuration accepts those the rules declare.
    options: ClassVar[tuple[Option, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _CODE.match(cls.code):
            raise TypeError(f"{cls.__name__}: bad rule code {cls.code!r}")
        if not _NAME.match(cls.name):
            raise TypeError(f"{cls.__name__}: rule name {cls.name!r} is not kebab-case")
        if not cls.summary or not cls.message or not (cls.needles or cls.method_needles[0]):
            raise TypeError(f"{cls.__name__}: summary, message and needles are required")

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.findings: list[Finding] = []
        for kind in self.uses:
            context.tracker(kind).subscribe(self)

    @classmethod
    def family(cls) -> str:
        return FAMILIES[cls.code[3]]

    @classmethod
    def docs_url(cls) -> str:
        return f"{DOCS_BASE}/{cls.code}.md"

    @classmethod
    def message_fields(cls) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(cls.message) if name}

    @classmethod
    def needles_for(cls, settings: Settings) -> tuple[str, ...]:
        """Needles once the settings are known: the names of the user's catalog entries
        (a `like` class, a spawner) add their own, as the shipped entries give `needles`."""
        return cls.needles + settings.configured_needles()

    @classmethod
    def may_fire(cls, source: Source, settings: Settings) -> bool:
        """The pre-filter's question: a necessary condition for a finding, never a guess.
        An object the rule is about may also come from a project module the file imports
        (`make_pool()`): then the file need not import or spell what makes it (the makers
        of `method_needles`), only the methods."""
        modules = cls.imports | settings.configured_modules()
        from_project = bool(cls.imports) and source.imports_from_project(modules)
        if cls.imports and not (source.imports_any(modules) or from_project):
            return False
        if cls.async_only and not source.has_async_def:
            return False
        makers, methods = cls.method_needles
        if from_project and makers and source.has_any(methods):
            return True
        return source.has_any(cls.needles_for(settings)) or (
            source.has_any(makers) and source.has_any(methods)
        )

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        # LibCST finds visit methods with inspect.getmembers on every instance (milliseconds
        # per rule per file); the names depend only on the class, so find them once.
        return {name: getattr(self, name) for name in hook_names(type(self))}

    def report(
        self, node: cst.CSTNode, autofix: Proposal | None = None, /, **fields: object
    ) -> None:
        """Report `node` with the message filled from `fields`; `autofix` is how to fix it,
        when the rule knows (rules that can give one set `fixable`)."""
        message = self.message.format(**fields)
        self.findings.append(Finding(node, self.code, self.name, message, self.severity, autofix))
