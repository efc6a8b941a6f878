from __future__ import annotations

import httpx


async def test_webhook_returns_bot_messages_for_the_sender(client: httpx.AsyncClient) -> None:
    reply = await client.post("/webhooks/rest/webhook", json={"sender": "u1", "message": "hi"})
    assert reply.status_code == 200
    messages = reply.json()
    assert messages and all(m["recipient_id"] == "u1" for m in messages)
    assert messages[0]["text"]


async def test_sender_defaults_and_numbers_are_accepted(client: httpx.AsyncClient) -> None:
    default = await client.post("/webhooks/rest/webhook", json={"message": "hi"})
    assert default.json()[0]["recipient_id"] == "default"
    number = await client.post("/webhooks/rest/webhook", json={"sender": 42, "message": "hi"})
    assert number.json()[0]["recipient_id"] == "42"


async def test_channel_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/webhooks/rest/")).json() == {"status": "ok"}


async def test_webhook_is_listed_in_openapi_and_metered(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "post" in schema["paths"]["/webhooks/rest/webhook"]
    reply = await client.post("/webhooks/rest/webhook", json={"sender": "f", "message": "hi"})
    assert reply.status_code == 200 and reply.headers["x-request-id"]
    metrics = (await client.get("/metrics")).text
    assert 'route="/webhooks/rest/webhook",status="200"' in metrics
