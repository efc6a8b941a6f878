"""In-process stores: for tests, `parley shell` and single-process deployments."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from parley.stores.base import EventDict, EventsAfter, StorePosition
from parley.stores.errors import FencedError


class InMemoryTrackerStore:
    """Events kept in a dict; lost when the process ends."""

    def __init__(self) -> None:
        self._events: dict[str, list[EventDict]] = {}
        self._generations: dict[str, str] = {}
        self._fences: dict[str, int] = {}
        self._counter = itertools.count(1)

    async def load(self, sender_id: str) -> list[EventDict] | None:
        events = self._events.get(sender_id)
        return copy.deepcopy(events) if events else None

    async def load_after(self, sender_id: str, after: StorePosition | None) -> EventsAfter:
        events = self._events.get(sender_id)
        if not events:
            return EventsAfter([], None, complete=True)
        position = StorePosition(self._generations[sender_id], len(events))
        if after is None or after.generation != position.generation or after.sequence > len(events):
            return EventsAfter(copy.deepcopy(events), position, complete=True)
        return EventsAfter(copy.deepcopy(events[after.sequence :]), position, complete=False)

    async def append(
        self, sender_id: str, events: Sequence[EventDict], fence: int | None = None
    ) -> StorePosition | None:
        if not events:
            return None
        if fence is not None:
            if fence < self._fences.get(sender_id, fence):
                raise FencedError(sender_id, fence)
            self._fences[sender_id] = fence
        if sender_id not in self._events:
            self._generations[sender_id] = str(next(self._counter))
        stored = self._events.setdefault(sender_id, [])
        stored.extend(copy.deepcopy(list(events)))
        return StorePosition(self._generations[sender_id], len(stored))

    async def delete(self, sender_id: str) -> bool:
        self._generations.pop(sender_id, None)
        return self._events.pop(sender_id, None) is not None

    async def senders(self) -> list[str]:
        return list(self._events)

    async def purge(self, before: float) -> int:
        stale = [
            sender_id
            for sender_id, events in self._events.items()
            if max(float(event.get("timestamp") or 0.0) for event in events) < before
        ]
        for sender_id in stale:
            del self._events[sender_id]
            self._generations.pop(sender_id, None)
        return len(stale)

    async def stream_events(
        self,
        sender_ids: Sequence[str] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> AsyncIterator[tuple[str, EventDict]]:
        for sender_id in sorted(sender_ids or list(self._events)):
            for event in self._events.get(sender_id, []):
                timestamp = float(event.get("timestamp") or 0.0)
                if (since is None or timestamp >= since) and (until is None or timestamp < until):
                    yield sender_id, copy.deepcopy(event)

    async def reencrypt(self) -> int:
        return 0  # nothing is kept at rest

    async def close(self) -> None:
        return None


class InMemoryLockStore:
    """One asyncio lock per conversation; waiters are served in arrival order (FIFO)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._waiting: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def lock(self, sender_id: str) -> AsyncIterator[None]:
        """Yields no fencing token: the lock cannot outlive the process that holds it."""
        self._waiting[sender_id] += 1
        try:
            async with self._locks[sender_id]:
                yield None
        finally:
            self._waiting[sender_id] -= 1
            if self._waiting[sender_id] == 0:
                self._waiting.pop(sender_id, None)
                self._locks.pop(sender_id, None)

    async def close(self) -> None:
        return None
