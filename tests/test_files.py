"""The one safe reader: special files are refused, never waited on, never read without end."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from conclint import files
from conclint.files import (
    MAX_SOURCE_BYTES,
    FileTooLargeError,
    NotRegularFileError,
    read_regular_file,
)
from tests.test_cli import run

BUGGY = """\
import asyncio


async def main() -> None:
    asyncio.create_task(asyncio.to_thread(print))
"""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail, rather than hang, when the block blocks (on a FIFO's open, say)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(path: Path, limit: int = MAX_SOURCE_BYTES) -> NotRegularFileError:
    with deadline(5), pytest.raises(NotRegularFileError) as caught:
        read_regular_file(path, limit)
    return caught.value


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000 + b"\r\n\x00"  # no newline translation, no decoding
    (tmp_path / "a.py").write_bytes(data)
    assert read_regular_file(tmp_path / "a.py", MAX_SOURCE_BYTES) == data
    assert read_regular_file(str(tmp_path / "a.py"), len(data)) == data  # exactly the limit
    (tmp_path / "empty.py").write_bytes(b"")
    assert read_regular_file(tmp_path / "empty.py", 0) == b""


def test_a_symlink_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "target.py").write_bytes(b"x = 1\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "target.py")
    assert read_regular_file(tmp_path / "link.py", 100) == b"x = 1\n"


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_bytes(b"#" * 2049)
    with pytest.raises(FileTooLargeError) as caught:
        read_regular_file(tmp_path / "big.py", 2048)
    assert isinstance(caught.value, OSError)
    assert caught.value.errno == errno.EFBIG
    assert caught.value.strerror == "is larger than 2048 bytes, the most conclint reads"
    assert caught.value.filename == str(tmp_path / "big.py")


def test_the_limit_holds_where_a_stat_gives_no_size() -> None:
    # procfs files are regular and stat as empty, yet hold text: read on past the
    # stat, and stop at the limit all the same.
    assert os.stat("/proc/self/maps").st_size == 0
    assert read_regular_file("/proc/self/status", MAX_SOURCE_BYTES).startswith(b"Name:")
    with pytest.raises(FileTooLargeError, match="larger than 10 bytes"):
        read_regular_file("/proc/self/maps", 10)


def test_the_default_limit_is_stated_in_mib(tmp_path: Path) -> None:
    assert MAX_SOURCE_BYTES == 64 * 1024 * 1024
    big = tmp_path / "big.py"
    with big.open("wb") as handle:
        handle.truncate(MAX_SOURCE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(FileTooLargeError, match="is larger than 64 MiB, the most conclint reads"):
        read_regular_file(big, MAX_SOURCE_BYTES)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.py")
    error = refused(tmp_path / "x.py")
    assert error.strerror == "is a FIFO, not a regular file"
    assert isinstance(error, OSError)
    (tmp_path / "link.py").symlink_to(tmp_path / "x.py")
    assert refused(tmp_path / "link.py").strerror == "is a FIFO, not a regular file"


def test_a_link_to_dev_zero_is_refused(tmp_path: Path) -> None:
    (tmp_path / "z.py").symlink_to("/dev/zero")
    error = refused(tmp_path / "z.py")
    assert error.strerror == "is a character device, not a regular file"
    assert error.filename == str(tmp_path / "z.py")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.py").mkdir()
    error = refused(tmp_path / "d.py")
    assert (error.errno, error.strerror) == (errno.EISDIR, "is a directory, not a regular file")


def test_a_socket_is_refused(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "s.py"))
        assert refused(tmp_path / "s.py").strerror == "is a socket, not a regular file"
    finally:
        server.close()


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (stat.S_IFBLK, "a block device"),
        (stat.S_IFCHR, "a character device"),
        (stat.S_IFIFO, "a FIFO"),
        (stat.S_IFSOCK, "a socket"),
        (stat.S_IFDIR, "a directory"),
        (0o150000, "a special file"),  # a Solaris door: any other kind is refused too
    ],
)
def test_every_kind_but_a_regular_file_is_refused_by_its_mode(kind: int, what: str) -> None:
    # A block device cannot be made without privileges, so every kind is also
    # checked on its mode alone.
    with pytest.raises(NotRegularFileError) as caught:
        files._refuse_special("p.py", kind | 0o644)
    assert caught.value.strerror == f"is {what}, not a regular file"
    files._refuse_special("p.py", stat.S_IFREG | 0o644)


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused_by_what_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.py"
    path.write_bytes(b"x = 1\n")
    real_open = os.open

    def swap_then_open(name: str, flags: int, *args: int) -> int:
        os.unlink(name)
        os.mkfifo(name)
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", swap_then_open)
    assert refused(path).strerror == "is a FIFO, not a regular file"


def test_no_descriptor_is_left_open(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.py")
    (tmp_path / "big.py").write_bytes(b"#" * 100)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        with pytest.raises(OSError):
            read_regular_file(tmp_path / "x.py", MAX_SOURCE_BYTES)
        with pytest.raises(OSError):
            read_regular_file(tmp_path / "big.py", 10)
    assert len(os.listdir("/proc/self/fd")) == before


# The command line, with the reader wired into discovery, the runner and the cache.


def lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "internal error" not in done.stderr
    return [
        line.split(" ", 1)[0] + " " + line.split(" ", 2)[1] for line in done.stdout.splitlines()
    ]


@pytest.fixture
def special(tmp_path: Path) -> Path:
    """A tree with a bug, a FIFO, a link to /dev/zero and a socket, all named *.py."""
    (tmp_path / "bug.py").write_text(BUGGY, encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    return tmp_path


@pytest.mark.parametrize("flags", [(), ("--force-exclude",)])
def test_cli_special_files_named_on_the_command_line_are_reported(
    special: Path, flags: tuple[str, ...]
) -> None:
    done = run("--no-cache", *flags, "fifo.py", "zero.py", "bug.py", cwd=special)
    assert done.returncode == 1
    assert lines(done) == ["bug.py:5:5: CCL101", "fifo.py:1:1: CCL002", "zero.py:1:1: CCL002"]
    assert "fifo.py:1:1: CCL002 cannot read file: is a FIFO, not a regular file" in done.stdout
    assert "zero.py:1:1: CCL002 cannot read file: is a character device, not a regular file" in (
        done.stdout
    )


def test_cli_special_files_found_in_a_walk_are_reported(special: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(special / "sock.py"))
        (special / "dangling.py").symlink_to(special / "nowhere.py")  # holds nothing: skipped
        (special / "fine.py").symlink_to(special / "bug.py")
        (special / "fifo_link.py").symlink_to(special / "fifo.py")
        done = run("--no-cache", ".", cwd=special)
    finally:
        server.close()
    assert done.returncode == 1
    # zero.py leads out of the tree, which a walk never follows.
    assert lines(done) == [
        "bug.py:5:5: CCL101",
        "fifo.py:1:1: CCL002",
        "fifo_link.py:1:1: CCL002",
        "fine.py:5:5: CCL101",
        "sock.py:1:1: CCL002",
    ]
    assert "sock.py:1:1: CCL002 cannot read file: is a socket, not a regular file" in done.stdout


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_cli_special_files_in_place_of_cache_entries_change_nothing(
    tmp_path: Path, kind: str
) -> None:
    (tmp_path / "pkg").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "pkg" / f"{name}.py").write_text(BUGGY, encoding="utf-8")
    first = run("pkg", cwd=tmp_path)
    assert first.returncode == 1
    entries = [
        path
        for path in (tmp_path / ".conclint_cache").rglob("*")
        if path.is_file() and path.name not in ("CACHEDIR.TAG", ".gitignore")
    ]
    assert entries
    for entry in entries:
        entry.unlink()
        if kind == "fifo":
            os.mkfifo(entry)
        else:
            entry.symlink_to("/dev/zero")
    again = run("pkg", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (1, first.stdout)
    assert "internal error" not in again.stderr
