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
HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}


def _read(name: str) -> str:
    return (resources.files(__package__) / name).read_text("utf-8")


def chat_page(client_config: dict[str, Any], static_path: str = "/chat/static") -> bytes:
    """The widget's HTML page: `client_config` tells it which channel to use (`socketio_path`,
    `user_event`, `bot_event`, `rest_url`); its script and style load from `static_path`."""
    # Inside <script> text nothing is HTML-decoded: escape with JSON escapes instead.
    config_json = (
        json.dumps(client_config)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    page = _read("index.html").replace("__PARLEY_CONFIG__", config_json)
    return page.replace("__PARLEY_STATIC__", static_path).encode("utf-8")


def chat_assets() -> dict[str, Response]:
    """The widget's script and style by file name, as responses."""
    return {
        name: Response(_read(name).encode("utf-8"), media_type=kind, headers=HEADERS)
        for name, kind in _FILES.items()
    }


def webchat_router(client_config: dict[str, Any]) -> APIRouter:
    """Routes for /chat and its static files (see `chat_page`)."""
    page = chat_page(client_config)
    assets = chat_assets()
    router = APIRouter(tags=["web chat"], include_in_schema=False)

    @router.get("/chat")
    async def chat_page_route() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=HEADERS)

    @router.get("/chat/static/{name}")
    async def chat_asset(name: str) -> Response:
        if name not in assets:
            return Response(b"not found", status_code=404, media_type="text/plain")
        return assets[name]

    return router
