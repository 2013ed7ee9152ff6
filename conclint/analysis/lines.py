"""Line numbers of offsets into a module's text, as Python's `ast` counts lines."""

from __future__ import annotations

from collections.abc import Iterator


def line_breaks(source: str, start: int, end: int) -> int:
    """Line breaks between two offsets, as `ast` counts them (`\\r\\n`, `\\r`, `\\n`). Neither
    offset may fall inside a `\\r\\n`."""
    newlines = source.count("\n", start, end)
    if "\r" not in source:
        return newlines
    return newlines + source.count("\r", start, end) - source.count("\r\n", start, end)


def lines_of(source: str, offsets: Iterator[int]) -> list[int]:
    """The 1-based lines of increasing offsets into `source`, each once."""
    lines: list[int] = []
    line, last = 1, 0
    for at in offsets:
        line += line_breaks(source, last, at)
        last = at
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
