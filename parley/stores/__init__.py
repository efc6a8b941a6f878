"""Tracker stores, lock stores and event brokers.

The names below are imported on first use: a server that keeps its conversations in SQLite
never loads the Redis, RabbitMQ or PostgreSQL client libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.stores.base import (
        EventBroker,
        EventDict,
        LockStore,
        ManagedTrackerStore,
        TrackerStore,
    )
    from parley.stores.broker_pika import PikaEventBroker, PikaSettings
    from parley.stores.broker_sql import SQLEventBroker
    from parley.stores.crypto import EncryptionKey, EventCipher
    from parley.stores.errors import (
        EncryptionError,
        FencedError,
        LockError,
        StoreConfigError,
        StoreError,
    )
    from parley.stores.factory import create_event_broker, create_lock_store, create_tracker_store
    from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore
    from parley.stores.persistence import Stores, create_stores
    from parley.stores.redis_conn import RedisSettings
    from parley.stores.redis_lock import RedisLockStore
    from parley.stores.redis_store import RedisTrackerStore
    from parley.stores.sql import SQLTrackerStore
    from parley.stores.sql_engine import SQLSettings

_HOMES = {
    "base": ["EventBroker", "EventDict", "LockStore", "ManagedTrackerStore", "TrackerStore"],
    "broker_pika": ["PikaEventBroker", "PikaSettings"],
    "broker_sql": ["SQLEventBroker"],
    "crypto": ["EncryptionKey", "EventCipher"],
    "errors": ["EncryptionError", "FencedError", "LockError", "StoreConfigError", "StoreError"],
    "factory": ["create_event_broker", "create_lock_store", "create_tracker_store"],
    "memory": ["InMemoryLockStore", "InMemoryTrackerStore"],
    "persistence": ["Stores", "create_stores"],
    "redis_conn": ["RedisSettings"],
    "redis_lock": ["RedisLockStore"],
    "redis_store": ["RedisTrackerStore"],
    "sql": ["SQLTrackerStore"],
    "sql_engine": ["SQLSettings"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "EncryptionError",
    "EncryptionKey",
    "EventBroker",
    "EventCipher",
    "EventDict",
    "FencedError",
    "InMemoryLockStore",
    "InMemoryTrackerStore",
    "LockError",
    "LockStore",
    "ManagedTrackerStore",
    "PikaEventBroker",
    "PikaSettings",
    "RedisLockStore",
    "RedisSettings",
    "RedisTrackerStore",
    "SQLEventBroker",
    "SQLSettings",
    "SQLTrackerStore",
    "StoreConfigError",
    "StoreError",
    "Stores",
    "TrackerStore",
    "create_event_broker",
    "create_lock_store",
    "create_stores",
    "create_tracker_store",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
