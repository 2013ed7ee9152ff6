"""pylint front end: `--load-plugins=conclint.pylint_plugin` reports conclint findings as W59xx."""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from pylint.checkers import BaseRawFileChecker
from pylint.interfaces import HIGH

from conclint import registry
from conclint.config import ConfigError, settings_for_file
from conclint.config import settings_from_cwd as settings
from conclint.diagnostics import Diagnostic, Severity
from conclint.engine import DecodeError, decode_source, lint_source
from conclint.runner import plugin_projects

if TYPE_CHECKING:
    from collections.abc import Callable

    from astroid import nodes
    from pylint.lint import PyLinter
    from pylint.typing import MessageDefinitionTuple

T = TypeVar("T")

# Message ids are public (`# pylint: disable=W5911`), so they are pinned here and never
# change or get reused. The number is the family digit and the rule's number within it;
# 59 is this checker's id (pylint leaves 51-99 to plugins; pylint-django holds 51).
MESSAGE_IDS: dict[str, str] = {
    "CCL001": "E5901",
    "CCL002": "E5902",
    "CCL101": "W5911",
    "CCL102": "W5912",
    "CCL103": "W5913",
    "CCL104": "W5914",
    "CCL105": "W5915",
    "CCL106": "W5916",
    "CCL107": "W5917",
    "CCL108": "W5918",
    "CCL109": "W5919",
    "CCL201": "W5921",
    "CCL202": "W5922",
    "CCL203": "W5923",
    "CCL204": "W5924",
    "CCL205": "W5925",
    "CCL206": "W5926",
    "CCL207": "W5927",
    "CCL208": "W5928",
    "CCL209": "W5929",
    "CCL301": "W5931",
    "CCL302": "W5932",
    "CCL401": "W5941",
    "CCL402": "W5942",
    "CCL403": "W5943",
    "CCL404": "W5944",
    "CCL405": "W5945",
    "CCL406": "W5946",
    "CCL501": "W5951",
    "CCL502": "W5952",
    "CCL601": "W5961",
    "CCL602": "W5962",
    "CCL603": "W5963",
    "CCL604": "W5964",
    "CCL605": "W5965",
}
# A code missing above still gets an id (from 70 up, in code order) so that pylint shows
# it, but such an id moves when codes are added: tests demand every code be pinned.
_SPARE_NUMBERS = range(70, 100)
_LETTERS = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.NOTE: "C"}
# pylint's own `syntax-error` exists, so the tool's codes get a prefix.
TOOL_SYMBOL_PREFIX = "conclint-"


def _catalog() -> list[tuple[str, str, str, Severity, str]]:
    """(code, symbol, summary, severity, docs url) of everything conclint can report."""
    tool = [
        (code, TOOL_SYMBOL_PREFIX + name, summary, Severity.ERROR, "")
        for code, name, summary in registry.TOOL_CODES
    ]
    rules = [
        (rule.code, rule.name, rule.summary, rule.severity, rule.docs_url())
        for rule in registry.RULES
    ]
    return tool + rules


@cache
def message_ids() -> dict[str, tuple[str, str]]:
    """code -> (pylint message id, symbol), pinned ids first."""
    table: dict[str, tuple[str, str]] = {}
    spare = iter(_SPARE_NUMBERS)
    for code, symbol, _, severity, _ in sorted(_catalog()):
        msgid = MESSAGE_IDS.get(code)
        if msgid is None:
            number = next(spare, None)
            if number is None:
                continue  # pylint has no room left under this checker id
            msgid = f"{_LETTERS[severity]}59{number:02d}"
        table[code] = (msgid, symbol)
    return table


def _messages() -> dict[str, MessageDefinitionTuple]:
    ids = message_ids()
    messages: dict[str, MessageDefinitionTuple] = {}
    for code, symbol, summary, _, url in _catalog():
        if code in ids:
            description = f"{code}: {summary}." + (f" See {url}" if url else "")
            messages[ids[code][0]] = ("%s", symbol, description)
    return messages


class ConclintChecker(BaseRawFileChecker):
    """Runs the engine on each module's raw text; pylint applies `# pylint: disable`."""

    name = "conclint"
    msgs = _messages()

    def open(self) -> None:
        # The settings of files with no config of their own: [tool.conclint] upward from
        # the cwd, read once; checked here so that a broken one stops pylint at once.
        _or_usage_error(settings)

    def process_module(self, node: nodes.Module) -> None:
        ids = message_ids()
        path = node.file or node.name
        # Each file's own settings, as under flake8 and the CLI: its nearest config.
        own = _or_usage_error(lambda: settings_for_file(path))
        with node.stream() as stream:  # the stdin text under --from-stdin
            data = stream.read()
        try:
            source = decode_source(data)
        except DecodeError as error:
            self._emit(Diagnostic(path, 1, 0, 1, 0, "CCL002", "unreadable-file", str(error)))
            return
        # Rules whose messages are disabled for the whole run are not run at all.
        rules = [
            rule
            for rule in registry.enabled_rules(own)
            if rule.code in ids and self.linter.is_message_enabled(ids[rule.code][0])
        ]
        # The index of the file's project, which the CLI lints it with (once per process).
        project = (
            _or_usage_error(lambda: plugin_projects().index_for(path, source, own))
            if rules
            else None
        )
        # pylint ignores noqa comments, so the CLI's suppression comments are applied here.
        for diagnostic in lint_source(source, path, own, rules=rules, project=project).diagnostics:
            self._emit(diagnostic)

    def _emit(self, d: Diagnostic) -> None:
        ids = message_ids()
        if d.code not in ids:
            return
        self.add_message(
            ids[d.code][0],
            line=d.line,
            col_offset=d.col,
            end_lineno=d.end_line,
            end_col_offset=d.end_col,
            args=(d.message,),
            confidence=HIGH,
        )


def _or_usage_error(load: Callable[[], T]) -> T:
    try:
        return load()
    except ConfigError as error:
        # A configuration error is a usage error: pylint's own exit status for that is 32.
        print(f"conclint: {error}", file=sys.stderr)
        sys.exit(32)


def register(linter: PyLinter) -> None:
    linter.register_checker(ConclintChecker(linter))
