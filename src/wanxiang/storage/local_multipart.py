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
Upload ids are ``[0-9a-f]`` only, so they never name anything outside ``.uploads``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    MultipartUpload,
    NoSuchUpload,
    ObjectMeta,
    Part,
    check_completion,
    check_part_number,
    multipart_etag,
    normalize_headers,
    normalize_user_meta,
)
from wanxiang.storage.keys import validate_bucket, validate_key

UPLOADS_DIR = ".uploads"
RECORD = "upload.json"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{16,64}$")
_PART = re.compile(r"^(\d{5})\.([0-9a-f]{32})$")
_COPY_CHUNK = 64 << 20


class LocalMultipart:
    """Mixed into ``LocalStorage``; uses its temp files and its commit."""

    root: Path

    if TYPE_CHECKING:

        def tmp_name(self) -> str: ...

        def _write_tmp(self, tmp_name: str, data: bytes | BinaryIO | Path) -> tuple[int, str]: ...

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
        upload = MultipartUpload(
            bucket=bucket,
            key=key,
            # A time-ordered id, as COS's are: uploads list in initiation order per key.
            upload_id=f"{time.time_ns():016x}{uuid.uuid4().hex}",
            initiated=datetime.now(UTC),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            meta=normalize_user_meta(meta),
            headers=normalize_headers(headers),
            options={str(k): str(v) for k, v in (options or {}).items()},
        )
        folder = self._uploads() / upload.upload_id
        record_tmp = self.tmp_name()
        try:
            self._write_tmp(record_tmp, _record_json(upload))
            folder.mkdir()
            os.replace(self.root / ".tmp" / record_tmp, folder / RECORD)
            _fsync_dir(folder)
            _fsync_dir(folder.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / ".tmp" / record_tmp)
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
        folder = self._uploads() / upload_id
        tmp = self.tmp_name()
        try:
            size, md5 = self._write_tmp(tmp, data)
            name = f"{part_number:05d}.{md5}"
            try:
                os.replace(self.root / ".tmp" / tmp, folder / name)
            except FileNotFoundError:  # aborted (or completed) while this part was arriving
                raise NoSuchUpload(upload_id) from None
            _fsync_dir(folder)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / ".tmp" / tmp)
        for older in _part_files(folder).get(part_number, [])[:-1]:
            if older.name != name:
                with contextlib.suppress(FileNotFoundError):
                    older.unlink()
        return Part(part_number, f'"{md5}"', size, datetime.now(UTC))

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[Part]:
        self.get_multipart_upload(bucket, key, upload_id)
        parts = _stored_parts(self._uploads() / upload_id)
        return [parts[n] for n in sorted(parts)]

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectMeta:
        upload = self.get_multipart_upload(bucket, key, upload_id)
        folder = self._uploads() / upload_id
        chosen = check_completion(parts, _stored_parts(folder))
        data_tmp = self.tmp_name()
        try:
            size = self._concatenate(data_tmp, [folder / f"{p.number:05d}.{p.etag.strip(chr(34))}" for p in chosen])
            etag = multipart_etag([p.etag.strip('"') for p in chosen])
            attributes = (upload.content_type, upload.meta, upload.headers)
            result = self.commit_object(bucket, key, data_tmp, size, etag, attributes)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / ".tmp" / data_tmp)
        shutil.rmtree(folder, ignore_errors=True)
        return result

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.get_multipart_upload(bucket, key, upload_id)
        shutil.rmtree(self._uploads() / upload_id, ignore_errors=True)

    def list_multipart_uploads(self, bucket: str, *, prefix: str = "") -> list[MultipartUpload]:
        validate_bucket(bucket)
        found = [u for u in self._all_uploads() if u.bucket == bucket and u.key.startswith(prefix)]
        return sorted(found, key=lambda u: (u.key, u.initiated, u.upload_id))

    def abort_bucket_uploads(self, bucket: str) -> None:
        for upload in self.list_multipart_uploads(bucket):
            shutil.rmtree(self._uploads() / upload.upload_id, ignore_errors=True)

    def expire_multipart_uploads(self, older_than: datetime) -> int:
        removed = 0
        for entry in self._uploads().iterdir():
            if not _UPLOAD_ID.match(entry.name):
                continue
            upload = self._read_record(entry.name)
            stale = False
            if upload is not None:
                stale = upload.initiated < older_than
            else:  # a folder whose record never landed (crash during initiate)
                with contextlib.suppress(FileNotFoundError):
                    stale = datetime.fromtimestamp(entry.lstat().st_mtime, UTC) < older_than
            if stale:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    # --- plumbing -----------------------------------------------------------------------------

    def _uploads(self) -> Path:
        folder = self.root / UPLOADS_DIR
        folder.mkdir(exist_ok=True)
        return folder

    def _all_uploads(self) -> list[MultipartUpload]:
        uploads = [self._read_record(entry.name) for entry in self._uploads().iterdir()]
        return [u for u in uploads if u is not None]

    def _read_record(self, upload_id: str) -> MultipartUpload | None:
        if not _UPLOAD_ID.match(upload_id):
            return None
        path = self._uploads() / upload_id / RECORD
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            return None
        with os.fdopen(fd, "rb") as record, contextlib.suppress(ValueError, KeyError, TypeError):
            return _record_from_json(upload_id, json.load(record))
        return None

    def _concatenate(self, tmp_name: str, sources: list[Path]) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        size = 0
        with os.fdopen(os.open(self.root / ".tmp" / tmp_name, flags, 0o644), "wb") as out:
            for source in sources:
                with open(os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as part:
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


def _part_files(folder: Path) -> dict[int, list[Path]]:
    """Part files by number, oldest first."""
    found: dict[int, list[tuple[int, Path]]] = {}
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return {}
    for entry in entries:
        match = _PART.match(entry.name)
        if match and entry.is_file(follow_symlinks=False):
            found.setdefault(int(match.group(1)), []).append((entry.stat(follow_symlinks=False).st_mtime_ns, Path(entry.path)))
    return {n: [p for _, p in sorted(files)] for n, files in found.items()}


def _stored_parts(folder: Path) -> dict[int, Part]:
    parts: dict[int, Part] = {}
    for number, files in _part_files(folder).items():
        newest = files[-1]
        match = _PART.match(newest.name)
        assert match is not None
        with contextlib.suppress(FileNotFoundError):
            info = newest.lstat()
            parts[number] = Part(number, f'"{match.group(2)}"', info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))
    return parts


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
