"""flake8 front end: `flake8 --select=CCL` runs conclint on each file flake8 checks."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from conclint import __version__
from conclint.config import settings_from_cwd as settings

if TYPE_CHECKING:
    from conclint.analysis.project import ProjectIndex
    from conclint.config import Settings
    from conclint.diagnostics import FileResult
    from conclint.rules.base import Rule

Reported = tuple[int, int, str, type["Plugin"]]

# Every code conclint could ever emit (`CCL` + three digits), to ask flake8's own
# select/ignore logic about without importing the registry (and so LibCST).
_ALL_CODES = tuple(f"CCL{number:03d}" for number in range(1000))


class Plugin:
    """A `tree` plugin only so that flake8 loads it: the tree is LibCST's to build."""

    name = "conclint"
    version = __version__
    # The codes flake8's --select/--ignore let through; flake8 runs every plugin anyway,
    # so with none of ours selected the plugin must do nothing at all.
    selected: ClassVar[frozenset[str]] = frozenset(_ALL_CODES)

    def __init__(self, tree: object, lines: list[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        from flake8.exceptions import ExecutionError
        from flake8.style_guide import Decision, DecisionEngine

        decide = DecisionEngine(options).decision_for
        cls.selected = frozenset(code for code in _ALL_CODES if decide(code) is Decision.Selected)
        if cls.selected:
            from conclint.config import ConfigError

            try:
                settings()
                _prepare(options.filenames)
            except ConfigError as error:
                raise ExecutionError(f"conclint: {error}") from None

    def run(self) -> Iterator[Reported]:
        if not self.selected:
            return
        from flake8.exceptions import ExecutionError

        from conclint.config import ConfigError, settings_for_file

        source = "".join(self.lines)
        try:
            # The file's own settings: the nearest config above it, as the CLI resolves them;
            # and its project's index, which the CLI lints it with (built once per process).
            own = settings_for_file(self.filename)
            project = _project_index(self.filename, source, own)
            result = self._lint(source, own, project)
        except ConfigError as error:  # a broken config stops the run, as at the start
            raise ExecutionError(f"conclint: {error}") from None
        except Exception as error:  # one file must never stop the flake8 run
            message = f"internal error, please report: {type(error).__name__}: {error}"
            yield 1, 0, f"CCL002 {message}", type(self)
            return
        for d in result.diagnostics:
            yield d.line, d.col, f"{d.code} {d.message}", type(self)

    def _lint(self, source: str, settings: Settings, project: ProjectIndex) -> FileResult:
        from dataclasses import replace

        from conclint.diagnostics import is_suppressed, parse_suppressions
        from conclint.engine import lint_source

        # flake8 applies noqa comments itself (so --disable-noqa and flake8-noqa work).
        rules = _rules(self.selected, settings)
        result = lint_source(
            source, self.filename, settings, rules=rules, apply_suppressions=False, project=project
        )
        if result.failed or not result.diagnostics:
            return result
        # `# conclint: ignore[...]` is ours to apply; flake8 does not know it.
        own = parse_suppressions(self.lines, include_noqa=False)
        kept = tuple(d for d in result.diagnostics if not is_suppressed(d, own))
        return replace(result, diagnostics=kept)


@cache
def _rules(selected: frozenset[str], settings: Settings) -> tuple[type[Rule], ...]:
    """The rules both [tool.conclint] and flake8's selection enable."""
    from conclint.registry import enabled_rules

    return tuple(rule for rule in enabled_rules(settings) if rule.code in selected)


def _prepare(paths: list[str]) -> None:
    """In flake8's main process, before it starts its workers, make the indexes of the
    projects it was given, with every core: a worker then inherits them (`fork`) or
    reads them from the cache, rather than each making them at once from nothing."""
    import multiprocessing

    from conclint.config import ConfigError
    from conclint.runner import plugin_projects

    if multiprocessing.parent_process() is not None:
        return
    try:
        plugin_projects().prepare(paths, jobs=None)
    except ConfigError:
        raise
    except Exception:  # each file's own run reports it, as a CCL002
        pass


def _project_index(path: str, source: str, settings: Settings) -> ProjectIndex:
    """The file's project index, as the CLI builds it (see `runner.plugin_projects`)."""
    from conclint.runner import plugin_projects

    return plugin_projects().index_for(path, source, settings)
