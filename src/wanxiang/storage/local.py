"""Objects as plain files under a data directory (the default backend).

Layout under ``root``::

    <bucket>/<dir>%2F/.../<file>        object bytes (names from ``keys.key_to_names``)
    .meta/<bucket>/<dir>%2F/.../<file>.json   content type, ETag, size, time, user metadata
    .tmp/                               uploads in progress (renamed into place when whole)
    .uploads/                           multipart uploads (see ``local_multipart``)
    .lock                               flock: commits exclusive, metadata reads shared

Bucket names never start with ``.``, so the bookkeeping names cannot collide with a bucket.
Every path below ``root`` is opened one component at a time with ``O_NOFOLLOW`` relative to its
parent's descriptor, so a symlink planted inside the data dir is never followed (it reads as a
missing object, and writing through it fails with ``OSError``).
Writes are atomic (temp file + ``os.replace``) and durable (the file and its directory are fsync'ed).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

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
from wanxiang.storage.local_multipart import LocalMultipart
from wanxiang.storage.local_walk import LocalWalk

CHUNK = 1 << 20
META_DIR = ".meta"
TMP_DIR = ".tmp"
LOCK_FILE = ".lock"
META_SUFFIX = ".json"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LocalStorage(LocalMultipart):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        for folder in (self.root, self.root / META_DIR, self.root / TMP_DIR):
            folder.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # --- buckets ------------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        with self._dirs([META_DIR, bucket], create=True):
            pass
        try:
            os.mkdir(self.root / bucket)
        except FileExistsError:
            if not self.bucket_exists(bucket):
                raise
            return False
        return True

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket(bucket)
        try:
            return stat.S_ISDIR(os.lstat(self.root / bucket).st_mode)
        except FileNotFoundError:
            return False

    def list_buckets(self) -> list[str]:
        with os.scandir(self.root) as entries:
            names = [
                e.name for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
            ]
        return sorted(name for name in names if _is_bucket(name))

    def delete_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        if not self.bucket_exists(bucket):
            return False
        with self._lock(exclusive=True):
            if self.list(bucket, max_keys=1).objects:
                raise BucketNotEmpty(bucket)
            self.abort_bucket_uploads(bucket)
            with self._dirs([], create=False) as fds:
                for parent in ([META_DIR], []):
                    with contextlib.suppress(FileNotFoundError), self._dirs(parent, create=False) as dirs:
                        os.rmdir(bucket, dir_fd=dirs[-1])
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
        data_tmp = self.tmp_name()
        try:
            size, md5 = self._write_tmp(data_tmp, data)
            return self.commit_object(bucket, key, data_tmp, size, quoted_etag(md5), attributes)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / TMP_DIR / data_tmp)

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
        meta_tmp = self.tmp_name()
        try:
            self._write_tmp(meta_tmp, _meta_json(result))
            with self._lock(exclusive=True):
                self._commit(data_tmp, [bucket, *dirs], name)
                self._commit(meta_tmp, [META_DIR, bucket, *dirs], name + META_SUFFIX)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / TMP_DIR / meta_tmp)
        return result

    def head(self, bucket: str, key: str) -> ObjectMeta | None:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        with self._lock(exclusive=False):
            return self.read_meta(bucket, key, dirs, name)

    def open(self, bucket: str, key: str) -> BinaryIO:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        fd = self._open_file([bucket, *dirs], name)
        if fd is None:
            raise NoSuchKey(f"{bucket}/{key}")
        return os.fdopen(fd, "rb")

    def local_path(self, bucket: str, key: str) -> Path | None:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        fd = self._open_file([bucket, *dirs], name)
        if fd is None:
            return None
        os.close(fd)
        return self.root.joinpath(bucket, *dirs, name)

    def delete(self, bucket: str, key: str) -> bool:
        validate_bucket(bucket)
        dirs, name = key_to_names(validate_key(key))
        with self._lock(exclusive=True):
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
        fd = self._open_file([bucket, *dirs], name)
        if fd is None:
            return None
        with os.fdopen(fd, "rb") as body:
            meta_fd = self._open_file([META_DIR, bucket, *dirs], name + META_SUFFIX)
            if meta_fd is not None:
                with (
                    os.fdopen(meta_fd, "rb") as sidecar,
                    contextlib.suppress(ValueError, KeyError, TypeError),
                ):
                    return _meta_from_json(bucket, key, json.load(sidecar))
            return _meta_from_bytes(bucket, key, body)

    # --- file plumbing ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[None]:
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _dirs(self, names: Sequence[str], *, create: bool) -> Iterator[Sequence[int]]:
        """Descriptors of root and each directory in ``names`` (never through a symlink)."""
        fds = [os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
        try:
            for name in names:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o755, dir_fd=fds[-1])
                fds.append(os.open(name, _DIR_FLAGS, dir_fd=fds[-1]))
            yield fds
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def _open_file(self, dirs: Sequence[str], name: str) -> int | None:
        try:
            with self._dirs(dirs, create=False) as fds:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fds[-1])
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            if error.errno == errno.ELOOP:  # a symlink where a file or directory should be
                return None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return fd

    def tmp_name(self) -> str:
        return uuid.uuid4().hex

    def _write_tmp(self, tmp_name: str, data: bytes | BinaryIO | Path) -> tuple[int, str]:
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(self.root / TMP_DIR / tmp_name, flags, 0o644), "wb") as out:
            for chunk in _chunks(data):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            # An acknowledged PUT must survive a power cut: data reaches the disk before the rename.
            out.flush()
            os.fsync(out.fileno())
        return size, digest.hexdigest()

    def _commit(self, tmp_name: str, dirs: Sequence[str], name: str) -> None:
        with self._dirs([TMP_DIR], create=False) as tmp_fds, self._dirs(dirs, create=True) as fds:
            os.replace(tmp_name, name, src_dir_fd=tmp_fds[-1], dst_dir_fd=fds[-1])
            os.fsync(fds[-1])  # the rename itself is durable once its directory is

    def _unlink_and_prune(self, dirs: Sequence[str], name: str) -> bool:
        """Remove the file, then every directory it leaves empty (up to, not including, the bucket)."""
        try:
            with self._dirs(dirs, create=False) as fds:
                try:
                    os.unlink(name, dir_fd=fds[-1])
                except FileNotFoundError:
                    return False
                # fds[i] is the parent of dirs[i]; the bucket (and .meta) directories stay.
                first = 2 if dirs[0] == META_DIR else 1
                for i in range(len(dirs) - 1, first - 1, -1):
                    try:
                        os.rmdir(dirs[i], dir_fd=fds[i])
                    except OSError:
                        break
                return True
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as error:
            if error.errno == errno.ELOOP:
                return False
            raise


def _is_bucket(name: str) -> bool:
    try:
        validate_bucket(name)
    except ValueError:
        return False
    return True


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
