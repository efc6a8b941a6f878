"""Mattermost: outgoing-webhook posts with the webhook token are answered through a fake
Mattermost API on 127.0.0.1; buttons come back signed; wrong tokens get 403."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.server.channels.messaging import Inbound
from tests.server.channels.platform_fake import FakePlatform, channel_of, parley_with

WEBHOOK = "/webhooks/mattermost/webhook"
HOOK_TOKEN = "outgoing-hook-token"


@pytest.fixture
async def mattermost() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("POST", "/api/v4/posts", {"id": "post-reply"}, status=201)
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform, **extra: Any) -> dict[str, Any]:
    settings = {
        "url": f"{fake.url}/api/v4",
        "token": "bot-token",
        "webhook_url": "https://parley.example/webhooks/mattermost/webhook",
        "webhook_token": HOOK_TOKEN,
    }
    return {"mattermost": settings | extra}


def outgoing(post_id: str = "p1", text: str = "@helpdesk hi", token: str = HOOK_TOKEN) -> dict:
    return {
        "token": token,
        "team_id": "t1",
        "channel_id": "c1",
        "user_id": "u1",
        "user_name": "ann",
        "post_id": post_id,
        "text": text,
        "trigger_word": "@helpdesk",
    }


async def test_a_post_with_the_webhook_token_is_answered_in_its_channel(
    mattermost: FakePlatform,
) -> None:
    async with parley_with(credentials(mattermost)) as (client, server):
        reply = await client.post(WEBHOOK, json=outgoing())
        assert reply.status_code == 200 and reply.json() == {}
        posted = await mattermost.wait_for("/api/v4/posts")
    assert posted[0].headers["Authorization"] == "Bearer bot-token"
    body = posted[0].json()
    assert body["channel_id"] == "c1" and body["message"].startswith("Hi! I'm the IT help desk")
    tracker = await server.holder.agent.get_tracker("u1")
    user_texts = [e.text for e in tracker.events if e.type_name == "user"]
    assert user_texts == ["hi"]  # the trigger word is not part of the message


async def test_a_form_encoded_outgoing_webhook_is_read_too(mattermost: FakePlatform) -> None:
    async with parley_with(credentials(mattermost)) as (client, _):
        reply = await client.post(WEBHOOK, data=outgoing())
        assert reply.status_code == 200
        await mattermost.wait_for("/api/v4/posts")


async def test_a_repeated_post_is_processed_once(mattermost: FakePlatform) -> None:
    async with parley_with(credentials(mattermost)) as (client, _):
        for _ in range(2):
            assert (await client.post(WEBHOOK, json=outgoing())).status_code == 200
    assert len(mattermost.to("/api/v4/posts")) == 1


@pytest.mark.parametrize("token", ["", "forged"])
async def test_a_wrong_or_missing_webhook_token_is_refused(
    mattermost: FakePlatform, token: str
) -> None:
    async with parley_with(credentials(mattermost)) as (client, _):
        reply = await client.post(WEBHOOK, json=outgoing(token=token))
    assert reply.status_code == 403
    assert mattermost.calls == []


async def test_buttons_are_signed_and_a_click_comes_back_as_the_payload(
    mattermost: FakePlatform,
) -> None:
    async with parley_with(credentials(mattermost)) as (client, server):
        channel = channel_of(server, "mattermost")
        await channel.deliver(
            Inbound("u1", "", "p0", reply_to={"channel_id": "c1"}),
            {
                "text": "Pick one",
                "buttons": [{"title": "Hi", "payload": "/greet"}],
                "image": "https://img.example/a.png",
            },
        )
        body = mattermost.to("/api/v4/posts")[0].json()
        buttons, image = body["props"]["attachments"]
        action = buttons["actions"][0]
        assert action["name"] == "Hi" and action["integration"]["url"].endswith(WEBHOOK)
        assert image == {"image_url": "https://img.example/a.png"}
        click = {
            "user_id": "u1",
            "channel_id": "c1",
            "post_id": "p-buttons",
            "trigger_id": "trig-1",
            "context": action["integration"]["context"],
        }
        assert (await client.post(WEBHOOK, json=click)).status_code == 200
        forged = click | {"context": {"action": "/deny", "signature": "00"}}
        assert (await client.post(WEBHOOK, json=forged)).status_code == 403
        await mattermost.wait_for("/api/v4/posts", 2)
    tracker = await server.holder.agent.get_tracker("u1")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["/greet"]


async def test_custom_payloads_are_posted_as_given(mattermost: FakePlatform) -> None:
    async with parley_with(credentials(mattermost)) as (_, server):
        channel = channel_of(server, "mattermost")
        custom = {"message": "**bold**", "props": {"card": "x"}}
        await channel.deliver(
            Inbound("u1", "", "p0", reply_to={"channel_id": "c1"}), {"custom": custom}
        )
    assert mattermost.to("/api/v4/posts")[0].json() == {"channel_id": "c1", **custom}
