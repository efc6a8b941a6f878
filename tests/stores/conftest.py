"""Store fixtures: every tracker store type, on real services with a unique namespace per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from parley.stores import (
    EncryptionKey,
    EventCipher,
    InMemoryTrackerStore,
    ManagedTrackerStore,
    RedisSettings,
    RedisTrackerStore,
    SQLSettings,
    SQLTrackerStore,
)
from parley.stores.sql_engine import create_engine

POSTGRES = {"dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": "test"}
REDIS = {"url": "127.0.0.1", "port": 6379, "db": 0}
STORE_TYPES = [
    "memory",
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.integration),
    pytest.param("redis", marks=pytest.mark.integration),
]


def unique_name(kind: str) -> str:
    return f"parley_test_{kind}_{uuid.uuid4().hex[:10]}"


def postgres_settings(schema: str) -> SQLSettings:
    return SQLSettings.from_endpoint({**POSTGRES, "schema": schema}, "test")


def redis_settings(prefix: str) -> RedisSettings:
    return RedisSettings.from_endpoint({**REDIS, "key_prefix": prefix}, "test")


async def drop_schema(schema: str) -> None:
    engine = create_engine(SQLSettings.from_endpoint(POSTGRES, "test"), Path("."))
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


async def drop_redis_keys(prefix: str) -> None:
    redis = redis_settings(prefix).connect()
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
def cipher() -> EventCipher:
    return EventCipher(EncryptionKey.generate())


@pytest.fixture(params=STORE_TYPES)
async def tracker_store(
    request: pytest.FixtureRequest, tmp_path: Path, cipher: EventCipher
) -> AsyncIterator[ManagedTrackerStore]:
    kind = request.param
    if kind == "memory":
        yield InMemoryTrackerStore()
    elif kind == "sqlite":
        store = await SQLTrackerStore.open(SQLSettings(), tmp_path, cipher)
        yield store
        await store.close()
    elif kind == "postgresql":
        schema = unique_name("pg")
        pg_store = await SQLTrackerStore.open(postgres_settings(schema), tmp_path, cipher)
        yield pg_store
        await pg_store.close()
        await drop_schema(schema)
    else:
        prefix = unique_name("redis")
        redis_store = await RedisTrackerStore.open(redis_settings(prefix), cipher)
        yield redis_store
        await redis_store.close()
        await drop_redis_keys(prefix)
