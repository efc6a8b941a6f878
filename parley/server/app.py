"""The app factory: one ASGI app with the channels, HTTP API, web chat, health and metrics."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Receive, Scope, Send

from parley import __version__
from parley.access.policy import undeclared
from parley.observability.readiness import unreachable_store
from parley.observability.tracing import TraceContextMiddleware, Tracing
from parley.server.api import api_router
from parley.server.auth import Gatekeeper
from parley.server.channels import (
    ChannelContext,
    ChannelOutbound,
    InputChannel,
    attach_outbound,
    build_channels,
)
from parley.server.channels.socketio import SocketIOChannel
from parley.server.config import ServerConfig, ServerConfigError
from parley.server.errors import error_body, install_error_handlers
from parley.server.fastpath import FastRoutes
from parley.server.metrics import CONTENT_TYPE, ServerMetrics
from parley.server.middleware import RequestMiddleware
from parley.server.runtime import AgentHolder, restore_at_start
from parley.server.webchat import webchat_router
from parley.server.workers import ModelPointer, follow_model

if TYPE_CHECKING:
    from parley.access.service import Access
    from parley.studio.service import Studio

logger = logging.getLogger(__name__)

MINIMUM_COMPATIBLE_VERSION = "0.1.0"
Closer = Callable[[], Awaitable[None]]


@dataclass
class ParleyServer:
    """The built server: `asgi` is what uvicorn serves; the rest is there for tests and tools."""

    asgi: ASGIApp
    fastapi: FastAPI
    holder: AgentHolder
    metrics: ServerMetrics
    channels: list[InputChannel] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)


def _public_routes(
    app: FastAPI, holder: AgentHolder, metrics: ServerMetrics, config: ServerConfig
) -> None:
    @app.get("/", response_class=PlainTextResponse, tags=["server"], summary="Greeting")
    async def hello() -> str:
        return f"Hello from Parley: {__version__}"

    @app.get("/version", tags=["server"], summary="Server version")
    async def version() -> dict[str, str]:
        return {"version": __version__, "minimum_compatible_version": MINIMUM_COMPATIBLE_VERSION}

    @app.get("/health/live", tags=["server"], summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/health/ready",
        tags=["server"],
        summary="A model is loaded and the stores answer: messages can be served",
        responses={503: {"description": "Not ready"}},
    )
    async def ready() -> Response:
        agent = holder.agent
        model_id = getattr(agent, "model_id", None)
        if not model_id:
            return Response(
                _json(error_body(503, "No model is loaded.")), 503, media_type="application/json"
            )
        problem = await unreachable_store(agent)
        if problem is not None:
            return Response(_json(error_body(503, problem)), 503, media_type="application/json")
        return Response(
            _json({"status": "ready", "model_id": model_id}), media_type="application/json"
        )

    if config.metrics:

        @app.get("/metrics", tags=["server"], summary="Prometheus metrics")
        async def prometheus() -> Response:
            return Response(metrics.exposition(), media_type=CONTENT_TYPE)


def _json(value: object) -> str:
    return json.dumps(value)


def create_app(
    holder: AgentHolder,
    config: ServerConfig | None = None,
    metrics: ServerMetrics | None = None,
    closers: Sequence[Closer] = (),
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    extra_routers: Sequence[APIRouter] = (),
    access: Access | None = None,
    tracing: Tracing | None = None,
    studio: Studio | None = None,
) -> ParleyServer:
    """Build the server around the agent in `holder`.

    `closers` run at shutdown after the channels close (stores, brokers, action runner);
    `background` are coroutines run while the server serves (e.g. following the rollout);
    `extra_routers` are served beside the HTTP API (each route declared in
    `parley.access.policy`). `access` (users, sessions, tokens, audit) adds logins and the admin
    routes; without it the API keeps Rasa's `--auth-token`/JWT rules. `studio` serves the
    studio's pages at /studio. With `tracing` on, each HTTP request is a span continuing the
    caller's W3C trace context. Raises ServerConfigError when credentials.yml asks for something
    unusable, or when a route declares no permission.
    """
    config = config or ServerConfig()
    metrics = metrics or ServerMetrics()
    context = ChannelContext(holder, metrics, config)
    channels = build_channels(config.channels(), context)
    outbound = ChannelOutbound(channels)
    holder.add_on_load(lambda agent: attach_outbound(agent, outbound))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(restore_at_start(holder))]
        tasks.extend(asyncio.create_task(work()) for work in background)
        if config.model_pointer is not None:
            pointer = ModelPointer(config.model_pointer)
            tasks.append(asyncio.create_task(follow_model(holder, pointer)))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close()
        for close in closers:
            try:
                await close()
            except Exception:
                logger.exception("error while shutting down")

    app = FastAPIOffline(  # /docs and /redoc without a CDN: servers are often offline
        title="Parley",
        version=__version__,
        description="Parley's HTTP API, channels and health endpoints (Rasa-compatible).",
        lifespan=lifespan,
        **_without_telemetry(),
    )
    install_error_handlers(app)
    app.state.gatekeeper = Gatekeeper(config, access)  # route guards find it here
    _public_routes(app, holder, metrics, config)
    for channel in channels:
        router = channel.router()
        if router is not None:
            app.include_router(router)
    if config.enable_api:
        app.include_router(api_router(holder, config, metrics))
        for extra in extra_routers:
            app.include_router(extra)
    if access is not None:
        from parley.access.routes import access_router  # imports parley.server: not at the top

        app.include_router(access_router(access))
    if studio is not None:
        from parley.studio.routes import install_studio  # Jinja2 loads only for the studio

        install_studio(app, studio)
    if config.webchat:
        app.include_router(webchat_router(_webchat_config(channels)))
    _refuse_unguarded_routes(app)
    fast_routes = [route for channel in channels for route in channel.fast_routes()]
    if fast_routes:
        app.add_middleware(FastRoutes, routes=fast_routes)  # innermost: after id, limits, CORS
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body_bytes=config.max_body_bytes,
        access_log=config.access_log,
        body_idle_seconds=config.body_idle_seconds,
    )
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
        )
    asgi: ASGIApp = app
    for channel in channels:
        asgi = channel.wrap(asgi)
    if tracing is not None and tracing.enabled:
        asgi = TraceContextMiddleware(asgi, tracing)
    return ParleyServer(asgi, app, holder, metrics, channels)


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    from fastapi import routing

    # FastAPI >= 0.13x keeps included routers as branches; this walks them (older ones flatten).
    iterate = getattr(routing, "iter_route_contexts", None)
    routes: Iterable[Any] = iterate(app.routes) if iterate is not None else app.routes
    return [
        (method, str(getattr(route, "path_format", None) or getattr(route, "path", "")))
        for route in routes
        for method in getattr(route, "methods", None) or ()
    ]


def _refuse_unguarded_routes(app: FastAPI) -> None:
    """Every route is public or declares its permission in `parley/access/policy.py`."""
    missing = undeclared(route_table(app))
    if missing:
        raise ServerConfigError(
            "routes without a permission: "
            + ", ".join(missing)
            + "; declare them in parley/access/policy.py ROUTE_PERMISSIONS"
        )


def _without_telemetry() -> dict[str, Any]:
    """FastAPI's built-in OpenTelemetry hooks off (they cost time on every request); our
    metrics are Prometheus. Older FastAPI versions have no such option."""
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def _webchat_config(channels: Sequence[InputChannel]) -> dict[str, object]:
    for channel in channels:
        if (
            isinstance(channel, SocketIOChannel)
            and channel.namespace == "/"
            and not channel.jwt_key
        ):
            return {
                "socketio_path": channel.path,
                "user_event": channel.user_event,
                "bot_event": channel.bot_event,
            }
    return {"socketio_path": None, "rest_url": "/webhooks/rest/webhook"}
