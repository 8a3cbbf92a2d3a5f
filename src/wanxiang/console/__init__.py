"""The web console at ``/-/console/``: server-rendered pages over the same services as the API.

``mount(http_app, app)`` (called by ``App.http``) is the one registration point; everything else lives in this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

if TYPE_CHECKING:
    from wanxiang.app import App


PREFIX = "/-/console"


def mount(http: Starlette, app: App) -> None:
    """Put the console, built on ``app``'s services, in front of the API's catch-all route."""
    from wanxiang.console.web import console_app

    async def to_console(_: Request) -> Response:
        return RedirectResponse(PREFIX + "/", status_code=308)

    http.router.routes[0:0] = [Route(PREFIX, to_console, methods=["GET", "HEAD"]), Mount(PREFIX, app=console_app(app))]


def stopping() -> None:
    """The server is stopping: end the console's open event streams now."""
    from wanxiang.console.jobs_pages import STOPPING

    STOPPING.set()


__all__ = ["PREFIX", "mount", "stopping"]
