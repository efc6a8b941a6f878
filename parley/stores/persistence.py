"""The stores of one assistant together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from parley.stores.base import EventBroker, LockStore, ManagedTrackerStore
from parley.stores.crypto import EventCipher
from parley.stores.factory import (
    EndpointsLike,
    create_event_broker,
    create_lock_store,
    create_tracker_store,
    read_endpoints,
)


@dataclass(frozen=True)
class Stores:
    """Tracker store, lock store and (optional) event broker of one assistant process."""

    tracker_store: ManagedTrackerStore
    lock_store: LockStore
    event_broker: EventBroker | None = None

    async def close(self) -> None:
        await self.tracker_store.close()
        await self.lock_store.close()
        if self.event_broker is not None:
            await self.event_broker.close()


async def create_stores(
    endpoints: EndpointsLike, project_root: Path, cipher: EventCipher | None = None
) -> Stores:
    """All stores configured in `endpoints` (see `parley.stores.factory` for the keys)."""
    endpoints = read_endpoints(endpoints, project_root)  # references resolved once
    tracker_store = await create_tracker_store(endpoints, project_root, cipher)
    try:
        lock_store = await create_lock_store(endpoints, project_root)
    except BaseException:
        await tracker_store.close()
        raise
    try:
        event_broker = await create_event_broker(endpoints, project_root)
    except BaseException:
        await tracker_store.close()
        await lock_store.close()
        raise
    return Stores(tracker_store, lock_store, event_broker)
