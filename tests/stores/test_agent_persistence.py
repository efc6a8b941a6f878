"""The Agent on persistent stores: conversations survive a restart, brokers see every event."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parley.agent import Agent
from parley.dialogue.part import DialoguePart
from parley.project import load_project
from parley.stores import (
    EncryptionKey,
    EventCipher,
    FencedError,
    SQLEventBroker,
    Stores,
    create_stores,
)
from parley.stores.sql_schema import broker_events
from parley.training import train_project
from tests.conftest import EXAMPLES
from tests.stores.conftest import drop_redis_keys, unique_name

ENDPOINTS = {"event_broker": {"type": "sql", "dialect": "sqlite", "db": "events.db"}}


@pytest.fixture(scope="module")
def moodbot_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    return train_project(load_project(EXAMPLES / "moodbot"), out, parts=[DialoguePart()]).model


def agent_on(model: Path, stores: Stores) -> Agent:
    return Agent.load(
        model,
        tracker_store=stores.tracker_store,
        lock_store=stores.lock_store,
        event_broker=stores.event_broker,
    )


async def test_conversation_continues_after_a_restart(moodbot_model: Path, tmp_path: Path) -> None:
    cipher = EventCipher(EncryptionKey.generate())
    first = await create_stores(ENDPOINTS, tmp_path, cipher)
    await agent_on(moodbot_model, first).handle_message("ann", "/greet")
    await first.close()

    second = await create_stores(ENDPOINTS, tmp_path, cipher)
    reply = await agent_on(moodbot_model, second).handle_message("ann", "/mood_great")
    assert [m["text"] for m in reply] == ["Great, carry on!"]
    stored = await second.tracker_store.load("ann") or []
    assert isinstance(second.event_broker, SQLEventBroker)
    async with second.event_broker.engine.connect() as connection:
        published = (await connection.execute(select(broker_events.c.event_id))).scalars().all()
    await second.close()
    assert [e["event"] for e in stored if e["event"] == "user"] == ["user", "user"]
    assert published == [e["metadata"]["event_id"] for e in stored]


@pytest.mark.integration
async def test_a_turn_stalled_past_its_lease_stores_nothing(
    moodbot_model: Path, tmp_path: Path
) -> None:
    """The process froze mid-turn for longer than the Redis lease (another worker may have
    taken the conversation over): the turn fails with FencedError instead of writing."""
    prefix = unique_name("stall")
    endpoints = {
        "lock_store": {"type": "redis", "url": "127.0.0.1", "key_prefix": prefix, "lease": 0.4}
    }
    stores = await create_stores(endpoints, tmp_path)
    agent = agent_on(moodbot_model, stores)
    try:
        await agent.handle_message("bo", "/greet")
        handle_user = agent.processor.handle_user

        async def frozen(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.6)  # blocks the event loop, heartbeat included
            return await handle_user(*args, **kwargs)

        agent.processor.handle_user = frozen  # type: ignore[method-assign]
        with pytest.raises(FencedError, match="lease ran out"):
            await agent.handle_message("bo", "/mood_great")
        stored = await stores.tracker_store.load("bo") or []
        assert [e.get("text") for e in stored if e["event"] == "user"] == ["/greet"]
    finally:
        await stores.close()
        await drop_redis_keys(prefix)
