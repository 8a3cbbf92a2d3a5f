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

import builtins
import contextlib
import io
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from wanxiang.storage.base import (
    DEFAULT_CONTENT_TYPE,
    BucketNotEmpty,
    InvalidObjectKey,
    ListResult,
    MultipartUpload,
    NoSuchKey,
    ObjectMeta,
    Part,
    normalize_headers,
    normalize_user_meta,
    quoted_etag,
)
from wanxiang.storage.keys import validate_bucket, validate_key
from wanxiang.storage.listing import clamp_max_keys, common_prefix
from wanxiang.storage.s3_attributes import (
    CHUNK,
    MD5_META,
    PLAIN_ETAG,
    error_code,
    listed_meta,
    md5_of,
    meta_of,
    object_attributes,
    seekable,
)
from wanxiang.storage.s3_client import open_client
from wanxiang.storage.s3_config import S3Config, parse_s3_url
from wanxiang.storage.s3_multipart import S3Multipart
from wanxiang.storage.s3_reader import S3RawReader

_MISSING = {"404", "NoSuchKey", "NotFound"}
# What stores answer for a key they cannot hold (SeaweedFS: '..\\' segments; MinIO: '//').
_KEY_REFUSED = {"InvalidRequest", "KeyTooLongError", "InvalidObjectName", "XMinioInvalidObjectName"}
MAX_COPY_SIZE = 5 << 30  # S3's limit for one CopyObject


class S3Storage:
    def __init__(self, config: S3Config) -> None:
        self.config = config
        self._client = open_client(config)
        self._known_buckets: set[str] = set()
        self._lock = threading.Lock()
        self._check_backing_bucket()
        self._multipart = S3Multipart(self)

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

    def remember_bucket(self, bucket: str) -> None:
        with self._lock:
            self._known_buckets.add(bucket)

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
            if error_code(error) not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
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
                # SeaweedFS keeps an emptied folder in listings: a deleted bucket must not show.
                if _is_bucket(name) and self.bucket_exists(name):
                    names.append(name)
        return sorted(names)

    def delete_bucket(self, bucket: str) -> bool:
        """Only an empty bucket; its unfinished uploads are aborted. Other processes may still take the
        bucket for existing until their next restart (they remember buckets they have seen)."""
        validate_bucket(bucket)
        base = self.backing_key(bucket, "")
        answer = self._client.list_objects(Bucket=self.config.backing_bucket, Prefix=base, Marker=base, MaxKeys=1)
        if answer.get("Contents") or answer.get("CommonPrefixes"):
            raise BucketNotEmpty(bucket)
        existed = bucket in self._known_buckets or self._head_answer_raw(base) is not None
        self._multipart.drop_bucket_uploads(bucket)
        self._client.delete_object(Bucket=self.config.backing_bucket, Key=base)
        with self._lock:
            self._known_buckets.discard(bucket)
        return existed

    def _head_answer_raw(self, backing_key: str) -> dict[str, Any] | None:
        try:
            answer: dict[str, Any] = self._client.head_object(Bucket=self.config.backing_bucket, Key=backing_key)
        except self._client.exceptions.ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise
        return answer

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
        user_meta, standard = normalize_user_meta(meta), normalize_headers(headers)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        attributes = object_attributes(content_type, user_meta, standard)
        if bucket not in self._known_buckets:
            self.create_bucket(bucket)
        with seekable(data) as (body, size):
            if size > self.config.multipart_threshold:
                etag = self._put_multipart(bucket, key, body, attributes)
            else:
                etag = self._put_single(bucket, key, body, size, attributes)
        return ObjectMeta(bucket, key, size, etag, content_type, datetime.now(UTC), user_meta, standard)

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace: tuple[str, Mapping[str, str], Mapping[str, str]] | None = None,
    ) -> ObjectMeta:
        """A server-side CopyObject: the bytes never pass through wanxiang."""
        validate_bucket(bucket)
        validate_key(key)
        source = self._head_answer(source_bucket, source_key)
        if source is None:
            raise NoSuchKey(f"{source_bucket}/{source_key}")
        if int(source.get("ContentLength", 0)) > MAX_COPY_SIZE:
            raise NotImplementedError("copying objects above 5 GB (a multipart copy) is not implemented for S3")
        if bucket not in self._known_buckets:
            self.create_bucket(bucket)
        current = meta_of(source_bucket, source_key, source)
        content_type, meta, headers = replace or (current.content_type, current.meta, current.headers)
        attributes = object_attributes(content_type, normalize_user_meta(meta), normalize_headers(headers))
        # A copy is a plain object with an MD5 ETag (as on COS). S3 copies the source's ETag, which
        # for a multipart source is not the MD5: then the MD5 is read once from the source.
        md5 = (source.get("Metadata") or {}).get(MD5_META)
        if md5 is None and not PLAIN_ETAG.match(str(source.get("ETag", ""))):
            with self.open(source_bucket, source_key) as stream:
                md5 = md5_of(stream)
        if md5:
            attributes["Metadata"][MD5_META] = md5
        request: dict[str, Any] = {
            "Bucket": self.config.backing_bucket,
            "Key": self.backing_key(bucket, key),
            "CopySource": {"Bucket": self.config.backing_bucket, "Key": self.backing_key(source_bucket, source_key)},
            # REPLACE always: S3 copies an object onto itself only so, and the COS multipart ETag stays behind.
            "MetadataDirective": "REPLACE",
            **attributes,
        }
        self._client.copy_object(**request)
        copied = self.head(bucket, key)
        if copied is None:  # deleted again in between by another client
            raise NoSuchKey(f"{bucket}/{key}")
        return copied

    def head(self, bucket: str, key: str) -> ObjectMeta | None:
        answer = self._head_answer(bucket, key)
        return None if answer is None else meta_of(bucket, key, answer)

    def _head_answer(self, bucket: str, key: str) -> dict[str, Any] | None:
        validate_bucket(bucket)
        validate_key(key)
        try:
            answer: dict[str, Any] = self._client.head_object(
                Bucket=self.config.backing_bucket, Key=self.backing_key(bucket, key)
            )
        except self._client.exceptions.ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise
        return answer

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
            if error_code(error) in _MISSING:
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
                    objects.append(listed_meta(bucket, key, entry))
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

    def _put_single(self, bucket: str, key: str, body: BinaryIO, size: int, attributes: dict[str, Any]) -> str:
        start = body.tell()
        try:
            answer = self._client.put_object(
                Bucket=self.config.backing_bucket, Key=self.backing_key(bucket, key), Body=body, ContentLength=size,
                **attributes,
            )
        except self._client.exceptions.ClientError as error:
            if error_code(error) in _KEY_REFUSED:
                raise InvalidObjectKey(f"the storage refuses the key {key!r}: {error_code(error)}") from None
            raise
        etag = str(answer.get("ETag", ""))
        if PLAIN_ETAG.match(etag):
            return etag
        # Some stores (SSE-KMS on AWS) answer an ETag that is not the MD5; COS clients expect the MD5.
        body.seek(start)
        return quoted_etag(md5_of(body))

    def _put_multipart(self, bucket: str, key: str, body: BinaryIO, attributes: dict[str, Any]) -> str:
        start = body.tell()
        md5 = md5_of(body)
        body.seek(start)
        target = {"Bucket": self.config.backing_bucket, "Key": self.backing_key(bucket, key)}
        attributes = {**attributes, "Metadata": {**attributes["Metadata"], MD5_META: md5}}
        upload = self._client.create_multipart_upload(**target, **attributes)
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

    # --- COS multipart uploads (s3_multipart) -------------------------------------------------

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
        return self._multipart.create(bucket, key, content_type=content_type, meta=meta, headers=headers, options=options)

    def get_multipart_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload:
        return self._multipart.get(bucket, key, upload_id)

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes | BinaryIO | Path
    ) -> Part:
        return self._multipart.upload_part(bucket, key, upload_id, part_number, data)

    def list_parts(self, bucket: str, key: str, upload_id: str) -> builtins.list[Part]:
        return self._multipart.list_parts(bucket, key, upload_id)

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ObjectMeta:
        return self._multipart.complete(bucket, key, upload_id, parts)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._multipart.abort(bucket, key, upload_id)

    def list_multipart_uploads(self, bucket: str, *, prefix: str = "") -> builtins.list[MultipartUpload]:
        return self._multipart.list_uploads(bucket, prefix=prefix)

    def expire_multipart_uploads(self, older_than: datetime) -> int:
        return self._multipart.expire(older_than)

    def _check_backing_bucket(self) -> None:
        name = self.config.backing_bucket
        try:
            self._client.head_bucket(Bucket=name)
        except self._client.exceptions.ClientError as error:
            if error_code(error) not in _MISSING and error_code(error) != "NoSuchBucket":
                raise
            if not self.config.create_backing_bucket:
                raise ValueError(
                    f"the backing bucket {name!r} does not exist at {self.config.endpoint or 'AWS'}; "
                    "create it, or add create=1 to the storage URL"
                ) from None
            self._client.create_bucket(Bucket=name)


def _is_bucket(name: str) -> bool:
    try:
        validate_bucket(name)
    except ValueError:
        return False
    return True
