"""User messages the assistant could not handle: parsed as `nlu_fallback`, or answered in that
turn by a fallback action or a handoff to a human. Found in the studio's index; their texts are
decoded from the tracker store's events with the store's key (the index keeps no text when the
store encrypts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from parley.stores.codec import decode_event
from parley.stores.crypto import EventCipher
from parley.stores.sql_schema import events, studio_annotations, studio_turns
from parley.studio.index import FALLBACK_ACTIONS, FALLBACK_INTENT, HANDOFF_ACTION

MAX_MESSAGES = 5000
_CHUNK = 400


@dataclass(frozen=True)
class MessageKey:
    """One user message of the tracker store."""

    sender_id: str
    sequence: int

    @property
    def form_value(self) -> str:
        """`sequence:sender` (the sequence first: a sender id may hold any character)."""
        return f"{self.sequence}:{self.sender_id}"

    @classmethod
    def parse(cls, value: str) -> MessageKey:
        sequence, _, sender_id = value.partition(":")
        if not sequence.isdigit() or not sender_id:
            raise ValueError(f"{value!r} does not name a message (sequence:conversation)")
        return cls(sender_id, int(sequence))


@dataclass(frozen=True)
class Unhandled:
    key: MessageKey
    timestamp: float
    reason: str  # fallback or handoff
    text: str


async def unhandled_messages(
    engine: AsyncEngine,
    cipher: EventCipher,
    since: float | None = None,
    until: float | None = None,
    limit: int = 2000,
) -> list[Unhandled]:
    """The `limit` most recent unhandled messages between `since` and `until` (epoch seconds),
    newest first, leaving out those an annotator already decided on and payloads (`/intent`)."""
    t = studio_turns.c
    window = []
    if since is not None:
        window.append(t.timestamp >= since)
    if until is not None:
        window.append(t.timestamp < until)
    found: dict[MessageKey, tuple[float, str]] = {}
    a = studio_annotations.c

    def undecided(sequence: Any) -> ColumnElement[bool]:
        # before the limit: decided messages must not crowd out older undecided ones
        return ~exists().where(a.sender_id == t.sender_id, a.sequence == sequence)

    parsed_as_fallback = (
        select(t.sender_id, t.sequence, t.timestamp)
        .where(t.type_name == "user", t.intent == FALLBACK_INTENT, undecided(t.sequence), *window)
        .order_by(t.timestamp.desc())
        .limit(limit)
    )
    user = studio_turns.alias("user_turn")
    asked = (  # the user message of the turn an action ran in: the latest one before it
        select(func.max(user.c.sequence))
        .where(
            user.c.sender_id == t.sender_id,
            user.c.type_name == "user",
            user.c.sequence < t.sequence,
        )
        .correlate(studio_turns)  # also where it is nested in `undecided`
        .scalar_subquery()
    )
    answered_by_fallback = (
        select(t.sender_id, asked, t.timestamp, t.action)
        .where(
            t.type_name == "action",
            t.action.in_((*FALLBACK_ACTIONS, HANDOFF_ACTION)),
            undecided(asked),
            *window,
        )
        .order_by(t.timestamp.desc())
        .limit(limit)
    )
    async with engine.connect() as connection:
        for sender_id, sequence, timestamp in await connection.execute(parsed_as_fallback):
            found[MessageKey(sender_id, int(sequence))] = (float(timestamp), "fallback")
        for sender_id, sequence, timestamp, action in await connection.execute(
            answered_by_fallback
        ):
            if sequence is None:
                continue
            key = MessageKey(sender_id, int(sequence))
            reason = "handoff" if action == HANDOFF_ACTION else "fallback"
            earlier = found.get(key)
            if earlier is None or reason == "handoff":  # a handoff says more than a fallback
                found[key] = (earlier[0] if earlier else float(timestamp), reason)
    keys = sorted(found, key=lambda k: found[k][0], reverse=True)[:limit]
    texts = await message_texts(engine, cipher, keys)
    return [
        Unhandled(key, found[key][0], found[key][1], texts[key])
        for key in keys
        if texts.get(key, "").strip() and not texts[key].startswith("/")
    ]


async def message_texts(
    engine: AsyncEngine, cipher: EventCipher, keys: list[MessageKey]
) -> dict[MessageKey, str]:
    """The text of each stored user message among `keys` (absent when there is none)."""
    e = events.c
    out: dict[MessageKey, str] = {}
    async with engine.connect() as connection:
        for start in range(0, len(keys), _CHUNK):
            pairs = [(k.sender_id, k.sequence) for k in keys[start : start + _CHUNK]]
            query = select(e.sender_id, e.sequence, e.key_id, e.body).where(
                e.type_name == "user", tuple_(e.sender_id, e.sequence).in_(pairs)
            )
            for sender_id, sequence, key_id, body in await connection.execute(query):
                event = decode_event(cipher, sender_id, key_id, body)
                out[MessageKey(sender_id, int(sequence))] = str(event.get("text") or "")
    return out
