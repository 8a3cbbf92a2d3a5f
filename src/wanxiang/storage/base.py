"""The object storage interface every backend speaks (local folder, memory, later S3-compatible).

User metadata (``ObjectMeta.meta``): names are lower-case *without* the ``x-cos-meta-`` prefix;
``put`` accepts names with or without it (``{"x-cos-meta-Title": "v"}`` and ``{"title": "v"}`` are the same).
A bucket that does not exist reads as empty: ``head`` -> None, ``open`` -> NoSuchKey, ``list`` -> no objects,
``delete`` -> False.

Standard object headers (``ObjectMeta.headers``): ``Cache-Control``, ``Content-Disposition``,
``Content-Encoding``, ``Content-Language`` and ``Expires``, kept verbatim under lower-case names and
given back on GET/HEAD; any other name passed to ``put`` is dropped.

Multipart uploads (COS ``?uploads`` / ``?partNumber&uploadId`` / ``?uploadId``), the same for every
backend so the S3 one can map them onto S3 multipart:

* ``create_multipart_upload`` keeps the object's future content type, user metadata and headers,
  plus ``options``: request values the API needs again on completion (``Pic-Operations``), opaque
  to the storage.
* ``upload_part`` stores part ``1..10000`` durably (a part sent again replaces the earlier one) and
  returns its ETag (quoted MD5).
* ``complete_multipart_upload`` takes ``(part number, ETag)`` in ascending order, checks each
  against the stored part (``InvalidPart``/``InvalidPartOrder``; every part but the last at least
  ``MIN_PART_SIZE``, else ``EntityTooSmall``) and makes the object appear at once, whole, with ETag
  ``"<md5 of the parts' binary MD5s>-<count>"``; the upload is gone afterwards.
* an unknown upload id, or one of another bucket/key, raises ``NoSuchUpload``.
* ``expire_multipart_uploads(older_than)`` removes uploads initiated before that time (aborted
  clients leave them behind); the server calls it now and then with its configured age.
"""

from __future__ import annotations

import builtins
import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

USER_META_PREFIX = "x-cos-meta-"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
STANDARD_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
MAX_PART_NUMBER = 10_000
MIN_PART_SIZE = 1 << 20  # COS: every part but the last is at least 1 MB


class NoSuchKey(KeyError):
    """The object does not exist (COS 404 NoSuchKey)."""


class InvalidObjectKey(ValueError):
    """The key cannot be stored: empty, absolute, ``.``/``..`` segments, NUL, or too long."""


class BucketNotEmpty(ValueError):
    """The bucket still holds objects (COS 409 BucketNotEmpty)."""


class NoSuchUpload(KeyError):
    """The multipart upload does not exist (never created, completed, aborted or expired)."""


class InvalidPart(ValueError):
    """A completion names parts wrongly; ``code`` is COS's: InvalidPart, InvalidPartOrder, EntityTooSmall."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
    headers: dict[str, str] = field(default_factory=dict)  # STANDARD_HEADERS given on upload

    @property
    def part_count(self) -> int:
        """Parts of a multipart object (from its ETag), 0 for an object stored whole."""
        tail = self.etag.strip('"').rpartition("-")[2]
        return int(tail) if "-" in self.etag and tail.isdigit() else 0


@dataclass(frozen=True)
class MultipartUpload:
    bucket: str
    key: str
    upload_id: str
    initiated: datetime  # UTC aware
    content_type: str = DEFAULT_CONTENT_TYPE
    meta: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    number: int
    etag: str  # quoted MD5 of the part
    size: int
    last_modified: datetime


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

    def delete_bucket(self, bucket: str) -> bool:
        """Remove an empty bucket (its unfinished multipart uploads go with it); False if absent,
        BucketNotEmpty while it holds an object."""
        ...

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO | Path,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        meta: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ObjectMeta: ...

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace: tuple[str, Mapping[str, str], Mapping[str, str]] | None = None,
    ) -> ObjectMeta:
        """Copy bytes and attributes; ``replace`` = (content type, user meta, headers) sets new
        attributes instead (COS ``x-cos-metadata-directive: Replaced``). NoSuchKey if the source is absent."""
        ...

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

    # --- multipart uploads (see the module docstring) ---

    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        meta: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
    ) -> MultipartUpload: ...

    def get_multipart_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload: ...

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes | BinaryIO | Path
    ) -> Part: ...

    def list_parts(self, bucket: str, key: str, upload_id: str) -> builtins.list[Part]: ...

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectMeta: ...

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None: ...

    def list_multipart_uploads(self, bucket: str, *, prefix: str = "") -> builtins.list[MultipartUpload]:
        """Uploads in progress, by key then initiation time."""
        ...

    def expire_multipart_uploads(self, older_than: datetime) -> int:
        """Remove uploads initiated before ``older_than`` (every bucket); returns how many."""
        ...


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


def normalize_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The standard object headers among ``headers``, by lower-case name; others dropped."""
    result: dict[str, str] = {}
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if lowered in STANDARD_HEADERS and value != "":
            result[lowered] = str(value)
    return result


def new_upload(
    bucket: str,
    key: str,
    content_type: str,
    meta: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    options: Mapping[str, str] | None,
) -> MultipartUpload:
    """A new multipart upload's record, the same on every backend (the caller has checked the
    bucket name and the key)."""
    return MultipartUpload(
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


def check_part_number(part_number: int) -> int:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidPart("InvalidArgument", f"partNumber must be 1 to {MAX_PART_NUMBER}, not {part_number}")
    return part_number


def multipart_etag(part_md5s: Sequence[str]) -> str:
    """COS's multipart ETag: MD5 over the parts' binary MD5s, then ``-<count>``."""
    digest = hashlib.md5(usedforsecurity=False)
    for md5_hex in part_md5s:
        digest.update(bytes.fromhex(md5_hex))
    return f'"{digest.hexdigest()}-{len(part_md5s)}"'


def check_completion(requested: Sequence[tuple[int, str]], stored: Mapping[int, Part]) -> builtins.list[Part]:
    """The stored parts a completion names, in order; InvalidPart* / EntityTooSmall otherwise."""
    if not requested:
        raise InvalidPart("InvalidRequest", "A completion must name at least one part.")
    chosen: list[Part] = []
    previous = 0
    for number, etag in requested:
        if number <= previous:
            raise InvalidPart("InvalidPartOrder", "The parts must be listed in ascending order, each once.")
        previous = number
        part = stored.get(number)
        if part is None or part.etag.strip('"').lower() != etag.strip().strip('"').lower():
            raise InvalidPart("InvalidPart", f"Part {number} was not uploaded, or its ETag is not {etag}.")
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise InvalidPart(
                "EntityTooSmall", f"Part {part.number} is {part.size} bytes; every part but the last needs 1 MB."
            )
    return chosen
