"""Queues (pause, resume, NotifyConfig), templates, image styles, batch jobs and workflows."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wanxiang.console.charts import workflow_graph
from wanxiang.console.session import Session
from wanxiang.console.web import Web
from wanxiang.engines import catalog
from wanxiang.model.errors import CIError
from wanxiang.model.job import QueueFamily
from wanxiang.model.tree import Tree
from wanxiang.model.workflow import dependencies, node_type, nodes
from wanxiang.services.context import BucketContext
from wanxiang.wire.xml import parse_request

PAGE = "100"


def routes(web: Web) -> list[Route]:
    page, action = web.bound_page, web.bound_action

    return [
        Route("/b/{bucket}/queues", page(queues_page), methods=["GET"]),
        Route("/b/{bucket}/queues/{family}/{queue_id}", action(queue_update), methods=["POST"]),
        Route("/b/{bucket}/templates", page(templates_page), methods=["GET"]),
        Route("/b/{bucket}/templates", action(template_create), methods=["POST"]),
        Route("/b/{bucket}/styles", page(styles_page), methods=["GET"]),
        Route("/b/{bucket}/styles", action(style_action), methods=["POST"]),
        Route("/b/{bucket}/batches", page(batches_page), methods=["GET"]),
        Route("/b/{bucket}/batches/{job_id}/cancel", action(batch_cancel), methods=["POST"]),
        Route("/b/{bucket}/workflows", page(workflows_page), methods=["GET"]),
        Route("/b/{bucket}/workflows/{workflow_id}", page(workflow_page), methods=["GET"]),
        Route("/b/{bucket}/executions/{run_id}", page(execution_page), methods=["GET"]),
    ]


# -- queues -----------------------------------------------------------------------------------------


async def queues_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])

    def load() -> list[tuple[QueueFamily, list[Any]]]:
        return [(family, list(web.deps.queues.list(ctx, family, {"pageSize": PAGE}).items)) for family in QueueFamily]

    return web.render(request, session, "queues.html", bucket=ctx.bucket_id, families=await run_in_threadpool(load))


async def queue_update(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    family = _family(request.path_params["family"])
    form = await web.form(request)
    update: Tree = {}
    if form.get("state"):
        update["State"] = str(form["state"])
    if form.get("notify"):
        update["NotifyConfig"] = {
            "State": str(form.get("notify_state", "Off")),
            "Url": str(form.get("notify_url", "")).strip(),
            "Event": str(form.get("notify_event", "TaskFinish")).strip() or "TaskFinish",
            "ResultFormat": str(form.get("notify_format", "XML")),
            "Type": "Url",
        }
    queue = await run_in_threadpool(web.deps.queues.update, ctx, family, request.path_params["queue_id"], update)
    return web.back(f"/-/console/b/{ctx.bucket_id}/queues", f"Queue {queue.name} is {queue.state.value}.")


def _family(name: str) -> QueueFamily:
    try:
        return QueueFamily(name)
    except ValueError:
        raise CIError(404, "NoSuchQueue", f"{name!r} is not a queue family.") from None


# -- templates --------------------------------------------------------------------------------------


async def templates_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    number = request.query_params.get("page", "1")
    found = await run_in_threadpool(web.deps.templates.describe, ctx, {"pageNumber": number, "pageSize": "50"})
    return web.render(request, session, "templates.html", bucket=ctx.bucket_id, templates=found.items,
                      total=found.total, page=found.page_number, pages=max(1, -(-found.total // found.page_size)),
                      tags=catalog.template_tags(),
                      show=request.query_params.get("show", ""))


async def template_create(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    form = await web.form(request)
    tag = str(form.get("tag", "")).strip()
    params = _params_tree(str(form.get("params", "")))
    rule = str(form.get("rule", "")).strip()
    if tag == "PicProcess" and rule:
        params = {**params, "ProcessRule": rule}
    request_tree: Tree = {"Tag": tag, "Name": str(form.get("name", "")).strip()}
    spec = catalog.spec(tag)
    shape = spec.template if spec is not None else None
    if shape is not None and not shape.nested:
        request_tree.update(params)
    else:  # the service names an unknown Tag
        request_tree[shape.nested if shape is not None and shape.nested else tag] = params
    template = await run_in_threadpool(web.deps.templates.create, ctx, request_tree)
    return web.back(f"/-/console/b/{ctx.bucket_id}/templates?show={template.template_id}",
                    f"Created template {template.name} ({template.template_id}).")


def _params_tree(fragment: str) -> Tree:
    """Parameters typed as XML elements (``<Format>gif</Format>``), parsed like a request body."""
    if not fragment.strip():
        return {}
    return parse_request(f"<Request>{fragment}</Request>".encode(), max_bytes=64 << 10)


# -- styles -----------------------------------------------------------------------------------------


async def styles_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    found = await run_in_threadpool(web.deps.styles.list, ctx)
    return web.render(request, session, "styles.html", bucket=ctx.bucket_id, styles=found)


async def style_action(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    form = await web.form(request)
    name = str(form.get("name", "")).strip()
    back = f"/-/console/b/{ctx.bucket_id}/styles"
    if form.get("op") == "delete":
        await run_in_threadpool(web.deps.styles.delete, ctx, [name])
        return web.back(back, f"Deleted style {name}.")
    await run_in_threadpool(web.deps.styles.add, ctx, name, str(form.get("body", "")))
    return web.back(back, f"Saved style {name}.")


# -- batch jobs -------------------------------------------------------------------------------------


async def batches_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    token = request.query_params.get("nextToken", "")

    def load() -> tuple[list[Any], str]:
        page = web.deps.batches.list(ctx, {"size": "20", "nextToken": token})
        return [(b, web.deps.store.batches.child_counts(b)) for b in page.items], page.next_token

    rows, next_token = await run_in_threadpool(load)
    return web.render(request, session, "batches.html", bucket=ctx.bucket_id, rows=rows, next_token=next_token)


async def batch_cancel(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    batch = await run_in_threadpool(web.deps.batches.cancel, ctx, request.path_params["job_id"])
    return web.back(f"/-/console/b/{ctx.bucket_id}/batches", f"Batch job {batch.job_id} is {batch.state.value}.")


# -- workflows --------------------------------------------------------------------------------------


async def workflows_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    found = await run_in_threadpool(web.deps.workflows.describe, ctx, {"pageSize": PAGE})
    return web.render(request, session, "workflows.html", bucket=ctx.bucket_id, workflows=found.items,
                      total=found.total)


def graph_of(topology: Tree, states: dict[str, str] | None = None) -> Any:
    deps = dependencies(topology)
    kinds = {name: node_type(topology, name) for name in nodes(topology)}
    kinds.update({"Start": "Start", "End": "End"})
    return workflow_graph(deps, kinds, states)


async def workflow_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    workflow_id = request.path_params["workflow_id"]
    token = request.query_params.get("nextToken", "")

    def load() -> dict[str, Any]:
        workflow = web.deps.workflows.existing(ctx, workflow_id)
        runs = web.deps.workflows.list_executions(ctx, {"workflowId": workflow_id, "size": "20", "nextToken": token})
        return {"workflow": workflow, "runs": runs.items, "next_token": runs.next_token,
                "graph": graph_of(workflow.topology)}

    return web.render(request, session, "workflow.html", bucket=ctx.bucket_id, **await run_in_threadpool(load))


async def execution_page(web: Web, request: Request, session: Session) -> Response:
    ctx = web.ctx(request.path_params["bucket"])
    run, tasks = await run_in_threadpool(web.deps.workflows.get_execution, ctx, request.path_params["run_id"])
    states = {"Start": "Success", **{name: job.state.value for name, job in tasks.items()}}
    return web.render(request, session, "execution.html", bucket=ctx.bucket_id, run=run, tasks=tasks,
                      graph=graph_of(run.topology, states), context=BucketContext)
