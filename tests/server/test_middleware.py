"""Request ids, size limits, malformed JSON, metrics and logs on every request."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from parley.server import ServerConfig
from parley.server.logs import JsonFormatter, RequestIdFilter
from tests.server.conftest import ServerFactory, client_for


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/version", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/version", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32


async def test_body_over_the_limit_is_413(make_server: ServerFactory) -> None:
    async with client_for(make_server(max_body_bytes=2048)) as c:
        big = json.dumps({"sender": "a", "message": "x" * 4000})
        reply = await c.post(
            "/webhooks/rest/webhook", content=big, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 413
        assert "2048" in reply.json()["message"]


async def test_streamed_body_over_the_limit_is_413(make_server: ServerFactory) -> None:
    async def chunks():  # no content-length: the limit is enforced while reading
        for _ in range(10):
            yield b"x" * 1000

    async with client_for(make_server(max_body_bytes=2048)) as c:
        reply = await c.post("/model/parse", content=chunks())
        assert reply.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b"\xff\xfe",
        b'{"sender": "a"}',
        b'{"message": 3}',
        b"[1]",
        b'{"message": "x", "metadata": 1}',
    ],
)
async def test_malformed_webhook_bodies_are_400(client: httpx.AsyncClient, body: bytes) -> None:
    reply = await client.post(
        "/webhooks/rest/webhook", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    assert reply.json()["message"]


async def test_metrics_count_requests_and_messages(client: httpx.AsyncClient) -> None:
    await client.post("/webhooks/rest/webhook", json={"sender": "m", "message": "hi"})
    text = (await client.get("/metrics")).text
    assert 'parley_messages_total{channel="rest"} 1.0' in text
    assert 'route="/webhooks/rest/webhook"' in text
    assert "parley_http_request_duration_seconds_bucket" in text


async def test_metrics_can_be_turned_off(make_server: ServerFactory) -> None:
    async with client_for(make_server(ServerConfig(metrics=False))) as c:
        assert (await c.get("/metrics")).status_code == 404


async def test_access_log_has_request_id_and_no_user_text(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_text = "my password is hunter2"
    await client.post(
        "/webhooks/rest/webhook",
        json={"sender": "p", "message": secret_text},
        headers={"X-Request-ID": "req-42"},
    )
    info = [r for r in caplog.records if r.levelno >= logging.INFO]
    access = [r for r in info if r.name == "parley.server.access"]
    assert access and access[-1].status == 200  # type: ignore[attr-defined]
    assert all("hunter2" not in r.getMessage() for r in info)
    line = JsonFormatter().format(_filtered(access[-1]))
    entry = json.loads(line)
    assert entry["request_id"] == "req-42" and entry["route"] == "/webhooks/rest/webhook"


def _filtered(record: logging.LogRecord) -> logging.LogRecord:
    RequestIdFilter().filter(record)
    return record


async def test_access_log_can_be_turned_off(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with client_for(make_server(ServerConfig(access_log=False))) as c:
        assert (await c.get("/version")).status_code == 200
    assert not [r for r in caplog.records if r.name == "parley.server.access"]


async def test_every_error_path_gives_the_same_reply(make_server: ServerFactory) -> None:
    """Refused before routing, on the REST fast path or on a FastAPI route: one error body."""

    async def chunks():  # no content-length: refused while the handler reads
        for _ in range(10):
            yield b"x" * 1000

    declared = json.dumps({"sender": "a", "message": "x" * 4000})
    async with client_for(make_server(max_body_bytes=2048)) as c:
        replies = [
            await c.post("/model/parse", content=declared),  # the middleware, before routing
            await c.post("/webhooks/rest/webhook", content=chunks()),  # the fast path
            await c.post("/model/parse", content=chunks()),  # FastAPI's error handlers
        ]
    assert [r.status_code for r in replies] == [413, 413, 413]
    bodies = [r.json() for r in replies]
    assert bodies[0] == bodies[1] == bodies[2]
    assert set(bodies[0]) == {"version", "status", "message", "reason", "details", "help", "code"}
    assert bodies[0]["reason"] == "PayloadTooLarge" and bodies[0]["code"] == 413
