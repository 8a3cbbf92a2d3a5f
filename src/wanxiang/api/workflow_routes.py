"""Workflow routes (the upload trigger is a step of the object PUT, in ``object_routes``).

POST /workflow, PUT /workflow/<id> (body: update; ?active / ?paused: state), GET /workflow,
DELETE /workflow/<id>, POST /triggerworkflow, GET /workflowexecution, GET /workflowexecution/<runId>.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.api.responses import page_response, xml_response
from wanxiang.api.router import Router
from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.model.workflow import WorkflowState
from wanxiang.services.workflows import WorkflowService
from wanxiang.wire.page import numbered_page_tree
from wanxiang.wire.workflows import execution_item, execution_tree, workflow_tree
from wanxiang.wire.xml import parse_request

if TYPE_CHECKING:
    from wanxiang.app import App

Handler = Callable[[ApiRequest], Response]
STATE_FLAGS = {"active": WorkflowState.ACTIVE, "paused": WorkflowState.PAUSED}


def register(router: Router, app: App) -> None:
    workflows = app.workflows
    max_body = app.settings.max_body_bytes

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


def _put(workflows: WorkflowService, body: Callable[[ApiRequest], Tree]) -> Handler:
    def handler(req: ApiRequest) -> Response:
        workflow_id = req.route_args["workflow_id"]
        flags = [STATE_FLAGS[key.lower()] for key, _ in req.query if key.lower() in STATE_FLAGS]
        if flags:
            changed = workflows.set_state(req.ctx, workflow_id, flags[0])
            return xml_response({"MediaWorkflow": workflow_tree(changed)}, request_id=req.request_id)
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
