"""The object storage interface every backend speaks (local folder, memory, later S3-compatible).

User metadata (``ObjectMeta.meta``): names are lower-case *without* the ``x-cos-meta-`` prefix;
``put`` accepts names with or without it (``{"x-cos-meta-Title": "v"}`` and ``{"title": "v"}`` are the same).
A bucket that does not exist reads as empty: ``head`` -> None, ``open`` -> NoSuchKey, ``list`` -> no objects,
``delete`` -> False.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

USER_META_PREFIX = "x-cos-meta-"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class NoSuchKey(KeyError):
    """The object does not exist (COS 404 NoSuchKey)."""


class InvalidObjectKey(ValueError):
    """The key cannot be stored: empty, absolute, ``.``/``..`` segments, NUL, backslash, or too long."""


class InvalidBucketName(ValueError):
    """The bucket name is not ``[a-z0-9-]`` (with an optional ``-appid`` tail), 1..63 characters."""


@dataclass(frozen=True)
class ObjectMeta:
    bucket: str
    key: str
    size: int
    etag: str  # '"<md5 hex>"', quoted as COS sends it
    content_type: str
    last_modified: datetime  # UTC aware
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListResult:
    objects: list[ObjectMeta]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str


@runtime_checkable
class ObjectStorage(Protocol):
    def create_bucket(self, bucket: str) -> bool: ...

    def bucket_exists(self, bucket: str) -> bool: ...

    def list_buckets(self) -> list[str]: ...

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO | Path,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        meta: Mapping[str, str] | None = None,
    ) -> ObjectMeta: ...

    def head(self, bucket: str, key: str) -> ObjectMeta | None: ...

    def open(self, bucket: str, key: str) -> BinaryIO: ...

    def local_path(self, bucket: str, key: str) -> Path | None: ...

    def delete(self, bucket: str, key: str) -> bool: ...

    def list(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        marker: str = "",
        max_keys: int = 1000,
    ) -> ListResult: ...


def normalize_user_meta(meta: Mapping[str, str] | None) -> dict[str, str]:
    """Lower-case names, ``x-cos-meta-`` prefix dropped."""
    result: dict[str, str] = {}
    for name, value in (meta or {}).items():
        lowered = name.lower()
        if lowered.startswith(USER_META_PREFIX):
            lowered = lowered[len(USER_META_PREFIX) :]
        if not lowered:
            raise ValueError(f"empty user metadata name: {name!r}")
        result[lowered] = str(value)
    return result


def quoted_etag(md5_hex: str) -> str:
    return f'"{md5_hex}"'
