"""The COS object API, enough for the SDK: buckets, objects (Range, ETag, metadata), listings.

Image processing on download (``GET /key?imageMogr2/...``) and on upload (``Pic-Operations``)
hook in through ``ObjectHooks`` so this module stays about objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from starlette.responses import Response, StreamingResponse

from wanxiang.api.digest import check_content_md5
from wanxiang.api.object_copy import copy_object, delete_objects
from wanxiang.api.object_headers import apply_overrides, not_modified, object_headers, upload_attributes
from wanxiang.api.object_multipart import MultipartApi, complete_result, storage_errors, with_options
from wanxiang.api.request import ApiRequest
from wanxiang.api.router import Router
from wanxiang.api.services_bundle import Services
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.storage.base import BucketNotEmpty, InvalidBucketName, InvalidObjectKey, ObjectMeta
from wanxiang.wire.xml import parse_request, render

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

# A hook gets the request (and the stored object for uploads) and may answer instead of the default.
DownloadHook = Callable[[ApiRequest, ObjectMeta], Response | None]
UploadHook = Callable[[ApiRequest, ObjectMeta], Response | None]
PostHook = Callable[[ApiRequest], Response | None]


@dataclass
class ObjectHooks:
    # Checked before an upload is stored: raise CIError to refuse it with nothing written.
    before_upload: list[Callable[[ApiRequest], None]] = field(default_factory=list)
    download: list[DownloadHook] = field(default_factory=list)
    upload: list[UploadHook] = field(default_factory=list)
    post: list[PostHook] = field(default_factory=list)
    # Called after every successful object write (workflow triggers listen here).
    written: list[Callable[[ApiRequest, ObjectMeta], None]] = field(default_factory=list)
    # Asked first on GET, PUT and DELETE, bucket root included: a hook may answer the request
    # itself (bucket sub-resources such as ``/?style``, style downloads such as ``/key!name``).
    request: list[PostHook] = field(default_factory=list)


def register(router: Router, services: Services, hooks: ObjectHooks) -> None:
    objects = _ObjectRoutes(services, hooks)
    router.fallback.update(
        {
            "GET": objects.get,
            "HEAD": objects.head,
            "PUT": objects.put,
            "DELETE": objects.delete,
            "POST": objects.post,
        }
    )


def _key(req: ApiRequest) -> str:
    return req.path[1:] if req.path.startswith("/") else req.path


def _storage_errors(fn: Callable[[], Response]) -> Response:
    try:
        return fn()
    except InvalidObjectKey as exc:
        raise CIError(400, "InvalidURI", f"The object key is not allowed: {exc}") from exc
    except InvalidBucketName as exc:
        raise CIError(400, "InvalidBucketName", str(exc)) from exc


class _ObjectRoutes:
    def __init__(self, services: Services, hooks: ObjectHooks) -> None:
        self.storage = services.storage
        self.services = services
        self.hooks = hooks
        self.multipart = MultipartApi(services.storage, expiry_seconds=services.settings.multipart_expiry_seconds)

    # -- bucket level ----------------------------------------------------------------------------

    def _list(self, req: ApiRequest) -> Response:
        bucket = req.ctx.bucket_id
        if not self.storage.bucket_exists(bucket):
            raise CIError(404, "NoSuchBucket", f"The bucket {bucket} does not exist.")
        p = req.params
        raw_max = p.get("max-keys", "1000") or "1000"
        if not raw_max.isdigit():
            raise invalid_argument(f"max-keys must be an integer, not {raw_max!r}.")
        max_keys = min(int(raw_max), 1000)
        prefix, delimiter, marker = p.get("prefix", ""), p.get("delimiter", ""), p.get("marker", "")
        result = self.storage.list(bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)
        tree: Tree = {
            "Name": bucket,
            "Prefix": prefix,
            "Marker": marker,
            "MaxKeys": str(max_keys),
            "Delimiter": delimiter,
            "IsTruncated": "true" if result.is_truncated else "false",
        }
        if result.is_truncated:
            tree["NextMarker"] = result.next_marker
        if result.common_prefixes:
            tree["CommonPrefixes"] = [{"Prefix": cp} for cp in result.common_prefixes]
        if result.objects:
            tree["Contents"] = [
                {
                    "Key": o.key,
                    "LastModified": o.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "ETag": o.etag,
                    "Size": str(o.size),
                    "Owner": {"ID": bucket.rsplit("-", 1)[-1], "DisplayName": bucket.rsplit("-", 1)[-1]},
                    "StorageClass": "STANDARD",
                }
                for o in result.objects
            ]
        return Response(render("ListBucketResult", tree), media_type="application/xml")

    # -- verbs ---------------------------------------------------------------------------------

    def _hooked(self, req: ApiRequest) -> Response | None:
        for hook in self.hooks.request:
            answer = hook(req)
            if answer is not None:
                return answer
        return None

    def get(self, req: ApiRequest) -> Response:
        if (answer := self._hooked(req)) is not None:
            return answer
        if req.path == "/":
            if req.has_flag("uploads"):
                return _storage_errors(lambda: self.multipart.list_uploads(req))
            return _storage_errors(lambda: self._list(req))
        if "uploadId" in req.params:
            return _storage_errors(lambda: self.multipart.list_parts(req, _key(req)))
        return _storage_errors(lambda: self._get(req, head=False))

    def head(self, req: ApiRequest) -> Response:
        if req.path == "/":
            if not self.storage.bucket_exists(req.ctx.bucket_id):
                raise CIError(404, "NoSuchBucket", f"The bucket {req.ctx.bucket_id} does not exist.")
            return Response(b"", status_code=200)
        return _storage_errors(lambda: self._get(req, head=True))

    def _meta(self, req: ApiRequest) -> ObjectMeta:
        key = _key(req)
        meta = self.storage.head(req.ctx.bucket_id, key)
        if meta is None:
            raise CIError(404, "NoSuchKey", f"The specified key does not exist: {key}")
        return meta

    def _get(self, req: ApiRequest, *, head: bool) -> Response:
        meta = self._meta(req)
        if not head:
            for hook in self.hooks.download:
                answer = hook(req, meta)
                if answer is not None:
                    return answer
        headers = object_headers(meta)
        if not_modified(req, meta):
            kept = {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
            return Response(b"", status_code=304, headers=kept)
        apply_overrides(req.params, headers)
        start, end = 0, meta.size - 1
        status = 200
        range_header = req.header("range")
        if range_header and not head:
            start, end = _parse_range(range_header, meta.size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{meta.size}"
        length = max(end - start + 1, 0)
        headers["Content-Length"] = str(length)
        if head:
            return Response(b"", status_code=200, headers=headers)
        stream = self.storage.open(req.ctx.bucket_id, meta.key)
        return StreamingResponse(_chunks(stream, start, length), status_code=status, headers=headers)

    def put(self, req: ApiRequest) -> Response:
        if (answer := self._hooked(req)) is not None:
            return answer
        if req.path == "/":
            return _storage_errors(lambda: self._create_bucket(req))
        return _storage_errors(lambda: self._put(req))

    def _create_bucket(self, req: ApiRequest) -> Response:
        ctx = req.ctx
        created = self.storage.create_bucket(ctx.bucket_id)
        self.services.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.services.jobs.clock())
        if not created:
            raise CIError(409, "BucketAlreadyOwnedByYou", f"The bucket {ctx.bucket_id} already exists.")
        return Response(b"", status_code=200)

    def _put(self, req: ApiRequest) -> Response:
        assert req.body_file is not None
        if "uploadId" in req.params or "partNumber" in req.params:
            return self.multipart.upload_part(req, _key(req))
        if req.header("x-cos-copy-source"):
            meta, copied = copy_object(self.storage, req, _key(req))
            for listener in self.hooks.written:
                listener(req, meta)
            return copied
        check_content_md5(req.body_file, req.header("content-md5"))
        for check in self.hooks.before_upload:
            check(req)
        content_type, user_meta, standard = upload_attributes(req)
        meta = self.storage.put(
            req.ctx.bucket_id,
            _key(req),
            req.body_file,  # type: ignore[arg-type]
            content_type=content_type,
            meta=user_meta,
            headers=standard,
        )
        return self._uploaded(req, meta)

    def _uploaded(self, req: ApiRequest, meta: ObjectMeta, *, completed: bool = False) -> Response:
        """After an object is stored (PUT or a completed multipart upload): Pic-Operations, then
        workflow triggers."""
        answer: Response | None = None
        for hook in self.hooks.upload:
            answer = hook(req, meta)
            if answer is not None:
                break
        for listener in self.hooks.written:
            listener(req, meta)
        if completed:
            processed = parse_request(bytes(answer.body), root="UploadResult") if answer is not None else None
            return complete_result(req, meta, processed)
        if answer is not None:
            answer.headers["ETag"] = meta.etag
            return answer
        return Response(b"", status_code=200, headers={"ETag": meta.etag})

    def delete(self, req: ApiRequest) -> Response:
        if (answer := self._hooked(req)) is not None:
            return answer
        if req.path == "/":
            return _storage_errors(lambda: self._delete_bucket(req))
        if "uploadId" in req.params:
            return _storage_errors(lambda: self.multipart.abort(req, _key(req)))
        return _storage_errors(lambda: self._delete(req))

    def _delete(self, req: ApiRequest) -> Response:
        self.storage.delete(req.ctx.bucket_id, _key(req))
        return Response(b"", status_code=204)

    def _delete_bucket(self, req: ApiRequest) -> Response:
        bucket = req.ctx.bucket_id
        try:
            deleted = self.storage.delete_bucket(bucket)
        except BucketNotEmpty:
            raise CIError(409, "BucketNotEmpty", f"The bucket {bucket} is not empty.") from None
        if not deleted:
            raise CIError(404, "NoSuchBucket", f"The bucket {bucket} does not exist.")
        return Response(b"", status_code=204)

    def _initiate(self, req: ApiRequest) -> Response:
        for check in self.hooks.before_upload:  # a bad Pic-Operations fails now, not after the upload
            check(req)
        return self.multipart.initiate(req, _key(req))

    def _complete(self, req: ApiRequest) -> Response:
        with storage_errors():
            meta, upload = self.multipart.complete(req, _key(req))
        as_uploaded = with_options(req, upload)
        for check in self.hooks.before_upload:
            check(as_uploaded)
        return self._uploaded(as_uploaded, meta, completed=True)

    def post(self, req: ApiRequest) -> Response:
        if req.path == "/" and req.has_flag("delete"):
            assert req.body_file is not None
            check_content_md5(req.body_file, req.header("content-md5"))
            return _storage_errors(lambda: delete_objects(self.storage, req))
        if req.path != "/" and req.has_flag("uploads"):
            return _storage_errors(lambda: self._initiate(req))
        if req.path != "/" and "uploadId" in req.params:
            return _storage_errors(lambda: self._complete(req))
        for hook in self.hooks.post:
            answer = hook(req)
            if answer is not None:
                return answer
        raise CIError(405, "MethodNotAllowed", f"POST is not supported on {req.path} with these parameters.")


def _parse_range(value: str, size: int) -> tuple[int, int]:
    match = _RANGE.match(value.strip())
    if not match or (not match.group(1) and not match.group(2)):
        raise CIError(416, "InvalidRange", f"The Range {value!r} is not a single bytes range.")
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:
        start = max(size - int(last), 0)
        end = size - 1
    if start >= size or start > end:
        raise CIError(416, "InvalidRange", f"The Range {value!r} is not satisfiable for an object of {size} bytes.")
    return start, end


def _chunks(stream: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    try:
        stream.seek(start)
        left = length
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        stream.close()
