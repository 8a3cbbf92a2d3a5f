"""Jobs: the list (the API's filters and keyset pages), live updates over SSE, bulk cancel and
resubmit, and one job's detail with its timeline, callbacks and previews."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from wanxiang.console.previews import previews_for
from wanxiang.console.session import Session
from wanxiang.console.web import Web
from wanxiang.engines import catalog
from wanxiang.model.errors import CIError
from wanxiang.model.job import ALL_STATES, Job, QueueFamily
from wanxiang.model.times import format_time, parse_time
from wanxiang.services.context import BucketContext

FILTERS = ("queueId", "tag", "inputObject", "workflowId", "inventoryTriggerJobId", "orderByTime", "size")
LIVE_POLL_SECONDS = 1.0
# An event stream ends after this long (the browser reconnects at once), so a server that stops
# is never held open by a console tab.
LIVE_STREAM_SECONDS = 20.0
MAX_BULK = 100
# Set when the server begins to stop: open event streams end at their next poll, so a console
# tab never holds a stopping server open (uvicorn waits for every response to finish).
STOPPING = threading.Event()


def routes(web: Web) -> list[Route]:
    return [
        Route("/b/{bucket}/jobs", web.bound_page(jobs_page), methods=["GET"]),
        Route("/b/{bucket}/jobs/rows", web.bound_page(rows_fragment), methods=["GET"]),
        Route("/b/{bucket}/jobs/events", web.bound_page(events), methods=["GET"]),
        Route("/b/{bucket}/jobs/bulk", web.bound_action(bulk), methods=["POST"]),
        Route("/b/{bucket}/jobs/{job_id}", web.bound_page(job_page), methods=["GET"]),
    ]


def list_params(query: Mapping[str, str], states: list[str]) -> dict[str, str]:
    """The API's list parameters from the console's filter form."""
    params = {name: query.get(name, "").strip() for name in FILTERS if query.get(name, "").strip()}
    if states:
        params["states"] = ",".join(states)
    for name in ("startCreationTime", "endCreationTime"):
        raw = query.get(name, "").strip()
        if raw:
            params[name] = _ci_time(raw, name)
    params.setdefault("size", "20")
    token = query.get("nextToken", "").strip()
    if token:
        params["nextToken"] = token
    return params


def _ci_time(raw: str, name: str) -> str:
    """A ``datetime-local`` value (taken as UTC) or a CI time, in CI's form."""
    try:
        moment = parse_time(raw if any(z in raw[10:] for z in "+-Z") else raw + (":00" if len(raw) == 16 else "") + "+0000")
    except ValueError:
        raise CIError(400, "InvalidArgument", f"{name} {raw!r} is not a time like 2026-01-31T12:00.") from None
    return format_time(moment)


def _query(request: Request) -> tuple[dict[str, str], list[str]]:
    query = {k: v for k, v in request.query_params.items()}
    states = [s for s in request.query_params.getlist("states") for s in s.split(",") if s]
    return query, states


def _list(web: Web, ctx: BucketContext, params: dict[str, str]) -> tuple[list[Job], str]:
    page = web.deps.jobs.list(ctx, params)
    return list(page.items), page.next_token


async def jobs_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    query, states = _query(request)
    job_id = query.get("jobId", "").strip()
    if job_id:
        found, _ = await run_in_threadpool(web.deps.jobs.get, ctx, [job_id])
        if found:
            return web.back(f"{request.url.path}/{found[0].job_id}")
        return web.back(request.url.path, f"No job {job_id} in {ctx.bucket_id}.")
    params = list_params(query, states)
    jobs, token = await run_in_threadpool(_list, web, ctx, params)
    filters = {k: v for k, v in params.items() if k not in ("nextToken",)}
    queues = await run_in_threadpool(_queue_ids, web, ctx)
    return web.render(
        request, session, "jobs.html",
        bucket=ctx.bucket_id, jobs=jobs, next_token=token, query=query, states=states,
        all_states=[s.value for s in ALL_STATES], tags=catalog.tags(), queues=queues,
        filter_qs=urlencode(filters), live=not params.get("nextToken"),
    )


def _queue_ids(web: Web, ctx: BucketContext) -> list[str]:
    found: list[str] = []
    for family in QueueFamily:
        found.extend(q.queue_id for q in web.deps.queues.list(ctx, family, {"pageSize": "100"}).items)
    return found


async def rows_fragment(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    query, states = _query(request)
    jobs, _ = await run_in_threadpool(_list, web, ctx, list_params(query, states))
    return web.render(request, session, "job_rows.html", bucket=ctx.bucket_id, jobs=jobs, read_only=session.read_only)


def page_signature(jobs: list[Job]) -> str:
    """What a viewer of the first page sees change: ids, states and progress."""
    text = "|".join(f"{j.job_id}:{j.state.value}:{j.progress}" for j in jobs)
    return hashlib.sha1(text.encode()).hexdigest()


async def events(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    query, states = _query(request)
    params = list_params(query, states)
    params.pop("nextToken", None)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        last = ""
        loop = asyncio.get_running_loop()
        ends = loop.time() + LIVE_STREAM_SECONDS
        while loop.time() < ends and not STOPPING.is_set():
            if await request.is_disconnected():
                return
            jobs, _ = await run_in_threadpool(_list, web, ctx, params)
            signature = page_signature(jobs)
            if last and signature != last:
                yield f"event: jobs\ndata: {signature}\n\n"
            elif not last:
                yield f"event: hello\ndata: {signature}\n\n"
            else:
                yield ": idle\n\n"
            last = signature
            await asyncio.sleep(LIVE_POLL_SECONDS)

    await run_in_threadpool(_list, web, ctx, params)  # a bad filter is a 400 now, not a broken stream
    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


async def bulk(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    form = await web.form(request)
    op = str(form.get("op", ""))
    job_ids = [str(v) for v in form["_multi"].getlist("job")][:MAX_BULK]
    back = str(form.get("back", "")) or f"/-/console/b/{ctx.bucket_id}/jobs"
    if not back.startswith("/-/console/"):
        back = f"/-/console/b/{ctx.bucket_id}/jobs"
    if op not in ("cancel", "resubmit"):
        raise CIError(400, "InvalidArgument", "op must be cancel or resubmit.")
    if not job_ids:
        return web.back(back, "Select at least one job.")
    done, refused = await run_in_threadpool(_bulk, web, ctx, op, job_ids)
    message = f"{'Canceled' if op == 'cancel' else 'Resubmitted'} {len(done)} job(s)"
    if op == "resubmit" and done:
        message += " as " + ", ".join(done)
    if refused:
        message += "; refused: " + "; ".join(refused)
    return web.back(back, message + ".")


def _bulk(web: Web, ctx: BucketContext, op: str, job_ids: list[str]) -> tuple[list[str], list[str]]:
    done: list[str] = []
    refused: list[str] = []
    for job_id in job_ids:
        try:
            if op == "cancel":
                web.deps.jobs.cancel(ctx, job_id)
                done.append(job_id)
            else:
                done.append(web.deps.jobs.resubmit(ctx, job_id).job_id)
        except CIError as error:
            refused.append(error.message)
    return done, refused


async def job_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    data = await run_in_threadpool(_job_detail, web, ctx, request.path_params["job_id"])
    return web.render(request, session, "job.html", bucket=ctx.bucket_id, **data)


def _job_detail(web: Web, ctx: BucketContext, job_id: str) -> dict[str, Any]:
    from wanxiang.wire.jobs import jobs_detail

    found, _ = web.deps.jobs.get(ctx, [job_id])
    if not found:
        raise CIError(404, "NoSuchJob", f"The job {job_id} does not exist in bucket {ctx.bucket_id}.")
    job = found[0]
    store = web.deps.store
    callbacks = store.callbacks.for_job(job.job_id)
    attempts = store.callbacks.attempts_for([c.seq for c in callbacks])
    return {
        "job": job,
        "detail": jobs_detail(job),
        "claim": store.stats.claim_info(job.job_id),
        "callbacks": [(c, [a for a in attempts if a.callback_seq == c.seq]) for c in callbacks],
        "previews": previews_for(web.deps, ctx, job),
    }
