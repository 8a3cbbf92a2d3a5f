"""Multipart uploads of the local backend: parts are files on the same disk as the objects.

Layout under the storage root::

    .uploads/<upload id>/upload.json            bucket, key, initiation time, attributes, options
    .uploads/<upload id>/<part number>.<md5>    one file per part (number zero-padded to 5 digits)

A part arrives in ``.tmp`` and is renamed into its upload's folder once whole and fsync'ed, so a
part file is always complete, and its name carries its number and MD5 (no second file to keep in
step). A part sent again lands beside the old one and the old one is then removed; if a crash
leaves both, the newer file wins. Completion concatenates the parts into one temp file
(``copy_file_range``: the kernel copies, nothing passes through Python's memory) and commits it
like any PUT, so the object appears at once; the upload folder goes afterwards.
Upload ids are ``[0-9a-f]`` only, so they never name anything outside ``.uploads``; every file is
opened through :mod:`wanxiang.storage.safe_fs` (no symlink below the root is ever followed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from wanxiang.storage import safe_fs
from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    MultipartUpload,
    NoSuchUpload,
    ObjectMeta,
    Part,
    check_completion,
    check_part_number,
    multipart_etag,
    new_upload,
)
from wanxiang.storage.keys import validate_bucket, validate_key
from wanxiang.storage.safe_fs import UnsafePath

UPLOADS_DIR = ".uploads"
RECORD = "upload.json"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{16,64}$")
_PART = re.compile(r"^(\d{5})\.([0-9a-f]{32})$")
_COPY_CHUNK = 64 << 20


class LocalMultipart:
    """Mixed into ``LocalStorage``; uses its root descriptor, temp files and commit."""

    root_fd: int

    if TYPE_CHECKING:

        def tmp_name(self) -> str: ...

        def tmp_dir(self) -> contextlib.AbstractContextManager[int]: ...

        def write_tmp(self, data: bytes | BinaryIO | Path) -> tuple[str, int, str]: ...

        def discard_tmp(self, name: str) -> None: ...

        def commit_object(
            self,
            bucket: str,
            key: str,
            data_tmp: str,
            size: int,
            etag: str,
            attributes: tuple[str, Mapping[str, str], Mapping[str, str]],
        ) -> ObjectMeta: ...

    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        meta: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
    ) -> MultipartUpload:
        validate_bucket(bucket)
        validate_key(key)
        upload = new_upload(bucket, key, content_type, meta, headers, options)
        record_tmp, _, _ = self.write_tmp(_record_json(upload))
        try:
            with self._uploads() as uploads_fd:
                folder_fd = safe_fs.open_dir(uploads_fd, upload.upload_id, create=True)
                try:
                    with self.tmp_dir() as tmp_fd:
                        safe_fs.replace(tmp_fd, record_tmp, folder_fd, RECORD)
                finally:
                    os.close(folder_fd)
                os.fsync(uploads_fd)
        finally:
            self.discard_tmp(record_tmp)
        return upload

    def get_multipart_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload:
        upload = self._read_record(upload_id)
        if upload is None or upload.bucket != bucket or upload.key != key:
            raise NoSuchUpload(upload_id)
        return upload

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes | BinaryIO | Path
    ) -> Part:
        check_part_number(part_number)
        self.get_multipart_upload(bucket, key, upload_id)
        tmp, size, md5 = self.write_tmp(data)
        name = f"{part_number:05d}.{md5}"
        try:
            with self._upload_dir(upload_id) as folder_fd, self.tmp_dir() as tmp_fd:
                safe_fs.replace(tmp_fd, tmp, folder_fd, name)
                for older in _part_files(folder_fd).get(part_number, []):
                    if older != name:
                        safe_fs.unlink(folder_fd, older)
        finally:
            self.discard_tmp(tmp)
        return Part(part_number, f'"{md5}"', size, datetime.now(UTC))

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[Part]:
        self.get_multipart_upload(bucket, key, upload_id)
        with self._upload_dir(upload_id) as folder_fd:
            parts = _stored_parts(folder_fd)
        return [parts[n] for n in sorted(parts)]

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectMeta:
        upload = self.get_multipart_upload(bucket, key, upload_id)
        with self._upload_dir(upload_id) as folder_fd:
            chosen = check_completion(parts, _stored_parts(folder_fd))
            data_tmp = self.tmp_name()
            try:
                with self.tmp_dir() as tmp_fd:
                    names = [f"{p.number:05d}.{p.etag.strip(chr(34))}" for p in chosen]
                    size = _concatenate(folder_fd, names, tmp_fd, data_tmp)
                etag = multipart_etag([p.etag.strip('"') for p in chosen])
                attributes = (upload.content_type, upload.meta, upload.headers)
                result = self.commit_object(bucket, key, data_tmp, size, etag, attributes)
            finally:
                self.discard_tmp(data_tmp)
        self._remove_upload(upload_id)
        return result

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.get_multipart_upload(bucket, key, upload_id)
        self._remove_upload(upload_id)

    def abort_bucket_uploads(self, bucket: str) -> None:
        for upload in self.list_multipart_uploads(bucket):
            self._remove_upload(upload.upload_id)

    def list_multipart_uploads(self, bucket: str, *, prefix: str = "") -> list[MultipartUpload]:
        validate_bucket(bucket)
        found = [u for u in self._all_uploads() if u.bucket == bucket and u.key.startswith(prefix)]
        return sorted(found, key=lambda u: (u.key, u.initiated, u.upload_id))

    def expire_multipart_uploads(self, older_than: datetime) -> int:
        removed = 0
        with self._uploads() as uploads_fd:
            names = [e.name for e in safe_fs.list_names(uploads_fd) if _UPLOAD_ID.match(e.name)]
            for name in names:
                upload = self._read_record(name)
                stale = False
                if upload is not None:
                    stale = upload.initiated < older_than
                else:  # a folder whose record never landed (crash during initiate)
                    with contextlib.suppress(OSError):
                        info = os.stat(name, dir_fd=uploads_fd, follow_symlinks=False)
                        stale = datetime.fromtimestamp(info.st_mtime, UTC) < older_than
                if stale:
                    self._remove_upload(name)
                    removed += 1
        return removed

    # --- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _uploads(self) -> Iterator[int]:
        with safe_fs.dir_chain(self.root_fd, [UPLOADS_DIR], create=True) as fds:
            yield fds[-1]

    @contextlib.contextmanager
    def _upload_dir(self, upload_id: str) -> Iterator[int]:
        """The upload's folder; NoSuchUpload when it is gone (aborted or completed meanwhile)."""
        if not _UPLOAD_ID.match(upload_id):
            raise NoSuchUpload(upload_id)
        try:
            with safe_fs.dir_chain(self.root_fd, [UPLOADS_DIR, upload_id]) as fds:
                yield fds[-1]
        except (FileNotFoundError, UnsafePath):
            raise NoSuchUpload(upload_id) from None

    def _remove_upload(self, upload_id: str) -> None:
        """Its files, then its folder (only our own names; nothing is followed)."""
        with contextlib.suppress(NoSuchUpload), self._upload_dir(upload_id) as folder_fd:
            for entry in list(safe_fs.list_names(folder_fd)):
                with contextlib.suppress(OSError):
                    safe_fs.unlink(folder_fd, entry.name)
        with contextlib.suppress(OSError), self._uploads() as uploads_fd:
            os.rmdir(upload_id, dir_fd=uploads_fd)

    def _all_uploads(self) -> list[MultipartUpload]:
        with self._uploads() as uploads_fd:
            names = [e.name for e in safe_fs.list_names(uploads_fd)]
        uploads = [self._read_record(name) for name in names]
        return [u for u in uploads if u is not None]

    def _read_record(self, upload_id: str) -> MultipartUpload | None:
        if not _UPLOAD_ID.match(upload_id):
            return None
        fd = safe_fs.open_regular_at(self.root_fd, [UPLOADS_DIR, upload_id], RECORD)
        if fd is None:
            return None
        with os.fdopen(fd, "rb") as record, contextlib.suppress(ValueError, KeyError, TypeError):
            return _record_from_json(upload_id, json.load(record))
        return None


def _concatenate(folder_fd: int, names: list[str], tmp_fd: int, tmp_name: str) -> int:
    """The parts, in order, into a new durable temp file; its size."""
    size = 0
    with os.fdopen(safe_fs.create_file(tmp_fd, tmp_name), "wb") as out:
        for name in names:
            fd = safe_fs.open_regular(folder_fd, name)
            if fd is None:
                raise NoSuchUpload(name)  # removed under us: the upload was aborted meanwhile
            with os.fdopen(fd, "rb") as part:
                size += _copy_whole(part, out)
        out.flush()
        os.fsync(out.fileno())
    return size


def _copy_whole(source: BinaryIO, out: BinaryIO) -> int:
    out.flush()
    total = os.fstat(source.fileno()).st_size
    copied = 0
    try:
        while copied < total:
            done = os.copy_file_range(source.fileno(), out.fileno(), min(_COPY_CHUNK, total - copied))
            if done == 0:
                break
            copied += done
    except OSError:  # a filesystem without copy_file_range: copy through a small buffer
        source.seek(copied)
        os.lseek(out.fileno(), 0, os.SEEK_END)
        while chunk := source.read(1 << 20):
            out.write(chunk)
            copied += len(chunk)
        out.flush()
    return copied


def _part_files(folder_fd: int) -> dict[int, list[str]]:
    """Part file names by number, oldest first."""
    found: dict[int, list[tuple[int, str]]] = {}
    for entry in safe_fs.list_names(folder_fd):
        match = _PART.match(entry.name)
        if match and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                found.setdefault(int(match.group(1)), []).append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
    return {n: [name for _, name in sorted(files)] for n, files in found.items()}


def _stored_parts(folder_fd: int) -> dict[int, Part]:
    parts: dict[int, Part] = {}
    for number, names in _part_files(folder_fd).items():
        newest = names[-1]
        match = _PART.match(newest)
        assert match is not None
        with contextlib.suppress(FileNotFoundError):
            info = os.stat(newest, dir_fd=folder_fd, follow_symlinks=False)
            parts[number] = Part(number, f'"{match.group(2)}"', info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))
    return parts


def _record_json(upload: MultipartUpload) -> bytes:
    record: dict[str, Any] = {
        "bucket": upload.bucket,
        "key": upload.key,
        "initiated": upload.initiated.isoformat(),
        "content_type": upload.content_type,
        "meta": upload.meta,
        "headers": upload.headers,
        "options": upload.options,
    }
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _record_from_json(upload_id: str, record: dict[str, Any]) -> MultipartUpload:
    return MultipartUpload(
        bucket=str(record["bucket"]),
        key=str(record["key"]),
        upload_id=upload_id,
        initiated=datetime.fromisoformat(record["initiated"]),
        content_type=str(record["content_type"]),
        meta={str(k): str(v) for k, v in record.get("meta", {}).items()},
        headers={str(k): str(v) for k, v in record.get("headers", {}).items()},
        options={str(k): str(v) for k, v in record.get("options", {}).items()},
    )
