"""One pure-ASGI middleware for every HTTP request: request id, size limit, timing, access log.

Pure ASGI (not Starlette's BaseHTTPMiddleware) because it runs on the hot path of every message.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.ids import random_id
from parley.server.errors import error_response
from parley.server.logs import request_id_var
from parley.server.metrics import ServerMetrics

access_log = logging.getLogger("parley.server.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestMiddleware:
    """Tags each request with an id (echoed as `X-Request-ID`), refuses bodies over the limit
    with 413, records latency by route template, and logs one access line without user text."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: ServerMetrics | None,
        max_body_bytes: int,
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = (
            given.decode("latin-1")
            if given and _VALID_REQUEST_ID.match(given.decode("latin-1"))
            else random_id()
        )
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 500
        limit = self.max_body_bytes

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                too_large = BodyTooLarge(limit)
                reply = error_response(too_large.status_code, too_large.detail)
                await reply(scope, receive, send_with_id)
                return
            await self.app(scope, limited_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = _route_label(scope)
            if self.metrics is not None:
                self.metrics.request_seconds.labels(scope["method"], route, str(status)).observe(
                    elapsed
                )
            if self.access_log:
                # One preformatted string: the log-redaction filter then scans one text, not
                # four arguments (it runs on every record; this is every request).
                method, millis = scope["method"], elapsed * 1000
                access_log.info(
                    f"{method} {route} {status} {millis:.1f}ms",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(millis, 2),
                    },
                )
            request_id_var.reset(token)
