"""The COS object API, enough for the SDK: buckets, objects (Range, ETag, metadata), listings.

Image processing on download (``GET /key?imageMogr2/...``) and on upload (``Pic-Operations``)
hook in through ``ObjectHooks`` so this module stays about objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime

from starlette.responses import Response

from wanxiang.api.digest import check_content_md5
from wanxiang.api.request import ApiRequest
from wanxiang.api.router import Router
from wanxiang.api.services_bundle import Services
from wanxiang.api.streaming import ObjectStreamResponse
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.storage.base import USER_META_PREFIX, InvalidBucketName, InvalidObjectKey, ObjectMeta
from wanxiang.wire.xml import render

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


def object_headers(meta: ObjectMeta) -> dict[str, str]:
    headers = {
        "ETag": meta.etag,
        "Last-Modified": format_datetime(meta.last_modified, usegmt=True),
        "Content-Type": meta.content_type,
        "Accept-Ranges": "bytes",
        "x-cos-storage-class": "STANDARD",
    }
    for name, value in meta.meta.items():
        headers[USER_META_PREFIX + name] = value
    return headers


class _ObjectRoutes:
    def __init__(self, services: Services, hooks: ObjectHooks) -> None:
        self.storage = services.storage
        self.services = services
        self.hooks = hooks

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
            return _storage_errors(lambda: self._list(req))
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
        if req.header("x-cos-copy-source"):
            raise CIError(501, "NotImplemented", "PUT Object - Copy is not implemented by wanxiang.")
        check_content_md5(req.body_file, req.header("content-md5"))
        for check in self.hooks.before_upload:
            check(req)
        user_meta = {k: v for k, v in req.headers.items() if k.startswith(USER_META_PREFIX)}
        meta = self.storage.put(
            req.ctx.bucket_id,
            _key(req),
            req.body_file,  # type: ignore[arg-type]
            content_type=req.header("content-type") or "application/octet-stream",
            meta=user_meta,
        )
        answer: Response | None = None
        for hook in self.hooks.upload:
            answer = hook(req, meta)
            if answer is not None:
                break
        for listener in self.hooks.written:
            listener(req, meta)
        if answer is not None:
            answer.headers["ETag"] = meta.etag
            return answer
        return Response(b"", status_code=200, headers={"ETag": meta.etag})

    def delete(self, req: ApiRequest) -> Response:
        if (answer := self._hooked(req)) is not None:
            return answer
        if req.path == "/":
            raise CIError(405, "MethodNotAllowed", "Deleting buckets is not supported.")
        return _storage_errors(lambda: self._delete(req))

    def _delete(self, req: ApiRequest) -> Response:
        self.storage.delete(req.ctx.bucket_id, _key(req))
        return Response(b"", status_code=204)

    def post(self, req: ApiRequest) -> Response:
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
