"""What the engine needs from storage: tracker stores, lock stores, event brokers.

Stores deal in events as Rasa event JSON dicts (`{"event": "user", "timestamp": …, …}`), not in
dialogue objects: storage, encryption and brokers stay independent of the dialogue engine, and a
store's rows are exactly what Rasa's HTTP API and brokers exchange.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

EventDict = dict[str, Any]


@dataclass(frozen=True)
class StorePosition:
    """How far a reader has seen a conversation: `sequence` events of one incarnation of it.

    `generation` changes whenever the conversation is deleted (delete, replace, purge, expiry)
    and started again, so a reader's position never applies to a different conversation that
    happens to have the same id and at least as many events.
    """

    generation: str
    sequence: int


@dataclass(frozen=True)
class EventsAfter:
    """The answer of `TrackerStore.load_after`.

    `complete` is True when `events` is the whole conversation (no position was given, or it no
    longer applies): the reader must rebuild from them instead of appending them. `position` is
    None when the conversation has no events.
    """

    events: list[EventDict]
    position: StorePosition | None
    complete: bool


class TrackerStore(Protocol):
    """Append-only event storage, one ordered event list per conversation (sender id)."""

    async def load(self, sender_id: str) -> list[EventDict] | None:
        """All events of a conversation in order, or None when it has none."""
        ...

    async def load_after(self, sender_id: str, after: StorePosition | None) -> EventsAfter:
        """The events stored after `after` (all events when it is None or no longer applies)
        and the position reached, in one round trip."""
        ...

    async def append(
        self, sender_id: str, events: Sequence[EventDict], fence: int | None = None
    ) -> StorePosition | None:
        """Store a turn's new events after the existing ones, all or nothing; returns the
        position right after them (None when `events` is empty).

        `fence` is the fencing token of the lock the turn holds (see `LockStore`): the store
        keeps the highest token used on the conversation and refuses, with FencedError and
        storing nothing, an append whose token is lower. None: no check (and no token kept)."""
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


class LeasedToken(int):
    """A fencing token that also knows, by the holder's own clock, until when its lease is
    certainly held (the lock store moves `held_until` on at every renewal). A turn checks
    `held()` right before it writes: a process that was paused (a long GC, a stalled VM) past
    its lease refuses itself, before another holder's first write could fence it out."""

    held_until: float  # time.monotonic()

    def __new__(cls, token: int, held_until: float) -> LeasedToken:
        leased = super().__new__(cls, token)
        leased.held_until = held_until
        return leased

    def held(self) -> bool:
        return time.monotonic() < self.held_until


class LockStore(Protocol):
    """Serialises the turns of one conversation, across processes when the store is shared.

    `lock` yields a fencing token, or None when the lock cannot outlive its holder's process
    (in-process and file locks). A token is an integer greater than every token handed out for
    the conversation before; the turn passes it to `TrackerStore.append`, which then refuses a
    holder whose lock expired and was taken over (a paused or partitioned process)."""

    def lock(self, sender_id: str) -> AbstractAsyncContextManager[int | None]: ...

    async def close(self) -> None: ...


class EventBroker(Protocol):
    """Publishes stored events to other systems (analytics, data lakes)."""

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None: ...

    async def close(self) -> None: ...
