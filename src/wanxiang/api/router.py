"""Routing by meaning: (method, path, query, headers, host) -> a CI handler or the object API.

A request on a ``.ci.`` host is always CI (first route whose path matches; 405 if only the method
differs). On any other host (the ``.cos.`` host the Python SDK sends in IP mode for CI calls too, an
IP, ``<bucket>.localhost``) a request is CI only when it has exactly a CI call's shape, otherwise it
is an object call, so an object key may be anything (``jobs``, ``jobs/thumb.png``,
``template/a.png``, ``picqueue/x``). A CI call's shape:

* the path is a CI path, and every ``{…}`` segment is a CI id (a letter prefix and 32 hex digits:
  ``c…``, ``j…``, ``t1…``, ``p…``, ``w…``, ``i…``, ``b…``; ``{ids}`` is a comma-separated list of them);
* a ``GET`` of a list path (no ``{…}`` segment) carries at least one query parameter (every SDK
  sends its list filters, even empty: ``?tag=…``, ``?queueIds=&state=All…``);
* required flags are present (``PUT /jobs/<id>?cancel``);
* nothing marks an object call: no object sub-resource or processing in the query (``uploads``,
  ``uploadId``, ``partNumber``, ``delete``, ``image_process``, ``response-*``, ``imageMogr2/…``,
  ``ci-process``…), no ``x-cos-copy-source`` or ``Pic-Operations`` header.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.model.errors import CIError
from wanxiang.model.ids import looks_like_id

Handler = Callable[[ApiRequest], Response]  # plain and sync: it runs in the thread pool
# A coroutine runs on the event loop: only for a route whose waiting is better done there (a
# submit awaiting its group commit); anything that blocks it runs in the pool.
AsyncHandler = Callable[[ApiRequest], Awaitable[Response]]
AnyHandler = Handler | AsyncHandler


async def call_handler(handler: AnyHandler, request: ApiRequest) -> Response:
    if inspect.iscoroutinefunction(handler):
        return cast(Response, await handler(request))
    return await run_in_threadpool(cast(Handler, handler), request)

# Query names that only object calls carry (compared lower-case).
OBJECT_QUERY = frozenset(
    {
        "uploads", "uploadid", "partnumber", "delete", "image_process", "versionid", "acl", "tagging",
        "append", "position", "restore", "select", "symlink", "ci-process", "imageinfo", "imageave", "exif",
        "style", "torrent",
    }
)  # fmt: skip
OBJECT_HEADERS = ("x-cos-copy-source", "pic-operations")
_PROCESSING = re.compile(r"^(imagemogr2|imageview2|watermark|imageslim|thumbnail|style/)")


@dataclass(frozen=True)
class Route:
    method: str
    regex: re.Pattern[str]
    handler: AnyHandler
    flags: tuple[str, ...] = ()

    def fits(self, args: Mapping[str, str], query: list[tuple[str, str]]) -> bool:
        """True when the request has exactly this CI call's shape (see the module docstring)."""
        for name, value in args.items():
            values = value.split(",") if name == "ids" else [value]
            if not all(looks_like_id(v) for v in values):
                return False
        names = {key.lower() for key, _ in query}
        if self.method == "GET" and not args and not names:
            return False
        return all(flag in names for flag in self.flags)


@dataclass
class Router:
    routes: list[Route] = field(default_factory=list)
    fallback: dict[str, Handler] = field(default_factory=dict)
    # The first path segment of every CI route: the "route family" of logs and metrics.
    families: set[str] = field(default_factory=set)

    def add(self, method: str, pattern: str, handler: AnyHandler, *, flags: Iterable[str] = ()) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self.routes.append(Route(method, re.compile(regex), handler, tuple(flags)))
        self.families.add(pattern.strip("/").split("/", 1)[0])

    def family(self, path: str, handler: AnyHandler | None = None) -> str:
        """A bounded name for the kind of request: a CI route's first segment, "bucket" or "object"."""
        if handler is None or not self.is_object_route(handler):
            first = path.strip("/").split("/", 1)[0]
            if first in self.families:
                return first
        return "bucket" if path in ("", "/") else "object"

    def is_object_route(self, handler: AnyHandler) -> bool:
        return any(handler is h for h in self.fallback.values())

    def resolve(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        ci_host: bool = True,
    ) -> tuple[AnyHandler, dict[str, str]]:
        if ci_host:
            return self._first_match(method, path)
        if not _marks_object_call(query or [], headers or {}):
            for route in self.routes:
                match = route.regex.match(path)
                if match and route.method == method and route.fits(match.groupdict(), query or []):
                    return route.handler, match.groupdict()
        return self._object(method, path), {}

    def _first_match(self, method: str, path: str) -> tuple[AnyHandler, dict[str, str]]:
        matched_path = False
        for route in self.routes:
            match = route.regex.match(path)
            if match:
                matched_path = True
                if route.method == method:
                    return route.handler, match.groupdict()
        if matched_path:
            raise CIError(405, "MethodNotAllowed", f"The method {method} is not allowed on {path}.")
        return self._object(method, path), {}

    def _object(self, method: str, path: str) -> Handler:
        fallback = self.fallback.get(method)
        if fallback is None:
            raise CIError(405, "MethodNotAllowed", f"The method {method} is not allowed on {path}.")
        return fallback


def _marks_object_call(query: list[tuple[str, str]], headers: Mapping[str, str]) -> bool:
    for key, _ in query:
        name = key.lower()
        if name in OBJECT_QUERY or name.startswith("response-") or _PROCESSING.match(name) or "|" in name:
            return True
    return any(headers.get(name) for name in OBJECT_HEADERS)
