"""A small table router: (method, path pattern) -> handler; CI paths first, objects as the fallback."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.model.errors import CIError

Handler = Callable[[ApiRequest], Response]


@dataclass
class Router:
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    fallback: dict[str, Handler] = field(default_factory=dict)
    # The first path segment of every CI route: the "route family" of logs and metrics.
    families: set[str] = field(default_factory=set)

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self.routes.append((method, re.compile(regex), handler))
        self.families.add(pattern.strip("/").split("/", 1)[0])

    def family(self, path: str, handler: Handler | None = None) -> str:
        """A bounded name for the kind of request: a CI route's first segment, "bucket" or "object"."""
        if handler is None or not self.is_object_route(handler):
            first = path.strip("/").split("/", 1)[0]
            if first in self.families:
                return first
        return "bucket" if path in ("", "/") else "object"

    def is_object_route(self, handler: Handler) -> bool:
        return any(handler is h for h in self.fallback.values())

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        matched_path = False
        for route_method, regex, handler in self.routes:
            match = regex.match(path)
            if match:
                matched_path = True
                if route_method == method:
                    return handler, match.groupdict()
        if matched_path:
            raise CIError(405, "MethodNotAllowed", f"The method {method} is not allowed on {path}.")
        fallback = self.fallback.get(method)
        if fallback is None:
            raise CIError(405, "MethodNotAllowed", f"The method {method} is not allowed on {path}.")
        return fallback, {}
