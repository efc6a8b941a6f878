"""Rocket.Chat: outgoing-webhook and Omnichannel messages with the token are answered through a
fake Rocket.Chat REST API on 127.0.0.1 (login, then chat.postMessage); wrong tokens get 403."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.server.channels.messaging import Inbound
from tests.server.channels.platform_fake import Call, FakePlatform, channel_of, parley_with

WEBHOOK = "/webhooks/rocketchat/webhook"
POST = "/api/v1/chat.postMessage"
HOOK_TOKEN = "integration-token"


def login(call: Call) -> dict[str, Any]:
    assert call.json() == {"user": "helpdesk", "password": "pw"}
    return {"status": "success", "data": {"authToken": "auth-1", "userId": "bot-id"}}


@pytest.fixture
async def rocket() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("POST", "/api/v1/login", login)
    fake.route("POST", POST, {"success": True})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform) -> dict[str, Any]:
    return {
        "rocketchat": {
            "user": "helpdesk",
            "password": "pw",
            "server_url": fake.url,
            "webhook_token": HOOK_TOKEN,
        }
    }


def outgoing(message_id: str = "m1", token: str = HOOK_TOKEN, user: str = "ann") -> dict:
    return {
        "token": token,
        "bot": False,
        "channel_id": "room-1",
        "message_id": message_id,
        "user_id": "u1",
        "user_name": user,
        "text": "hi",
    }


async def test_an_outgoing_webhook_message_is_answered_in_its_room(rocket: FakePlatform) -> None:
    async with parley_with(credentials(rocket)) as (client, _):
        assert (await client.post(WEBHOOK, json=outgoing())).status_code == 200
        posted = await rocket.wait_for(POST)
    assert posted[0].headers["X-Auth-Token"] == "auth-1"
    assert posted[0].headers["X-User-Id"] == "bot-id"
    body = posted[0].json()
    assert body["roomId"] == "room-1" and body["text"].startswith("Hi! I'm the IT help desk")


async def test_an_omnichannel_message_with_the_secret_header_is_answered(
    rocket: FakePlatform,
) -> None:
    payload = {
        "_id": "lc-room",
        "type": "Message",
        "visitor": {"_id": "v1", "username": "guest-1"},
        "messages": [{"_id": "lc-m1", "username": "guest-1", "msg": "hi"}],
    }
    async with parley_with(credentials(rocket)) as (client, _):
        forged = await client.post(
            WEBHOOK, json=payload, headers={"X-RocketChat-Livechat-Token": "nope"}
        )
        assert forged.status_code == 403
        reply = await client.post(
            WEBHOOK, json=payload, headers={"X-RocketChat-Livechat-Token": HOOK_TOKEN}
        )
        assert reply.status_code == 200
        posted = await rocket.wait_for(POST)
        closed = payload | {"type": "LivechatSession", "messages": [{"_id": "x", "msg": "hi"}]}
        headers = {"X-RocketChat-Livechat-Token": HOOK_TOKEN}
        assert (await client.post(WEBHOOK, json=closed, headers=headers)).status_code == 200
    assert posted[0].json()["roomId"] == "lc-room"
    assert len(rocket.to(POST)) == 1  # a closed chat's transcript is not answered


async def test_a_repeated_message_and_the_bots_own_are_not_processed(
    rocket: FakePlatform,
) -> None:
    async with parley_with(credentials(rocket)) as (client, _):
        for body in (outgoing(), outgoing(), outgoing("m2", user="helpdesk")):
            assert (await client.post(WEBHOOK, json=body)).status_code == 200
    assert len(rocket.to(POST)) == 1


@pytest.mark.parametrize("token", ["", "forged"])
async def test_a_wrong_or_missing_token_is_refused(rocket: FakePlatform, token: str) -> None:
    async with parley_with(credentials(rocket)) as (client, _):
        reply = await client.post(WEBHOOK, json=outgoing(token=token))
    assert reply.status_code == 403 and rocket.calls == []


async def test_buttons_images_and_custom_payloads(rocket: FakePlatform) -> None:
    async with parley_with(credentials(rocket)) as (_, server):
        channel = channel_of(server, "rocketchat")
        inbound = Inbound("room-1", "", "m0", reply_to={"room": "room-1"})
        await channel.deliver(
            inbound,
            {
                "text": "Pick",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
                "image": "https://img.example/a.png",
            },
        )
        await channel.deliver(inbound, {"custom": {"channel": "#general", "text": "hello"}})
    first, second = [c.json() for c in rocket.to(POST)]
    buttons, image = first["attachments"]
    assert first["text"] == "Pick"
    assert buttons["actions"] == [
        {"type": "button", "text": "Yes", "msg": "/affirm", "msg_in_chat_window": True}
    ]
    assert image == {"image_url": "https://img.example/a.png", "collapsed": False}
    assert second == {"channel": "#general", "text": "hello"}  # a channel wins over the room
    assert len(rocket.to("/api/v1/login")) == 1  # the login is reused
