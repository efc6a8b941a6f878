"""The /chat page: served from package data, locked down by CSP, told which channel to use."""

from __future__ import annotations

import json
import re

import httpx

from parley.server import AgentHolder, ServerConfig, create_app
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent


def _config(page: str) -> dict[str, object]:
    found = re.search(r'id="parley-config">(.*?)</script>', page, re.S)
    assert found
    parsed: dict[str, object] = json.loads(found.group(1))
    return parsed


async def test_chat_page_uses_socketio_when_configured() -> None:
    settings = {"socketio": {"bot_message_evt": "bot_says", "socketio_path": "/ws"}}
    server = create_app(AgentHolder(helpdesk_agent(), None), ServerConfig(credentials=settings))
    async with client_for(server) as c:
        page = await c.get("/chat")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert _config(page.text) == {
        "socketio_path": "/ws",
        "user_event": "user_uttered",
        "bot_event": "bot_says",
    }
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


async def test_chat_page_falls_back_to_rest(client: httpx.AsyncClient) -> None:
    server = create_app(
        AgentHolder(helpdesk_agent(), None), ServerConfig(credentials={"rest": None})
    )
    async with client_for(server) as c:
        page = await c.get("/chat")
    assert _config(page.text)["rest_url"] == "/webhooks/rest/webhook"


async def test_chat_assets_are_served_and_others_are_not(client: httpx.AsyncClient) -> None:
    script = await client.get("/chat/static/chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert (await client.get("/chat/static/chat.css")).status_code == 200
    assert (await client.get("/chat/static/..%2Fapp.py")).status_code == 404
    assert (await client.get("/chat/static/index.html")).status_code == 404
