"""Tracker stores, lock stores and event brokers."""

from parley.stores.base import EventBroker, EventDict, LockStore, ManagedTrackerStore, TrackerStore
from parley.stores.broker_pika import PikaEventBroker, PikaSettings
from parley.stores.broker_sql import SQLEventBroker
from parley.stores.crypto import EncryptionKey, EventCipher
from parley.stores.errors import EncryptionError, LockError, StoreConfigError, StoreError
from parley.stores.factory import create_event_broker, create_lock_store, create_tracker_store
from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore
from parley.stores.persistence import Stores, create_stores
from parley.stores.redis_conn import RedisSettings
from parley.stores.redis_lock import RedisLockStore
from parley.stores.redis_store import RedisTrackerStore
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings

__all__ = [
    "EncryptionError",
    "EncryptionKey",
    "EventBroker",
    "EventCipher",
    "EventDict",
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
