"""A shortcut for the hottest routes (the REST webhook): matched by exact method and path and
run without FastAPI's routing, dependency and validation layers, which cost about a sixth of a
message's CPU time. The same handler is also registered as a normal route, so OpenAPI lists it
and everything else about it (auth, errors, metrics, logs) is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.server.errors import response_for

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class FastRoute:
    method: str
    path: str
    handler: Handler


class FastRoutes:
    """ASGI middleware serving `routes` directly; every other request goes to `app`."""

    def __init__(self, app: ASGIApp, routes: list[FastRoute]) -> None:
        self.app = app
        self.routes = {(r.method, r.path): r for r in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # the metrics label (route.path), as FastAPI's router would set
        try:
            response = await route.handler(Request(scope, receive))
        except Exception as exc:  # the same reply the app's error handlers give
            response = response_for(exc, route.path)
        await response(scope, receive, send)
