"""File access below a directory descriptor that never follows a symlink (the ``openat`` discipline).

Every name is one path component opened relative to its parent's descriptor with ``O_NOFOLLOW``, so
a symlink planted anywhere below the root (a directory, a file, a lock or temp folder) is refused
(:class:`UnsafePath`), never followed: nothing is created, read or deleted outside the root through it.
Only the root itself is opened by path (the operator chose it, and may have chosen a symlink).

Any backend that keeps files under a folder builds on these: the local object store and the
multipart parts store share them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a planted FIFO must not hang; it has no effect on regular files.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# What a planted symlink, or a file/directory of the wrong kind, makes the kernel answer.
_IN_THE_WAY = {errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOTEMPTY}


class UnsafePath(OSError):
    """A symlink, or an entry of the wrong kind, stands where the store expects its own file or folder."""


def _unsafe(error: OSError, name: str) -> OSError:
    if error.errno in _IN_THE_WAY:
        return UnsafePath(error.errno, f"{os.strerror(error.errno or 0)}: a symlink or an entry of the wrong kind is in the way", name)
    return error


def open_root(path: str | Path, *, create: bool = True) -> int:
    if create:
        Path(path).mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def reopen_dir(dir_fd: int) -> int:
    """A new open file description of the same directory (its own offset and its own flock)."""
    return os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)


def open_dir(parent_fd: int, name: str, *, create: bool = False) -> int:
    """The directory ``name`` in ``parent_fd``; FileNotFoundError if missing (and not ``create``)."""
    if create:
        try:
            os.mkdir(name, 0o755, dir_fd=parent_fd)
        except FileExistsError:
            pass  # there already: the open below says whether it really is a directory
        except OSError as error:
            raise _unsafe(error, name) from None
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise _unsafe(error, name) from None


@contextlib.contextmanager
def dir_chain(root_fd: int, names: Sequence[str], *, create: bool = False) -> Iterator[list[int]]:
    """Descriptors ``[root_fd, fd of names[0], fd of names[0]/names[1], ...]``; all but root closed after."""
    fds = [root_fd]
    try:
        for name in names:
            fds.append(open_dir(fds[-1], name, create=create))
        yield fds
    finally:
        for fd in reversed(fds[1:]):
            os.close(fd)


def open_regular(dir_fd: int, name: str) -> int | None:
    """A read descriptor of the regular file ``name``, or None if it is missing, a symlink or not a file."""
    try:
        fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno in _IN_THE_WAY or error.errno in (errno.ENXIO, errno.EACCES):
            return None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    os.set_blocking(fd, True)
    return fd


def open_regular_at(root_fd: int, dirs: Sequence[str], name: str) -> int | None:
    """:func:`open_regular` below a chain of directories; None when any step is missing or unsafe."""
    try:
        with dir_chain(root_fd, dirs) as fds:
            return open_regular(fds[-1], name)
    except (FileNotFoundError, UnsafePath):
        return None


def create_file(dir_fd: int, name: str, mode: int = 0o644) -> int:
    """A new, empty file (never an existing one, never through a symlink)."""
    try:
        return os.open(name, CREATE_FLAGS, mode, dir_fd=dir_fd)
    except OSError as error:
        raise _unsafe(error, name) from None


def replace(src_dir_fd: int, src: str, dst_dir_fd: int, dst: str, *, durable: bool = True) -> None:
    """Rename ``src`` over ``dst`` (a symlink at ``dst`` is replaced, not followed); durable unless
    the caller fsyncs ``dst_dir_fd`` itself (outside a lock, say)."""
    try:
        os.replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
    except OSError as error:
        raise _unsafe(error, dst) from None
    if durable:
        os.fsync(dst_dir_fd)  # the rename itself is durable once its directory is


def unlink(dir_fd: int, name: str) -> bool:
    """Remove the file ``name`` (a symlink is removed itself); False if it was not there."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise _unsafe(error, name) from None
    return True


def is_dir(dir_fd: int, name: str) -> bool:
    """True for a real directory (a symlink to one is not)."""
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def is_file(dir_fd: int, name: str) -> bool:
    """True for a regular file (a symlink to one is not)."""
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def list_names(dir_fd: int) -> Iterator[os.DirEntry[str]]:
    """Entries of a directory, read through a fresh descriptor (a scandir on a shared one would share
    its read offset with every other thread reading it)."""
    fd = reopen_dir(dir_fd)
    try:
        with contextlib.closing(os.scandir(fd)) as entries:
            yield from entries
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(dir_fd: int, *, exclusive: bool) -> Iterator[None]:
    """flock on the directory itself: no lock file that a symlink could replace."""
    fd = reopen_dir(dir_fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def descriptor_path(handle: BinaryIO) -> Path | None:
    """``/proc/self/fd/N`` for a regular file's open handle: opening that path reopens that very
    file, so a library that wants a name reads what was opened safely, not what a symlink swapped
    in afterwards points to. None for anything else (a stream from S3, a pipe)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation, AttributeError):
        fd = handle.fileno()
        path = Path(f"/proc/self/fd/{fd}")
        if stat.S_ISREG(os.fstat(fd).st_mode) and path.exists():
            return path
    return None
