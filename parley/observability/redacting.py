"""PII redaction put in front of the places data leaves the engine: the event broker, the
tracker store (at rest), log records. Each wrapper passes everything else to the real part."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, cast

from parley.observability.pii import Redactor
from parley.security.redaction import add_log_transform
from parley.stores.base import EventBroker, EventDict, ManagedTrackerStore, StorePosition
from parley.stores.persistence import Stores

logger = logging.getLogger(__name__)


class RedactingEventBroker:
    """Publishes redacted copies of the events; the engine keeps the originals."""

    def __init__(self, inner: EventBroker, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None:
        await self._inner.publish(sender_id, self._redactor.redact_events(events))

    async def close(self) -> None:
        await self._inner.close()


class RedactingTrackerStore:
    """Stores redacted copies of the events (PII never reaches the database); reads, retention,
    export and key rotation are the real store's. Reloaded trackers hold the substitutes."""

    def __init__(self, inner: ManagedTrackerStore, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor

    async def append(
        self, sender_id: str, events: Sequence[EventDict], fence: int | None = None
    ) -> StorePosition | None:
        redacted = self._redactor.redact_events(events)
        return await self._inner.append(sender_id, redacted, fence=fence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def inner(self) -> ManagedTrackerStore:
        """The store written to: its rows hold the redacted events (the studio reads it)."""
        return self._inner


def redact_stores(stores: Stores, redactor: Redactor) -> Stores:
    """`stores` with the broker and (if configured) the tracker store redacting."""
    config = redactor.config
    tracker_store = stores.tracker_store
    if config.applies_to("tracker_store"):
        tracker_store = cast(ManagedTrackerStore, RedactingTrackerStore(tracker_store, redactor))
    broker = stores.event_broker
    if broker is not None and config.applies_to("event_broker"):
        broker = RedactingEventBroker(broker, redactor)
    return replace(stores, tracker_store=tracker_store, event_broker=broker)


def redact_logs(redactor: Redactor) -> Callable[[], None]:
    """Every log record of the process passes through the redactor from now on (if `logs` is
    configured); returns the function that stops it."""
    if not redactor.config.applies_to("logs"):
        return lambda: None
    return add_log_transform(redactor.redact_text)
