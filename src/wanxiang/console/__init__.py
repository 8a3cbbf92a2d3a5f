"""The web console at ``/-/console/``: server-rendered pages over the same services as the API.

``mount(app, deps)`` is the one registration point; everything else lives in this package.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from wanxiang.console.deps import ConsoleDeps

PREFIX = "/-/console"


def mount(app: Starlette, deps: ConsoleDeps) -> None:
    """Put the console in front of the API's catch-all route."""
    from wanxiang.console.web import console_app

    app.router.routes.insert(0, Mount(PREFIX, app=console_app(deps)))


def stopping() -> None:
    """The server is stopping: end the console's open event streams now."""
    from wanxiang.console.jobs_pages import STOPPING

    STOPPING.set()


__all__ = ["ConsoleDeps", "PREFIX", "mount", "stopping"]
