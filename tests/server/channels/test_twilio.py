"""Twilio SMS/WhatsApp: form posts signed with X-Twilio-Signature are answered through a fake
Messages API on 127.0.0.1; a forged signature gets 403; a retried MessageSid is handled once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from parley.server.channels.twilio import twilio_signature
from tests.server.channels.platform_fake import FakePlatform, parley_with
from tests.server.helpdesk import GREETING

WEBHOOK = "/webhooks/twilio/webhook"
PUBLIC_URL = "https://parley.example/webhooks/twilio/webhook"
SID, TOKEN = "AC123", "twilio-auth-token"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
async def twilio() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("POST", MESSAGES, {"sid": "SMreply"}, status=201)
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform) -> dict[str, Any]:
    return {"twilio": {"account_sid": SID, "auth_token": TOKEN, "twilio_number": "+15550001",
                       "webhook_url": PUBLIC_URL, "api_url": fake.url}}  # fmt: skip


def signed_form(params: dict[str, str], token: str = TOKEN) -> tuple[bytes, dict[str, str]]:
    signature = twilio_signature(token, PUBLIC_URL, list(params.items()))
    return urlencode(params).encode(), {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def sms(sid: str = "SM1", text: str = "hi", sender: str = "+15559999") -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+15550001", "Body": text}


async def test_a_signed_sms_is_answered_by_the_messages_api(twilio: FakePlatform) -> None:
    async with parley_with(credentials(twilio)) as (client, server):
        body, headers = signed_form(sms())
        reply = await client.post(WEBHOOK, content=body, headers=headers)
        assert reply.status_code == 200 and "<Response>" in reply.text
        sent = twilio.to(MESSAGES)
        tracker = await server.holder.agent.get_tracker("+15559999")
    form = sent[0].form()
    assert (form["From"], form["To"]) == ("+15550001", "+15559999")
    assert form["Body"].startswith(GREETING)
    assert sent[0].headers["Authorization"].startswith("Basic ")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]


async def test_a_forged_signature_is_refused(twilio: FakePlatform) -> None:
    async with parley_with(credentials(twilio)) as (client, server):
        body, headers = signed_form(sms(), token="not-the-token")
        forged = await client.post(WEBHOOK, content=body, headers=headers)
        body, headers = signed_form(sms())
        changed = await client.post(WEBHOOK, content=body.replace(b"hi", b"yo"), headers=headers)
        assert forged.status_code == changed.status_code == 403
        assert (await server.holder.agent.get_tracker("+15559999")).events == []
    assert twilio.calls == []


async def test_a_retried_message_is_handled_once_and_whatsapp_answers_on_whatsapp(
    twilio: FakePlatform,
) -> None:
    async with parley_with(credentials(twilio)) as (client, server):
        body, headers = signed_form(sms("SM7", sender="whatsapp:+15558888"))
        for _ in range(2):
            assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
        tracker = await server.holder.agent.get_tracker("whatsapp:+15558888")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]
    sent = twilio.to(MESSAGES)
    assert len(sent) == 1 and sent[0].form()["From"] == "whatsapp:+15550001"


async def test_a_handoff_creates_one_flex_interaction(twilio: FakePlatform) -> None:
    import json

    twilio.route("POST", "/v1/Interactions", {"sid": "KD1"})
    flex = credentials(twilio)
    flex["twilio"] |= {"flex_workspace_sid": "WS1", "flex_workflow_sid": "WW1",
                       "flex_api_url": twilio.url}  # fmt: skip
    async with parley_with(flex) as (client, _):
        body, headers = signed_form(sms("SM21", "I want to talk to a human"))
        assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
        body, headers = signed_form(sms("SM22", "hello?"))  # paused now: a person answers
        assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    created = twilio.to("/v1/Interactions")
    assert len(created) == 1
    form = created[0].form()
    channel, routing = json.loads(form["Channel"]), json.loads(form["Routing"])
    assert channel["participants"] == [{"address": "+15559999", "proxy_address": "+15550001"}]
    assert routing["properties"]["workflow_sid"] == "WW1"
    assert routing["properties"]["attributes"]["parley_conversation_id"] == "+15559999"
    assert created[0].headers["Authorization"].startswith("Basic ")
