"""The console's core: sessions on every page, CSRF and read-only checks on every action,
rendering, security headers, sign-in, and the overview. Pages of each area live beside it."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wanxiang.console import PREFIX, views
from wanxiang.console.charts import bar_chart
from wanxiang.console.session import COOKIE, LIFETIME_SECONDS, Session, SessionKeys, csrf_ok
from wanxiang.model import times
from wanxiang.model.errors import CIError
from wanxiang.services.context import BucketContext
from wanxiang.store.stats import IN_FLIGHT_CAP

if TYPE_CHECKING:
    from wanxiang.app import App

Handler = Callable[[Request, Session], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
BUCKET = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,120}[a-z0-9])?$")
MAX_FORM_BYTES = 1 << 20
HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
CHART_SLOTS = 12
CHART_SLOT = timedelta(minutes=5)


class SecurityHeaders:
    """Headers every console response carries (raw objects add a sandbox of their own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


class Web:
    def __init__(self, deps: App) -> None:
        self.deps = deps
        self.keys = SessionKeys(dict(deps.settings.credentials), deps.settings.read_only_ids)
        self.env = Environment(
            loader=PackageLoader("wanxiang.console", "templates"), autoescape=select_autoescape(default=True)
        )
        self.env.globals.update(prefix=PREFIX, fmt_time=views.fmt_time, fmt_size=views.fmt_size, urlencode=urlencode)
        self.env.filters["pretty"] = views.pretty

    # -- sessions and guards -------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        return self.keys.read(request.cookies.get(COOKIE), time.time())

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A page: needs a session; a CI error from a service becomes an error page."""

        async def endpoint(request: Request) -> Response:
            session = self.session(request)
            if session is None:
                if request.headers.get("accept", "").startswith("text/event-stream") or request.headers.get("hx-request"):
                    return Response("Sign in first.", status_code=401)
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{PREFIX}/login?" + urlencode({"next": back}), status_code=303)
            try:
                return await handler(request, session)
            except CIError as error:
                return self.render(request, session, "error.html", status=error.status, error=error)

        return endpoint

    def bound_page(self, handler: Callable[[Web, Request, Session], Awaitable[Response]]) -> Endpoint:
        """A page whose handler takes this Web first (the page modules' handlers do)."""
        return self.page(lambda request, session: handler(self, request, session))

    def bound_action(self, handler: Callable[[Web, Request, Session], Awaitable[Response]]) -> Endpoint:
        """An action whose handler takes this Web first."""
        return self.action(lambda request, session: handler(self, request, session))

    def action(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """An action: a POST from a signed-in, read-write session with the session's CSRF token."""

        async def endpoint(request: Request) -> Response:
            try:
                return await checked(request)
            except CIError as error:
                return self.render(request, self.session(request), "error.html", status=error.status, error=error)
            finally:
                await close_form(request)

        async def checked(request: Request) -> Response:
            session = self.session(request)
            if session is None:
                return HTMLResponse("Sign in first.", status_code=401)
            if not same_origin(request):
                return HTMLResponse("Cross-origin request refused.", status_code=403)
            token = request.headers.get("x-csrf-token") or (await self.form(request)).get("csrf")
            if not csrf_ok(session, str(token or "")):
                return HTMLResponse("Missing or wrong CSRF token; reload the page and try again.", status_code=403)
            if session.read_only:
                return self.render(request, session, "error.html", status=403, error=CIError(
                    403, "AccessDenied", f"{session.secret_id} is read-only: it can look, not act."))
            return await handler(request, session)

        return endpoint

    async def form(self, request: Request) -> dict[str, Any]:
        """The posted form, parsed once per request (files kept as UploadFile)."""
        cached = request.scope.get("wanxiang.form")
        if cached is None:
            declared = request.headers.get("content-length", "")
            # Browsers always say how long a form is; without that an upload could fill the disk.
            if not declared.isdigit():
                raise CIError(411, "MissingContentLength", "A form must be sent with its Content-Length.")
            if int(declared) > self.deps.settings.max_object_bytes:
                raise CIError(400, "EntityTooLarge", "The form is too large.")
            form = await request.form(max_files=1, max_fields=500)
            cached = {"_multi": form}
            for key, value in form.multi_items():
                cached.setdefault(key, value)
            request.scope["wanxiang.form"] = cached
        return dict(cached)

    # -- rendering -----------------------------------------------------------------------------

    def render(self, request: Request, session: Session | None, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        body = self.env.get_template(template).render(
            session=session,
            csrf=session.csrf if session else "",
            path=request.url.path,
            msg=request.query_params.get("msg", ""),
            **ctx,
        )
        return HTMLResponse(body, status_code=status)

    def ctx(self, bucket: str) -> BucketContext:
        if not BUCKET.match(bucket):
            raise CIError(400, "InvalidBucketName", f"{bucket!r} is not a bucket name.")
        return BucketContext(bucket, self.deps.settings.region)

    @staticmethod
    def back(url: str, msg: str = "") -> RedirectResponse:
        sep = "&" if "?" in url else "?"
        return RedirectResponse(url + (sep + urlencode({"msg": msg}) if msg else ""), status_code=303)


async def close_form(request: Request) -> None:
    """Uploaded files are spooled to temporary files: closed once the action is done with them."""
    cached = request.scope.pop("wanxiang.form", None)
    if cached is not None:
        await cached["_multi"].close()


def same_origin(request: Request) -> bool:
    """Browsers send Origin on POSTs; when they do it must be this host (SameSite covers the rest)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


def console_app(deps: App) -> Starlette:
    from wanxiang.console import admin_pages, jobs_pages, objects_pages

    web = Web(deps)

    async def sign_in(request: Request) -> Response:
        return await login(web, request)

    routes: list[BaseRoute] = [
        Route("/", web.bound_page(overview), methods=["GET"]),
        Route("/login", sign_in, methods=["GET", "POST"]),
        Route("/logout", web.action(lambda r, s: logout()), methods=["POST"]),
        Route("/go", web.page(lambda r, s: go(web, r)), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
        *jobs_pages.routes(web),
        *admin_pages.routes(web),
        *objects_pages.routes(web),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    return app


async def login(web: Web, request: Request) -> Response:
    target = request.query_params.get("next", "")
    if not target.startswith(PREFIX + "/") or target.startswith("//"):
        target = PREFIX + "/"
    if request.method == "GET":
        return web.render(request, None, "login.html", next=target, error="")
    if not same_origin(request):
        return HTMLResponse("Cross-origin request refused.", status_code=403)
    try:
        form = await web.form(request)
    except CIError as error:
        return web.render(request, None, "error.html", status=error.status, error=error)
    finally:
        await close_form(request)
    cookie = web.keys.sign_in(str(form.get("secret_id", "")).strip(), str(form.get("secret_key", "")).strip(), time.time())
    if cookie is None:
        return web.render(request, None, "login.html", status=401, next=target,
                          error="That SecretId and SecretKey pair is not one this server knows.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=LIFETIME_SECONDS, path=PREFIX, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def logout() -> Response:
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


async def go(web: Web, request: Request) -> Response:
    bucket = request.query_params.get("bucket", "").strip()
    web.ctx(bucket)
    return RedirectResponse(f"{PREFIX}/b/{bucket}/jobs", status_code=303)


async def overview(web: Web, request: Request, session: Session) -> Response:
    data = await run_in_threadpool(overview_data, web.deps)
    return web.render(request, session, "overview.html", **data)


def overview_data(deps: App) -> dict[str, Any]:
    stats = deps.store.stats
    now = times.now()
    buckets = sorted(set(stats.buckets()) | set(deps.storage.list_buckets()[:200]))
    in_flight, capped = stats.in_flight()
    rows: dict[tuple[str, str, str], dict[str, int]] = {}
    for c in in_flight:
        rows.setdefault((c.bucket_id, c.queue_id, c.tag), {})[c.state] = c.count
    charts = []
    for bucket in buckets:
        for c in stats.created_since(bucket, now - timedelta(hours=1)):
            counts = rows.setdefault((bucket, c.queue_id, c.tag), {})
            if c.state not in ("Submitted", "Running"):
                counts[c.state] = counts.get(c.state, 0) + c.count
        slots = stats.finished_by_slot(bucket, now, CHART_SLOTS, CHART_SLOT)
        if slots:
            ok = [0] * CHART_SLOTS
            bad = [0] * CHART_SLOTS
            for s in slots:
                (ok if s.state == "Success" else bad)[s.slot] += s.count
            charts.append({"bucket": bucket, "svg": bar_chart(ok, bad, slot_minutes=5), "ok": sum(ok), "failed": sum(bad)})
    running = sum(c.count for c in in_flight if c.state == "Running")
    return {
        "buckets": buckets,
        "rows": [{"bucket": k[0], "queue": k[1], "tag": k[2], **{s: v for s, v in counts.items()}}
                 for k, counts in sorted(rows.items())],
        "charts": charts,
        "workers": deps.settings.workers,
        "busy": running,
        "backlog": stats.outbox_backlog(),
        "capped": capped,
        "cap": IN_FLIGHT_CAP,
    }
