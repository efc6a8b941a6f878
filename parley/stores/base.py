"""What the engine needs from storage: tracker stores, lock stores, event brokers.

Stores deal in events as Rasa event JSON dicts (`{"event": "user", "timestamp": …, …}`), not in
dialogue objects: storage, encryption and brokers stay independent of the dialogue engine, and a
store's rows are exactly what Rasa's HTTP API and brokers exchange.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class LockStore(Protocol):
    """Serialises the turns of one conversation, across processes when the store is shared."""

    def lock(self, sender_id: str) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...


class EventBroker(Protocol):
    """Publishes stored events to other systems (analytics, data lakes)."""

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None: ...

    async def close(self) -> None: ...
