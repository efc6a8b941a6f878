"""A conversation's events as transcript lines: NLU parse of user messages, predicted actions
with policy and confidence, bot messages, slots set, and the model version of each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.codec import decode_event
from parley.stores.crypto import EventCipher
from parley.stores.sql_schema import events
from parley.studio.index import parsed_intent

TRANSCRIPT_PAGE = 500


@dataclass
class Line:
    sequence: int
    kind: str  # user, bot, action, slot, other
    timestamp: float
    model_id: str | None
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    action: str | None = None
    policy: str | None = None
    slot: str | None = None
    value: Any = None
    event: str = ""


def line_of(sequence: int, event: dict[str, Any]) -> Line:
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    name = str(event.get("event", ""))
    line = Line(
        sequence,
        "other",
        float(event.get("timestamp") or 0.0),
        (metadata or {}).get("model_id"),
        event=name,
    )
    if name == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        line.kind = "user"
        line.text = str(event.get("text") or "")
        line.intent = parsed_intent(parse)
        line.confidence = intent.get("confidence")
        line.entities = [e for e in parse.get("entities") or [] if isinstance(e, dict)]
    elif name == "bot":
        line.kind = "bot"
        line.text = str(event.get("text") or "")
    elif name == "action":
        line.kind = "action"
        line.action = event.get("name")
        line.policy = event.get("policy")
        line.confidence = event.get("confidence")
    elif name == "slot":
        line.kind = "slot"
        line.slot = event.get("name")
        line.value = event.get("value")
    return line


async def transcript(
    engine: AsyncEngine, cipher: EventCipher, sender_id: str, page: int = 1
) -> tuple[list[Line], int]:
    """One page of a conversation's lines and the number of its events."""
    async with engine.connect() as connection:
        total = int(
            (
                await connection.execute(
                    select(func.count()).where(events.c.sender_id == sender_id)
                )
            ).scalar()
            or 0
        )
        rows = await connection.execute(
            select(events.c.sequence, events.c.key_id, events.c.body)
            .where(events.c.sender_id == sender_id)
            .order_by(events.c.sequence)
            .limit(TRANSCRIPT_PAGE)
            .offset((page - 1) * TRANSCRIPT_PAGE)
        )
        lines = [
            line_of(int(sequence), decode_event(cipher, sender_id, key_id, body))
            for sequence, key_id, body in rows
        ]
    return lines, total


async def user_text(
    engine: AsyncEngine, cipher: EventCipher, sender_id: str, sequence: int
) -> str | None:
    """The text of one stored user message (None when there is no such user event)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(events.c.key_id, events.c.body).where(
                    events.c.sender_id == sender_id,
                    events.c.sequence == sequence,
                    events.c.type_name == "user",
                )
            )
        ).first()
    if row is None:
        return None
    return str(decode_event(cipher, sender_id, row[0], row[1]).get("text") or "")
