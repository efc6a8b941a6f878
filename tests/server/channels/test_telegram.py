"""Telegram: updates carrying the webhook's secret token are answered through a fake Bot API on
127.0.0.1; a wrong or missing secret gets 403; a redelivered update is handled once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.server.channels.messaging import Inbound
from tests.server.channels.platform_fake import FakePlatform, channel_of, parley_with
from tests.server.helpdesk import GREETING

WEBHOOK = "/webhooks/telegram/webhook"
SECRET = "telegram-secret-token"
TOKEN = "123:bot-token"


@pytest.fixture
async def telegram() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    for method in ("sendMessage", "sendPhoto", "answerCallbackQuery"):
        fake.route("POST", f"/bot{TOKEN}/{method}", {"ok": True, "result": {}})
    async with fake.running():
        yield fake


def credentials(fake: FakePlatform) -> dict[str, Any]:
    return {"telegram": {"access_token": TOKEN, "verify": "helpdesk_bot",
                         "webhook_url": "https://parley.example/webhooks/telegram/webhook",
                         "secret_token": SECRET, "api_url": fake.url}}  # fmt: skip


def update(update_id: int = 1, text: str = "hi", chat: int = 42) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"message_id": 7, "from": {"id": chat},
                                                "chat": {"id": chat}, "text": text}}  # fmt: skip


HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


async def test_an_update_with_the_secret_is_answered_in_its_chat(telegram: FakePlatform) -> None:
    async with parley_with(credentials(telegram)) as (client, server):
        reply = await client.post(WEBHOOK, json=update(), headers=HEADERS)
        assert reply.status_code == 200
        sent = telegram.to(f"/bot{TOKEN}/sendMessage")
        tracker = await server.holder.agent.get_tracker("42")
    assert sent and sent[0].json()["chat_id"] == 42
    assert sent[0].json()["text"].startswith(GREETING)
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]


async def test_a_wrong_or_missing_secret_is_refused(telegram: FakePlatform) -> None:
    async with parley_with(credentials(telegram)) as (client, server):
        wrong = await client.post(WEBHOOK, json=update(), headers={
            "X-Telegram-Bot-Api-Secret-Token": "guess"})  # fmt: skip
        missing = await client.post(WEBHOOK, json=update())
        assert wrong.status_code == missing.status_code == 403
        assert (await server.holder.agent.get_tracker("42")).events == []
    assert telegram.calls == []


async def test_a_redelivered_update_is_handled_once(telegram: FakePlatform) -> None:
    async with parley_with(credentials(telegram)) as (client, server):
        for _ in range(2):
            assert (await client.post(WEBHOOK, json=update(5), headers=HEADERS)).status_code == 200
        tracker = await server.holder.agent.get_tracker("42")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hi"]
    assert len(telegram.to(f"/bot{TOKEN}/sendMessage")) == 1


async def test_a_button_press_is_its_payload_and_buttons_are_an_inline_keyboard(
    telegram: FakePlatform,
) -> None:
    async with parley_with(credentials(telegram)) as (client, server):
        press = {"update_id": 9, "callback_query": {"id": "cq1", "from": {"id": 42},
                 "message": {"chat": {"id": 42}}, "data": "/greet"}}  # fmt: skip
        assert (await client.post(WEBHOOK, json=press, headers=HEADERS)).status_code == 200
        assert telegram.to(f"/bot{TOKEN}/answerCallbackQuery")[0].json() == {
            "callback_query_id": "cq1"
        }
        channel = channel_of(server, "telegram")
        await channel.deliver(Inbound("42", "x", "m", reply_to={"chat_id": 42}),
                           {"text": "Pick", "image": "https://img/x.png",
                            "buttons": [{"title": "Yes", "payload": "/affirm"}]})  # fmt: skip
        tracker = await server.holder.agent.get_tracker("42")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["/greet"]
    photo = telegram.to(f"/bot{TOKEN}/sendPhoto")[-1].json()
    assert photo == {"chat_id": 42, "photo": "https://img/x.png"}
    keyboard = telegram.to(f"/bot{TOKEN}/sendMessage")[-1].json()["reply_markup"]
    assert keyboard == {"inline_keyboard": [[{"text": "Yes", "callback_data": "/affirm"}]]}
