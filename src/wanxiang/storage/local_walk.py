"""Lazy, sorted walk of a local bucket: one directory's names in memory at a time.

Children of a directory sort by the key text they stand for; a directory sorts as ``<segment>/``,
which places every key under it exactly where the full keys would fall (no segment contains ``/``).
Subtrees entirely before ``marker``, outside ``prefix`` or under a skipped common prefix are not opened.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from wanxiang.storage import safe_fs
from wanxiang.storage.base import ObjectMeta
from wanxiang.storage.keys import DIR_SUFFIX as _DIR_SUFFIX
from wanxiang.storage.keys import dir_name_to_segment, encode_segment, file_name_to_segment

if TYPE_CHECKING:
    from wanxiang.storage.local import LocalStorage

class LocalWalk:
    def __init__(self, storage: LocalStorage, bucket: str, *, prefix: str, marker: str) -> None:
        self._storage = storage
        self._bucket = bucket
        self._prefix = prefix
        self._marker = marker
        self._skip: str | None = None
        self._generator: Generator[ObjectMeta, None, None] | None = None

    def skip(self, prefix: str) -> None:
        self._skip = prefix

    def __iter__(self) -> Iterator[ObjectMeta]:
        self._generator = self._walk_from_prefix()
        return self._generator

    def close(self) -> None:
        if self._generator is not None:
            self._generator.close()

    # A directory subtree holds exactly the keys starting with ``key_prefix``.
    def _subtree_wanted(self, key_prefix: str) -> bool:
        if not (key_prefix.startswith(self._prefix) or self._prefix.startswith(key_prefix)):
            return False
        if key_prefix <= self._marker and not self._marker.startswith(key_prefix):
            return False
        return not (self._skip is not None and key_prefix.startswith(self._skip))

    def _key_wanted(self, key: str) -> bool:
        if not key.startswith(self._prefix) or key <= self._marker:
            return False
        return not (self._skip is not None and key.startswith(self._skip))

    def _walk_from_prefix(self) -> Generator[ObjectMeta, None, None]:
        # Start in the deepest directory the prefix names, so a large bucket root is not read.
        start_segments = self._prefix.split("/")[:-1]
        if any(segment in (".", "..") for segment in start_segments):
            return
        names = [self._bucket] + [encode_segment(s) + _DIR_SUFFIX for s in start_segments]
        key_prefix = "".join(s + "/" for s in start_segments)
        fd = self._open_chain(names)
        if fd is None:
            return
        yield from self._walk_dir(fd, names[1:], key_prefix)

    def _open_chain(self, names: list[str]) -> int | None:
        fd = self._storage.root_fd
        try:
            for name in names:
                child = safe_fs.open_dir(fd, name)
                if fd != self._storage.root_fd:
                    os.close(fd)
                fd = child
        except OSError:  # missing, not a directory, or a symlink: nothing to list there
            if fd != self._storage.root_fd:
                os.close(fd)
            return None
        return fd if fd != self._storage.root_fd else safe_fs.reopen_dir(fd)

    def _walk_dir(self, fd: int, dirs: list[str], key_prefix: str) -> Generator[ObjectMeta, None, None]:
        """Takes ownership of ``fd``."""
        try:
            children = _sorted_children(fd, key_prefix)
            for key, is_dir, name in children:
                if is_dir:
                    if not self._subtree_wanted(key):
                        continue
                    try:
                        child = safe_fs.open_dir(fd, name)
                    except OSError:  # removed meanwhile, or swapped for a symlink
                        continue
                    yield from self._walk_dir(child, [*dirs, name], key)
                elif self._key_wanted(key):
                    meta = self._storage.read_meta(self._bucket, key, dirs, name)
                    if meta is not None:
                        yield meta
        finally:
            os.close(fd)


def _sorted_children(fd: int, key_prefix: str) -> list[tuple[str, bool, str]]:
    children: list[tuple[str, bool, str]] = []
    with contextlib.closing(os.scandir(fd)) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                segment = dir_name_to_segment(entry.name)
                if segment is not None:
                    children.append((key_prefix + segment + "/", True, entry.name))
            elif entry.is_file(follow_symlinks=False):
                segment = file_name_to_segment(entry.name)
                if segment is not None:
                    children.append((key_prefix + segment, False, entry.name))
    children.sort()
    return children
