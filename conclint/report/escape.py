"""Text from the user (file names, quoted source) made safe for each kind of output.

File names come as `os.fsdecode` gives them: a byte that is not UTF-8 is kept as a lone
surrogate (U+DC80..U+DCFF), which no UTF-8 output can carry. Such a byte is shown as
`\\xff`, the notation the control characters below get too, so that two names that differ
in one byte stay apart (U+FFFD, what a lossy decode gives, would merge them). SARIF does
not use this: its URIs percent-encode the original bytes (`sarif.artifact_uri`).
"""

from __future__ import annotations

import json
import re

# What a terminal acts on or a reader misreads: C0 controls (CR and LF start a forged line),
# DEL, C1 controls (U+009B is a one-character ESC [), the line and paragraph separators, the
# bidi controls that reorder what follows them (Trojan Source), and lone surrogates.
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNPRINTABLE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_UNPRINTABLE_BUT_TAB = re.compile(f"[\x00-\x08\x0a-\x1f{_BEYOND_C0}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    """One character as Python's `repr()` writes it, an undecodable byte as that byte."""
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return _NAMED.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def utf8_safe(text: str) -> str:
    """`text` with its lone surrogates escaped, so that it encodes as UTF-8.

    For formats whose own syntax escapes everything else (JSON, workflow commands).
    """
    return _SURROGATE.sub(_escape, text)


def printable(text: str, *, tabs: bool = False) -> str:
    """`text` for a terminal: every character it would act on shown as a visible escape.

    `tabs=True` keeps tabs (for source lines, where they are only indentation).
    A backslash stays as it is: Windows paths must read as paths.
    """
    return (_UNPRINTABLE_BUT_TAB if tabs else _UNPRINTABLE).sub(_escape, text)


def _utf8_safe_data(value: object) -> object:
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, dict):
        return {_utf8_safe_data(key): _utf8_safe_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8_safe_data(item) for item in value]
    return value


def to_json(value: object, indent: int | None = None) -> str:
    """JSON text that is valid UTF-8 whatever strings `value` holds (non-ASCII kept readable)."""
    return json.dumps(_utf8_safe_data(value), indent=indent, ensure_ascii=False)
