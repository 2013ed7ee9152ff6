"""`--add-noqa`: a `# noqa: CODES` comment for each line with findings, as ruff adds them.

A finding is silenced by a noqa comment anywhere in its line's token range, as flake8
reads them (`diagnostics.parse_suppressions`): the physical line, or every line of a
multi-line string or backslash continuation. The comment goes at the end of that range,
the only place in it where a comment can be (never inside the string). One comment per
range, its codes sorted; a noqa comment already there gets the new codes added to its
own. The file's other bytes stay as they are.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

from conclint import diagnostics
from conclint.diagnostics import FileResult
from conclint.fixes import CannotEdit, read_editable
from conclint.parse import source_lines

# flake8's pattern of a noqa comment, as the suppression parser reads it: the one place
# that says what a directive looks like, so that a merged one reads as it did.
_DIRECTIVE = diagnostics._NOQA


def add_noqa(results: Sequence[FileResult]) -> tuple[int, list[str]]:
    """Add the comments for the findings of `results` to their files: how many comments
    were added or extended, and the files that could not be changed (why)."""
    added = 0
    problems: list[str] = []
    for result in results:
        if result.failed or not result.diagnostics:
            continue
        try:
            text, encoding = read_editable(result.path)
        except CannotEdit as error:
            problems.append(f"{result.path}: no noqa added: {error}")
            continue
        codes: dict[int, set[str]] = {}
        for d in result.diagnostics:
            codes.setdefault(d.line, set()).add(d.code)
        new, count, skipped = with_noqa(text, codes)
        problems += [f"{result.path}:{line}: {why}" for line, why in skipped]
        if not count:
            continue
        try:
            encoded = new.encode(encoding)
            with open(result.path, "wb") as out:  # in place: its mode and links stay
                out.write(encoded)
        except (OSError, UnicodeError) as error:
            problems.append(f"{result.path}: cannot add noqa: {error}")
            continue
        added += count
    return added, problems


def with_noqa(
    source: str, codes_by_line: dict[int, set[str]]
) -> tuple[str, int, list[tuple[int, str]]]:
    """`source` with a noqa comment for `codes_by_line` (line -> codes reported there):
    the text, how many comments were added or extended, and the lines left alone (why)."""
    lines = source_lines(source)
    layout = _layout(source)
    if layout is None:
        return source, 0, [(1, "the file does not tokenize; not changed")]
    ends, comments = layout
    wanted: dict[int, set[str]] = {}
    for line, codes in codes_by_line.items():
        if 1 <= line <= len(lines):
            wanted.setdefault(ends.get(line, line), set()).update(codes)
    skipped: list[tuple[int, str]] = []
    count = 0
    for number, codes in sorted(wanted.items()):
        first = min((line for line, end in ends.items() if end == number), default=number)
        changed = _with_codes(lines, first, number, codes, comments.get(number))
        if changed is None:
            skipped.append((number, "a noqa comment inside a string comes first; not changed"))
        elif changed != lines[number - 1]:
            lines[number - 1] = changed
            count += 1
    return "".join(lines), count, skipped


def _with_codes(
    lines: list[str], first: int, last: int, codes: set[str], comment: int | None
) -> str | None:
    """Line `last` (which ends the token range from `first`, and has a comment from column
    `comment`) with a noqa comment naming `codes` too; None when what reads as the range's
    first noqa comment is not in that comment (but in a string)."""
    line = lines[last - 1]
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    joined = "".join(lines[first - 1 : last - 1])
    match = _DIRECTIVE.search(joined + body)
    if match is None:
        return f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}{ending}"
    start = match.start() - len(joined)
    if comment is None or start < comment or match.group("codes") is None:
        return None  # in a string; or (no codes) every code is silenced already
    written = match.group("codes")
    kept = written.rstrip(", \t")
    existing = kept.replace(",", " ").split()  # as written, case and all
    merged = sorted(set(existing) | codes)
    end = match.end() - len(joined) - (len(written) - len(kept))
    return f"{body[:start]}# noqa: {', '.join(merged)}{body[end:]}{ending}"


def _layout(source: str) -> tuple[dict[int, int], dict[int, int]] | None:
    """For each line of a token range that spans several lines (a multi-line string, a
    backslash continuation), the last line of that range, as flake8 forms them: up to
    each NEWLINE or NL token. And for each line with a comment, the comment's column.
    None when the text does not tokenize (where a string ends is then unknown)."""
    ends: dict[int, int] = {}
    comments: dict[int, int] = {}
    first: int | None = None
    last = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
            first = token.start[0] if first is None else min(first, token.start[0])
            last = max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                if last > first:
                    ends.update(dict.fromkeys(range(first, last + 1), last))
                first, last = None, 0
    except (tokenize.TokenError, SyntaxError):
        return None
    return ends, comments
