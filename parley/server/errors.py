"""The server's error family and how every failure becomes a JSON reply in Rasa's error shape.

`{"version", "status": "failure", "message", "reason", "details", "help", "code"}`: bad input is a
400 that says what is wrong, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from parley import __version__

logger = logging.getLogger(__name__)

CLIENT_GONE = "The client disconnected before the request body was complete."
_REASONS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "NotAuthorized",
    404: "NotFound",
    408: "RequestTimeout",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    431: "RequestHeaderFieldsTooLarge",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class ApiError(Exception):
    """A request the server refuses, with the HTTP status and a message for the caller."""

    def __init__(
        self, status: int, message: str, reason: str | None = None, details: Any = None
    ) -> None:
        self.status = status
        self.message = message
        self.reason = reason or _REASONS.get(status, "Error")
        self.details = details
        super().__init__(message)


def error_body(
    status: int, message: str, reason: str | None = None, details: Any = None
) -> dict[str, Any]:
    return {
        "version": __version__,
        "status": "failure",
        "message": message,
        "reason": reason or _REASONS.get(status, "Error"),
        "details": details or {},
        "help": None,
        "code": status,
    }


def _validation_message(errors: list[dict[str, Any]]) -> str:
    for error in errors:
        if error.get("type") == "json_invalid":
            return f"The request body is not valid JSON: {error.get('ctx', {}).get('error', '')}".rstrip(
                ": "
            )
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def _safe_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # `input` echoes what the caller sent (possibly user text or secrets): leave it out.
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a JSON error reply."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status, exc.message, exc.reason, exc.details), status_code=exc.status
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        body = error_body(
            400, _validation_message(errors), details={"errors": _safe_errors(errors)}
        )
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request refused."
        return JSONResponse(
            error_body(exc.status_code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        logger.info("the client went away before its request was read: %s", request.url.path)
        return JSONResponse(error_body(400, CLIENT_GONE), status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error while serving %s", request.url.path)
        return JSONResponse(
            error_body(500, "An internal error occurred; the server log has the details."),
            status_code=500,
        )
