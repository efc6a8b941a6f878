"""Stores built from endpoints.yml sections with Rasa's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.security import SecurityError
from parley.stores import (
    EncryptionKey,
    InMemoryLockStore,
    InMemoryTrackerStore,
    RedisLockStore,
    RedisTrackerStore,
    SQLTrackerStore,
    StoreConfigError,
    StoreError,
    create_event_broker,
    create_lock_store,
    create_stores,
    create_tracker_store,
)
from parley.stores.keys import load_cipher
from parley.stores.sql_engine import SQLSettings
from tests.stores.conftest import drop_redis_keys, drop_schema, unique_name


async def test_default_is_sqlite_parley_db_in_the_project(tmp_path: Path) -> None:
    stores = await create_stores({}, tmp_path)
    assert isinstance(stores.tracker_store, SQLTrackerStore)
    assert isinstance(stores.lock_store, InMemoryLockStore)
    assert stores.event_broker is None
    await stores.tracker_store.append("a", [{"event": "user", "timestamp": 1.0, "text": "x"}])
    await stores.close()
    assert (tmp_path / "parley.db").is_file()
    reopened = await create_tracker_store(None, tmp_path)
    assert await reopened.load("a") == [{"event": "user", "timestamp": 1.0, "text": "x"}]
    await reopened.close()


async def test_in_memory_types_are_accepted(tmp_path: Path) -> None:
    endpoints = {"tracker_store": {"type": "InMemory"}, "lock_store": {"type": "in_memory"}}
    assert isinstance(await create_tracker_store(endpoints, tmp_path), InMemoryTrackerStore)
    assert isinstance(await create_lock_store(endpoints), InMemoryLockStore)
    assert await create_event_broker(endpoints, tmp_path) is None


async def test_secret_references_are_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_TEST_DB_FILE", "from-env.db")
    endpoints = {"tracker_store": {"type": "sql", "db": "${PARLEY_TEST_DB_FILE}"}}
    store = await create_tracker_store(endpoints, tmp_path)
    await store.close()
    assert (tmp_path / "from-env.db").is_file()
    missing = {"tracker_store": {"type": "sql", "db": "${PARLEY_TEST_UNSET_VARIABLE}"}}
    with pytest.raises(SecurityError, match="PARLEY_TEST_UNSET_VARIABLE"):
        await create_tracker_store(missing, tmp_path)


def test_encryption_key_may_be_a_file_reference(tmp_path: Path) -> None:
    key = EncryptionKey.generate()
    secret_file = tmp_path / "tracker.key"
    secret_file.write_text(key.to_base64(), encoding="utf-8")
    secret_file.chmod(0o600)
    cipher = load_cipher(tmp_path, {"PARLEY_ENCRYPTION_KEY": "${file:tracker.key}"})
    assert cipher.key_id == key.key_id
    assert load_cipher(tmp_path, {}).key_id is None


def test_sql_settings_follow_rasa_keys(tmp_path: Path) -> None:
    settings = SQLSettings.from_endpoint(
        {
            "dialect": "postgresql",
            "url": "db.internal",
            "port": "5433",
            "db": "rasa",
            "username": "bot",
            "password": "pw",
            "query": {"sslmode": "require"},
        },
        "tracker_store",
    )
    url = settings.url(tmp_path)
    assert url.render_as_string(hide_password=False) == (
        "postgresql+psycopg://bot:pw@db.internal:5433/rasa?sslmode=require"
    )
    sqlite = SQLSettings.from_endpoint({"dialect": "sqlite", "db": "conv.db"}, "tracker_store")
    assert sqlite.url(tmp_path).database == str(tmp_path / "conv.db")


async def test_unknown_types_and_dialects_are_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError, match="unknown type 'mongod'"):
        await create_tracker_store({"tracker_store": {"type": "mongod"}}, tmp_path)
    with pytest.raises(StoreConfigError, match="dialect 'oracle' is not supported"):
        await create_tracker_store(
            {"tracker_store": {"type": "sql", "dialect": "oracle"}}, tmp_path
        )
    with pytest.raises(StoreConfigError, match="custom store classes"):
        await create_lock_store({"lock_store": {"type": "my.module.Lock"}})


async def test_unreachable_database_is_a_clear_store_error(tmp_path: Path) -> None:
    endpoints = {
        "tracker_store": {
            "type": "sql",
            "dialect": "postgresql",
            "url": "127.0.0.1",
            "port": 1,
            "db": "test",
        }
    }
    with pytest.raises(StoreError, match="cannot open the SQL tracker store"):
        await create_tracker_store(endpoints, tmp_path)


@pytest.mark.integration
async def test_postgres_and_redis_from_env_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, prefix = unique_name("pg"), unique_name("redis")
    monkeypatch.setenv("PARLEY_TEST_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("PARLEY_TEST_REDIS_PREFIX", prefix)
    endpoints = {
        "tracker_store": {
            "type": "SQL",
            "dialect": "postgresql",
            "url": "${PARLEY_TEST_PG_HOST}",
            "port": 5432,
            "db": "test",
            "schema": schema,
        },
        "lock_store": {
            "type": "redis",
            "url": "127.0.0.1",
            "port": 6379,
            "key_prefix": "${PARLEY_TEST_REDIS_PREFIX}",
        },
    }
    stores = await create_stores(endpoints, tmp_path)
    assert isinstance(stores.tracker_store, SQLTrackerStore)
    assert isinstance(stores.lock_store, RedisLockStore)
    async with stores.lock_store.lock("a"):
        await stores.tracker_store.append("a", [{"event": "user", "timestamp": 1.0, "text": "x"}])
    assert len(await stores.tracker_store.load("a") or []) == 1
    await stores.close()
    await drop_schema(schema)

    redis_endpoints = {"tracker_store": {"type": "redis", "url": "127.0.0.1", "key_prefix": prefix}}
    redis_store = await create_tracker_store(redis_endpoints, tmp_path)
    assert isinstance(redis_store, RedisTrackerStore)
    await redis_store.close()
    await drop_redis_keys(prefix)


@pytest.mark.integration
async def test_lock_lifetime_comes_from_endpoints_or_rasas_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TICKET_LOCK_LIFETIME", "7")
    section = {"type": "redis", "url": "127.0.0.1", "key_prefix": unique_name("lt")}
    from_env = await create_lock_store({"lock_store": section})
    from_file = await create_lock_store({"lock_store": {**section, "lock_lifetime": 3}})
    assert isinstance(from_env, RedisLockStore) and isinstance(from_file, RedisLockStore)
    assert (from_env.lock_lifetime, from_file.lock_lifetime) == (7.0, 3.0)
    await from_env.close()
    await from_file.close()
