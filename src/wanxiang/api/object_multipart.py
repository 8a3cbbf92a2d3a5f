"""COS multipart upload on the wire: initiate, upload part (and part copy), complete, abort, lists.

Handlers here speak HTTP and call the storage; what happens once a completed object exists
(Pic-Operations given on initiate, workflow triggers) is the object routes' upload sequence.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import IO

from starlette.responses import Response

from wanxiang.api.digest import check_content_md5
from wanxiang.api.object_copy import read_copy_source
from wanxiang.api.object_headers import upload_attributes
from wanxiang.api.request import ApiRequest
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.storage.base import (
    InvalidPart,
    MultipartUpload,
    NoSuchUpload,
    ObjectMeta,
    ObjectStorage,
    check_part_number,
)
from wanxiang.storage.listing import common_prefix
from wanxiang.wire.xml import parse_request, render

XML = "application/xml"
MAX_COMPLETE_BODY = 2 << 20  # 10,000 <Part> entries fit
SWEEP_EVERY_SECONDS = 600.0
PIC_OPERATIONS = "pic-operations"


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except NoSuchUpload as exc:
        raise CIError(404, "NoSuchUpload", f"The upload {exc.args[0] if exc.args else ''} does not exist.") from exc
    except InvalidPart as exc:
        raise CIError(400, exc.code, str(exc)) from exc


class MultipartApi:
    def __init__(self, storage: ObjectStorage, *, expiry_seconds: float) -> None:
        self.storage = storage
        self.expiry = timedelta(seconds=expiry_seconds)
        self._last_sweep: float | None = None

    def initiate(self, req: ApiRequest, key: str) -> Response:
        self._sweep()
        content_type, meta, headers = upload_attributes(req)
        options = {PIC_OPERATIONS: req.header(PIC_OPERATIONS)} if req.header(PIC_OPERATIONS) else {}
        upload = self.storage.create_multipart_upload(
            req.ctx.bucket_id, key, content_type=content_type, meta=meta, headers=headers, options=options
        )
        tree: Tree = {"Bucket": upload.bucket, "Key": upload.key, "UploadId": upload.upload_id}
        return Response(render("InitiateMultipartUploadResult", tree), media_type=XML)

    def upload_part(self, req: ApiRequest, key: str) -> Response:
        bucket = req.ctx.bucket_id
        upload_id = req.params.get("uploadId", "")
        number = _part_number(req.params.get("partNumber", ""))
        with storage_errors():
            self.storage.get_multipart_upload(bucket, key, upload_id)  # 404 before reading a source
            if req.header("x-cos-copy-source"):
                with read_copy_source(self.storage, req, req.header("x-cos-copy-source-range")) as source:
                    part = self.storage.upload_part(bucket, key, upload_id, number, source)
                tree: Tree = {"ETag": part.etag, "LastModified": _iso(part.last_modified)}
                return Response(render("CopyPartResult", tree), media_type=XML, headers={"ETag": part.etag})
            assert req.body_file is not None
            check_content_md5(req.body_file, req.header("content-md5"))
            part = self.storage.upload_part(bucket, key, upload_id, number, req.body_file)  # type: ignore[arg-type]
        return Response(b"", status_code=200, headers={"ETag": part.etag})

    def complete(self, req: ApiRequest, key: str) -> tuple[ObjectMeta, MultipartUpload]:
        """Store the object; the caller runs the upload sequence and answers with ``complete_result``."""
        body = _read_bounded(req.body_file, MAX_COMPLETE_BODY)
        tree = parse_request(body, root="CompleteMultipartUpload", max_bytes=MAX_COMPLETE_BODY)
        raw_parts = tree.get("Part", [])
        entries = raw_parts if isinstance(raw_parts, list) else [raw_parts]
        parts: list[tuple[int, str]] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise CIError(400, "MalformedXML", "Each <Part> needs <PartNumber> and <ETag>.")
            parts.append((_part_number(str(entry.get("PartNumber", ""))), str(entry.get("ETag", ""))))
        with storage_errors():
            upload = self.storage.get_multipart_upload(req.ctx.bucket_id, key, req.params.get("uploadId", ""))
            meta = self.storage.complete_multipart_upload(req.ctx.bucket_id, key, upload.upload_id, parts)
        return meta, upload

    def abort(self, req: ApiRequest, key: str) -> Response:
        with storage_errors():
            self.storage.abort_multipart_upload(req.ctx.bucket_id, key, req.params.get("uploadId", ""))
        return Response(b"", status_code=204)

    def list_parts(self, req: ApiRequest, key: str) -> Response:
        p = req.params
        marker = _int_param(p, "part-number-marker", 0)
        limit = min(_int_param(p, "max-parts", 1000), 1000)
        with storage_errors():
            upload = self.storage.get_multipart_upload(req.ctx.bucket_id, key, p.get("uploadId", ""))
            parts = [part for part in self.storage.list_parts(upload.bucket, key, upload.upload_id) if part.number > marker]
        page, truncated = parts[:limit], len(parts) > limit
        owner = _owner(upload.bucket)
        tree: Tree = {
            "Bucket": upload.bucket,
            "Encoding-type": p.get("encoding-type", ""),
            "Key": key,
            "UploadId": upload.upload_id,
            "Initiator": owner,
            "Owner": owner,
            "StorageClass": "STANDARD",
            "PartNumberMarker": str(marker),
            "NextPartNumberMarker": str(page[-1].number if page else marker),
            "MaxParts": str(limit),
            "IsTruncated": "true" if truncated else "false",
        }
        if page:
            tree["Part"] = [
                {"PartNumber": str(x.number), "LastModified": _iso(x.last_modified), "ETag": x.etag, "Size": str(x.size)}
                for x in page
            ]
        return Response(render("ListPartsResult", tree), media_type=XML)

    def list_uploads(self, req: ApiRequest) -> Response:
        p = req.params
        bucket = req.ctx.bucket_id
        prefix, delimiter = p.get("prefix", ""), p.get("delimiter", "")
        key_marker, id_marker = p.get("key-marker", ""), p.get("upload-id-marker", "")
        limit = min(_int_param(p, "max-uploads", 1000), 1000)
        uploads: list[Tree] = []
        prefixes: list[str] = []
        truncated = False
        next_key = next_id = ""
        for upload in self.storage.list_multipart_uploads(bucket, prefix=prefix):
            if upload.key < key_marker or (
                upload.key == key_marker and (not id_marker or upload.upload_id <= id_marker)
            ):
                continue
            group = common_prefix(upload.key, prefix, delimiter)
            if group is not None and prefixes and prefixes[-1] == group:
                continue
            if len(uploads) + len(prefixes) >= limit:
                truncated = True
                break
            if group is not None:
                prefixes.append(group)
                next_key, next_id = group, ""
                continue
            owner = _owner(bucket)
            uploads.append(
                {
                    "Key": upload.key,
                    "UploadId": upload.upload_id,
                    "StorageClass": "STANDARD",
                    "Initiator": owner,
                    "Owner": owner,
                    "Initiated": _iso(upload.initiated),
                }
            )
            next_key, next_id = upload.key, upload.upload_id
        tree: Tree = {
            "Bucket": bucket,
            "Encoding-Type": p.get("encoding-type", ""),
            "KeyMarker": key_marker,
            "UploadIdMarker": id_marker,
            "MaxUploads": str(limit),
            "Prefix": prefix,
            "Delimiter": delimiter,
            "IsTruncated": "true" if truncated else "false",
        }
        if truncated:
            tree["NextKeyMarker"] = next_key
            tree["NextUploadIdMarker"] = next_id
        if uploads:
            tree["Upload"] = uploads
        if prefixes:
            tree["CommonPrefixes"] = [{"Prefix": group} for group in prefixes]
        return Response(render("ListMultipartUploadsResult", tree), media_type=XML)

    def _sweep(self) -> None:
        """Now and then, drop uploads older than the configured age (clients that never finished)."""
        now = time.monotonic()
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_EVERY_SECONDS:
            return
        self._last_sweep = now
        self.storage.expire_multipart_uploads(datetime.now(UTC) - self.expiry)


def complete_result(req: ApiRequest, meta: ObjectMeta, processed: Tree | None = None) -> Response:
    """``CompleteMultipartUploadResult``; with Pic-Operations it also carries the UploadResult nodes
    (``OriginalInfo``, ``ProcessResults``) beside the ETag the SDK insists on."""
    tree: Tree = {
        "Location": f"{req.header('host')}/{meta.key}",
        "Bucket": meta.bucket,
        "Key": meta.key,
        "ETag": meta.etag,
    }
    tree.update(processed or {})
    return Response(render("CompleteMultipartUploadResult", tree), media_type=XML, headers={"ETag": meta.etag})


def _part_number(raw: str) -> int:
    if not raw.strip().isdigit():
        raise invalid_argument(f"partNumber must be an integer from 1 to 10000, not {raw!r}.")
    with storage_errors():
        return check_part_number(int(raw))


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        raise invalid_argument(f"{name} must be a non-negative integer, not {raw!r}.")
    return int(raw)


def _read_bounded(body: IO[bytes] | None, limit: int) -> bytes:
    if body is None:
        return b""
    data = body.read(limit + 1)
    if len(data) > limit:
        raise CIError(400, "EntityTooLarge", f"The request body exceeds {limit} bytes.")
    return data


def _owner(bucket: str) -> Tree:
    appid = bucket.rsplit("-", 1)[-1]
    return {"ID": f"qcs::cam::uin/{appid}:uin/{appid}", "DisplayName": appid}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

