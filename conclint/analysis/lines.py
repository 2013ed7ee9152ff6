"""Line numbers of offsets into a module's text, as Python's `ast` counts lines."""

from __future__ import annotations


def line_breaks(source: str, start: int, end: int) -> int:
    """Line breaks between two offsets, as `ast` counts them (`\\r\\n`, `\\r`, `\\n`). Neither
    offset may fall inside a `\\r\\n`."""
    newlines = source.count("\n", start, end)
    if "\r" not in source:
        return newlines
    return newlines + source.count("\r", start, end) - source.count("\r\n", start, end)
