"""Dev-mode routes under ``/-/`` (registered only by ``serve --dev``, signed like every CI call):
``POST /-/reset``, ``GET|PUT /-/test-mode``, ``POST /-/jobs/<id>/advance[?finish]``; the ``instant``
test mode, which makes a job submit answer once its jobs have ended; and buckets that exist as soon
as they are named (listing an unknown bucket creates it)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from wanxiang.api.ci_routes import JOB_FAMILIES
from wanxiang.api.request import ApiRequest
from wanxiang.api.responses import xml_response
from wanxiang.api.router import AnyHandler, AsyncHandler, Handler, Router, call_handler
from wanxiang.model.job import JobState
from wanxiang.model.tree import Tree, text
from wanxiang.store.testmodes import ModeSetting
from wanxiang.wire.jobs import jobs_detail
from wanxiang.wire.xml import parse_request

if TYPE_CHECKING:
    from wanxiang.app import App

INSTANT_WAIT_SECONDS = 300.0
TERMINAL = (JobState.SUCCESS, JobState.FAILED, JobState.CANCEL)


def register(router: Router, app: App) -> None:
    dev = app.dev

    def body(req: ApiRequest) -> Tree:
        return parse_request(req.body, max_bytes=app.settings.max_body_bytes)

    def reset(req: ApiRequest) -> Response:
        counts = dev.reset()
        tree = {"Buckets": str(counts.buckets), "Objects": str(counts.objects), "Rows": str(counts.rows)}
        return xml_response({"Reset": tree}, request_id=req.request_id)

    def show_modes(req: ApiRequest) -> Response:
        return xml_response({"TestMode": [_mode_tree(m) for m in app.store.test_modes.list()]}, request_id=req.request_id)

    def set_mode(req: ApiRequest) -> Response:
        tree = body(req)
        chosen = dev.set_mode(*(text(tree, name).strip() if name != "Message" else text(tree, name)
                                for name in ("Mode", "QueueId", "Tag", "Count", "Code", "Message")))
        return xml_response({"TestMode": _mode_tree(chosen)}, request_id=req.request_id)

    def advance(req: ApiRequest) -> Response:
        job = dev.advance(req.route_args["job_id"], finish=req.has_flag("finish"))
        return xml_response({"JobsDetail": jobs_detail(job)}, request_id=req.request_id)

    router.add("POST", "/-/reset", reset)
    router.add("GET", "/-/test-mode", show_modes)
    router.add("PUT", "/-/test-mode", set_mode)
    router.add("POST", "/-/jobs/{job_id}/advance", advance)
    paths = {f"/{family}" for family in JOB_FAMILIES}
    router.routes = [
        replace(route, handler=_instant(app, route.handler))
        if route.method == "POST" and route.regex.pattern.strip("^$") in paths
        else route
        for route in router.routes
    ]
    for method in ("GET", "HEAD"):
        if method in router.fallback:
            router.fallback[method] = _auto_bucket(app, router.fallback[method])
    # Off a .ci. host, a GET of a list path with no query is an object call (api/router.py); in dev
    # mode /-/test-mode is the test modes on any host.
    router.fallback["GET"] = _dev_path(router.fallback["GET"], "/-/test-mode", show_modes)


def _mode_tree(mode: ModeSetting) -> Tree:
    return {"QueueId": mode.scope, "Mode": mode.mode, "Tag": mode.tag, "Count": str(mode.fail_left),
            "Code": mode.fail_code, "Message": mode.fail_message}


def _dev_path(handler: Handler, path: str, dev_handler: Handler) -> Handler:
    def either(req: ApiRequest) -> Response:
        return dev_handler(req) if req.path == path else handler(req)

    return either


def _auto_bucket(app: App, handler: Handler) -> Handler:
    """Dev mode: any bucket exists; listing one never seen before creates it (empty)."""

    def auto(req: ApiRequest) -> Response:
        if req.path == "/" and req.bucket_id and not app.storage.bucket_exists(req.bucket_id):
            app.store.queues.ensure_bucket(req.bucket_id, req.region, app.jobs.clock())
            app.storage.create_bucket(req.bucket_id)
        return handler(req)

    return auto


def _instant(app: App, submit: AnyHandler) -> AsyncHandler:
    """A submit that, for jobs of a queue in the instant test mode, answers once they have ended."""

    def wait(req: ApiRequest, response: Response) -> Response:
        if response.status_code != 200 or not app.store.test_modes.list():
            return response
        submitted = parse_request(bytes(response.body), root="Response").get("JobsDetail")
        details = submitted if isinstance(submitted, list) else [submitted]
        ids = [str(d["JobId"]) for d in details if isinstance(d, dict)]
        if not any(app.store.test_modes.mode_for(str(d.get("QueueId", ""))) == "instant" for d in details
                   if isinstance(d, dict)):
            return response
        deadline = time.monotonic() + INSTANT_WAIT_SECONDS
        while True:
            jobs = [app.store.jobs.get(job_id) for job_id in ids]
            if all(job is None or job.state in TERMINAL for job in jobs) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        finished = [jobs_detail(job) for job in jobs if job is not None]
        return xml_response({"JobsDetail": finished if len(finished) > 1 else finished[0]},
                            request_id=req.request_id)

    async def handler(req: ApiRequest) -> Response:
        return await run_in_threadpool(wait, req, await call_handler(submit, req))

    return handler
