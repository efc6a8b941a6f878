"""Webex: webhooks signed with X-Spark-Signature are answered through a fake Webex API on
127.0.0.1 (the message fetched by id, the reply posted to the room); bad signatures get 403."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.server.channels.messaging import Inbound
from parley.server.channels.webexteams import spark_signature
from tests.server.channels.platform_fake import FakePlatform, channel_of, parley_with

WEBHOOK = "/webhooks/webexteams/webhook"
SECRET = "webhook-secret"


@pytest.fixture
async def webex() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("GET", "/v1/people/me", {"id": "bot-person"})
    fake.route("GET", "/v1/messages/msg-1", {"id": "msg-1", "text": "hi", "roomId": "room-1"})
    fake.route("GET", "/v1/messages/msg-own", {"id": "msg-own", "text": "Hi!"})
    fake.route("GET", "/v1/attachment/actions/act-1", {"inputs": {"payload": "/greet"}})
    fake.route("POST", "/v1/messages", {"id": "reply"})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform) -> dict[str, Any]:
    return {
        "webexteams": {
            "access_token": "bot-token",
            "webhook_secret": SECRET,
            "api_url": f"{fake.url}/v1",
        }
    }


def notice(data_id: str = "msg-1", person: str = "person-1", resource: str = "messages") -> bytes:
    body = {
        "id": "hook-1",
        "resource": resource,
        "event": "created",
        "data": {"id": data_id, "roomId": "room-1", "personId": person},
    }
    return json.dumps(body).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Spark-Signature": spark_signature(secret.encode(), body),
        "Content-Type": "application/json",
    }


async def test_a_signed_message_is_fetched_and_answered_in_its_room(webex: FakePlatform) -> None:
    async with parley_with(credentials(webex)) as (client, _):
        body = notice()
        assert (await client.post(WEBHOOK, content=body, headers=signed(body))).status_code == 200
        posted = await webex.wait_for("/v1/messages")
    fetch = webex.to("/v1/messages/msg-1")[0]
    assert fetch.headers["Authorization"] == "Bearer bot-token"
    assert [c for c in webex.calls if c.method == "POST"] == posted
    assert posted[0].headers["Authorization"] == "Bearer bot-token"
    reply = posted[0].json()
    assert reply["roomId"] == "room-1" and reply["markdown"].startswith("Hi! I'm the IT help")


async def test_a_repeated_notice_and_the_bots_own_message_are_not_answered(
    webex: FakePlatform,
) -> None:
    async with parley_with(credentials(webex)) as (client, _):
        for body in (notice(), notice(), notice("msg-own", person="bot-person")):
            assert (await client.post(WEBHOOK, content=body, headers=signed(body))).is_success
    assert len([c for c in webex.calls if c.method == "POST"]) == 1
    assert webex.to("/v1/messages/msg-own") == []  # known as the bot's own before fetching


@pytest.mark.parametrize("headers", [{}, signed(notice(), "another-secret")])
async def test_a_wrong_or_missing_signature_is_refused(
    webex: FakePlatform, headers: dict[str, str]
) -> None:
    async with parley_with(credentials(webex)) as (client, _):
        reply = await client.post(WEBHOOK, content=notice(), headers=headers)
    assert reply.status_code == 403 and webex.calls == []


async def test_a_card_button_click_is_handled_as_its_payload(webex: FakePlatform) -> None:
    async with parley_with(credentials(webex)) as (client, server):
        body = notice("act-1", resource="attachmentActions")
        assert (await client.post(WEBHOOK, content=body, headers=signed(body))).is_success
        await webex.wait_for("/v1/messages")
    tracker = await server.holder.agent.get_tracker("person-1")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["/greet"]


async def test_buttons_become_an_adaptive_card_and_images_a_file(webex: FakePlatform) -> None:
    async with parley_with(credentials(webex)) as (_, server):
        channel = channel_of(server, "webexteams")
        inbound = Inbound("person-1", "", "m0", reply_to={"room": "room-1"})
        await channel.deliver(
            inbound,
            {
                "text": "Pick",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
                "image": "https://img.example/a.png",
            },
        )
        await channel.deliver(inbound, {"custom": {"toPersonEmail": "a@b.c", "text": "psst"}})
    card, image, custom = [c.json() for c in webex.calls if c.method == "POST"]
    content = card["attachments"][0]["content"]
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert content["actions"] == [
        {"type": "Action.Submit", "title": "Yes", "data": {"payload": "/affirm"}}
    ]
    assert card["markdown"] == "Pick" and content["body"][0]["text"] == "Pick"
    assert image == {"roomId": "room-1", "files": ["https://img.example/a.png"]}
    assert custom == {"roomId": "room-1", "toPersonEmail": "a@b.c", "text": "psst"}


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'{"event": "created"}'])
async def test_a_signed_but_unreadable_notice_is_a_400(webex: FakePlatform, body: bytes) -> None:
    async with parley_with(credentials(webex)) as (client, _):
        reply = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert reply.status_code == (200 if body.startswith(b"{") else 400)  # not a message: ignored
    assert [c for c in webex.calls if c.method == "POST"] == []
