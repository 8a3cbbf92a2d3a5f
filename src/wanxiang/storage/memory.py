"""Objects in a dict: for tests and throw-away servers. Same validation and listing as the local backend."""

from __future__ import annotations

import bisect
import builtins
import hashlib
import io
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    BucketNotEmpty,
    ListResult,
    MultipartUpload,
    NoSuchKey,
    NoSuchUpload,
    ObjectMeta,
    Part,
    check_completion,
    check_part_number,
    multipart_etag,
    new_upload,
    normalize_headers,
    normalize_user_meta,
    quoted_etag,
)
from wanxiang.storage.keys import validate_bucket, validate_key
from wanxiang.storage.listing import paginate

CHUNK = 1 << 20


@dataclass
class _Bucket:
    keys: list[str] = field(default_factory=list)  # kept sorted
    objects: dict[str, tuple[bytes, ObjectMeta]] = field(default_factory=dict)


class MemoryStorage:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._uploads: dict[str, tuple[MultipartUpload, dict[int, tuple[bytes, Part]]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryStorage()"

    def create_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        with self._lock:
            if bucket in self._buckets:
                return False
            self._buckets[bucket] = _Bucket()
            return True

    def bucket_exists(self, bucket: str) -> bool:
        return validate_bucket(bucket) in self._buckets

    def delete_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        with self._lock:
            store = self._buckets.get(bucket)
            if store is None:
                return False
            if store.keys:
                raise BucketNotEmpty(bucket)
            del self._buckets[bucket]
            for upload_id in [i for i, (u, _) in self._uploads.items() if u.bucket == bucket]:
                del self._uploads[upload_id]
        return True

    def list_buckets(self) -> list[str]:
        with self._lock:
            return sorted(self._buckets)

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO | Path,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        meta: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str = "",
    ) -> ObjectMeta:
        validate_bucket(bucket)
        validate_key(key)
        body = _read_all(data)
        result = ObjectMeta(
            bucket=bucket,
            key=key,
            size=len(body),
            etag=etag or quoted_etag(hashlib.md5(body, usedforsecurity=False).hexdigest()),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            last_modified=datetime.now(UTC),
            meta=normalize_user_meta(meta),
            headers=normalize_headers(headers),
        )
        self.create_bucket(bucket)
        with self._lock:
            store = self._buckets[bucket]
            if key not in store.objects:
                bisect.insort(store.keys, key)
            store.objects[key] = (body, result)
        return result

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace: tuple[str, Mapping[str, str], Mapping[str, str]] | None = None,
    ) -> ObjectMeta:
        found = self._get(source_bucket, source_key)
        if found is None:
            raise NoSuchKey(f"{source_bucket}/{source_key}")
        body, source = found
        content_type, meta, headers = replace or (source.content_type, source.meta, source.headers)
        return self.put(bucket, key, body, content_type=content_type, meta=meta, headers=headers)

    def head(self, bucket: str, key: str) -> ObjectMeta | None:
        found = self._get(bucket, key)
        return None if found is None else found[1]

    def open(self, bucket: str, key: str) -> BinaryIO:
        found = self._get(bucket, key)
        if found is None:
            raise NoSuchKey(f"{bucket}/{key}")
        return io.BytesIO(found[0])

    def local_path(self, bucket: str, key: str) -> Path | None:
        return None

    def delete(self, bucket: str, key: str) -> bool:
        validate_bucket(bucket)
        validate_key(key)
        with self._lock:
            store = self._buckets.get(bucket)
            if store is None or store.objects.pop(key, None) is None:
                return False
            del store.keys[bisect.bisect_left(store.keys, key)]
            return True

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
        with self._lock:
            store = self._buckets.get(bucket)
            snapshot = _Bucket(list(store.keys), dict(store.objects)) if store else _Bucket()
        walk = _MemoryWalk(snapshot, prefix=prefix, marker=marker)
        return paginate(walk, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)

    def _get(self, bucket: str, key: str) -> tuple[bytes, ObjectMeta] | None:
        validate_bucket(bucket)
        validate_key(key)
        with self._lock:
            store = self._buckets.get(bucket)
            return None if store is None else store.objects.get(key)


    # --- multipart uploads ----------------------------------------------------------------------

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
        with self._lock:
            self._uploads[upload.upload_id] = (upload, {})
        return upload

    def get_multipart_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload:
        return self._upload(bucket, key, upload_id)[0]

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes | BinaryIO | Path
    ) -> Part:
        check_part_number(part_number)
        body = _read_all(data)
        part = Part(
            part_number, quoted_etag(hashlib.md5(body, usedforsecurity=False).hexdigest()), len(body), datetime.now(UTC)
        )
        with self._lock:
            self._upload(bucket, key, upload_id)[1][part_number] = (body, part)
        return part

    def list_parts(self, bucket: str, key: str, upload_id: str) -> builtins.list[Part]:
        with self._lock:
            parts = self._upload(bucket, key, upload_id)[1]
            return [parts[n][1] for n in sorted(parts)]

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectMeta:
        with self._lock:
            upload, stored = self._upload(bucket, key, upload_id)
            chosen = check_completion(parts, {n: part for n, (_, part) in stored.items()})
            body = b"".join(stored[p.number][0] for p in chosen)
            del self._uploads[upload_id]
        etag = multipart_etag([p.etag.strip('"') for p in chosen])
        return self.put(
            bucket, key, body, content_type=upload.content_type, meta=upload.meta, headers=upload.headers, etag=etag
        )

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        with self._lock:
            self._upload(bucket, key, upload_id)
            del self._uploads[upload_id]

    def list_multipart_uploads(self, bucket: str, *, prefix: str = "") -> builtins.list[MultipartUpload]:
        validate_bucket(bucket)
        with self._lock:
            found = [u for u, _ in self._uploads.values() if u.bucket == bucket and u.key.startswith(prefix)]
        return sorted(found, key=lambda u: (u.key, u.initiated, u.upload_id))

    def expire_multipart_uploads(self, older_than: datetime) -> int:
        with self._lock:
            stale = [i for i, (u, _) in self._uploads.items() if u.initiated < older_than]
            for upload_id in stale:
                del self._uploads[upload_id]
        return len(stale)

    def _upload(self, bucket: str, key: str, upload_id: str) -> tuple[MultipartUpload, dict[int, tuple[bytes, Part]]]:
        found = self._uploads.get(upload_id)
        if found is None or found[0].bucket != bucket or found[0].key != key:
            raise NoSuchUpload(upload_id)
        return found


class _MemoryWalk:
    def __init__(self, store: _Bucket, *, prefix: str, marker: str) -> None:
        self._store = store
        self._prefix = prefix
        self._start = max(marker, prefix)
        self._after_marker = bool(marker) and marker >= prefix
        self._skip: str | None = None

    def skip(self, prefix: str) -> None:
        self._skip = prefix

    def __iter__(self) -> Iterator[ObjectMeta]:
        keys = self._store.keys
        index = (bisect.bisect_right if self._after_marker else bisect.bisect_left)(keys, self._start)
        while index < len(keys) and keys[index].startswith(self._prefix):
            key = keys[index]
            index += 1
            if self._skip is not None and key.startswith(self._skip):
                continue
            yield self._store.objects[key][1]


def _read_all(data: bytes | BinaryIO | Path) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, Path):
        return data.read_bytes()
    buffer = io.BytesIO()
    while chunk := data.read(CHUNK):
        buffer.write(chunk)
    return buffer.getvalue()
