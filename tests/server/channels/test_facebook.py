"""Facebook Messenger: the verify-token handshake; webhooks signed with X-Hub-Signature-256 are
answered through a fake Graph API on 127.0.0.1; forged ones get 403; a redelivered mid is
handled once; a handoff passes thread control when configured."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server.channels.platform_fake import FakePlatform, parley_with
from tests.server.helpdesk import GREETING

WEBHOOK = "/webhooks/facebook/webhook"
SECRET = "app-secret"


@pytest.fixture
async def graph() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("POST", "/v19.0/me/messages", {"message_id": "mid.reply"})
    fake.route("POST", "/v19.0/me/pass_thread_control", {"success": True})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform, **extra: Any) -> dict[str, Any]:
    settings = {"verify": "verify-me", "secret": SECRET, "page-access-token": "page-token",
                "graph_url": f"{fake.url}/v19.0"}  # fmt: skip
    return {"facebook": settings | extra}


def message(mid: str = "m1", text: str = "hi", sender: str = "psid1") -> bytes:
    return json.dumps({"object": "page", "entry": [{"messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "page"}, "timestamp": 1,
         "message": {"mid": mid, "text": text}}]}]}).encode()  # fmt: skip


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def test_the_handshake_needs_the_verify_token(graph: FakePlatform) -> None:
    async with parley_with(credentials(graph)) as (client, _):
        ok = await client.get(WEBHOOK, params={"hub.mode": "subscribe",
                                                "hub.verify_token": "verify-me",
                                                "hub.challenge": "1158201444"})  # fmt: skip
        wrong = await client.get(WEBHOOK, params={"hub.mode": "subscribe",
                                                   "hub.verify_token": "guess",
                                                   "hub.challenge": "x"})  # fmt: skip
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert wrong.status_code == 403


async def test_a_signed_message_is_answered_through_the_send_api(graph: FakePlatform) -> None:
    async with parley_with(credentials(graph)) as (client, server):
        body = message()
        assert (await client.post(WEBHOOK, content=body, headers=signed(body))).status_code == 200
        sent = graph.to("/v19.0/me/messages")
        tracker = await server.holder.agent.get_tracker("psid1")
    assert sent[0].query["access_token"] == "page-token"
    payload = sent[0].json()
    assert payload["recipient"] == {"id": "psid1"}
    assert payload["message"]["text"].startswith(GREETING)
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]


async def test_forged_and_unsigned_webhooks_are_refused(graph: FakePlatform) -> None:
    async with parley_with(credentials(graph)) as (client, server):
        body = message()
        forged = await client.post(WEBHOOK, content=body, headers=signed(body, "guess"))
        unsigned = await client.post(WEBHOOK, content=body)
        assert forged.status_code == unsigned.status_code == 403
        assert (await server.holder.agent.get_tracker("psid1")).events == []
    assert graph.calls == []


async def test_a_redelivered_message_is_handled_once(graph: FakePlatform) -> None:
    async with parley_with(credentials(graph)) as (client, server):
        body = message("m9")
        for _ in range(2):
            assert (
                await client.post(WEBHOOK, content=body, headers=signed(body))
            ).status_code == 200
        tracker = await server.holder.agent.get_tracker("psid1")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]
    assert len(graph.to("/v19.0/me/messages")) == 1


async def test_a_handoff_passes_thread_control_to_the_inbox(graph: FakePlatform) -> None:
    async with parley_with(credentials(graph, handover_app_id="263902037430900")) as (client, _):
        body = message("m5", "I want to talk to a human")
        assert (await client.post(WEBHOOK, content=body, headers=signed(body))).status_code == 200
    passed = graph.to("/v19.0/me/pass_thread_control")
    assert passed and passed[0].json()["target_app_id"] == "263902037430900"
    assert passed[0].json()["recipient"] == {"id": "psid1"}
