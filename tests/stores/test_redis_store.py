"""Redis-specific behaviour of the Redis tracker store (the shared contract is in test_contract)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from parley.stores import RedisSettings, RedisTrackerStore
from tests.stores.conftest import REDIS, drop_redis_keys, redis_settings, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
async def store() -> AsyncIterator[RedisTrackerStore]:
    prefix = unique_name("redis")
    opened = await RedisTrackerStore.open(redis_settings(prefix))
    yield opened
    await opened.close()
    await drop_redis_keys(prefix)


def turn(event_id: str) -> list[dict]:
    return [
        {"event": "user", "timestamp": 1.0, "text": "hi", "metadata": {"event_id": event_id}},
        {"event": "action", "timestamp": 1.0, "name": "action_listen"},
    ]


async def test_a_retried_turn_is_stored_once(store: RedisTrackerStore) -> None:
    await store.append("a", turn("e1"))
    await store.append("a", turn("e1"))  # a client retry after a lost reply
    await store.append("a", turn("e2"))
    loaded = await store.load("a") or []
    assert [e["metadata"]["event_id"] for e in loaded if e["event"] == "user"] == ["e1", "e2"]


async def test_record_exp_lets_conversations_expire() -> None:
    prefix = unique_name("redis")
    settings = RedisSettings.from_endpoint({**REDIS, "key_prefix": prefix, "record_exp": 1}, "t")
    expiring = await RedisTrackerStore.open(settings)
    try:
        await expiring.append("a", turn("e1"))
        assert await expiring.load("a") is not None
        await asyncio.sleep(2.1)
        assert await expiring.load("a") is None
    finally:
        await expiring.close()
        await drop_redis_keys(prefix)
