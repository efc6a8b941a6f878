"""PII planted in a served conversation (an email, an IBAN, a custom entity's value) is absent
from log records, RabbitMQ messages, spans and the tracker store at rest, while the
conversation goes on, also after a restart that replays the redacted store."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from parley.server.bootstrap import ProjectFiles, build_server
from parley.server.config import ServerConfig
from parley.stores.persistence import create_stores
from tests.action_runners.support import BANKBOT
from tests.integration.conftest import TrainedModel
from tests.observability.collector import Collector
from tests.observability.projects import bankbot_copy
from tests.server.live import running

pytestmark = pytest.mark.integration

EMAIL = "ada.lovelace@example.org"
IBAN = "DE89 3704 0044 0532 0130 00"
ACCOUNT = "Vault-7731-Zurich"  # the custom entity `account`, redacted by an entity rule
PLANTED = (EMAIL, IBAN, ACCOUNT, "Ada.Lovelace@Example.Org")

CONVERSATION = [
    (
        f'/check_balance{{"account": "{ACCOUNT}"}}',
        f"I only know checking and savings, not {ACCOUNT}.",
    ),
    ("/transfer_money", "How much do you want to send?"),
    (f'/inform{{"amount": "{IBAN}"}}', f"'{IBAN}' is not an amount I can send."),
    ('/inform{"amount": "2500"}', "Who should receive it?"),
    (f'/inform{{"recipient": "{EMAIL}"}}', "That is a large transfer. Are you sure?"),
    ("/affirm", "Sent 2500.0 EUR to Ada.Lovelace@Example.Org."),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with bankbot_copy(tmp_path_factory.mktemp("pii"), "pii_bank_actions") as root:
        yield root


def endpoints(root: Path, queue: str, collector: Collector) -> str:
    return f"""
action_endpoint:
  actions_module: pii_bank_actions
tracker_store:
  type: sql
  dialect: sqlite
  db: {root / "tracker.db"}
event_broker:
  type: pika
  url: 127.0.0.1
  username: guest
  password: ${{PII_TEST_RABBIT_PASSWORD}}
  queues: [{queue}]
  exchange_name: {queue}-exchange
tracing:
  endpoint: {collector.url}
  include_text: true
pii:
  apply_to: [logs, event_broker, tracing, tracker_store]
  hash_key: ${{PII_TEST_HASH_KEY}}
  rules:
    - pattern: email
    - pattern: iban
      substitution: hash
    - entity: account
      substitution: text
      text: "<account>"
"""


async def say(port: int, sender: str, text: str) -> list[str]:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
        )
    assert answer.status_code == 200, answer.text
    return [m.get("text") for m in answer.json()]


async def drain(queue_name: str) -> list[dict[str, Any]]:
    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    bodies = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        for _ in range(1000):  # bounded: the turns' events are all published by now
            message = await queue.get(fail=False)
            if message is None:
                if bodies:
                    break
                await asyncio.sleep(0.05)
                continue
            bodies.append(json.loads(message.body))
            await message.ack()
        await queue.delete(if_unused=False, if_empty=False)
        await channel.exchange_delete(f"{queue_name}-exchange")
    finally:
        await connection.close()
    return bodies


def assert_clean(where: str, text: str) -> None:
    for value in PLANTED:
        assert value not in text, f"{value!r} found in {where}"


async def test_planted_pii_is_absent_everywhere_but_the_conversation_goes_on(
    project: Path,
    trained_model: TrainedModel,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PII_TEST_RABBIT_PASSWORD", "guest")
    monkeypatch.setenv("PII_TEST_HASH_KEY", "test-pseudonym-key")
    model = trained_model(BANKBOT)
    queue = f"parley-pii-{uuid.uuid4().hex[:8]}"
    sender = "pii-user"
    caplog.set_level(logging.DEBUG)
    with Collector() as collector:
        (project / "endpoints.yml").write_text(endpoints(project, queue, collector))
        server = await build_server(ProjectFiles(project, model=model), ServerConfig())
        async with running(server) as port:
            for text, reply in CONVERSATION:
                assert reply in await say(port, sender, text)
            # a message through NLU: its text is a span attribute (include_text), redacted
            await say(port, sender, f"please write to {EMAIL}")
            # any log record, Parley's or the user's own code's, is redacted
            logging.getLogger("bank.audit").info("paid %s from %s to %s", IBAN, ACCOUNT, EMAIL)
        collector.wait_for("parley.nlu.parse")
        spans = [repr(s) for s in collector.spans]
    assert "paid " in caplog.text
    assert_clean("log records", caplog.text)
    assert any("parley.text" in s for s in spans)
    assert_clean("spans", "\n".join(spans))

    published = await drain(queue)
    assert {b["event"] for b in published} >= {"user", "bot", "slot", "action"}
    assert_clean("broker messages", json.dumps(published))

    stores = await create_stores(
        {"tracker_store": {"type": "sql", "dialect": "sqlite", "db": str(project / "tracker.db")}},
        project,
    )
    try:
        stored = await stores.tracker_store.load(sender) or []
    finally:
        await stores.close()
    assert len(stored) == len([b for b in published if b["sender_id"] == sender])
    assert_clean("the tracker store", json.dumps(stored))
    # substitutes: a fixed text for the entity, a stable pseudonym for the IBAN, a mask
    bot_texts = [e["text"] for e in stored if e["event"] == "bot"]
    assert "I only know checking and savings, not <account>." in bot_texts
    assert any(
        t.startswith("'iban_") and t.endswith("' is not an amount I can send.") for t in bot_texts
    )
    assert "Sent 2500.0 EUR to " + "*" * len(EMAIL) + "." in bot_texts

    # a new server (nothing cached) replays the redacted store and goes on
    (project / "endpoints.yml").write_text(
        endpoints(project, queue, collector).replace("tracing:", "unused_tracing:")
    )
    server = await build_server(ProjectFiles(project, model=model), ServerConfig(enable_api=True))
    async with running(server) as port:
        assert await say(port, sender, "/greet") == [
            "Hello! I can check your balance or send money."
        ]
        async with httpx.AsyncClient(timeout=30) as client:
            state = (
                await client.get(f"http://127.0.0.1:{port}/conversations/{sender}/tracker")
            ).json()
    assert state["slots"]["last_recipient"] == "*" * len(EMAIL)
    assert state["latest_message"]["intent"]["name"] == "greet"
    await drain(queue)
