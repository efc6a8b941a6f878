"""What the engine needs from storage: tracker stores, lock stores, event brokers.

Stores deal in events as Rasa event JSON dicts (`{"event": "user", "timestamp": …, …}`), not in
dialogue objects: storage, encryption and brokers stay independent of the dialogue engine, and a
store's rows are exactly what Rasa's HTTP API and brokers exchange.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

EventDict = dict[str, Any]


class TrackerStore(Protocol):
    """Append-only event storage, one ordered event list per conversation (sender id)."""

    async def load(self, sender_id: str) -> list[EventDict] | None:
        """All events of a conversation in order, or None when it has none."""
        ...

    async def append(self, sender_id: str, events: Sequence[EventDict]) -> None:
        """Store a turn's new events after the existing ones, all or nothing."""
        ...

    async def delete(self, sender_id: str) -> bool:
        """Remove a conversation entirely (GDPR); True when it existed."""
        ...

    async def senders(self) -> list[str]:
        """Every conversation id that has events."""
        ...

    async def close(self) -> None: ...


class ManagedTrackerStore(TrackerStore, Protocol):
    """A tracker store that also supports retention, export and key rotation."""

    async def purge(self, before: float) -> int:
        """Delete every conversation whose latest event is older than `before` (epoch seconds);
        returns how many were deleted."""
        ...

    def stream_events(
        self,
        sender_ids: Sequence[str] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> AsyncIterator[tuple[str, EventDict]]:
        """(sender id, event) pairs in conversation order, filtered by sender and timestamp
        (`since` inclusive, `until` exclusive)."""
        ...

    async def reencrypt(self) -> int:
        """Re-seal every stored event with the current key; returns how many were rewritten."""
        ...


class LockStore(Protocol):
    """Serialises the turns of one conversation, across processes when the store is shared."""

    def lock(self, sender_id: str) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...


class EventBroker(Protocol):
    """Publishes stored events to other systems (analytics, data lakes)."""

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None: ...

    async def close(self) -> None: ...
