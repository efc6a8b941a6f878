"""Events reach brokers after they are stored, each with its event id."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import select

from parley.stores import (
    InMemoryLockStore,
    InMemoryTrackerStore,
    PikaEventBroker,
    PikaSettings,
    SQLEventBroker,
    SQLSettings,
    Stores,
)
from parley.stores.sql_schema import broker_events
from tests.stores.conftest import unique_name

TURN = [
    {"event": "user", "timestamp": time.time(), "text": "hi", "metadata": {"model_id": "m1"}},
    {"event": "bot", "timestamp": time.time(), "text": "hello", "metadata": {"event_id": "b" * 32}},
]


async def test_recorded_turn_is_stored_then_published_to_sql(tmp_path: Path) -> None:
    broker = await SQLEventBroker.open(SQLSettings(db="broker.db"), tmp_path)
    stores = Stores(InMemoryTrackerStore(), InMemoryLockStore(), broker)
    stored = await stores.record_turn("alice", TURN)
    async with broker.engine.connect() as connection:
        rows = (await connection.execute(select(broker_events).order_by(broker_events.c.id))).all()
    await stores.close()
    ids = [event["metadata"]["event_id"] for event in stored]
    assert ids[1] == "b" * 32 and len(ids[0]) == 32  # kept, or given one
    assert stored[0]["metadata"]["model_id"] == "m1"
    assert [row.event_id for row in rows] == ids
    assert [json.loads(row.data) for row in rows] == [{**e, "sender_id": "alice"} for e in stored]
    assert await stores.tracker_store.load("alice") == stored


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
    stores = Stores(InMemoryTrackerStore(), InMemoryLockStore(), broker)
    stored = await stores.record_turn("alice", TURN)
    await stores.close()

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
