"""Limits that only a real server shows: oversized headers, a body shorter than its declared
length, malformed socket.io frames. Each gets a clear reply and no ERROR in the log."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from parley.server import AgentHolder, ServerConfig, create_app
from parley.server.channels import socketio as socketio_channel
from parley.server.http_protocol import MAX_HEADER_BYTES, MAX_HEADERS
from tests.server.helpdesk import GREETING, helpdesk_agent
from tests.server.live import running


async def _raw(port: int, request: bytes, timeout: float = 10) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), timeout)
    finally:
        writer.close()


@pytest.fixture
def server() -> object:
    config = ServerConfig(enable_api=True, body_idle_seconds=0.5)
    return create_app(AgentHolder(helpdesk_agent(), None), config)


async def test_header_limits_answer_431(server: object, caplog: pytest.LogCaptureFixture) -> None:
    async with running(server) as port:
        big = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
        many = (
            b"GET /health/live HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: 1\r\n" % i for i in range(5000))
            + b"\r\n"
        )
        one_over = (
            b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-One: "
            + b"a" * MAX_HEADER_BYTES
            + b"\r\n\r\n"
        )
        with caplog.at_level(logging.INFO):
            for request in (big, many, one_over):
                reply = await _raw(port, request)
                assert reply.startswith(b"HTTP/1.1 431 "), reply[:100]
                body = json.loads(reply.split(b"\r\n\r\n", 1)[1])
                assert body["code"] == 431 and "header" in body["message"]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        # within the limits: a normal request with many (but not too many) headers
        headers = {f"x-h{i}": "v" * 1000 for i in range(MAX_HEADERS - 10)}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/health/live", headers=headers)).status_code == 200


async def test_a_body_shorter_than_its_length_times_out_quietly(
    server: object, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(server) as port:
        with caplog.at_level(logging.INFO):
            for path in (b"/webhooks/rest/webhook", b"/model/parse"):
                reply = await _raw(
                    port,
                    b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                    b'{"sender":',
                )
                assert reply.startswith(b"HTTP/1.1 408 "), reply[:100]
                assert b"connection: close" in reply.lower()
        assert "stalled" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            reply = await client.post(
                "/webhooks/rest/webhook", json={"sender": "after", "message": "hi"}
            )
            assert reply.json()[0]["text"].startswith(GREETING)


async def test_a_client_gone_mid_body_is_no_error(
    server: object, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(server) as port:
        with caplog.at_level(logging.INFO):
            for path in (b"/webhooks/rest/webhook", b"/model/parse"):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
                )
                await writer.drain()
                await asyncio.sleep(0.1)
                writer.close()  # gone before the body is complete
            await asyncio.sleep(1.0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "the client went away" in caplog.text  # (FastAPI routes: its own 400)


MALFORMED_FRAMES = [
    "4xyz",
    "42[",
    "42{}",
    '42["user_uttered"',
    '42["user_uttered", {"message": 1}]',
    '42["session_request", {"session_id": "a\\u0000b"}]',
    '42["user_uttered", {"message": "hi", "session_id": "' + "x" * 300 + '"}]',
    "42" + "[" * 3000,
    '42["user_uttered", {"message": "hi", "session_id": "md", "metadata": {"n": 1180591620717411303424}}]',
    '42["user_uttered", {"message": "\\ud800", "session_id": "md"}]',
    "9",
    "6",
    "\x00\x01",
    "",
]


async def test_malformed_socketio_frames_log_no_error(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socketio_channel, "POST_SECONDS", 1.0)  # "6" hangs python-engineio
    settings = {"session_persistence": True}
    config = ServerConfig(credentials={"socketio": settings, "rest": None})
    server = create_app(AgentHolder(helpdesk_agent(), None), config)
    async with running(server) as port:
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        async with httpx.AsyncClient(timeout=30) as client:
            with caplog.at_level(logging.INFO):
                for frame in MALFORMED_FRAMES:
                    sid = json.loads((await client.get(base)).text[1:])["sid"]
                    await client.post(f"{base}&sid={sid}", content="40")
                    await client.get(f"{base}&sid={sid}")
                    reply = await client.post(f"{base}&sid={sid}", content=frame.encode())
                    assert reply.status_code < 500
            reply = await client.post(
                f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                json={"sender": "after", "message": "hi"},
            )
            assert reply.status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert "socket.io:" in caplog.text
