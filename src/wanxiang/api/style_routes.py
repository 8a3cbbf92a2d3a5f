"""Image styles on the object routes: ``PUT/GET/DELETE /?style`` on the bucket root, and downloads
that name a style after the ``!`` separator (``GET /photo.jpg!thumb``).

``GET /key?style/<name>`` and ``style/<name>`` in Pic-Operations or jobs expand where those rules
are read (PicProcessing, JobService); this module adds what only styles have. The object routes
ask it first, by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.model.errors import malformed_xml
from wanxiang.model.tree import Tree, as_list, text
from wanxiang.services.pic_processing import download_rule
from wanxiang.services.styles import SEPARATOR, is_style_name
from wanxiang.storage.base import InvalidObjectKey, ObjectMeta
from wanxiang.store.styles import StyleRule
from wanxiang.wire.xml import MAX_BODY_BYTES, parse_request, render

if TYPE_CHECKING:
    from wanxiang.app import App


def _names(tree: Tree) -> list[str]:
    return [n.strip() for n in as_list(tree.get("StyleName")) if isinstance(n, str) and n.strip()]


def style_list_tree(found: list[StyleRule]) -> Tree:
    if not found:
        return {}
    return {"StyleRule": [{"StyleName": s.name, "StyleBody": s.body} for s in found]}


class StyleRoutes:
    def __init__(self, app: App, processed: Callable[[ApiRequest, ObjectMeta, str], Response]) -> None:
        self.storage = app.storage
        self.styles = app.styles
        self.processed = processed  # PicRoutes.processed

    def bucket_styles(self, req: ApiRequest) -> Response | None:
        """``PUT/GET/DELETE /?style``; None for any other request."""
        if req.path != "/" or not req.has_flag("style"):
            return None
        if req.method == "PUT":
            tree = self._parse(req, "AddStyle")
            self.styles.add(req.ctx, text(tree, "StyleName").strip(), text(tree, "StyleBody"))
            return Response(b"", status_code=200)
        if req.method == "GET":
            body = self._body(req)
            names = _names(parse_request(body, root="GetStyle")) if body.strip() else []
            tree = style_list_tree(self.styles.list(req.ctx, names))
            return Response(render("StyleList", tree), media_type="application/xml")
        if req.method == "DELETE":
            self.styles.delete(req.ctx, _names(self._parse(req, "DeleteStyle")))
            return Response(b"", status_code=200)
        return None

    def _parse(self, req: ApiRequest, root: str) -> Tree:
        body = self._body(req)
        if not body.strip():
            raise malformed_xml(f"The request body is empty; a <{root}> document is required.")
        return parse_request(body, root=root)

    def _body(self, req: ApiRequest) -> bytes:
        # PUT bodies on the bucket root are spooled like object uploads; read no more than a request may hold.
        if req.body_file is not None:
            return req.body_file.read(MAX_BODY_BYTES + 1)
        return req.body

    def separator_download(self, req: ApiRequest) -> Response | None:
        """``GET /key!name``: the object ``key`` processed by style ``name``. An object whose key
        really holds the ``!`` wins, and a missing ``key`` falls through to the plain 404."""
        if req.method != "GET" or req.path == "/":
            return None
        full_key = req.path[1:]
        source, separator, name = full_key.rpartition(SEPARATOR)
        if not separator or not source or not is_style_name(name):
            return None
        bucket = req.ctx.bucket_id
        try:
            if self.storage.head(bucket, full_key) is not None:
                return None
            meta = self.storage.head(bucket, source)
        except InvalidObjectKey:
            return None
        if meta is None:
            return None
        rule = f"style/{name}"
        extra = download_rule(req.query)
        if extra is not None and extra != "imageInfo":
            rule += "|" + extra
        # the same answer as ``?style/<name>``: cached, with an ETag a CDN can revalidate
        return self.processed(req, meta, rule)
