"""Image processing on the object routes: download rules, imageInfo, POST ?image_process.

The object routes call these where they apply; the Pic-Operations upload is one step of the
object PUT itself (``object_routes``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.api.streaming import temp_file_response
from wanxiang.model.errors import invalid_argument
from wanxiang.ops import metrics
from wanxiang.services.pic_cache import CachedImage
from wanxiang.services.pic_processing import asks_image_inspect, download_rule
from wanxiang.storage.base import ObjectMeta
from wanxiang.wire.xml import render

if TYPE_CHECKING:
    from wanxiang.app import App

PIC_OPERATIONS = "pic-operations"
RESULT_CACHE_CONTROL = "max-age=3600"


def _header_of(meta: ObjectMeta, name: str) -> str:
    return next((value for key, value in meta.headers.items() if key.lower() == name.lower()), "")


class PicRoutes:
    def __init__(self, app: App) -> None:
        self.pic = app.pic

    def download(self, req: ApiRequest, meta: ObjectMeta) -> Response | None:
        """``GET /key?<rule>``: the object processed (or its imageInfo, or its ImageInspect verdict);
        None for a plain download."""
        if asks_image_inspect(req.query):
            return Response(json.dumps(self.pic.inspect(req.ctx, meta.key)), media_type="application/json")
        rule = download_rule(req.query)
        if rule is None:
            return None
        if rule == "imageInfo":
            return Response(json.dumps(self.pic.info(req.ctx, meta.key)), media_type="application/json")
        return self.processed(req, meta, rule)

    def processed(self, req: ApiRequest, meta: ObjectMeta, rule: str) -> Response:
        """The object ``meta`` processed by ``rule`` (``?<rule>`` or a ``!style`` download)."""
        # A CDN in front may keep the result and revalidate it: its ETag changes with the object
        # and the rule; the object's own Cache-Control (set at upload) applies, else an hour.
        expanded = self.pic.download_rule(req.ctx, rule)
        etag = expanded.etag(meta.etag)
        headers = {"Cache-Control": _header_of(meta, "Cache-Control") or RESULT_CACHE_CONTROL, "ETag": etag}
        if etag in (tag.strip() for tag in req.header("If-None-Match").split(",")):
            return Response(status_code=304, headers=headers)
        image, hit = self.pic.on_download_cached(req.ctx, meta.key, meta.etag, expanded)
        metrics.PIC_DOWNLOADS.labels("cache" if hit else "processed").inc()
        if image.data is not None:  # cached, or small: sent in one piece, no file, no thread hop per chunk
            return Response(image.data, media_type=image.content_type, headers=headers)
        assert not isinstance(image, CachedImage)
        response = temp_file_response(image.path, image.size, image.content_type)
        response.headers.update(headers)
        return response

    def image_process(self, req: ApiRequest) -> Response:
        """``POST /key?image_process``: Pic-Operations applied to an object already stored."""
        header = req.header(PIC_OPERATIONS)
        if not header:
            raise invalid_argument("POST ?image_process needs a Pic-Operations header.")
        key = req.path.lstrip("/")
        operations = self.pic.parse_operations(req.ctx, key, header)
        tree = self.pic.apply(req.ctx, key, None, operations)
        return Response(render("UploadResult", tree), media_type="application/xml")
