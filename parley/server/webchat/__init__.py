"""The web chat page at /chat: our own small widget, served from package data (no CDN)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi import APIRouter, Response

_FILES = {"chat.js": "text/javascript; charset=utf-8", "chat.css": "text/css; charset=utf-8"}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def _read(name: str) -> str:
    return (resources.files(__package__) / name).read_text("utf-8")


def webchat_router(client_config: dict[str, Any]) -> APIRouter:
    """Routes for /chat and its static files; `client_config` tells the widget which channel
    to use (`socketio_path`, `user_event`, `bot_event`, `rest_url`)."""
    # Inside <script> text nothing is HTML-decoded: escape with JSON escapes instead.
    config_json = (
        json.dumps(client_config)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    page = _read("index.html").replace("__PARLEY_CONFIG__", config_json).encode("utf-8")
    assets = {name: _read(name).encode("utf-8") for name in _FILES}
    headers = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}
    router = APIRouter(tags=["web chat"], include_in_schema=False)

    @router.get("/chat")
    async def chat_page() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    @router.get("/chat/static/{name}")
    async def chat_asset(name: str) -> Response:
        if name not in assets:
            return Response(b"not found", status_code=404, media_type="text/plain")
        return Response(assets[name], media_type=_FILES[name], headers=headers)

    return router
