"""Image processing on the object routes: download rules, imageInfo, Pic-Operations, image_process."""

from __future__ import annotations

import json

from starlette.responses import Response

from wanxiang.api.object_routes import ObjectHooks
from wanxiang.api.request import ApiRequest
from wanxiang.api.router import Router
from wanxiang.api.services_bundle import Services
from wanxiang.api.streaming import temp_file_response
from wanxiang.model.errors import invalid_argument
from wanxiang.services import pic_processing
from wanxiang.services.styles import StyleService
from wanxiang.storage.base import ObjectMeta
from wanxiang.wire.xml import render

PIC_OPERATIONS = "pic-operations"


def register(router: Router, services: Services, hooks: ObjectHooks) -> None:
    storage = services.storage
    pool = services.pic_pool
    styles = StyleService(services.store)

    def key_of(req: ApiRequest) -> str:
        return req.path.lstrip("/")

    def download(req: ApiRequest, meta: ObjectMeta) -> Response | None:
        rule = pic_processing.download_rule(req.query)
        if rule is None:
            return None
        if rule == "imageInfo":
            info = pool.call(pic_processing.info_on_download, req.ctx, meta.key)
            return Response(json.dumps(info), media_type="application/json")
        image = pool.call(pic_processing.process_to_file, req.ctx, meta.key, styles.expand(req.ctx, rule))
        return temp_file_response(image.path, image.size, image.content_type)

    def check_upload(req: ApiRequest) -> None:
        header = req.header(PIC_OPERATIONS)
        if header:
            operations = pic_processing.parse_pic_operations(header, req.ctx, key_of(req))
            req.extras["pic_operations"] = styles.expand_pic_operations(req.ctx, operations)

    def upload(req: ApiRequest, meta: ObjectMeta) -> Response | None:
        operations = req.extras.get("pic_operations")
        if operations is None:
            return None
        tree = pool.call(pic_processing.apply_pic_operations, req.ctx, meta.key, operations)
        return Response(render("UploadResult", tree), media_type="application/xml")

    def image_process(req: ApiRequest) -> Response | None:
        if not req.has_flag("image_process"):
            return None
        header = req.header(PIC_OPERATIONS)
        if not header:
            raise invalid_argument("POST ?image_process needs a Pic-Operations header.")
        key = key_of(req)
        operations = styles.expand_pic_operations(req.ctx, pic_processing.parse_pic_operations(header, req.ctx, key))
        pic_processing.read_source(storage, req.ctx.bucket_id, key)  # 404 before any work
        tree = pool.call(pic_processing.apply_pic_operations, req.ctx, key, operations)
        return Response(render("UploadResult", tree), media_type="application/xml")

    hooks.download.append(download)
    hooks.before_upload.append(check_upload)
    hooks.upload.append(upload)
    hooks.post.append(image_process)
