"""Turning event dicts into stored records and back: clear index fields plus a sealed body."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from parley.stores.base import EventDict
from parley.stores.crypto import EventCipher


@dataclass(frozen=True)
class StoredEvent:
    """One event as kept at rest: indexable fields in clear, the whole event sealed in `body`."""

    type_name: str
    timestamp: float
    event_id: str | None
    model_id: str | None
    key_id: str | None
    body: str

    def columns(self) -> tuple[str, float, str | None, str | None, str | None, str]:
        """The fields in storage order: type, timestamp, event id, model id, key id, body."""
        return (
            self.type_name,
            self.timestamp,
            self.event_id,
            self.model_id,
            self.key_id,
            self.body,
        )


def event_id_of(event: EventDict) -> str | None:
    metadata = event.get("metadata")
    if isinstance(metadata, dict):
        value = metadata.get("event_id")
        return str(value) if value is not None else None
    return None


def encode_event(cipher: EventCipher, sender_id: str, event: EventDict) -> StoredEvent:
    metadata: dict[str, Any] = event.get("metadata") or {}
    model_id = metadata.get("model_id") if isinstance(metadata, dict) else None
    key_id, body = cipher.seal(orjson.dumps(event).decode("utf-8"), sender_id)
    return StoredEvent(
        type_name=str(event.get("event", "")),
        # An event without a timestamp is dated when stored, so retention still applies to it.
        timestamp=float(event.get("timestamp") or time.time()),
        event_id=event_id_of(event),
        model_id=str(model_id) if model_id is not None else None,
        key_id=key_id,
        body=body,
    )


def decode_event(cipher: EventCipher, sender_id: str, key_id: str | None, body: str) -> EventDict:
    event: EventDict = orjson.loads(cipher.open(key_id, body, sender_id))
    return event
