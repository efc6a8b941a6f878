"""The socket.io channel speaks the protocol of Rasa's web chat widgets, over a real socket."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest
import socketio

from parley.server import AgentHolder, ServerConfig, create_app
from parley.server.channels.socketio import to_socketio
from tests.server.helpdesk import GREETING, helpdesk_agent
from tests.server.live import running

WIDGET_SETTINGS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
}


async def _chat(port: int, path: str = "socket.io", auth: Any = None) -> tuple[str, list[Any]]:
    client = socketio.AsyncClient()
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    answers: list[Any] = []
    answered = asyncio.Event()

    @client.on("session_confirm")
    async def _confirm(session_id: str) -> None:
        confirmed.set_result(session_id)

    @client.on("bot_uttered")
    async def _bot(data: Any) -> None:
        answers.append(data)
        answered.set()

    await client.connect(
        f"http://127.0.0.1:{port}", socketio_path=path, transports=["websocket"], auth=auth
    )
    try:
        await client.emit("session_request", {"session_id": "widget-1"})
        session_id = await asyncio.wait_for(confirmed, 5)
        await client.emit("user_uttered", {"message": "hi", "session_id": session_id})
        await asyncio.wait_for(answered.wait(), 5)
    finally:
        await client.disconnect()
    return session_id, answers


async def test_widget_session_and_message_round_trip() -> None:
    agent = helpdesk_agent()
    server = create_app(
        AgentHolder(agent, None), ServerConfig(credentials={"socketio": WIDGET_SETTINGS})
    )
    async with running(server) as port:
        session_id, answers = await _chat(port)
    assert session_id == "widget-1"
    assert answers[0]["text"].startswith(GREETING)
    tracker = await agent.get_tracker("widget-1")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]


async def test_custom_socketio_path() -> None:
    settings = {**WIDGET_SETTINGS, "socketio_path": "/chat-socket"}
    server = create_app(
        AgentHolder(helpdesk_agent(), None), ServerConfig(credentials={"socketio": settings})
    )
    async with running(server) as port:
        _, answers = await _chat(port, path="chat-socket")
    assert answers


async def test_jwt_key_refuses_connections_without_a_valid_token() -> None:
    settings = {**WIDGET_SETTINGS, "jwt_key": "widget-secret-widget-secret-widget-secret"}
    server = create_app(
        AgentHolder(helpdesk_agent(), None), ServerConfig(credentials={"socketio": settings})
    )
    async with running(server) as port:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await _chat(port, auth={"token": "forged"})
        token = jwt.encode({"sub": "x"}, settings["jwt_key"], algorithm="HS256")
        _, answers = await _chat(port, auth={"token": token})
    assert answers


def test_bot_messages_take_the_widget_shapes() -> None:
    message = {
        "recipient_id": "a",
        "text": "Pick one",
        "buttons": [{"title": "Yes", "payload": "/affirm"}],
        "image": "https://example.org/a.png",
        "custom": {"kind": "card"},
    }
    assert to_socketio(message) == [
        {
            "text": "Pick one",
            "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "/affirm"}],
        },
        {"attachment": {"type": "image", "payload": {"src": "https://example.org/a.png"}}},
        {"kind": "card"},
    ]
