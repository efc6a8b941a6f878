"""The callback channel posts the bot's messages to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from aiohttp import web

from parley.server import AgentHolder, ServerConfig, ServerConfigError, create_app
from tests.ports import free_port
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent


async def test_bot_messages_are_posted_to_the_callback_url() -> None:
    received: list[dict[str, Any]] = []
    got = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        got.set()
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/bot", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        config = ServerConfig(credentials={"callback": {"url": f"http://127.0.0.1:{port}/bot"}})
        server = create_app(AgentHolder(helpdesk_agent(), None), config)
        async with client_for(server) as c:
            reply = await c.post(
                "/webhooks/callback/webhook", json={"sender": "cb", "message": "hi"}
            )
            assert reply.status_code == 200 and reply.text == "success"
            await asyncio.wait_for(got.wait(), 5)
        for channel in server.channels:
            await channel.close()
    finally:
        await runner.cleanup()
    assert received[0]["recipient_id"] == "cb" and received[0]["text"]


async def test_callback_without_url_is_a_config_error() -> None:
    with pytest.raises(ServerConfigError, match="url"):
        create_app(AgentHolder(helpdesk_agent(), None), ServerConfig(credentials={"callback": {}}))


async def test_bad_body_is_400_and_nothing_is_posted() -> None:
    config = ServerConfig(credentials={"callback": {"url": "http://127.0.0.1:9/none"}})
    async with client_for(create_app(AgentHolder(helpdesk_agent(), None), config)) as c:
        reply = await c.post("/webhooks/callback/webhook", json={"sender": "cb"})
    assert reply.status_code == 400


async def test_unknown_channels_are_skipped(client: httpx.AsyncClient) -> None:
    config = ServerConfig(credentials={"line": {"token": "x"}, "rest": None})
    server = create_app(AgentHolder(helpdesk_agent(), None), config)
    assert [c.name for c in server.channels] == ["rest"]
