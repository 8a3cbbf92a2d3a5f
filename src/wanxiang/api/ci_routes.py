"""CI job, queue, template and bucket routes: thin handlers from HTTP to the services."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.api.responses import page_response, xml_response
from wanxiang.api.router import AsyncHandler, Router
from wanxiang.model.errors import CIError
from wanxiang.model.job import Job, QueueFamily
from wanxiang.model.template import Template
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree
from wanxiang.services.jobs import NeedsStore
from wanxiang.services.listing import page_params
from wanxiang.store.codec import from_us
from wanxiang.wire.jobs import jobs_detail
from wanxiang.wire.page import numbered_page_tree
from wanxiang.wire.queues import queue_tree
from wanxiang.wire.submit import SubmitJob, parse_submit_job
from wanxiang.wire.templates import template_tree
from wanxiang.wire.xml import parse_request

if TYPE_CHECKING:
    from wanxiang.app import App

JOB_FAMILIES = ("jobs", "pic_jobs", "ai_jobs", "asr_jobs")
INLINE_BODY_BYTES = 64 << 10  # larger submit bodies are parsed in the pool, off the event loop
QUEUE_FAMILIES = {f.value: f for f in QueueFamily}
BUCKET_PATHS = {
    "mediabucket": ("MediaBucket", "MediaBucketList", QueueFamily.MEDIA),
    "picbucket": ("PicBucket", "PicBucketList", QueueFamily.PIC),
    "ai_bucket": ("AiBucket", "AiBucketList", QueueFamily.AI),
    "asrbucket": ("AsrBucket", "AsrBucketList", QueueFamily.ASR),
}


def register(router: Router, app: App) -> None:
    max_body = app.settings.max_body_bytes

    def body(req: ApiRequest) -> Tree:
        return parse_request(req.body, max_bytes=max_body)

    for family in JOB_FAMILIES:
        router.add("POST", f"/{family}", _submit(app, body, family))
        router.add("GET", f"/{family}", _list_jobs(app, family))
        router.add("GET", f"/{family}/{{ids}}", _get_jobs(app))
        router.add("PUT", f"/{family}/{{job_id}}", _cancel_job(app), flags=("cancel",))

    for path, family in QUEUE_FAMILIES.items():
        router.add("GET", f"/{path}", _list_queues(app, family))
        # Tencent's JS/Node docs update a queue with POST, the API docs with PUT: both work.
        router.add("PUT", f"/{path}/{{queue_id}}", _update_queue(app, family, body))
        router.add("POST", f"/{path}/{{queue_id}}", _update_queue(app, family, body))

    router.add("POST", "/template", lambda req: _template_reply(app, req, app.templates.create(req.ctx, body(req))))
    router.add(
        "PUT",
        "/template/{template_id}",
        lambda req: _template_reply(app, req, app.templates.update(req.ctx, req.route_args["template_id"], body(req))),
    )
    router.add("GET", "/template", _describe_templates(app))
    router.add("DELETE", "/template/{template_id}", _delete_template(app))

    for path, (node, list_node, service) in BUCKET_PATHS.items():
        router.add("POST", f"/{path}", _open_bucket(app, node, service))
        router.add("DELETE", f"/{path}", _close_bucket(app, service))
        router.add("GET", f"/{path}", _list_buckets(app, list_node, service))


def _submit(app: App, body: Callable[[ApiRequest], Tree], family: str) -> AsyncHandler:
    def prepare(req: ApiRequest, request: SubmitJob | None, offline: bool) -> list[Job]:
        request = request or parse_submit_job(body(req))
        return app.jobs.prepare(req.ctx, request, path_family=family, offline=offline)

    async def handler(req: ApiRequest) -> Response:
        # A usual submit is pure CPU up to its insert (a small body; the bucket seen before; no
        # QueueId, TemplateId or style to read): it is built right here, sparing the hop to the
        # pool and back. Anything that reads the store is built in the pool. Then the commit is
        # awaited here, so that submits waiting for one group commit hold no thread of the pool.
        request: SubmitJob | None = None
        jobs: list[Job] | None = None
        if len(req.body) <= INLINE_BODY_BYTES:
            request = parse_submit_job(body(req))
            with contextlib.suppress(NeedsStore):
                jobs = prepare(req, request, offline=True)
        if jobs is None:
            jobs = await run_in_threadpool(prepare, req, request, False)
        await app.jobs.commit(jobs)
        details = [jobs_detail(job) for job in jobs]
        return xml_response({"JobsDetail": details if len(details) > 1 else details[0]}, request_id=req.request_id)

    return handler


def _list_jobs(app: App, family: str) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        page = app.jobs.list(req.ctx, req.params, path_family=family)
        return page_response("JobsDetail", page, jobs_detail, request_id=req.request_id)

    return handler


def _get_jobs(app: App) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        found, missing = app.jobs.get(req.ctx, req.route_args["ids"].split(","))
        tree: Tree = {}
        if found:
            tree["JobsDetail"] = [jobs_detail(job) for job in found]
        if missing:
            tree["NonExistJobIds"] = missing
        return xml_response(tree, request_id=req.request_id)

    return handler


def _cancel_job(app: App) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        if not req.has_flag("cancel"):
            raise CIError(400, "InvalidArgument", "PUT on a job needs the ?cancel parameter.")
        app.jobs.cancel(req.ctx, req.route_args["job_id"])
        # The SDK does not parse this body; the docs show an empty 200.
        return Response(b"", status_code=200)

    return handler


def _list_queues(app: App, family: QueueFamily) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        page = app.queues.list(req.ctx, family, req.params)
        return xml_response(numbered_page_tree(page, "QueueList", "NonExistPIDs", queue_tree), request_id=req.request_id)

    return handler


def _update_queue(
    app: App, family: QueueFamily, body: Callable[[ApiRequest], Tree]
) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        queue = app.queues.update(req.ctx, family, req.route_args["queue_id"], body(req))
        return xml_response({"Queue": queue_tree(queue)}, request_id=req.request_id)

    return handler


def _template_reply(app: App, req: ApiRequest, template: Template) -> Response:
    tree = template_tree(template, app.templates.params_names(template.tag))
    return xml_response({"Template": tree}, request_id=req.request_id)


def _describe_templates(app: App) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        page = app.templates.describe(req.ctx, req.params)

        def render(template: Template) -> Tree:
            return template_tree(template, app.templates.params_names(template.tag))

        return xml_response(numbered_page_tree(page, "TemplateList", "NonExistTIDs", render), request_id=req.request_id)

    return handler


def _delete_template(app: App) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        template_id = req.route_args["template_id"]
        app.templates.delete(req.ctx, template_id)
        return xml_response({"TemplateId": template_id}, request_id=req.request_id)

    return handler


def _open_bucket(app: App, node: str, family: QueueFamily) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        ctx = req.ctx
        app.storage.create_bucket(ctx.bucket_id)
        created_us = app.store.queues.open_service(ctx.bucket_id, ctx.region, family, app.jobs.clock())
        return xml_response({node: _bucket_node(ctx.bucket_id, ctx.region, created_us)}, request_id=req.request_id)

    return handler


def _close_bucket(app: App, family: QueueFamily) -> Callable[[ApiRequest], Response]:
    """DELETE /picbucket and friends: the service closes and its queues go (CI's close)."""

    def handler(req: ApiRequest) -> Response:
        app.store.queues.close_service(req.ctx.bucket_id, family)
        return xml_response({"BucketName": req.ctx.bucket_id}, request_id=req.request_id)

    return handler


def _list_buckets(app: App, list_node: str, family: QueueFamily) -> Callable[[ApiRequest], Response]:
    def handler(req: ApiRequest) -> Response:
        p = {k.lower(): v for k, v in req.params.items() if v != ""}
        number, size = page_params(p)

        def names(key: str) -> list[str]:
            return [n.strip() for n in p.get(key, "").split(",") if n.strip()]

        found, total = app.store.queues.service_buckets(
            family,
            regions=names("regions"),
            bucket_ids=names("bucketnames"),
            name_prefix=p.get("bucketname", ""),
            page_number=number,
            page_size=size,
        )
        tree: Tree = {"TotalCount": str(total), "PageNumber": str(number), "PageSize": str(size)}
        if found:
            tree[list_node] = [_bucket_node(bucket_id, region, created_us) for bucket_id, region, created_us in found]
        return xml_response(tree, request_id=req.request_id)

    return handler


def _bucket_node(bucket_id: str, region: str, created_us: int) -> Tree:
    return {"BucketId": bucket_id, "Name": bucket_id, "Region": region, "CreateTime": format_time(from_us(created_us))}
