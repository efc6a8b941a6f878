"""The server's error family and how every failure becomes a JSON reply in Rasa's error shape.

`{"version", "status": "failure", "message", "reason", "details", "help", "code"}`: bad input is a
400 that says what is wrong, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from parley import __version__

logger = logging.getLogger(__name__)

_REASONS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "NotAuthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
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
    """The JSON body of every error reply, in Rasa's shape."""
    return {
        "version": __version__,
        "status": "failure",
        "message": message,
        "reason": reason or _REASONS.get(status, "Error"),
        "details": details or {},
        "help": None,
        "code": status,
    }


def error_response(
    status: int,
    message: str,
    reason: str | None = None,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error reply: `error_body` with its status (and headers such as `WWW-Authenticate`)."""
    return JSONResponse(
        error_body(status, message, reason, details), status_code=status, headers=headers
    )


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


def response_for(exc: Exception, path: str) -> JSONResponse:
    """The error reply for anything a request handler raised (unexpected errors are logged)."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message, exc.reason, exc.details)
    if isinstance(exc, RequestValidationError):
        errors = list(exc.errors())
        return error_response(
            400, _validation_message(errors), details={"errors": _safe_errors(errors)}
        )
    if isinstance(exc, StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "Request refused."
        return error_response(exc.status_code, message, headers=exc.headers)
    logger.error("unhandled error while serving %s", path, exc_info=exc)
    return error_response(500, "An internal error occurred; the server log has the details.")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handler that turns every exception into a JSON error reply."""

    async def _reply(request: Request, exc: Exception) -> JSONResponse:
        return response_for(exc, request.url.path)

    for family in (ApiError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(family, _reply)
