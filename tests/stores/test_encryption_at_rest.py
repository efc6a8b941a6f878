"""Raw rows of every persistent store hold no plaintext, and keys rotate."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from parley.stores import (
    EncryptionKey,
    EventCipher,
    RedisTrackerStore,
    SQLSettings,
    SQLTrackerStore,
)
from tests.stores.conftest import (
    drop_redis_keys,
    drop_schema,
    postgres_settings,
    redis_settings,
    unique_name,
)

SECRETS = ["4111-1111-1111-1111", "Jane Doe", "jane@example.org", "Baker Street 221b"]
TURN = [
    {
        "event": "user",
        "timestamp": time.time(),
        "text": f"my card is {SECRETS[0]}",
        "parse_data": {
            "intent": {"name": "inform", "confidence": 0.9},
            "entities": [{"entity": "name", "value": SECRETS[1], "start": 0, "end": 8}],
        },
        "metadata": {"event_id": "e" * 32, "model_id": "m1"},
    },
    {"event": "slot", "timestamp": time.time(), "name": "email", "value": SECRETS[2]},
    {"event": "bot", "timestamp": time.time(), "text": f"Shipping to {SECRETS[3]}"},
]


async def raw_rows(store: SQLTrackerStore | RedisTrackerStore) -> list[str]:
    if isinstance(store, SQLTrackerStore):
        async with store.engine.connect() as connection:
            rows = await connection.execute(text("SELECT * FROM parley_events"))
            return [" ".join(str(value) for value in row) for row in rows]
    raw = await store.redis.lrange(store._key("alice"), 0, -1)  # type: ignore[misc]
    return [item.decode() for item in raw]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.integration),
        pytest.param("redis", marks=pytest.mark.integration),
    ]
)
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator:
    """A function that opens the same underlying store with a given cipher."""
    kind = request.param
    name = unique_name(kind)
    opened: list[SQLTrackerStore | RedisTrackerStore] = []

    async def open_with(cipher: EventCipher) -> SQLTrackerStore | RedisTrackerStore:
        store: SQLTrackerStore | RedisTrackerStore
        if kind == "sqlite":
            store = await SQLTrackerStore.open(SQLSettings(), tmp_path, cipher)
        elif kind == "postgresql":
            store = await SQLTrackerStore.open(postgres_settings(name), tmp_path, cipher)
        else:
            store = await RedisTrackerStore.open(redis_settings(name), cipher)
        opened.append(store)
        return store

    yield open_with
    for store in opened:
        await store.close()
    if kind == "postgresql":
        await drop_schema(name)
    elif kind == "redis":
        await drop_redis_keys(name)


async def test_raw_rows_hold_no_plaintext(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(EventCipher(EncryptionKey.generate()))
    await store.append("alice", TURN)
    rows = await raw_rows(store)
    assert len(rows) == 3
    dump = "\n".join(rows)
    for secret in SECRETS:
        assert secret not in dump
    assert "inform" not in dump  # parse data is sealed too
    assert "e" * 32 in dump  # ids stay in clear for indexing
    assert await store.load("alice") == TURN


async def test_without_a_key_rows_are_plain_json(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(EventCipher(None))
    await store.append("alice", TURN)
    assert SECRETS[0] in "\n".join(await raw_rows(store))


async def test_rotation_reencrypts_everything_under_the_new_key(open_store) -> None:  # type: ignore[no-untyped-def]
    old, new = EncryptionKey.generate(), EncryptionKey.generate()
    before = await open_store(EventCipher(old))
    await before.append("alice", TURN)
    rotating = await open_store(EventCipher(new, [old]))
    assert await rotating.reencrypt() == 3
    assert await rotating.reencrypt() == 0
    after = await open_store(EventCipher(new))
    assert await after.load("alice") == TURN
    dump = "\n".join(await raw_rows(after))
    assert new.key_id in dump and old.key_id not in dump
