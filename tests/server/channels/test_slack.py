"""Slack: signed Events API requests are answered (after the 200) through a fake Slack Web API
on 127.0.0.1; forged, unsigned and stale requests get 401; a retried event is handled once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.server.channels.platform_fake import FakePlatform, parley_with
from tests.server.helpdesk import GREETING

WEBHOOK = "/webhooks/slack/webhook"
SECRET = "slack-signing-secret"


@pytest.fixture
async def slack() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("POST", "/api/chat.postMessage", {"ok": True, "ts": "2.0"})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform, **extra: Any) -> dict[str, Any]:
    settings = {
        "slack_token": "xoxb-bot-token",
        "slack_signing_secret": SECRET,
        "api_url": f"{fake.url}/api",
    }
    return {"slack": settings | extra}


def signed(body: bytes, secret: str = SECRET, age: float = 0) -> dict[str, str]:
    stamp = str(int(time.time() - age))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/json",
    }


def event(text: str = "hi", event_id: str = "Ev1", user: str = "U1") -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {
                "type": "message",
                "user": user,
                "text": text,
                "channel": "C1",
                "ts": "1.0",
                "client_msg_id": f"m-{event_id}",
            },
        }
    ).encode()


async def test_a_signed_message_is_answered_in_its_channel(slack: FakePlatform) -> None:
    async with parley_with(credentials(slack)) as (client, server):
        body = event()
        reply = await client.post(WEBHOOK, content=body, headers=signed(body))
        assert reply.status_code == 200
        posted = await slack.wait_for("/api/chat.postMessage")
    assert posted[0].headers["Authorization"] == "Bearer xoxb-bot-token"
    sent = posted[0].json()
    assert sent["channel"] == "C1" and sent["text"].startswith(GREETING)
    tracker = await server.holder.agent.get_tracker("U1")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]


async def test_the_url_check_is_answered_with_its_challenge(slack: FakePlatform) -> None:
    async with parley_with(credentials(slack)) as (client, _):
        body = json.dumps({"type": "url_verification", "challenge": "abc123"}).encode()
        reply = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert reply.json() == {"challenge": "abc123"}


async def test_forged_unsigned_and_stale_requests_are_refused(slack: FakePlatform) -> None:
    async with parley_with(credentials(slack)) as (client, server):
        body = event()
        forged = await client.post(WEBHOOK, content=body, headers=signed(body, "not-the-secret"))
        stale = await client.post(WEBHOOK, content=body, headers=signed(body, age=600))
        unsigned = await client.post(WEBHOOK, content=body)
        tampered = await client.post(WEBHOOK, content=event("bye"), headers=signed(body))
        assert [r.status_code for r in (forged, stale, unsigned, tampered)] == [401] * 4
        assert (await server.holder.agent.get_tracker("U1")).events == []
    assert slack.calls == []


async def test_a_retried_event_is_handled_once(slack: FakePlatform) -> None:
    async with parley_with(credentials(slack)) as (client, server):
        body = event()
        first = await client.post(WEBHOOK, content=body, headers=signed(body))
        retry = await client.post(
            WEBHOOK, content=body, headers={**signed(body), "X-Slack-Retry-Num": "1"}
        )
        assert first.status_code == retry.status_code == 200
        await slack.wait_for("/api/chat.postMessage")
        tracker = await server.holder.agent.get_tracker("U1")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]
    assert len(slack.to("/api/chat.postMessage")) == 1


async def test_a_button_click_is_its_payload_and_replies_stay_in_the_thread(
    slack: FakePlatform,
) -> None:
    async with parley_with(credentials(slack, use_threads=True)) as (client, server):
        body = event("I forgot my password", "Ev2", "U2")
        await client.post(WEBHOOK, content=body, headers=signed(body))
        await slack.wait_for("/api/chat.postMessage")
        click = urlencode({"payload": json.dumps({
            "type": "block_actions", "user": {"id": "U2"}, "channel": {"id": "C1"},
            "message": {"ts": "1.0"}, "trigger_id": "t1",
            "actions": [{"value": "/greet", "action_ts": "3.0"}],
        })}).encode()  # fmt: skip
        headers = {**signed(click), "Content-Type": "application/x-www-form-urlencoded"}
        assert (await client.post(WEBHOOK, content=click, headers=headers)).status_code == 200
        posted = await slack.wait_for("/api/chat.postMessage", count=2)
        tracker = await server.holder.agent.get_tracker("U2")
    assert posted[-1].json()["thread_ts"] == "1.0"  # use_threads: replies in the thread
    assert [e.text for e in tracker.events if e.type_name == "user"][-1] == "/greet"


def test_the_signature_base_string_is_slacks() -> None:
    # Slack's documented example: the same secret, timestamp and body give this signature.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
        b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629"
        b"121.803a0bc887a14d10d2c447fce8b6703c"
    )
    digest = hmac.new(secret.encode(), b"v0:1531420618:" + body, hashlib.sha256).hexdigest()
    assert "v0=" + digest == ("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")


async def test_buttons_and_images_become_blocks(slack: FakePlatform) -> None:
    from parley.server.channels.messaging import Inbound
    from tests.server.channels.platform_fake import channel_of

    async with parley_with(credentials(slack)) as (_, server):
        channel = channel_of(server, "slack")
        to = Inbound("U1", "x", "m1", reply_to={"channel": "C9", "thread_ts": None})
        await channel.deliver(
            to,
            {
                "text": "Pick one",
                "image": "https://img/x.png",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
            },
        )
        sent = (await slack.wait_for("/api/chat.postMessage"))[0].json()
    kinds = [b["type"] for b in sent["blocks"]]
    assert kinds == ["section", "image", "actions"]
    assert sent["blocks"][2]["elements"][0]["value"] == "/affirm"
