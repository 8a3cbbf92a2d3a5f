"""Batch job routes: POST/GET /inventorytriggerjob, GET and PUT (cancel) /inventorytriggerjob/<id>."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.api.responses import page_response, xml_response
from wanxiang.api.router import Router
from wanxiang.model.tree import Tree
from wanxiang.services.batches import BatchService
from wanxiang.wire.batches import batch_detail
from wanxiang.wire.xml import parse_request

if TYPE_CHECKING:
    from wanxiang.app import App

Handler = Callable[[ApiRequest], Response]


def register(router: Router, app: App) -> None:
    batches = app.batches
    max_body = app.settings.max_body_bytes
    router.add("POST", "/inventorytriggerjob", _create(batches, max_body))
    router.add("GET", "/inventorytriggerjob", _list(batches))
    router.add("GET", "/inventorytriggerjob/{job_id}", _get(batches))
    # The Python SDK sends ?cancel, the Go SDK sends a bare PUT: both cancel.
    router.add("PUT", "/inventorytriggerjob/{job_id}", _cancel(batches))


def _create(batches: BatchService, max_body: int) -> Handler:
    def handler(req: ApiRequest) -> Response:
        batch = batches.create(req.ctx, parse_request(req.body, max_bytes=max_body))
        return xml_response({"JobsDetail": batch_detail(batch)}, request_id=req.request_id)

    return handler


def _list(batches: BatchService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        page = batches.list(req.ctx, req.params)
        return page_response("JobsDetail", page, batch_detail, request_id=req.request_id)

    return handler


def _get(batches: BatchService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        job_id = req.route_args["job_id"]
        batch = batches.get(req.ctx, job_id)
        tree: Tree = {"JobsDetail": batch_detail(batch)} if batch else {"NonExistJobIds": job_id}
        return xml_response(tree, request_id=req.request_id)

    return handler


def _cancel(batches: BatchService) -> Handler:
    def handler(req: ApiRequest) -> Response:
        batches.cancel(req.ctx, req.route_args["job_id"])
        return Response(b"", status_code=200)

    return handler
