"""Objects as plain files under a data directory (the default backend).

Layout under ``root``::

    <bucket>/<dir>%2F/.../<file>        object bytes (names from ``keys.key_to_names``)
    .meta/<bucket>/<dir>%2F/.../<file>.json   content type, ETag, size, time, user metadata
    .tmp/                               uploads in progress (renamed into place when whole)
    .uploads/                           multipart uploads (see ``local_multipart``)

Commits hold an exclusive ``flock`` on ``root`` itself, metadata reads a shared one (no lock file).
Bucket names never start with ``.``, so the bookkeeping names cannot collide with a bucket, and no
object key names a file outside its bucket folder.
The store holds a descriptor of ``root`` and opens everything below it one component at a time with
``O_NOFOLLOW`` (:mod:`wanxiang.storage.safe_fs`): a symlink planted inside the data dir is never
followed. It reads as a missing object; writing or deleting through it raises
:class:`~wanxiang.storage.safe_fs.UnsafePath` (an ``OSError``) with nothing changed outside.
Writes are atomic (temp file + rename) and durable (the file and its directory are fsync'ed).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from wanxiang.storage import safe_fs
from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    BucketNotEmpty,
    ListResult,
    NoSuchKey,
    ObjectMeta,
    normalize_headers,
    normalize_user_meta,
    quoted_etag,
)
from wanxiang.storage.keys import key_to_names, validate_bucket, validate_key
from wanxiang.storage.listing import paginate
from wanxiang.storage.local_multipart import UPLOADS_DIR, LocalMultipart
from wanxiang.storage.local_walk import LocalWalk
from wanxiang.storage.safe_fs import UnsafePath

CHUNK = 1 << 20
META_DIR = ".meta"
TMP_DIR = ".tmp"
META_SUFFIX = ".json"


class LocalStorage(LocalMultipart):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root_fd = safe_fs.open_root(self.root)
        weakref.finalize(self, os.close, self.root_fd)
        for folder in (META_DIR, TMP_DIR, UPLOADS_DIR):
            os.close(safe_fs.open_dir(self.root_fd, folder, create=True))

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # --- buckets ------------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        with safe_fs.dir_chain(self.root_fd, [META_DIR, bucket], create=True):
            pass
        try:
            os.mkdir(bucket, 0o755, dir_fd=self.root_fd)
        except FileExistsError:
            if not safe_fs.is_dir(self.root_fd, bucket):
                raise UnsafePath(errno.EEXIST, "the bucket folder is a symlink or a file", bucket) from None
            return False
        return True

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket(bucket)
        return safe_fs.is_dir(self.root_fd, bucket)

    def list_buckets(self) -> list[str]:
        names = [
            e.name
            for e in safe_fs.list_names(self.root_fd)
            if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
        ]
        return sorted(name for name in names if _is_bucket(name))

    def delete_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        if not self.bucket_exists(bucket):
            return False
        with safe_fs.locked(self.root_fd, exclusive=True):
            if self.list(bucket, max_keys=1).objects:
                raise BucketNotEmpty(bucket)
            self.abort_bucket_uploads(bucket)
            for parent in ([META_DIR], []):
                with contextlib.suppress(FileNotFoundError), safe_fs.dir_chain(self.root_fd, parent) as fds:
                    os.rmdir(bucket, dir_fd=fds[-1])
                    os.fsync(fds[-1])
        return True

    # --- objects ------------------------------------------------------------------------------

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO | Path,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        meta: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ObjectMeta:
        validate_bucket(bucket)
        validate_key(key)
        attributes = (content_type, normalize_user_meta(meta), normalize_headers(headers))
        data_tmp, size, md5 = self.write_tmp(data)
        try:
            return self.commit_object(bucket, key, data_tmp, size, quoted_etag(md5), attributes)
        finally:
            self.discard_tmp(data_tmp)

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace: tuple[str, Mapping[str, str], Mapping[str, str]] | None = None,
    ) -> ObjectMeta:
        source = self.head(source_bucket, source_key)
        if source is None:
            raise NoSuchKey(f"{source_bucket}/{source_key}")
        content_type, meta, headers = replace or (source.content_type, source.meta, source.headers)
        with self.open(source_bucket, source_key) as body:
            return self.put(bucket, key, body, content_type=content_type, meta=meta, headers=headers)

    # --- temp files and commits (also used by ``local_multipart``) ---------------------------

    @contextlib.contextmanager
    def tmp_dir(self) -> Iterator[int]:
        with safe_fs.dir_chain(self.root_fd, [TMP_DIR]) as fds:
            yield fds[-1]

    def write_tmp(self, data: bytes | BinaryIO | Path) -> tuple[str, int, str]:
        """A new durable temp file holding ``data``: (its name, size, md5 hex)."""
        name = self.tmp_name()
        with self.tmp_dir() as tmp_fd:
            try:
                size, md5 = _write_new(tmp_fd, name, data)
            except BaseException:
                with contextlib.suppress(OSError):
                    safe_fs.unlink(tmp_fd, name)
                raise
        return name, size, md5

    def discard_tmp(self, name: str) -> None:
        with contextlib.suppress(OSError), self.tmp_dir() as tmp_fd:
            safe_fs.unlink(tmp_fd, name)

    def commit_object(
        self,
        bucket: str,
        key: str,
        data_tmp: str,
        size: int,
        etag: str,
        attributes: tuple[str, Mapping[str, str], Mapping[str, str]],
    ) -> ObjectMeta:
        """Move the finished temp file ``data_tmp`` into place as ``key``, with its metadata sidecar."""
        dirs, name = key_to_names(key)
        content_type, meta, headers = attributes
        self.create_bucket(bucket)
        result = ObjectMeta(
            bucket=bucket,
            key=key,
            size=size,
            etag=etag,
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            last_modified=datetime.now(UTC),
            meta=dict(meta),
            headers=dict(headers),
        )
        with self.tmp_dir() as tmp_fd:
            meta_tmp = self.tmp_name()
            try:
                _write_new(tmp_fd, meta_tmp, _meta_json(result))
                # The lock covers the two renames only; making them durable (fsync of the two
                # folders) waits outside it, so writers to other keys do not queue behind a disk.
                folders: list[int] = []
                try:
                    with safe_fs.locked(self.root_fd, exclusive=True):
                        folders.append(self._commit(tmp_fd, data_tmp, [bucket, *dirs], name))
                        folders.append(self._commit(tmp_fd, meta_tmp, [META_DIR, bucket, *dirs], name + META_SUFFIX))
                    for fd in folders:
                        os.fsync(fd)
                finally:
                    for fd in folders:
                        os.close(fd)
            finally:
                with contextlib.suppress(OSError):
                    safe_fs.unlink(tmp_fd, meta_tmp)
        return result

    def head(self, bucket: str, key: str) -> ObjectMeta | None:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        with safe_fs.locked(self.root_fd, exclusive=False):
            return self.read_meta(bucket, key, dirs, name)

    def open(self, bucket: str, key: str) -> BinaryIO:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        fd = safe_fs.open_regular_at(self.root_fd, [bucket, *dirs], name)
        if fd is None:
            raise NoSuchKey(f"{bucket}/{key}")
        return os.fdopen(fd, "rb")

    def local_path(self, bucket: str, key: str) -> Path | None:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        fd = safe_fs.open_regular_at(self.root_fd, [bucket, *dirs], name)
        if fd is None:
            return None
        os.close(fd)
        return self.root.joinpath(bucket, *dirs, name)

    def delete(self, bucket: str, key: str) -> bool:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        with safe_fs.locked(self.root_fd, exclusive=True):
            existed = self._unlink_and_prune([bucket, *dirs], name)
            self._unlink_and_prune([META_DIR, bucket, *dirs], name + META_SUFFIX)
        return existed

    def list(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        marker: str = "",
        max_keys: int = 1000,
    ) -> ListResult:
        validate_bucket(bucket)
        walk = LocalWalk(self, bucket, prefix=prefix, marker=marker)
        try:
            return paginate(walk, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)
        finally:
            walk.close()

    # --- used by LocalWalk --------------------------------------------------------------------

    def read_meta(self, bucket: str, key: str, dirs: Sequence[str], name: str) -> ObjectMeta | None:
        """The object's metadata, or None when its bytes are missing; rebuilt if the sidecar is lost."""
        fd = safe_fs.open_regular_at(self.root_fd, [bucket, *dirs], name)
        if fd is None:
            return None
        with os.fdopen(fd, "rb") as body:
            meta_fd = safe_fs.open_regular_at(self.root_fd, [META_DIR, bucket, *dirs], name + META_SUFFIX)
            if meta_fd is not None:
                with (
                    os.fdopen(meta_fd, "rb") as sidecar,
                    contextlib.suppress(ValueError, KeyError, TypeError),
                ):
                    return _meta_from_json(bucket, key, json.load(sidecar))
            return _meta_from_bytes(bucket, key, body)

    # --- file plumbing ------------------------------------------------------------------------

    def tmp_name(self) -> str:
        return uuid.uuid4().hex

    def _commit(self, tmp_fd: int, tmp_name: str, dirs: Sequence[str], name: str) -> int:
        """Rename into place; a descriptor of the folder, for the caller to fsync (and close)."""
        with safe_fs.dir_chain(self.root_fd, dirs, create=True) as fds:
            safe_fs.replace(tmp_fd, tmp_name, fds[-1], name, durable=False)
            return os.dup(fds[-1])

    def _unlink_and_prune(self, dirs: Sequence[str], name: str) -> bool:
        """Remove the file, then every directory it leaves empty (up to, not including, the bucket).
        A missing or unsafe path (a symlink on the way) removes nothing."""
        try:
            with safe_fs.dir_chain(self.root_fd, dirs) as fds:
                if not safe_fs.is_file(fds[-1], name) or not safe_fs.unlink(fds[-1], name):
                    return False  # missing, or a planted entry that is not ours to remove
                # fds[i] is the parent of dirs[i]; the bucket (and .meta) directories stay.
                first = 2 if dirs[0] == META_DIR else 1
                for i in range(len(dirs) - 1, first - 1, -1):
                    try:
                        os.rmdir(dirs[i], dir_fd=fds[i])
                    except OSError:
                        break
                return True
        except (FileNotFoundError, UnsafePath):
            return False


def _is_bucket(name: str) -> bool:
    try:
        validate_bucket(name)
    except ValueError:
        return False
    return True


def _write_new(dir_fd: int, name: str, data: bytes | BinaryIO | Path) -> tuple[int, str]:
    """Write a new file in ``dir_fd``; (size, md5 hex). Durable before it is renamed into place."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with os.fdopen(safe_fs.create_file(dir_fd, name), "wb") as out:
        for chunk in _chunks(data):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        # An acknowledged PUT must survive a power cut: data reaches the disk before the rename.
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def _chunks(data: bytes | BinaryIO | Path) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
        return
    if isinstance(data, Path):
        with data.open("rb") as source:
            yield from _chunks(source)
        return
    while chunk := data.read(CHUNK):
        yield chunk


def _meta_json(meta: ObjectMeta) -> bytes:
    record = {
        "size": meta.size,
        "etag": meta.etag,
        "content_type": meta.content_type,
        "last_modified": meta.last_modified.isoformat(),
        "meta": meta.meta,
        "headers": meta.headers,
    }
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _meta_from_json(bucket: str, key: str, record: dict[str, Any]) -> ObjectMeta:
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=int(record["size"]),
        etag=str(record["etag"]),
        content_type=str(record["content_type"]),
        last_modified=datetime.fromisoformat(record["last_modified"]),
        meta={str(k): str(v) for k, v in record.get("meta", {}).items()},
        headers={str(k): str(v) for k, v in record.get("headers", {}).items()},
    )


def _meta_from_bytes(bucket: str, key: str, body: BinaryIO) -> ObjectMeta:
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    for chunk in _chunks(body):
        digest.update(chunk)
        size += len(chunk)
    mtime = os.fstat(body.fileno()).st_mtime
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=size,
        etag=quoted_etag(digest.hexdigest()),
        content_type=DEFAULT_CONTENT_TYPE,
        last_modified=datetime.fromtimestamp(mtime, UTC),
    )
