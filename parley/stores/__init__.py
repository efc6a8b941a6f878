"""Tracker stores, lock stores and event brokers."""

from parley.stores.base import EventBroker, EventDict, LockStore, TrackerStore
from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore

__all__ = [
    "EventBroker",
    "EventDict",
    "InMemoryLockStore",
    "InMemoryTrackerStore",
    "LockStore",
    "TrackerStore",
]
