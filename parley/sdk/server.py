"""The action server behind `parley run actions`: Rasa's webhook on FastAPI.

POST /webhook runs an action (200 reply, 400 rejection, 404 unknown action, 401 when the
configured JWT / HMAC / token check fails, 413 for a body over 64 MiB, 500 when the action
raised); GET /health and
GET /actions as rasa_sdk serves them.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from parley.action_runners.signing import AuthenticationFailed, RequestVerifier
from parley.observability.tracing import Tracing
from parley.sdk.executor import ActionExecutor
from parley.sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024  # largest request body, also after inflating a deflated one


def create_app(
    executor: ActionExecutor,
    verifier: RequestVerifier | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """The action server; with `tracing` on, each call is a span continuing the caller's trace
    (W3C `traceparent` header, which Parley sends when its own tracing is on)."""
    verifier = verifier or RequestVerifier()
    tracing = tracing or Tracing.off()
    app = FastAPI(title="Parley action server", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/actions")
    async def actions() -> list[dict[str, str]]:
        return [{"name": name} for name in executor.names]

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        body = await request.body()
        try:
            verifier.verify(request.headers, request.query_params, body)
        except AuthenticationFailed as exc:
            logger.warning("Refused a webhook call from %s: %s", _client(request), exc)
            return JSONResponse({"error": f"unauthorized: {exc}"}, status_code=401)
        try:
            if request.headers.get("content-encoding", "").lower() == "deflate":
                body = _inflate(body)  # Rasa compresses when COMPRESS_ACTION_SERVER_REQUEST is set
            call = json.loads(body)
        except (ValueError, zlib.error) as exc:
            return JSONResponse({"error": f"Invalid body request: {exc}"}, status_code=400)
        if not isinstance(call, dict) or not call.get("next_action"):
            return JSONResponse(
                {"error": "Invalid body request: no 'next_action'"}, status_code=400
            )
        attributes = {"parley.action": str(call["next_action"])}
        with tracing.continued("parley.action_server.run", request.headers, attributes):
            return await _run(executor, call)

    return app


async def _run(executor: ActionExecutor, call: dict[str, Any]) -> JSONResponse:
    name = call["next_action"]
    try:
        reply = await executor.run(call)
    except ActionExecutionRejection as exc:
        logger.debug("Action '%s' rejected: %s", name, exc.message)
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 400)
    except ActionNotFoundException as exc:
        logger.error("%s", exc.message)
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 404)
    except Exception as exc:
        logger.exception("Action '%s' failed", name)
        return JSONResponse({"error": f"action '{name}' failed: {exc}"}, 500)
    return JSONResponse(reply)


def _inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj()
    data = inflater.decompress(body, MAX_BODY_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"the inflated body is larger than {MAX_BODY_BYTES} bytes")
    return data


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
