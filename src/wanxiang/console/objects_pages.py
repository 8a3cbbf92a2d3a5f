"""Buckets and objects: browse by prefix, upload, download, delete, preview; and the rule
playground (an imageMogr2 rule tried on an object, saved as a style or a template)."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from wanxiang.console.previews import image_type, is_inline_image, preview_object
from wanxiang.console.session import Session
from wanxiang.console.web import Web
from wanxiang.model.errors import CIError
from wanxiang.services.context import BucketContext
from wanxiang.services.workflows import UploadEvent
from wanxiang.storage.base import DEFAULT_CONTENT_TYPE, InvalidBucketName, InvalidObjectKey

PAGE = 100
MAX_INLINE_RESULT = 4 << 20  # a larger result is measured, not shown inline
CHUNK = 1 << 16


def routes(web: Web) -> list[Route]:
    page, action = web.bound_page, web.bound_action

    return [
        Route("/b/{bucket}/objects", page(objects_page), methods=["GET"]),
        Route("/b/{bucket}/objects", action(objects_action), methods=["POST"]),
        Route("/b/{bucket}/object", page(object_page), methods=["GET"]),
        Route("/b/{bucket}/raw", page(raw), methods=["GET"]),
        Route("/b/{bucket}/playground", page(playground), methods=["GET"]),
        Route("/b/{bucket}/playground", action(playground_save), methods=["POST"]),
    ]


async def objects_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    prefix = request.query_params.get("prefix", "")
    marker = request.query_params.get("marker", "")
    listing = await run_in_threadpool(
        web.deps.storage.list, ctx.bucket_id, prefix=prefix, delimiter="/", marker=marker, max_keys=PAGE
    )
    parents = []
    parts = prefix.rstrip("/").split("/") if prefix else []
    for i in range(len(parts)):
        parents.append(("/".join(parts[: i + 1]) + "/", parts[i]))
    return web.render(request, session, "objects.html", bucket=ctx.bucket_id, key_prefix=prefix, listing=listing,
                      parents=parents)


async def objects_action(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    form = await web.form(request)
    prefix = str(form.get("prefix", ""))
    back = f"/-/console/b/{ctx.bucket_id}/objects?" + _qs(prefix=prefix)
    if form.get("op") == "delete":
        key = str(form.get("key", ""))
        deleted = await run_in_threadpool(web.deps.storage.delete, ctx.bucket_id, key)
        return web.back(back, f"Deleted {key}." if deleted else f"{key} was already gone.")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return web.back(back, "Choose a file to upload.")
    key = prefix + (str(form.get("name", "")).strip() or upload.filename)
    content_type = upload.content_type or DEFAULT_CONTENT_TYPE
    meta = await run_in_threadpool(_put, web, ctx, key, upload, content_type)
    return web.back(back, f"Uploaded {meta.key} ({meta.size} bytes).")


def _put(web: Web, ctx: BucketContext, key: str, upload: UploadFile, content_type: str) -> Any:
    try:
        web.deps.storage.create_bucket(ctx.bucket_id)
        meta = web.deps.storage.put(ctx.bucket_id, key, upload.file, content_type=content_type)
    except (InvalidObjectKey, InvalidBucketName) as exc:
        raise CIError(400, "InvalidArgument", f"Cannot store {key!r}: {exc}") from exc
    # As an upload through the API would: workflows watching this prefix start their runs.
    web.deps.workflows.on_upload(UploadEvent(ctx, meta, uuid.uuid4().hex, {"content-type": content_type}))
    return meta


async def object_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    key = request.query_params.get("key", "")
    preview = await run_in_threadpool(preview_object, web.deps, ctx.bucket_id, key)
    if preview is None:
        raise CIError(404, "NoSuchKey", f"{key!r} does not exist in {ctx.bucket_id}.")
    prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return web.render(request, session, "object.html", bucket=ctx.bucket_id, preview=preview, key_prefix=prefix)


async def raw(web: Web, request: Request, session: Session) -> Response:
    """An object's bytes. Only raster images are shown inline; anything else is a download, so
    an uploaded page can never run as the console."""
    ctx = web.ctx(request.path_params["bucket"])
    key = request.query_params.get("key", "")
    try:
        meta = await run_in_threadpool(web.deps.storage.head, ctx.bucket_id, key)
    except (InvalidObjectKey, InvalidBucketName):
        meta = None
    if meta is None:
        return Response("No such object.", status_code=404, media_type="text/plain")
    shown_as = await run_in_threadpool(image_type, web.deps, meta)
    inline = shown_as is not None and request.query_params.get("download") != "1"
    stream = await run_in_threadpool(web.deps.storage.open, ctx.bucket_id, key)

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(CHUNK):
                yield block

    name = key.rsplit("/", 1)[-1].replace('"', "")
    disposition = "inline" if inline else f"attachment; filename*=UTF-8''{_quote(name)}"
    return StreamingResponse(
        chunks(),
        media_type=shown_as if inline and shown_as else "application/octet-stream",
        headers={"Content-Length": str(meta.size), "Content-Disposition": disposition,
                 "Content-Security-Policy": "sandbox; default-src 'none'"},
    )


async def playground(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    key = request.query_params.get("key", "").strip()
    rule = request.query_params.get("rule", "").strip()
    data: dict[str, Any] = {"key": key, "rule": rule, "original": None, "result": None, "error": ""}
    if key:
        data["original"] = await run_in_threadpool(preview_object, web.deps, ctx.bucket_id, key)
        if data["original"] is None:
            data["error"] = f"{key!r} does not exist in {ctx.bucket_id}."
    if key and rule and data["original"] is not None:
        try:
            data["result"] = await run_in_threadpool(_try_rule, web, ctx, key, rule)
        except CIError as error:
            data["error"] = f"{error.code}: {error.message}"
    return web.render(request, session, "playground.html", bucket=ctx.bucket_id, **data)


def _try_rule(web: Web, ctx: BucketContext, key: str, rule: str) -> dict[str, Any]:
    started = time.perf_counter()
    image = web.deps.pic.on_download(ctx, key, rule)
    took_ms = (time.perf_counter() - started) * 1000
    shown = is_inline_image(image.content_type) and image.size <= MAX_INLINE_RESULT
    if shown:
        data = image.read()
    else:
        data = b""
        image.discard()
    return {
        "data_uri": f"data:{image.content_type};base64," + base64.b64encode(data).decode() if shown else "",
        "size": image.size,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "took_ms": took_ms,
        "inline": shown,
    }


async def playground_save(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    form = await web.form(request)
    rule, name = str(form.get("rule", "")).strip(), str(form.get("name", "")).strip()
    key = str(form.get("key", ""))
    back = f"/-/console/b/{ctx.bucket_id}/playground?" + _qs(key=key, rule=rule)
    if form.get("op") == "template":
        template = await run_in_threadpool(
            web.deps.templates.create, ctx, {"Tag": "PicProcess", "Name": name, "PicProcess": {"ProcessRule": rule}}
        )
        return web.back(back, f"Saved template {template.name} ({template.template_id}).")
    await run_in_threadpool(web.deps.styles.add, ctx, name, rule)
    return web.back(back, f"Saved style {name}: use style/{name} or {key or '<key>'}!{name}.")


def _qs(**params: str) -> str:
    return urlencode(params)


def _quote(name: str) -> str:
    return quote(name, safe="")

