"""COS multipart uploads on an S3 store: parts staged as objects, assembled by the store's multipart.

COS takes parts from 1 MB; S3 stores (AWS, MinIO, SeaweedFS) refuse parts under 5 MB but the last.
So each COS part is first stored, streamed, as its own object beside the uploads:

    <prefix>_uploads/<bucket>/<upload id>.json     content type, metadata, headers, options, key
    <prefix>_uploads/<bucket>/<upload id>/<n>      part n (its ETag is its MD5, as COS's)

(``_`` is in no bucket name). Completion checks the parts with COS's rules, then builds
the object with one S3 multipart upload: a part of at least 5 MB becomes an S3 part by
``UploadPartCopy`` inside the store (its bytes never pass through wanxiang); runs of smaller parts
are read through wanxiang, concatenated into S3 parts of 5 to 10 MB (spooled: the client signs
the body over plain HTTP). The object carries COS's
multipart ETag (MD5 of the parts' MD5s, ``-<count>``) in ``wanxiang-etag`` metadata, since the S3
parts are not the client's parts. Until completion nothing is visible at the key.
"""

from __future__ import annotations

import builtins
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
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
    new_upload,
)
from wanxiang.storage.keys import validate_bucket, validate_key
from wanxiang.storage.s3_attributes import CHUNK, ETAG_META, object_attributes, seekable, utc

if TYPE_CHECKING:
    from wanxiang.storage.s3 import S3Storage

UPLOADS = "_uploads/"  # not "." : SeaweedFS hides names starting with a dot from listings
S3_MIN_PART = 5 << 20
_UPLOAD_ID = re.compile(r"^[0-9a-f]{48}$")


class S3Multipart:
    def __init__(self, storage: S3Storage) -> None:
        self._storage = storage
        self._client = storage.client
        self._bucket = storage.config.backing_bucket

    def create(
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
        record = {
            "key": key,
            "initiated": upload.initiated.isoformat(),
            "content_type": upload.content_type,
            "meta": upload.meta,
            "headers": upload.headers,
            "options": upload.options,
        }
        self._put(self._record_key(bucket, upload.upload_id), json.dumps(record).encode())
        return upload

    def get(self, bucket: str, key: str, upload_id: str) -> MultipartUpload:
        validate_bucket(bucket)
        validate_key(key)
        upload = self._read_record(bucket, upload_id)
        if upload is None or upload.key != key:
            raise NoSuchUpload(upload_id)
        return upload

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes | BinaryIO | Path
    ) -> Part:
        check_part_number(part_number)
        self.get(bucket, key, upload_id)
        with seekable(data) as (body, size):
            answer = self._client.put_object(
                Bucket=self._bucket, Key=self._part_key(bucket, upload_id, part_number), Body=body, ContentLength=size
            )
        return Part(part_number, str(answer["ETag"]), size, datetime.now(UTC))

    def list_parts(self, bucket: str, key: str, upload_id: str) -> builtins.list[Part]:
        self.get(bucket, key, upload_id)
        parts = [
            Part(int(item["Key"].rpartition("/")[2]), str(item["ETag"]), int(item["Size"]), utc(item["LastModified"]))
            for item in self._objects(self._part_key(bucket, upload_id, None))
        ]
        return sorted(parts, key=lambda p: p.number)

    def complete(self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> ObjectMeta:
        upload = self.get(bucket, key, upload_id)
        chosen = check_completion(parts, {p.number: p for p in self.list_parts(bucket, key, upload_id)})
        etag = multipart_etag([p.etag.strip('"') for p in chosen])
        attributes = object_attributes(upload.content_type, upload.meta, upload.headers)
        attributes["Metadata"][ETAG_META] = etag.strip('"')
        target = {"Bucket": self._bucket, "Key": self._storage.backing_key(bucket, key)}
        s3_upload = self._client.create_multipart_upload(**target, **attributes)["UploadId"]
        try:
            s3_parts = []
            for number, group in enumerate(_groups(chosen), start=1):
                s3_parts.append({"PartNumber": number, "ETag": self._assemble(bucket, upload_id, group, target, s3_upload, number)})
            self._client.complete_multipart_upload(**target, UploadId=s3_upload, MultipartUpload={"Parts": s3_parts})
        except BaseException:
            self._client.abort_multipart_upload(**target, UploadId=s3_upload)
            raise
        self._drop(bucket, upload_id)
        self._storage.remember_bucket(bucket)
        meta = self._storage.head(bucket, key)
        if meta is None:  # deleted by another client at once
            raise NoSuchUpload(upload_id)
        return meta

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        self.get(bucket, key, upload_id)
        self._drop(bucket, upload_id)

    def list_uploads(self, bucket: str, *, prefix: str = "") -> builtins.list[MultipartUpload]:
        validate_bucket(bucket)
        found = [u for u in self._uploads_of(bucket) if u.key.startswith(prefix)]
        return sorted(found, key=lambda u: (u.key, u.initiated, u.upload_id))

    def expire(self, older_than: datetime) -> int:
        removed = 0
        root = self._storage.config.prefix + UPLOADS
        answer = self._client.list_objects_v2(Bucket=self._bucket, Prefix=root, Delimiter="/")
        for entry in answer.get("CommonPrefixes") or []:
            bucket = entry["Prefix"][len(root) : -1]
            for upload in self._uploads_of(bucket):
                if upload.initiated < older_than:
                    self._drop(bucket, upload.upload_id)
                    removed += 1
        return removed

    def drop_bucket_uploads(self, bucket: str) -> None:
        for item in self._objects(self._record_key(bucket, "")):
            self._client.delete_object(Bucket=self._bucket, Key=item["Key"])

    # --- plumbing -----------------------------------------------------------------------------

    def _assemble(
        self, bucket: str, upload_id: str, group: list[Part], target: dict[str, str], s3_upload: str, number: int
    ) -> str:
        """One S3 part from one big staged part (copied inside the store) or from a run of small ones."""
        if len(group) == 1 and group[0].size >= S3_MIN_PART:
            source = {"Bucket": self._bucket, "Key": self._part_key(bucket, upload_id, group[0].number)}
            answer = self._client.upload_part_copy(**target, UploadId=s3_upload, PartNumber=number, CopySource=source)
            return str(answer["CopyPartResult"]["ETag"])
        # A run is under 10 MB (small parts until 5 MB): spooled, so the client can sign and resend it.
        with tempfile.SpooledTemporaryFile(max_size=CHUNK) as spool:
            for part in group:
                body = self._open(self._part_key(bucket, upload_id, part.number))
                try:
                    shutil.copyfileobj(body, spool, CHUNK)
                finally:
                    body.close()
            size = spool.tell()
            spool.seek(0)
            answer = self._client.upload_part(**target, UploadId=s3_upload, PartNumber=number, Body=spool, ContentLength=size)
        return str(answer["ETag"])

    def _uploads_of(self, bucket: str) -> Iterator[MultipartUpload]:
        for item in self._objects(self._record_key(bucket, "")):
            name = item["Key"].rpartition("/")[2]
            if name.endswith(".json"):
                upload = self._read_record(bucket, name[: -len(".json")])
                if upload is not None:
                    yield upload

    def _read_record(self, bucket: str, upload_id: str) -> MultipartUpload | None:
        if not _UPLOAD_ID.match(upload_id):
            return None
        try:
            body = self._open(self._record_key(bucket, upload_id))
        except self._client.exceptions.NoSuchKey:
            return None
        try:
            record = json.loads(body.read())
        finally:
            body.close()
        return MultipartUpload(
            bucket=bucket,
            key=str(record["key"]),
            upload_id=upload_id,
            initiated=datetime.fromisoformat(record["initiated"]),
            content_type=str(record.get("content_type") or DEFAULT_CONTENT_TYPE),
            meta=dict(record.get("meta") or {}),
            headers=dict(record.get("headers") or {}),
            options=dict(record.get("options") or {}),
        )

    def _drop(self, bucket: str, upload_id: str) -> None:
        for item in self._objects(self._part_key(bucket, upload_id, None)):
            self._client.delete_object(Bucket=self._bucket, Key=item["Key"])
        self._client.delete_object(Bucket=self._bucket, Key=self._record_key(bucket, upload_id))

    def _record_key(self, bucket: str, upload_id: str) -> str:
        name = f"{upload_id}.json" if upload_id else ""
        return f"{self._storage.config.prefix}{UPLOADS}{bucket}/{name}"

    def _part_key(self, bucket: str, upload_id: str, number: int | None) -> str:
        return f"{self._storage.config.prefix}{UPLOADS}{bucket}/{upload_id}/{'' if number is None else number}"

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            yield from page.get("Contents") or []

    def _put(self, key: str, body: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body)

    def _open(self, key: str) -> Any:
        return self._client.get_object(Bucket=self._bucket, Key=key)["Body"]


def _groups(parts: Sequence[Part]) -> Iterator[list[Part]]:
    """Consecutive parts in runs of at least 5 MB (the last run may be smaller); a part of 5 MB or more
    that starts a run stands alone, so it can be copied inside the store."""
    run: list[Part] = []
    for part in parts:
        if not run and part.size >= S3_MIN_PART:
            yield [part]
            continue
        run.append(part)
        if sum(p.size for p in run) >= S3_MIN_PART:
            yield run
            run = []
    if run:
        yield run
