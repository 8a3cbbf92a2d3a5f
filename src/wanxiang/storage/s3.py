"""Objects in an S3-compatible store (AWS S3, COS's S3 endpoint, MinIO, SeaweedFS) through boto3.

boto3 was chosen over obstore by ``bench/s3_clients.py`` and by key semantics: obstore's paths drop a
trailing ``/`` (a COS folder marker ``a/`` becomes ``a``), refuse empty segments and control
characters, and list by path segment (prefix ``b`` misses ``b-c.jpg``), none of which COS allows.

Layout and URL options: see ``s3_config``. A wanxiang bucket exists when its marker object
``<prefix><bucket>/`` or any object under it exists (so data already in the backing bucket shows up).

Streaming: GETs are read as they are consumed (``S3RawReader``); PUTs send the caller's file or
stream (a non-seekable stream is spooled to a temp file first, since S3 needs the length); objects
above ``multipart_threshold`` go up as a multipart upload one ``part_size`` buffer at a time.
ETag: S3's answer for a single PUT is the MD5; a multipart upload's ETag is not, so the MD5 is
computed on the way and kept in the ``wanxiang-md5`` metadata, which ``head`` answers with.
Listings come from ListObjects (prefix, delimiter, marker), one backend request per page asked.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    ListResult,
    NoSuchKey,
    ObjectMeta,
    normalize_user_meta,
    quoted_etag,
)
from wanxiang.storage.keys import validate_bucket, validate_key
from wanxiang.storage.listing import clamp_max_keys, common_prefix
from wanxiang.storage.s3_config import S3Config, parse_s3_url
from wanxiang.storage.s3_reader import S3RawReader

CHUNK = 1 << 20
MD5_META = "wanxiang-md5"
_PLAIN_ETAG = re.compile(r'^"[0-9a-f]{32}"$')
_RFC2047 = re.compile(r"^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$", re.IGNORECASE)
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(self, config: S3Config) -> None:
        import boto3
        from botocore.config import Config

        self.config = config
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint,
            region_name=config.region,
            aws_access_key_id=config.access_key,
            aws_secret_access_key=config.secret_key,
            config=Config(
                s3={"addressing_style": config.addressing_style},
                max_pool_connections=32,
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
                # Checksums only where S3 insists: ours is the MD5 (ETag); a CRC pass would read twice.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        self._known_buckets: set[str] = set()
        self._lock = threading.Lock()
        self._check_backing_bucket()

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        return cls(parse_s3_url(url))

    def __repr__(self) -> str:
        return f"S3Storage({self.config!r})"

    @property
    def client(self) -> Any:
        """The boto3 client (for benchmarks and tests that compare with direct access)."""
        return self._client

    def backing_key(self, bucket: str, key: str) -> str:
        return f"{self.config.prefix}{bucket}/{key}"

    # --- buckets ------------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        if self.bucket_exists(bucket):
            return False
        try:
            # If-None-Match: of two processes creating one bucket, one is told it already existed.
            self._client.put_object(
                Bucket=self.config.backing_bucket, Key=self.backing_key(bucket, ""), Body=b"", IfNoneMatch="*"
            )
        except self._client.exceptions.ClientError as error:
            if _code(error) not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise
            created = False
        else:
            created = True
        with self._lock:
            self._known_buckets.add(bucket)
        return created

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket(bucket)
        if bucket in self._known_buckets:
            return True
        answer = self._client.list_objects_v2(
            Bucket=self.config.backing_bucket, Prefix=self.backing_key(bucket, ""), MaxKeys=1
        )
        exists = bool(answer.get("Contents") or answer.get("CommonPrefixes"))
        if exists:
            with self._lock:
                self._known_buckets.add(bucket)
        return exists

    def list_buckets(self) -> list[str]:
        names: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.config.backing_bucket, Prefix=self.config.prefix, Delimiter="/")
        for page in pages:
            for entry in page.get("CommonPrefixes") or []:
                name = entry["Prefix"][len(self.config.prefix) : -1]
                if _is_bucket(name):
                    names.append(name)
        return sorted(names)

    # --- objects ------------------------------------------------------------------------------

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
        user_meta = normalize_user_meta(meta)
        stored_meta = {name: _header_safe(value) for name, value in user_meta.items()}
        if bucket not in self._known_buckets:
            self.create_bucket(bucket)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        with _seekable(data) as (body, size):
            if size > self.config.multipart_threshold:
                etag = self._put_multipart(bucket, key, body, size, content_type, stored_meta)
            else:
                etag = self._put_single(bucket, key, body, size, content_type, stored_meta)
        return ObjectMeta(bucket, key, size, etag, content_type, datetime.now(UTC), user_meta)

    def head(self, bucket: str, key: str) -> ObjectMeta | None:
        validate_bucket(bucket)
        validate_key(key)
        try:
            answer = self._client.head_object(Bucket=self.config.backing_bucket, Key=self.backing_key(bucket, key))
        except self._client.exceptions.ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise
        return _meta_of(bucket, key, answer)

    def open(self, bucket: str, key: str) -> BinaryIO:
        validate_bucket(bucket)
        validate_key(key)
        backing_key = self.backing_key(bucket, key)

        def get_object(range_header: str | None) -> Any:
            extra = {"Range": range_header} if range_header else {}
            return self._client.get_object(Bucket=self.config.backing_bucket, Key=backing_key, **extra)

        try:
            first = get_object(None)
        except self._client.exceptions.ClientError as error:
            if _code(error) in _MISSING:
                raise NoSuchKey(f"{bucket}/{key}") from None
            raise
        raw = S3RawReader(get_object, int(first["ContentLength"]), first)
        return io.BufferedReader(raw, buffer_size=CHUNK)

    def local_path(self, bucket: str, key: str) -> Path | None:
        return None

    def delete(self, bucket: str, key: str) -> bool:
        if self.head(bucket, key) is None:
            return False
        self._client.delete_object(Bucket=self.config.backing_bucket, Key=self.backing_key(bucket, key))
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
        """One ListObjects (V1: its marker is COS's marker) request per page, in the backend's order.

        The backend's own NextMarker is passed on, so paging stays consistent with the backend's
        ordering even where it is not byte order (SeaweedFS sorts ``b/`` before ``b-c.jpg``).
        On top, COS's rule that a marker inside a common prefix means that prefix was already
        returned, and common prefixes folded at the first delimiter (a backend that answers a
        deeper prefix for a marker inside a folder is corrected).
        """
        validate_bucket(bucket)
        limit = clamp_max_keys(max_keys)
        base = self.backing_key(bucket, "")
        swallowed = common_prefix(marker, prefix, delimiter) if marker.startswith(prefix) else None
        request: dict[str, Any] = {
            "Bucket": self.config.backing_bucket,
            "Prefix": base + prefix,
            # Starting after ``base`` leaves out the bucket's own marker object.
            "Marker": base + marker,
            "MaxKeys": max(limit, 1),
        }
        if delimiter:
            request["Delimiter"] = delimiter
        answer = self._client.list_objects(**request)
        truncated = bool(answer.get("IsTruncated"))
        if limit == 0:
            return ListResult([], [], bool(answer.get("Contents") or answer.get("CommonPrefixes")), "")
        objects: list[ObjectMeta] = []
        prefixes: list[str] = []
        for entry in answer.get("Contents") or []:
            key = entry["Key"][len(base) :]
            group = common_prefix(key, prefix, delimiter)
            if group is None:
                if key:
                    objects.append(_listed_meta(bucket, key, entry))
            elif group != swallowed and group not in prefixes:
                prefixes.append(group)
        for entry in answer.get("CommonPrefixes") or []:
            group = common_prefix(entry["Prefix"][len(base) :], prefix, delimiter)
            if group is not None and group != swallowed and group not in prefixes:
                prefixes.append(group)
        if not truncated:
            return ListResult(objects, prefixes, False, "")
        next_marker = str(answer.get("NextMarker") or "")[len(base) :]
        if not next_marker:  # S3 sends NextMarker only with a delimiter; else it is the last key
            contents = answer.get("Contents") or []
            next_marker = contents[-1]["Key"][len(base) :] if contents else max(prefixes, default="")
        return ListResult(objects, prefixes, True, next_marker)

    # --- uploads ------------------------------------------------------------------------------

    def _put_single(
        self, bucket: str, key: str, body: BinaryIO, size: int, content_type: str, user_meta: dict[str, str]
    ) -> str:
        start = body.tell()
        answer = self._client.put_object(
            Bucket=self.config.backing_bucket,
            Key=self.backing_key(bucket, key),
            Body=body,
            ContentLength=size,
            ContentType=content_type,
            Metadata=user_meta,
        )
        etag = str(answer.get("ETag", ""))
        if _PLAIN_ETAG.match(etag):
            return etag
        # Some stores (SSE-KMS on AWS) answer an ETag that is not the MD5; COS clients expect the MD5.
        body.seek(start)
        return quoted_etag(_md5(body))

    def _put_multipart(
        self, bucket: str, key: str, body: BinaryIO, size: int, content_type: str, user_meta: dict[str, str]
    ) -> str:
        start = body.tell()
        md5 = _md5(body)
        body.seek(start)
        target = {"Bucket": self.config.backing_bucket, "Key": self.backing_key(bucket, key)}
        upload = self._client.create_multipart_upload(
            **target, ContentType=content_type, Metadata={**user_meta, MD5_META: md5}
        )
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            number = 1
            while chunk := body.read(self.config.part_size):
                answer = self._client.upload_part(**target, UploadId=upload_id, PartNumber=number, Body=chunk)
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                number += 1
            self._client.complete_multipart_upload(**target, UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            with contextlib.suppress(Exception):
                self._client.abort_multipart_upload(**target, UploadId=upload_id)
            raise
        return quoted_etag(md5)

    def _check_backing_bucket(self) -> None:
        name = self.config.backing_bucket
        try:
            self._client.head_bucket(Bucket=name)
        except self._client.exceptions.ClientError as error:
            if _code(error) not in _MISSING and _code(error) != "NoSuchBucket":
                raise
            if not self.config.create_backing_bucket:
                raise ValueError(
                    f"the backing bucket {name!r} does not exist at {self.config.endpoint or 'AWS'}; "
                    "create it, or add create=1 to the storage URL"
                ) from None
            self._client.create_bucket(Bucket=name)


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_bucket(name: str) -> bool:
    try:
        validate_bucket(name)
    except ValueError:
        return False
    return True


def _meta_of(bucket: str, key: str, answer: Mapping[str, Any]) -> ObjectMeta:
    stored = {str(k).lower(): _from_header(str(v)) for k, v in (answer.get("Metadata") or {}).items()}
    md5 = stored.pop(MD5_META, None)
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=int(answer.get("ContentLength", 0)),
        etag=quoted_etag(md5) if md5 else str(answer.get("ETag", "")),
        content_type=str(answer.get("ContentType") or DEFAULT_CONTENT_TYPE),
        last_modified=_utc(answer["LastModified"]),
        meta=stored,
    )


def _listed_meta(bucket: str, key: str, entry: Mapping[str, Any]) -> ObjectMeta:
    """What ListObjects tells: no content type or user metadata (as on S3 and COS)."""
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=int(entry.get("Size", 0)),
        etag=str(entry.get("ETag", "")),
        content_type=DEFAULT_CONTENT_TYPE,
        last_modified=_utc(entry["LastModified"]),
    )


def _header_safe(value: str) -> str:
    """S3 metadata travels in headers and must be ASCII; other text goes as RFC 2047 (as S3 answers it)."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii") + "?="


def _from_header(value: str) -> str:
    match = _RFC2047.match(value)
    if match is None:
        return value
    try:
        return base64.b64decode(match.group(1), validate=True).decode("utf-8", "surrogatepass")
    except ValueError:
        return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _md5(body: BinaryIO) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := body.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _seekable(data: bytes | BinaryIO | Path) -> Iterator[tuple[BinaryIO, int]]:
    """The data as a seekable stream positioned at its start, and its length from there."""
    if isinstance(data, bytes | bytearray | memoryview):
        yield io.BytesIO(data), len(data)
        return
    if isinstance(data, Path):
        with data.open("rb") as source:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            yield source, size
            return
    try:
        if not data.seekable():
            raise OSError("not seekable")
        start = data.tell()
        end = data.seek(0, io.SEEK_END)
        data.seek(start)
    except (AttributeError, OSError, ValueError):
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(data, spool, CHUNK)
            size = spool.tell()
            spool.seek(0)
            yield spool, size
        return
    yield data, end - start
