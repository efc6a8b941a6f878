"""Bot Framework: activities with Microsoft's JWT (keys from a fake OpenID configuration on
127.0.0.1) are answered through the fake Bot Connector; forged tokens get 401/403."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.server.channels.messaging import Inbound
from tests.server.channels.platform_fake import FakePlatform, Signer, channel_of, parley_with

APP_ID = "app-123"
ISSUER = "https://api.botframework.com"
WEBHOOK = "/webhooks/botframework/webhook"
SIGNER = Signer("bf-key")


@pytest.fixture
async def connector() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("GET", "/openid", {"issuer": ISSUER, "jwks_uri": f"{fake.url}/keys"})
    fake.route("GET", "/keys", {"keys": [SIGNER.jwk(endorsements=["msteams", "webchat"])]})
    fake.route("POST", "/token", {"access_token": "app-token-1", "expires_in": 3600})
    fake.route("POST", "/v3/conversations/conv-1/activities", {"id": "reply"})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform) -> dict[str, Any]:
    return {
        "botframework": {
            "app_id": APP_ID,
            "app_password": "secret",
            "openid_metadata_url": f"{fake.url}/openid",
            "token_url": f"{fake.url}/token",
        }
    }


def activity(fake: FakePlatform, activity_id: str = "act-1", text: str = "hi") -> dict[str, Any]:
    return {
        "type": "message",
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": fake.url + "/",
        "from": {"id": "user-29", "name": "Ann"},
        "recipient": {"id": "bot-1", "name": "helpdesk"},
        "conversation": {"id": "conv-1"},
        "text": text,
    }


def auth(fake: FakePlatform, signer: Signer = SIGNER, **claims: Any) -> dict[str, str]:
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceUrl": fake.url + "/", **claims}
    return {"Authorization": f"Bearer {signer.token(**claims)}"}


async def test_a_signed_activity_is_answered_through_the_connector(
    connector: FakePlatform,
) -> None:
    async with parley_with(credentials(connector)) as (client, _):
        reply = await client.post(WEBHOOK, json=activity(connector), headers=auth(connector))
        assert reply.status_code == 200
        posted = await connector.wait_for("/v3/conversations/conv-1/activities")
    token_call = connector.to("/token")[0]
    assert token_call.form()["client_id"] == APP_ID
    assert token_call.form()["scope"] == "https://api.botframework.com/.default"
    out = posted[0]
    assert out.headers["Authorization"] == "Bearer app-token-1"
    body = out.json()
    assert body["type"] == "message" and body["text"].startswith("Hi! I'm the IT help desk")
    assert body["recipient"]["id"] == "user-29" and body["from"]["id"] == "bot-1"
    assert body["replyToId"] == "act-1"


async def test_a_retried_activity_is_processed_once(connector: FakePlatform) -> None:
    async with parley_with(credentials(connector)) as (client, server):
        for _ in range(2):
            reply = await client.post(WEBHOOK, json=activity(connector), headers=auth(connector))
            assert reply.status_code == 200
    tracker = await server.holder.agent.get_tracker("user-29")  # replies done: channels closed
    assert len(connector.to("/v3/conversations/conv-1/activities")) == 1
    assert sum(e.type_name == "user" for e in tracker.events) == 1


@pytest.mark.parametrize(
    "case",
    ["missing", "other-key", "wrong-audience", "wrong-issuer", "expired", "other-service-url"],
)
async def test_forged_or_misdirected_tokens_are_refused(connector: FakePlatform, case: str) -> None:
    headers = {
        "missing": {},
        "other-key": auth(connector, Signer("bf-key")),  # same kid, another private key
        "wrong-audience": auth(connector, aud="another-app"),
        "wrong-issuer": auth(connector, iss="https://evil.example"),
        "expired": auth(connector, exp=1_000_000),
        "other-service-url": auth(connector, serviceUrl="https://evil.example/"),
    }[case]
    async with parley_with(credentials(connector)) as (client, _):
        reply = await client.post(WEBHOOK, json=activity(connector), headers=headers)
    assert reply.status_code in (401, 403), reply.text
    assert connector.to("/v3/conversations/conv-1/activities") == []


async def test_a_key_not_endorsed_for_the_channel_is_refused(connector: FakePlatform) -> None:
    body = activity(connector) | {"channelId": "skype"}
    async with parley_with(credentials(connector)) as (client, _):
        reply = await client.post(WEBHOOK, json=body, headers=auth(connector))
    assert reply.status_code == 403


async def test_buttons_images_attachments_and_custom_become_activities(
    connector: FakePlatform,
) -> None:
    async with parley_with(credentials(connector)) as (_, server):
        channel = channel_of(server, "botframework")
        inbound = Inbound(
            "user-29",
            "hi",
            "act-9",
            reply_to={
                "service_url": connector.url,
                "conversation": {"id": "conv-1"},
                "bot": {"id": "bot-1"},
                "user": {"id": "user-29"},
                "activity_id": "act-9",
            },
        )
        card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {}}
        await channel.deliver(
            inbound,
            {
                "text": "Reset it?",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
                "image": "https://img.example/a.png",
                "attachment": card,
            },
        )
        await channel.deliver(inbound, {"custom": {"type": "typing"}})
    first, second = [c.json() for c in connector.to("/v3/conversations/conv-1/activities")]
    hero, image, adaptive = first["attachments"]
    assert hero["content"]["text"] == "Reset it?"
    assert hero["content"]["buttons"] == [{"type": "imBack", "title": "Yes", "value": "/affirm"}]
    assert image["content"]["images"] == [{"url": "https://img.example/a.png"}]
    assert adaptive == card and "text" not in first
    assert second["type"] == "typing" and second["recipient"] == {"id": "user-29"}


async def test_a_handoff_sends_the_handoff_protocol_event_once(connector: FakePlatform) -> None:
    settings = credentials(connector)
    settings["botframework"]["handoff_initiate"] = True
    path = "/v3/conversations/conv-1/activities"
    async with parley_with(settings) as (client, _):
        for number, text in enumerate(["hi", "/human_handoff", "are you there?"]):
            body = activity(connector, f"act-{number}", text)
            assert (await client.post(WEBHOOK, json=body, headers=auth(connector))).is_success
            await connector.wait_for(path, 1 if number == 0 else 3)
    events = [c.json() for c in connector.to(path) if c.json()["type"] == "event"]
    assert len(events) == 1  # not again while the conversation stays with a human
    handoff = events[0]
    assert handoff["name"] == "handoff.initiate" and handoff["replyToId"] == "act-1"
    assert handoff["value"]["handoff_to_human"] is True
    transcript = handoff["attachments"][0]["content"]["activities"]
    texts = [a["text"] for a in transcript]
    assert texts[0] == "hi" and texts[1].startswith("Hi! I'm") and texts[2] == "/human_handoff"
    assert len(texts) == 4  # and the bot's handoff message; nothing after the handoff
    assert transcript[0]["from"] == {"id": "user-29", "name": "Ann"}
    assert transcript[-1]["from"] == {"id": "bot-1", "name": "helpdesk"}


async def test_the_mention_of_the_bot_in_a_teams_channel_is_not_part_of_the_text(
    connector: FakePlatform,
) -> None:
    body = activity(connector, text="<at>helpdesk</at> hi") | {
        "entities": [
            {"type": "mention", "text": "<at>helpdesk</at>", "mentioned": {"id": "bot-1"}},
            {"type": "clientInfo", "locale": "en-US"},
        ]
    }
    async with parley_with(credentials(connector)) as (client, server):
        assert (await client.post(WEBHOOK, json=body, headers=auth(connector))).is_success
    tracker = await server.holder.agent.get_tracker("user-29")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]
