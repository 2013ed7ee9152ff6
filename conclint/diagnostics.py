"""Diagnostics, per-file results and suppression comments."""

from __future__ import annotations

import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conclint.fixes import Fix


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One finding.

    Positions follow LibCST: `line`/`end_line` are 1-based, `col`/`end_col` are
    0-based code-point offsets with an exclusive end. Each reporter converts to
    its own convention (text and SARIF print 1-based columns).
    """

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    name: str
    message: str
    severity: Severity = Severity.WARNING
    # How to fix it, when the rule knows for certain (or, marked unsafe, nearly).
    fix: Fix | None = field(default=None, compare=False)

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)


@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything one file produced; plain data, so it crosses process boundaries."""

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    # Findings silenced by `# noqa` / `# conclint: ignore[...]`, kept for audits.
    suppressed: tuple[Diagnostic, ...] = ()
    # The file was not analysed: its one diagnostic is a CCL001/CCL002.
    failed: bool = False
    # Source text of the reported lines only (for --show-source and fingerprints).
    snippets: dict[int, str] = field(default_factory=dict, compare=False)
    # The result says more about this run than about the file (out of time or memory):
    # another run may do better, so it is never cached.
    transient: bool = False


# A noqa comment exactly as flake8 reads it (`flake8.defaults.NOQA_INLINE_REGEXP`): `#`, one
# space, `noqa` in any case, then an optional colon and codes. The codes keep their case and
# match a finding's code by prefix, case-sensitively. When nothing after the colon reads as a
# list of codes (no codes, `CCL` with no digits, a space before the colon), the comment
# silences every code on its line.
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_NOQA_CODE_SEPARATOR = re.compile(r"[,\s]")
# flake8's `NOQA_FILE`: a line that starts with this comment exempts the whole file.
_NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
# conclint's own comment, read on the physical line; its codes are case-insensitive.
_IGNORE = re.compile(r"#\s*conclint:\s*ignore\[(?P<codes>[A-Z0-9,\s]*)\]", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
# ruff's suppression comments: `#`, the word ruff and a colon (case-sensitive, spaces allowed
# after `#` and the colon), then `ignore[`, `disable[`, `enable[` or `file-ignore[`, rule
# codes or names separated by commas, and `]`; or a file-level `noqa` with codes. At the
# start of a comment or after another one on its line (a noqa comment, say); anything may
# follow.
_RUFF_COMMENT = re.compile(
    r"#\s*ruff:\s*(?P<what>ignore|disable|enable|file-ignore)\[(?P<rules>[^\]]*)\]"
    r"|#\s*ruff\s*:\s*(?i:noqa)(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?"
)
# Tokens that start no logical line.
_LAYOUT = frozenset(
    {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
)

# `None` as the value means "every code".
Suppressions = dict[int, "frozenset[str] | None"]


def parse_suppressions(lines: Sequence[str], *, include_noqa: bool = True) -> Suppressions:
    """Map 1-based line numbers to the codes their comments suppress.

    `lines` are the file's lines, with or without their endings. A noqa comment that
    names a peer's code (`# noqa: ASYNC230`, written for ruff or flake8-async) also
    suppresses the conclint rule that reports the same bug there (`Rule.peers`), and so
    does ruff's `# ruff: ignore[...]` naming one (by code or by ruff's name for it), on
    the lines ruff reads it for.
    `include_noqa=False` reads only `# conclint: ignore[...]` and those peer codes, for
    front ends (flake8) that apply `# noqa` themselves.
    """
    text = [line.rstrip("\r\n") for line in lines]
    found: Suppressions = {}
    if include_noqa and exempts_file(text):
        return dict.fromkeys(range(1, len(text) + 1), None)
    tokens = _Tokens(text)
    for number, codes in _noqa_codes(text, tokens).items():
        ours = _covered_by_peers(codes)
        if include_noqa:
            found[number] = None if codes is None else codes | ours
        elif ours:
            found[number] = ours
    for number, codes in _ruff_ignores(text, tokens).items():
        ours = _covered_by_peers(codes)
        previous = found.get(number, frozenset())
        if ours and previous is not None:
            found[number] = previous | ours
    for number, line in enumerate(text, start=1):
        match = _IGNORE.search(line) if "#" in line else None
        if match is None:
            continue
        codes = frozenset(code.upper() for code in _CODE.findall(match.group("codes")))
        previous = found.get(number, frozenset())
        found[number] = None if previous is None else previous | codes
    return found


class _Tokens:
    """The file's tokens, made once when a reader of comments first asks: None when the
    text does not tokenize."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._made: list[tokenize.TokenInfo] | None = None
        self._failed = False

    def get(self) -> list[tokenize.TokenInfo] | None:
        if self._made is None and not self._failed:
            feed = iter([line + "\n" for line in self.lines])
            try:
                self._made = list(tokenize.generate_tokens(lambda: next(feed, "")))
            except (tokenize.TokenError, SyntaxError):
                self._failed = True
        return self._made


def _ruff_ignores(lines: list[str], tokens: _Tokens) -> dict[int, frozenset[str]]:
    """The codes ruff's own suppression comments name, by line (a rule's name, where ruff
    has one for a peer's code, read as that code), placed as ruff places them: `ignore[...]`
    after code covers its physical line, and on a line of its own (stacked with other
    comments or not) the whole next logical line (a statement over several lines, or a
    header); `disable[...]` on a line of its own covers the lines down to an `enable[...]`
    naming the same codes in the same order at the same indentation, or else down to the
    first line indented less than it; `file-ignore[...]` and `noqa: ...` on a line of their
    own cover the file."""
    if not any("ruff" in line and _RUFF_COMMENT.search(line) for line in lines):
        return {}
    found: dict[int, frozenset[str]] = {}

    def cover(first: int, last: int, codes: Iterable[str]) -> None:
        for number in range(first, last + 1):
            found[number] = found.get(number, frozenset()) | frozenset(codes)

    pending: set[str] = set()
    whole_file: set[str] = set()
    ranges: list[tuple[tuple[str, ...], int, int]] = []  # (codes, column, first line) open
    first: int | None = None  # where the logical line being read starts
    made = tokens.get()
    if made is None:
        return {}
    for token in made:
        kind, (line, column) = token.type, token.start
        if kind == tokenize.COMMENT:
            directive = _ruff_directive(token.string)
            if directive is None:
                continue
            what, codes = directive
            if first is not None:
                if what == "ignore":
                    cover(line, line, codes)
            elif what == "ignore":
                pending.update(codes)
            elif what == "disable":
                ranges.append((codes, column, line))
            elif what == "enable" and (codes, column) in [r[:2] for r in ranges]:
                index = max(i for i, r in enumerate(ranges) if r[:2] == (codes, column))
                cover(ranges.pop(index)[2], line, codes)
            elif what in ("file-ignore", "noqa"):
                whole_file.update(codes)
        elif kind == tokenize.NEWLINE:
            if first is not None and pending:
                cover(first, token.end[0], pending)
                pending = set()
            first = None
        elif first is None and kind not in _LAYOUT:
            first = line
            for codes, _indent, start in [r for r in ranges if r[1] > column]:
                cover(start, line - 1, codes)  # left by a line indented less
            ranges = [r for r in ranges if r[1] <= column]
    for codes, _indent, start in ranges:
        cover(start, len(lines), codes)
    if whole_file:
        cover(1, len(lines), whole_file)
    return found


def _ruff_directive(comment: str) -> tuple[str, tuple[str, ...]] | None:
    """What a comment token says to ruff, and the codes it names (rule names read as the
    peers' codes): `ignore`, `disable`, `enable`, `file-ignore` or `noqa` (file-level, with
    codes; one without codes silences only ruff's own rules)."""
    from conclint.peer_names import RUFF_NAMES

    match = _RUFF_COMMENT.search(comment)
    if match is None:
        return None
    if match.group("rules") is not None:
        named = (part.strip() for part in match.group("rules").split(","))
        return match.group("what"), tuple(RUFF_NAMES.get(name, name) for name in named if name)
    codes = match.group("codes")
    return ("noqa", tuple(filter(None, _NOQA_CODE_SEPARATOR.split(codes)))) if codes else None


def _covered_by_peers(codes: frozenset[str] | None) -> frozenset[str]:
    """The conclint codes whose findings the peers' codes among `codes` stand for."""
    if not codes:
        return frozenset()
    from conclint.registry import peer_codes  # the rules import this module

    covered = peer_codes()
    return frozenset().union(*(covered.get(code, ()) for code in codes))


def exempts_file(lines: Sequence[str]) -> bool:
    """Does a line start with flake8's file-level comment (`flake8` and `noqa` joined by a
    colon)? flake8 then reports nothing in the file; codes after it do not narrow it down."""
    return any(_NOQA_FILE.match(line) for line in lines if "#" in line)


def is_suppressed(diagnostic: Diagnostic, suppressions: Suppressions) -> bool:
    if diagnostic.line not in suppressions:
        return False
    codes = suppressions[diagnostic.line]
    # Prefix match, case-sensitive, as flake8 does: a comment naming CCL1 covers CCL101.
    return codes is None or diagnostic.code.startswith(tuple(codes))


def _noqa_codes(lines: list[str], tokens: _Tokens) -> Suppressions:
    """The noqa comment of each line, looked for where flake8 looks: in the line's token
    range, which is the physical line, or all the lines of a multi-line string or a
    backslash continuation (a comment after a closing triple quote covers the line the
    string starts on). Only the first noqa comment of the range counts."""
    if not any("#" in line and _NOQA.search(line) for line in lines):
        return {}
    spans = _multi_line_ranges(lines, tokens)
    found: Suppressions = {}
    for number in range(1, len(lines) + 1):
        text = spans.get(number, lines[number - 1])
        match = _NOQA.search(text) if "#" in text else None
        if match is None:
            continue
        raw = match.group("codes")
        # flake8's `parse_comma_separated_list`: split at commas and whitespace, as written.
        codes = None if raw is None else _NOQA_CODE_SEPARATOR.split(raw)
        found[number] = None if codes is None else frozenset(code for code in codes if code)
    return found


def _multi_line_ranges(lines: list[str], tokens: _Tokens) -> dict[int, str]:
    """flake8's `FileProcessor._noqa_line_mapping`, where it differs from the physical
    lines: each line of a token range (up to a NEWLINE or NL token) that spans several
    lines maps to the text of the whole range. Empty when the text does not tokenize
    (flake8 then reads each physical line, as the caller does for a line not here)."""
    made = tokens.get()
    if made is None:
        return {}
    ranges: dict[int, str] = {}
    first, last = len(lines) + 2, -1
    for token in made:
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        first, last = min(first, token.start[0]), max(last, token.end[0])
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            if last > first:
                joined = "\n".join(lines[first - 1 : last])
                ranges.update(dict.fromkeys(range(first, last + 1), joined))
            first, last = len(lines) + 2, -1
    return ranges
