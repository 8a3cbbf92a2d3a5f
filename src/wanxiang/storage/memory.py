"""Objects in a dict: for tests and throw-away servers. Same validation and listing as the local backend."""

from __future__ import annotations

import bisect
import hashlib
import io
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    ListResult,
    NoSuchKey,
    ObjectMeta,
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
    ) -> ObjectMeta:
        validate_bucket(bucket)
        validate_key(key)
        body = _read_all(data)
        result = ObjectMeta(
            bucket=bucket,
            key=key,
            size=len(body),
            etag=quoted_etag(hashlib.md5(body, usedforsecurity=False).hexdigest()),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            last_modified=datetime.now(UTC),
            meta=normalize_user_meta(meta),
        )
        self.create_bucket(bucket)
        with self._lock:
            store = self._buckets[bucket]
            if key not in store.objects:
                bisect.insort(store.keys, key)
            store.objects[key] = (body, result)
        return result

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
