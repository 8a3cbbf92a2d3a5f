"""Workflow routes and the upload trigger.

POST /workflow, PUT /workflow/<id> (body: update; ?active / ?paused: state), GET /workflow,
DELETE /workflow/<id>, POST /triggerworkflow, GET /workflowexecution, GET /workflowexecution/<runId>.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.responses import Response

from wanxiang.api.object_routes import ObjectHooks
from wanxiang.api.request import ApiRequest
from wanxiang.api.responses import page_response, xml_response
from wanxiang.api.router import Router
from wanxiang.api.services_bundle import Services
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.model.workflow import WorkflowState
from wanxiang.services.runs import RunPlanner
from wanxiang.services.workflows import UploadEvent, WorkflowService
from wanxiang.storage.base import ObjectMeta
from wanxiang.wire.page import numbered_page_tree
from wanxiang.wire.workflows import execution_item, execution_tree, workflow_tree
from wanxiang.wire.xml import parse_request

log = logging.getLogger("wanxiang.workflows")
Handler = Callable[[ApiRequest], Response]
STATE_FLAGS = {"active": WorkflowState.ACTIVE, "paused": WorkflowState.PAUSED}


def workflow_service(services: Services) -> WorkflowService:
    return WorkflowService(services.store, RunPlanner(services.store, services.jobs))


def register(router: Router, services: Services, hooks: ObjectHooks) -> None:
    workflows = workflow_service(services)
    max_body = services.settings.max_body_bytes

    def body(req: ApiRequest) -> Tree:
        return parse_request(req.body, max_bytes=max_body)

    def reply(req: ApiRequest, tree: Tree) -> Response:
        return xml_response(tree, request_id=req.request_id)

    router.add("POST", "/workflow", lambda req: reply(req, {"MediaWorkflow": workflow_tree(workflows.create(req.ctx, body(req)))}))
    router.add("PUT", "/workflow/{workflow_id}", _put(workflows, body))
    router.add("GET", "/workflow", _describe(workflows))
    router.add("DELETE", "/workflow/{workflow_id}", _delete(workflows))
    router.add("POST", "/triggerworkflow", lambda req: reply(req, {"InstanceId": workflows.trigger(req.ctx, req.params)}))
    router.add("GET", "/workflowexecution", _list_executions(workflows))
    router.add("GET", "/workflowexecution/{run_id}", _get_execution(workflows))
    hooks.written.append(_upload_trigger(workflows))


def _put(workflows: WorkflowService, body: Callable[[ApiRequest], Tree]) -> Handler:
    def handler(req: ApiRequest) -> Response:
        workflow_id = req.route_args["workflow_id"]
        flags = [STATE_FLAGS[key.lower()] for key, _ in req.query if key.lower() in STATE_FLAGS]
        if flags:
            workflows.set_state(req.ctx, workflow_id, flags[0])
            return xml_response({}, request_id=req.request_id)
        if not req.body.strip():
            raise invalid_argument("PUT /workflow/<id> needs a MediaWorkflow body, or ?active / ?paused.")
        workflow = workflows.update(req.ctx, workflow_id, body(req))
        return xml_response({"MediaWorkflow": workflow_tree(workflow)}, request_id=req.request_id)

    return handler


def _describe(workflows: WorkflowService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        page = workflows.describe(req.ctx, req.params)
        return xml_response(
            numbered_page_tree(page, "MediaWorkflowList", "NonExistIDs", workflow_tree), request_id=req.request_id
        )

    return handler


def _delete(workflows: WorkflowService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        workflow_id = req.route_args["workflow_id"]
        workflows.delete(req.ctx, workflow_id)
        return xml_response({"WorkflowId": workflow_id}, request_id=req.request_id)

    return handler


def _list_executions(workflows: WorkflowService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        page = workflows.list_executions(req.ctx, req.params)
        return page_response("WorkflowExecutionList", page, execution_item, request_id=req.request_id)

    return handler


def _get_execution(workflows: WorkflowService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        run, tasks = workflows.get_execution(req.ctx, req.route_args["run_id"])
        return xml_response({"WorkflowExecution": execution_tree(run, tasks)}, request_id=req.request_id)

    return handler


def _upload_trigger(workflows: WorkflowService) -> Callable[[ApiRequest, ObjectMeta], None]:
    def listener(req: ApiRequest, meta: ObjectMeta) -> None:
        try:
            event = UploadEvent(req.ctx, meta, req.request_id, req.headers)
            started = workflows.on_upload(event)
        except CIError as error:  # the upload itself succeeded; a workflow that cannot start says so in the log
            log.warning("upload %s: workflow trigger refused: %s", meta.key, error.message)
            return
        if started:
            log.info("upload %s started workflow run(s) %s", meta.key, ", ".join(started))

    return listener
