"""Rendering replies: CI XML bodies and the <Error> document, with the headers every reply carries."""

from __future__ import annotations

from starlette.responses import Response

from wanxiang.model.errors import CIError
from wanxiang.model.tree import Tree
from wanxiang.wire.xml import render

XML = "application/xml"


def xml_response(tree: Tree, *, root: str = "Response", status: int = 200, request_id: str = "") -> Response:
    body: Tree = {"RequestId": request_id} if request_id and root == "Response" else {}
    body.update(tree)
    return Response(render(root, body), status_code=status, media_type=XML)


def page_response(node: str, items: list[Tree], next_token: str, *, request_id: str) -> Response:
    """One page of a keyset list: the items (element left out when none) and the NextToken."""
    tree: Tree = {node: items} if items else {}
    tree["NextToken"] = next_token
    return xml_response(tree, request_id=request_id)


def error_response(error: CIError, *, resource: str, request_id: str, head: bool = False) -> Response:
    # PySDK discards an <Error> whose Code, Message, Resource or RequestId is missing or empty.
    tree = {
        "Code": error.code or "InternalError",
        "Message": error.message or error.code or "error",
        "Resource": resource or "/",
        "RequestId": request_id,
        "TraceId": request_id,
    }
    body = b"" if head else render("Error", tree)
    response = Response(body, status_code=error.status, media_type=XML)
    response.headers["x-ci-trace-id"] = request_id
    return response
