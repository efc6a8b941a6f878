"""Events reach brokers with the event id the engine gave them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import select

from parley.stores import (
    PikaEventBroker,
    PikaSettings,
    SQLEventBroker,
    SQLSettings,
)
from parley.stores.sql_schema import broker_events
from tests.stores.conftest import unique_name

TURN = [
    {"event": "user", "timestamp": time.time(), "text": "hi", "metadata": {"event_id": "a" * 32}},
    {"event": "bot", "timestamp": time.time(), "text": "hello", "metadata": {"event_id": "b" * 32}},
]


async def test_published_events_reach_sql_with_their_ids(tmp_path: Path) -> None:
    broker = await SQLEventBroker.open(SQLSettings(db="broker.db"), tmp_path)
    await broker.publish("alice", TURN)
    async with broker.engine.connect() as connection:
        rows = (await connection.execute(select(broker_events).order_by(broker_events.c.id))).all()
    await broker.close()
    assert [row.event_id for row in rows] == ["a" * 32, "b" * 32]
    assert [json.loads(row.data) for row in rows] == [{**e, "sender_id": "alice"} for e in TURN]


@pytest.mark.integration
async def test_rabbitmq_consumer_receives_events_with_ids() -> None:
    queue_name = unique_name("queue")
    exchange_name = unique_name("exchange")
    settings = PikaSettings.from_endpoint(
        {
            "url": "127.0.0.1",
            "username": "guest",
            "password": "guest",
            "queues": [queue_name],
            "exchange_name": exchange_name,
        },
        "test",
    )
    broker = await PikaEventBroker.open(settings)
    await broker.publish("alice", TURN)
    await broker.close()
    stored = TURN

    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        received = []
        for _ in stored:
            message = await _next_message(queue)
            received.append((message.message_id, json.loads(message.body)))
            await message.ack()
        await queue.delete(if_unused=False, if_empty=False)
        await channel.exchange_delete(exchange_name)
    finally:
        await connection.close()
    assert [mid for mid, _ in received] == [e["metadata"]["event_id"] for e in stored]
    assert [body for _, body in received] == [{**e, "sender_id": "alice"} for e in stored]


async def _next_message(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    for _ in range(100):
        message = await queue.get(fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("no message arrived on the queue within 5 seconds")
