"""PUT Object - Copy (``x-cos-copy-source``), the source side of Upload Part - Copy, and
POST ``/?delete`` (delete many objects)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO
from urllib.parse import unquote

from defusedxml.ElementTree import fromstring
from starlette.responses import Response

from wanxiang.api.host import parse_host
from wanxiang.api.object_headers import upload_attributes
from wanxiang.api.request import ApiRequest
from wanxiang.model.errors import CIError
from wanxiang.model.tree import Tree
from wanxiang.storage.base import InvalidObjectKey, ObjectMeta, ObjectStorage
from wanxiang.wire.xml import render

XML = "application/xml"
MAX_DELETE_KEYS = 1000
MAX_DELETE_BODY = 2 << 20
_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")
_CHUNK = 1 << 20


def copy_source(req: ApiRequest) -> tuple[str, str]:
    """(bucket, key) named by ``x-cos-copy-source``: ``<bucket>.cos.<region>.myqcloud.com/<key>``
    (key percent-encoded, an optional ``?versionId=`` ignored); a host naming no bucket means this one."""
    value = req.header("x-cos-copy-source").strip()
    value = re.sub(r"^https?://", "", value)
    host, slash, path = value.partition("/")
    if not slash or not path:
        raise CIError(400, "InvalidArgument", "x-cos-copy-source must be <bucket>.cos.<region>.myqcloud.com/<key>.")
    bucket = parse_host(host).bucket_id or req.ctx.bucket_id
    key = unquote(path.split("?", 1)[0])
    if not key:
        raise CIError(400, "InvalidArgument", "x-cos-copy-source names no object key.")
    return bucket, key


def copy_object(storage: ObjectStorage, req: ApiRequest, key: str) -> tuple[ObjectMeta, Response]:
    bucket, source_key = copy_source(req)
    directive = req.header("x-cos-metadata-directive", "Copy").lower()
    if directive not in ("copy", "replaced"):
        raise CIError(400, "InvalidArgument", "x-cos-metadata-directive must be Copy or Replaced.")
    source = storage.head(bucket, source_key)
    if source is None:
        raise CIError(404, "NoSuchKey", f"The copy source does not exist: {bucket}/{source_key}")
    _check_source_conditions(req, source)
    if directive == "copy" and (bucket, source_key) == (req.ctx.bucket_id, key):
        raise CIError(
            400, "InvalidRequest", "Copying an object onto itself needs x-cos-metadata-directive: Replaced."
        )
    replace = upload_attributes(req) if directive == "replaced" else None
    meta = storage.copy(bucket, source_key, req.ctx.bucket_id, key, replace=replace)
    tree: Tree = {"ETag": meta.etag, "LastModified": meta.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    return meta, Response(render("CopyObjectResult", tree), media_type=XML, headers={"ETag": meta.etag})


@contextmanager
def read_copy_source(storage: ObjectStorage, req: ApiRequest, range_header: str) -> Iterator[BinaryIO]:
    """The source object's bytes (``bytes=first-last`` of them when a range is given), streamed."""
    bucket, key = copy_source(req)
    source = storage.head(bucket, key)
    if source is None:
        raise CIError(404, "NoSuchKey", f"The copy source does not exist: {bucket}/{key}")
    _check_source_conditions(req, source)
    start, length = 0, source.size
    if range_header:
        match = _RANGE.match(range_header.strip())
        if not match or int(match.group(1)) > int(match.group(2)) or int(match.group(2)) >= source.size:
            raise CIError(416, "InvalidRange", f"x-cos-copy-source-range {range_header!r} is not within the source.")
        start, length = int(match.group(1)), int(match.group(2)) - int(match.group(1)) + 1
    body = storage.open(bucket, key)
    try:
        body.seek(start)
        yield _Window(body, length)  # type: ignore[misc]
    finally:
        body.close()


class _Window(io.RawIOBase):
    """At most ``length`` bytes of ``body`` from its position."""

    def __init__(self, body: BinaryIO, length: int) -> None:
        self._body = body
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._body.read(want) if want else b""
        self._left -= len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _check_source_conditions(req: ApiRequest, source: ObjectMeta) -> None:
    wanted = req.header("x-cos-copy-source-if-match")
    if wanted and wanted.strip().strip('"') != source.etag.strip('"'):
        raise CIError(412, "PreconditionFailed", "x-cos-copy-source-If-Match does not hold for the source.")
    unwanted = req.header("x-cos-copy-source-if-none-match")
    if unwanted and unwanted.strip().strip('"') == source.etag.strip('"'):
        raise CIError(412, "PreconditionFailed", "x-cos-copy-source-If-None-Match does not hold for the source.")


def delete_objects(storage: ObjectStorage, req: ApiRequest) -> Response:
    """POST /?delete: ``<Delete><Quiet/><Object><Key/></Object>…</Delete>`` -> ``DeleteResult``."""
    body = req.body_file.read(MAX_DELETE_BODY + 1) if req.body_file is not None else req.body
    if len(body) > MAX_DELETE_BODY:
        raise CIError(400, "EntityTooLarge", f"The request body exceeds {MAX_DELETE_BODY} bytes.")
    quiet, keys = _parse_delete(body)
    deleted: list[Tree] = []
    errors: list[Tree] = []
    for key in keys:
        try:
            storage.delete(req.ctx.bucket_id, key)
        except InvalidObjectKey as exc:
            errors.append({"Key": key, "Code": "InvalidArgument", "Message": str(exc)})
            continue
        if not quiet:
            deleted.append({"Key": key})
    tree: Tree = {}
    if deleted:
        tree["Deleted"] = deleted
    if errors:
        tree["Error"] = errors
    return Response(render("DeleteResult", tree), media_type=XML)


def _parse_delete(body: bytes) -> tuple[bool, list[str]]:
    """Keys verbatim (spaces kept: they are part of a key), in order."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # anything unparseable is the client's
        raise CIError(400, "MalformedXML", f"The Delete document is not well-formed XML: {exc}") from exc
    if root.tag.rsplit("}", 1)[-1] != "Delete":
        raise CIError(400, "MalformedXML", "The root element must be <Delete>.")
    quiet = False
    keys: list[str] = []
    for node in root:
        name = node.tag.rsplit("}", 1)[-1]
        if name == "Quiet":
            quiet = (node.text or "").strip().lower() == "true"
        elif name == "Object":
            key_nodes = [child for child in node if child.tag.rsplit("}", 1)[-1] == "Key"]
            if not key_nodes or not key_nodes[0].text:
                raise CIError(400, "MalformedXML", "Each <Object> needs a <Key>.")
            keys.append(key_nodes[0].text)
    if not keys:
        raise CIError(400, "MalformedXML", "The Delete document names no <Object>.")
    if len(keys) > MAX_DELETE_KEYS:
        raise CIError(400, "MalformedXML", f"At most {MAX_DELETE_KEYS} objects can be deleted at once.")
    return quiet, keys
