"""Messages nobody asked for reach the user's channel, as in Rasa: a fired reminder's and those
of `trigger_intent?output_channel=latest` are POSTed to the callback url (a real receiver)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from parley.agent import Agent
from parley.dialogue.events import UserUttered
from parley.dialogue.model import DialogueModel
from parley.project import load_project
from parley.server import AgentHolder, ServerConfig, create_app
from tests.dialogue.conftest import write_project
from tests.dialogue.test_processor import DOMAIN, RULES, ScriptedActions
from tests.ports import free_port
from tests.server.conftest import client_for


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps the bot messages POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    async def receive(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.changed.set()
        return web.Response(text="ok")

    async def texts(self, count: int) -> list[str]:
        while len(self.received) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)
        return [m["text"] for m in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/bot", receiver.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield receiver, f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    root = write_project(tmp_path / "bot", {"domain.yml": DOMAIN, "data/rules.yml": RULES})
    DialogueModel.train(load_project(root)).persist(tmp_path / "model")
    return Agent(DialogueModel.load(tmp_path / "model"), action_runner=ScriptedActions())  # type: ignore[arg-type]


async def test_a_fired_reminder_is_posted_to_the_callback_url(
    receiver: tuple[Receiver, str], agent: Agent
) -> None:
    got, url = receiver
    server = create_app(
        AgentHolder(agent, None), ServerConfig(credentials={"callback": {"url": url}})
    )
    async with client_for(server) as client:
        reply = await client.post(
            "/webhooks/callback/webhook", json={"sender": "cb", "message": "/remind"}
        )
        assert reply.status_code == 200
        assert await got.texts(2) == ["Reminder set.", "Wake up!"]
    assert got.received[1]["recipient_id"] == "cb"
    tracker = await agent.get_tracker("cb")
    fired = [e for e in tracker.events if isinstance(e, UserUttered)][-1]
    assert (fired.intent_name, fired.input_channel) == ("EXTERNAL_wake_up", "callback")
    for channel in server.channels:
        await channel.close()
    await agent.close()


async def test_trigger_intent_with_output_channel_latest_posts_to_the_users_channel(
    receiver: tuple[Receiver, str], agent: Agent
) -> None:
    got, url = receiver
    config = ServerConfig(enable_api=True, credentials={"callback": {"url": url}})
    server = create_app(AgentHolder(agent, None), config)
    async with client_for(server) as client:
        await client.post("/webhooks/callback/webhook", json={"sender": "cb", "message": "/greet"})
        assert await got.texts(1) == ["Hello friend!"]
        reply = await client.post(
            "/conversations/cb/trigger_intent",
            params={"output_channel": "latest"},
            json={"name": "EXTERNAL_wake_up"},
        )
        assert reply.status_code == 200
        assert [m["text"] for m in reply.json()["messages"]] == ["Wake up!"]
        assert await got.texts(2) == ["Hello friend!", "Wake up!"]
        # without output_channel the messages are only in the answer
        await client.post("/conversations/cb/trigger_intent", json={"name": "EXTERNAL_wake_up"})
        await asyncio.sleep(0.2)
        assert len(got.received) == 2
    for channel in server.channels:
        await channel.close()


async def test_a_reminder_of_a_rest_conversation_is_stored_but_cannot_be_pushed(
    agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    server = create_app(AgentHolder(agent, None), ServerConfig(credentials={"rest": None}))
    caplog.set_level(logging.INFO, "parley.server.channels")
    async with client_for(server) as client:
        await client.post("/webhooks/rest/webhook", json={"sender": "r", "message": "/remind"})
        await asyncio.sleep(0.6)
    tracker = await agent.get_tracker("r")
    assert [e.text for e in tracker.events if e.type_name == "bot"] == ["Reminder set.", "Wake up!"]
    assert any("channel 'rest' cannot push messages" in r.message for r in caplog.records)
    await agent.close()
