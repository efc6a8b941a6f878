"""Google Chat (hangouts): events with Google's JWT (certificates served by a fake on 127.0.0.1)
are answered in the webhook's response; forged tokens get 401; a retried event is handled once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.server.channels.hangouts import chat_message
from tests.server.channels.platform_fake import FakePlatform, Signer, parley_with

WEBHOOK = "/webhooks/hangouts/webhook"
PROJECT = "123456789012"
ISSUER = "chat@system.gserviceaccount.com"
SIGNER = Signer("google-key")


@pytest.fixture
async def google() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("GET", "/certs", {SIGNER.kid: SIGNER.certificate_pem()})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform) -> dict[str, Any]:
    return {"hangouts": {"project_id": PROJECT, "certs_url": f"{fake.url}/certs"}}


def event(text: str = "hi", message: str = "spaces/S1/messages/M1") -> dict[str, Any]:
    user = {"name": "users/42", "displayName": "Ann"}
    return {
        "type": "MESSAGE",
        "eventTime": "2026-12-06T18:00:00Z",
        "space": {"name": "spaces/S1", "type": "DM"},
        "user": user,
        "message": {"name": message, "sender": user, "text": text, "argumentText": text},
    }


def auth(signer: Signer = SIGNER, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {signer.token(**({'iss': ISSUER, 'aud': PROJECT} | claims))}"}


async def test_a_signed_event_is_answered_in_the_response(google: FakePlatform) -> None:
    async with parley_with(credentials(google)) as (client, _):
        reply = await client.post(WEBHOOK, json=event(), headers=auth())
    assert reply.status_code == 200
    assert reply.json()["text"].startswith("Hi! I'm the IT help desk")
    assert [c.path for c in google.calls] == ["/certs"]


async def test_a_retried_event_is_handled_once_and_answered_alike(google: FakePlatform) -> None:
    async with parley_with(credentials(google)) as (client, server):
        first = await client.post(WEBHOOK, json=event(), headers=auth())
        again = await client.post(WEBHOOK, json=event(), headers=auth())
        tracker = await server.holder.agent.get_tracker("users/42")
    assert first.json() == again.json() and first.json()["text"]
    assert sum(e.type_name == "user" for e in tracker.events) == 1
    assert len(google.to("/certs")) == 1  # keys are cached


@pytest.mark.parametrize(
    "case", ["missing", "other-key", "wrong-audience", "wrong-issuer", "expired"]
)
async def test_forged_tokens_are_refused(google: FakePlatform, case: str) -> None:
    headers = {
        "missing": {},
        "other-key": auth(Signer("google-key")),
        "wrong-audience": auth(aud="999"),
        "wrong-issuer": auth(iss="someone@else.example"),
        "expired": auth(exp=1_000_000),
    }[case]
    async with parley_with(credentials(google)) as (client, server):
        reply = await client.post(WEBHOOK, json=event(), headers=headers)
        tracker = await server.holder.agent.get_tracker("users/42")
    assert reply.status_code == 401
    assert not any(e.type_name == "user" for e in tracker.events)


async def test_a_card_click_sends_its_action_method_name(google: FakePlatform) -> None:
    click = event() | {"type": "CARD_CLICKED", "action": {"actionMethodName": "/greet"}}
    async with parley_with(credentials(google)) as (client, server):
        reply = await client.post(WEBHOOK, json=click, headers=auth())
        tracker = await server.holder.agent.get_tracker("users/42")
    assert reply.status_code == 200
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["/greet"]


def test_texts_join_and_cards_keep_the_order() -> None:
    assert chat_message([{"text": "a"}, {"text": "b"}]) == {"text": "a\nb"}
    answer = chat_message(
        [
            {"text": "first"},
            {"text": "Pick", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
            {"image": "https://img.example/a.png"},
            {"custom": {"cards": [{"header": {"title": "mine"}}]}},
        ]
    )
    first, buttons, image, custom = answer["cards"]
    assert first["sections"][0]["widgets"] == [{"textParagraph": {"text": "first"}}]
    text, row = buttons["sections"][0]["widgets"]
    assert text == {"textParagraph": {"text": "Pick"}}
    assert row["buttons"][0]["textButton"]["onClick"]["action"]["actionMethodName"] == "/affirm"
    assert image["sections"][0]["widgets"] == [{"image": {"imageUrl": "https://img.example/a.png"}}]
    assert custom == {"header": {"title": "mine"}}


async def test_endpoint_url_tokens_must_be_issued_to_google_chat(google: FakePlatform) -> None:
    google.route("GET", "/jwks", {"keys": [SIGNER.jwk()]})
    url = "https://bot.example/webhooks/hangouts/webhook"
    settings = {
        "hangouts": {
            "project_id": url,
            "issuer": "https://accounts.google.com",
            "certs_url": f"{google.url}/jwks",
        }
    }
    google_claims = {"iss": "https://accounts.google.com", "aud": url}
    chat = auth(**google_claims, email=ISSUER, email_verified=True)
    anyone = auth(**google_claims, email="someone@gmail.com", email_verified=True)
    async with parley_with(settings) as (client, _):
        assert (await client.post(WEBHOOK, json=event(), headers=anyone)).status_code == 401
        reply = await client.post(WEBHOOK, json=event(), headers=chat)
    assert reply.status_code == 200 and reply.json()["text"]
