"""The COS object API, enough for the SDK: buckets, objects (Range, ETag, headers, conditions),
listings, copies, batch deletes and multipart uploads (``object_multipart``).

What rides on objects is called out by name where it applies: bucket styles and ``/key!style``
downloads, processing on download, an upload as one sequence (Pic-Operations parsed, original
stored, processed from the bytes in hand, workflows triggered) for a PUT and for a completed
multipart upload alike, and ``POST ?image_process``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from starlette.responses import Response

from wanxiang.api.digest import check_content_md5
from wanxiang.api.object_copy import copy_object, delete_objects
from wanxiang.api.object_headers import apply_overrides, not_modified, object_headers, upload_attributes
from wanxiang.api.object_multipart import MultipartApi, complete_result, storage_errors
from wanxiang.api.pic_routes import PIC_OPERATIONS, PicRoutes
from wanxiang.api.request import ApiRequest
from wanxiang.api.router import Router
from wanxiang.api.streaming import ObjectStreamResponse
from wanxiang.api.style_routes import StyleRoutes
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.services.pic_processing import PicOperations, check_source_size
from wanxiang.services.workflows import UploadEvent
from wanxiang.storage.base import BucketNotEmpty, InvalidBucketName, InvalidObjectKey, ObjectMeta
from wanxiang.wire.xml import render

if TYPE_CHECKING:
    from wanxiang.app import App

log = logging.getLogger("wanxiang.objects")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
IN_HAND_BYTES = 4 << 20  # Pic-Operations uploads up to this size are processed from the bytes in hand


def register(router: Router, app: App) -> None:
    objects = _ObjectRoutes(app)
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
    def __init__(self, app: App) -> None:
        self.app = app
        self.storage = app.storage
        self.pic = PicRoutes(app)
        self.styles = StyleRoutes(app, self.pic.processed)
        self.multipart = MultipartApi(app.storage, expiry_seconds=app.settings.multipart_expiry_seconds)

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

    def _style_request(self, req: ApiRequest) -> Response | None:
        """``/?style`` on the bucket root, or a ``GET /key!name`` style download."""
        answer = self.styles.bucket_styles(req)
        return answer if answer is not None else self.styles.separator_download(req)

    def get(self, req: ApiRequest) -> Response:
        if (answer := self._style_request(req)) is not None:
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
        if not head and (processed := self.pic.download(req, meta)) is not None:
            return processed
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
        return ObjectStreamResponse(stream, start, length, status_code=status, headers=headers)

    def put(self, req: ApiRequest) -> Response:
        if (answer := self._style_request(req)) is not None:
            return answer
        if req.path == "/":
            return _storage_errors(lambda: self._create_bucket(req))
        return _storage_errors(lambda: self._put(req))

    def _create_bucket(self, req: ApiRequest) -> Response:
        ctx = req.ctx
        created = self.storage.create_bucket(ctx.bucket_id)
        self.app.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.app.jobs.clock())
        if not created:
            raise CIError(409, "BucketAlreadyOwnedByYou", f"The bucket {ctx.bucket_id} already exists.")
        return Response(b"", status_code=200)

    def _put(self, req: ApiRequest) -> Response:
        body = req.body_file
        assert body is not None
        if "uploadId" in req.params or "partNumber" in req.params:
            return self.multipart.upload_part(req, _key(req))
        if req.header("x-cos-copy-source"):
            meta, copied = copy_object(self.storage, req, _key(req))
            self._trigger_workflows(req, meta)
            return copied
        check_content_md5(body, req.header("content-md5"))
        ctx, key = req.ctx, _key(req)
        # 1. A Pic-Operations header is parsed whole first: a bad one refuses the upload, nothing stored.
        operations = self._pic_operations(req, key)
        # 2. The original is stored; a small image to process is read once and stored from those
        # bytes. A larger one is streamed to storage and read back by the pool child that processes
        # it, so the API process never holds it whole.
        size = _size(body)
        data = body.read() if operations is not None and size <= IN_HAND_BYTES else None
        content_type, user_meta, standard = upload_attributes(req)
        meta = self.storage.put(
            ctx.bucket_id,
            key,
            data if data is not None else body,  # type: ignore[arg-type]
            content_type=content_type,
            meta=user_meta,
            headers=standard,
        )
        # 3. The rules run on the bytes in hand; their failure is the upload's answer (the original stays).
        headers = {"ETag": meta.etag}
        answer = Response(b"", status_code=200, headers=headers)
        if operations is not None:
            check_source_size(size)
            tree = self.app.pic.apply(ctx, key, data, operations)
            answer = Response(render("UploadResult", tree), media_type="application/xml", headers=headers)
        # 4. Workflows whose trigger matches start a run.
        self._trigger_workflows(req, meta)
        return answer

    def _pic_operations(self, req: ApiRequest, key: str, header: str | None = None) -> PicOperations | None:
        header = req.header(PIC_OPERATIONS) if header is None else header
        return self.app.pic.parse_operations(req.ctx, key, header) if header else None

    # -- multipart: the same sequence, with Pic-Operations given on initiate ---------------------

    def _initiate(self, req: ApiRequest) -> Response:
        self._pic_operations(req, _key(req))  # a bad one refuses the upload before any part is sent
        return self.multipart.initiate(req, _key(req))

    def _complete(self, req: ApiRequest) -> Response:
        ctx, key = req.ctx, _key(req)
        with storage_errors():
            meta, upload = self.multipart.complete(req, key)
        processed: Tree | None = None
        operations = self._pic_operations(req, key, upload.options.get(PIC_OPERATIONS, ""))
        if operations is not None:
            check_source_size(meta.size)
            processed = self.app.pic.apply(ctx, key, None, operations)  # read by the pool child
        self._trigger_workflows(req, meta)
        return complete_result(req, meta, processed)

    def _trigger_workflows(self, req: ApiRequest, meta: ObjectMeta) -> None:
        try:
            started = self.app.workflows.on_upload(UploadEvent(req.ctx, meta, req.request_id, req.headers))
        except CIError as error:  # the upload itself succeeded; a workflow that cannot start says so in the log
            log.warning("upload %s: workflow trigger refused: %s", meta.key, error.message)
            return
        if started:
            log.info("upload %s started workflow run(s) %s", meta.key, ", ".join(started))

    def delete(self, req: ApiRequest) -> Response:
        if (answer := self._style_request(req)) is not None:
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

    def post(self, req: ApiRequest) -> Response:
        if req.path == "/" and req.has_flag("delete"):
            assert req.body_file is not None
            check_content_md5(req.body_file, req.header("content-md5"))
            return _storage_errors(lambda: delete_objects(self.storage, req))
        if req.path != "/" and req.has_flag("uploads"):
            return _storage_errors(lambda: self._initiate(req))
        if req.path != "/" and "uploadId" in req.params:
            return _storage_errors(lambda: self._complete(req))
        if req.has_flag("image_process"):
            return self.pic.image_process(req)
        raise CIError(405, "MethodNotAllowed", f"POST is not supported on {req.path} with these parameters.")


def _size(body: IO[bytes]) -> int:
    body.seek(0, 2)
    size = body.tell()
    body.seek(0)
    return size


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
