"""flake8 front end: `flake8 --select=CCL` runs conclint on each file flake8 checks."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from conclint import __version__

if TYPE_CHECKING:
    from conclint.config import Settings
    from conclint.diagnostics import FileResult

Finding = tuple[int, int, str, type["Plugin"]]

# Every code conclint could ever emit (`CCL` + three digits), to ask flake8's own
# select/ignore logic about without importing the registry (and so LibCST).
_ALL_CODES = tuple(f"CCL{number:03d}" for number in range(1000))
_NOQA_WORD = re.compile("noqa", re.IGNORECASE)


class Plugin:
    """A `tree` plugin only so that flake8 loads it: the tree is LibCST's to build."""

    name = "conclint"
    version = __version__
    # False when --select/--ignore leave no CCL code: flake8 runs every plugin anyway.
    active: ClassVar[bool] = True

    def __init__(self, tree: object, lines: list[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        from flake8.exceptions import ExecutionError
        from flake8.style_guide import Decision, DecisionEngine

        decide = DecisionEngine(options).decision_for
        cls.active = any(decide(code) is Decision.Selected for code in _ALL_CODES)
        if cls.active:
            from conclint.config import ConfigError

            try:
                settings()
            except ConfigError as error:
                raise ExecutionError(f"conclint: {error}") from None

    def run(self) -> Iterator[Finding]:
        if not self.active:
            return
        try:
            result = self._lint()
        except Exception as error:  # one file must never stop the flake8 run
            message = f"internal error, please report: {type(error).__name__}: {error}"
            yield 1, 0, f"CCL002 {message}", type(self)
            return
        for d in result.diagnostics:
            yield d.line, d.col, f"{d.code} {d.message}", type(self)

    def _lint(self) -> FileResult:
        from dataclasses import replace

        from conclint.diagnostics import is_suppressed, parse_suppressions
        from conclint.engine import lint_source

        # flake8 applies noqa comments itself (so --disable-noqa and flake8-noqa work).
        result = lint_source(
            "".join(self.lines), self.filename, settings(), apply_suppressions=False
        )
        if result.failed:
            return result
        # `# conclint: ignore[...]` is ours to apply: hide the noqa comments from the parser.
        own = parse_suppressions([_NOQA_WORD.sub("", line) for line in self.lines])
        kept = tuple(d for d in result.diagnostics if not is_suppressed(d, own))
        return replace(result, diagnostics=kept)


@cache
def settings() -> Settings:
    """`[tool.conclint]` upward from the cwd, once per process (flake8 skips pyproject.toml)."""
    from conclint.config import find_config_file, load_settings
    from conclint.registry import known_codes

    return load_settings(find_config_file(Path.cwd()), known_codes())
