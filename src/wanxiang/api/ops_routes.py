"""The operator's routes (``/-/healthy``, ``/-/ready``, ``/-/metrics``) and the access log.

None of them is signed like a CI request: health is open; the metrics are open when the server
listens on loopback only, and otherwise need ``Authorization: Bearer <--metrics-token>``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wanxiang.config import Settings
from wanxiang.ops import metrics
from wanxiang.ops.health import Readiness
from wanxiang.ops.logs import event

access_log = logging.getLogger("wanxiang.access")
SCOPE_KEY = "wanxiang"  # what dispatch learnt about a request: request id, bucket, family, CI code
# Query parameters that sign a request: never logged.
_SIGNING = ("q-", "sign", "x-cos-security-token", "x-ci-security-token")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ops_routes(settings: Settings, readiness: Readiness, depth: Callable[[], Any]) -> list[Route]:
    async def healthy(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> Response:
        checks = await run_in_threadpool(readiness.run)
        failed = {name: why for name, why in checks.items() if why != "ok"}
        body = {"status": "not ready" if failed else "ready", "checks": checks}
        return JSONResponse(body, status_code=503 if failed else 200)

    async def scrape(request: Request) -> Response:
        token = settings.metrics_token
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return JSONResponse({"error": "AccessDenied", "message": "send Authorization: Bearer <metrics token>"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        elif not _loopback(settings.host):
            return JSONResponse(
                {"error": "AccessDenied",
                 "message": "the metrics of a server listening beyond loopback need --metrics-token"},
                status_code=403,
            )
        body, content_type = await run_in_threadpool(metrics.scrape, depth)
        return Response(body, media_type=content_type)

    return [
        Route("/-/healthy", healthy, methods=["GET", "HEAD"]),
        Route("/-/ready", ready, methods=["GET", "HEAD"]),
        Route("/-/metrics", scrape, methods=["GET"]),
    ]


def public_query(query: str) -> str:
    """The query string without the parameters that sign a request."""
    if not query:
        return ""
    kept = [part for part in query.split("&") if not part.split("=", 1)[0].lower().startswith(_SIGNING)]
    return "&".join(kept)


class AccessLog:
    """One log line and the request metrics per HTTP request, written when its answer is sent."""

    def __init__(self, app: ASGIApp, family: Callable[[str], str]) -> None:
        self.app = app
        self.family = family

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = {"status": 0, "bytes": 0}

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except BaseException:
            answer["status"] = answer["status"] or 500
            raise
        finally:
            self._record(scope, answer, time.perf_counter() - started)

    def _record(self, scope: Scope, answer: dict[str, int], seconds: float) -> None:
        path: str = scope.get("path", "")
        seen: dict[str, str] = scope.get(SCOPE_KEY) or {}
        family = seen.get("family") or ("ops" if path.startswith("/-/") else self.family(path))
        status = answer["status"] or 499  # the client went away before an answer
        metrics.REQUESTS.labels(family, str(status)).inc()
        metrics.REQUEST_SECONDS.labels(family).observe(seconds)
        level = logging.DEBUG if family == "ops" else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        raw = scope.get("raw_path")
        event(
            access_log, level, "request",
            request_id=seen.get("request_id"),
            method=scope.get("method"),
            path=raw.decode("latin-1") if isinstance(raw, bytes) else path,
            query=public_query(scope.get("query_string", b"").decode("latin-1")),
            bucket=seen.get("bucket"),
            family=family,
            status=status,
            code=seen.get("code"),
            bytes=answer["bytes"],
            duration_ms=round(seconds * 1000, 2),
        )
