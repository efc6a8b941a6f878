"""The stores of one assistant together, and the write path of a turn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.stores.base import EventBroker, EventDict, LockStore, ManagedTrackerStore
from parley.stores.codec import with_event_ids
from parley.stores.crypto import EventCipher
from parley.stores.factory import create_event_broker, create_lock_store, create_tracker_store


@dataclass(frozen=True)
class Stores:
    """Tracker store, lock store and (optional) event broker of one assistant process."""

    tracker_store: ManagedTrackerStore
    lock_store: LockStore
    event_broker: EventBroker | None = None

    async def record_turn(self, sender_id: str, events: Sequence[EventDict]) -> list[EventDict]:
        """Store a turn's new events (all or nothing), then publish them with their event ids.

        Events without `metadata.event_id` get one first; returns the events as stored.
        """
        stored = with_event_ids(events)
        await self.tracker_store.append(sender_id, stored)
        if self.event_broker is not None:
            await self.event_broker.publish(sender_id, stored)
        return stored

    async def close(self) -> None:
        await self.tracker_store.close()
        await self.lock_store.close()
        if self.event_broker is not None:
            await self.event_broker.close()


async def create_stores(
    endpoints: Mapping[str, Any] | None, project_root: Path, cipher: EventCipher | None = None
) -> Stores:
    """All stores configured in `endpoints` (see `parley.stores.factory` for the keys)."""
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
