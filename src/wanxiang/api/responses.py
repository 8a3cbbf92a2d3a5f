"""Rendering replies: CI XML bodies and the <Error> document, with the headers every reply carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.responses import Response

from wanxiang.model.errors import CIError
from wanxiang.model.page import CursorPage
from wanxiang.model.tree import Tree
from wanxiang.storage.safe_fs import UnsafePath
from wanxiang.wire.page import cursor_page_tree
from wanxiang.wire.xml import render

XML = "application/xml"
T = TypeVar("T")


def xml_response(tree: Tree, *, root: str = "Response", status: int = 200, request_id: str = "") -> Response:
    body: Tree = {"RequestId": request_id} if request_id and root == "Response" else {}
    body.update(tree)
    return Response(render(root, body), status_code=status, media_type=XML)


def page_response(node: str, page: CursorPage[T], render: Callable[[T], Tree], *, request_id: str) -> Response:
    """One page of a keyset list: the items (element left out when none) and the NextToken."""
    return xml_response(cursor_page_tree(page, node, render), request_id=request_id)


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


def storage_failure(error: OSError) -> CIError:
    """The CI error for a storage fault: a planted symlink or stray entry is refused (403, nothing
    changed); any other I/O failure (disk full, read-only, permissions) is a 503 a client retries.
    The message names the fault, never a server path."""
    reason = error.strerror or type(error).__name__
    if isinstance(error, UnsafePath):
        return CIError(403, "AccessDenied", f"The storage path of this object is refused: {reason}.")
    return CIError(503, "ServiceUnavailable", f"The object storage failed: {reason}. Please try again.")
