"""Reading a file that may be anything: never block on it, never read it without bound.

Every file conclint reads (sources, cache entries, pyproject.toml, .gitignore)
comes through `read_regular_file`. A path can name a FIFO (whose open blocks
until a writer comes), a device (`/dev/zero` never ends; opening some devices
has side effects), a socket or a directory; all are refused with an `OSError`
whose `strerror` says what the path is.
"""

from __future__ import annotations

import errno
import os
import stat

# The largest real Python files are generated data (Qt resources, protobuf and
# Unicode tables): a few MB, rarely a few tens. 64 MiB lets all of them through
# while a runaway or hostile input (an endless "file", a mistaken binary) is
# refused before it is ever held whole in memory.
MAX_SOURCE_BYTES = 64 * 1024 * 1024

_MIB = 1024 * 1024
# Past the size a stat gives, a file is read on in steps of this (a file that grows,
# or one whose size a stat does not tell: procfs, FUSE).
_STEP = 64 * 1024

# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
# O_NOCTTY: opening a terminal never makes it our controlling terminal.
# O_BINARY: no newline translation on Windows.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)


class NotRegularFileError(OSError):
    """The path is a FIFO, a device, a socket or a directory, not a regular file."""


class FileTooLargeError(OSError):
    """The file holds more bytes than the caller's limit."""


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit`.

    Raises `NotRegularFileError` for anything but a regular file,
    `FileTooLargeError` past `limit`, and `OSError` as `open` does.
    """
    # Refuse special files before opening them: opening a device can act on it
    # (a tape rewinds, a watchdog arms).
    check_regular(path)
    fd = os.open(path, _FLAGS)
    try:
        # The path may have been swapped since: judge what was actually opened.
        info = os.fstat(fd)
        _refuse_special(path, info.st_mode)
        if info.st_size > limit:
            raise _too_large(path, limit)
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)  # a FUSE file system may honour it on a regular file
        return _read_at_most(fd, path, limit, info.st_size)
    finally:
        os.close(fd)


def check_regular(path: str | os.PathLike[str]) -> None:
    """Raise `NotRegularFileError` unless `path` is a regular file, without opening it."""
    _refuse_special(path, os.stat(path).st_mode)


def _refuse_special(path: str | os.PathLike[str], mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
    raise NotRegularFileError(code, f"is {_kind(mode)}, not a regular file", os.fspath(path))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"  # a Solaris door or event port, say


def _read_at_most(fd: int, path: str | os.PathLike[str], limit: int, size: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        # Up to one byte past the limit, which tells a file of exactly `limit` bytes
        # from a larger one; usually the first read takes the whole file.
        chunk = os.read(fd, min(limit + 1 - total, max(_STEP, size + 1 - total)))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(path, limit)


def _too_large(path: str | os.PathLike[str], limit: int) -> FileTooLargeError:
    message = f"is larger than {_size(limit)}, the most conclint reads"
    return FileTooLargeError(errno.EFBIG, message, os.fspath(path))


def _size(count: int) -> str:
    return f"{count // _MIB} MiB" if count >= _MIB and count % _MIB == 0 else f"{count} bytes"
