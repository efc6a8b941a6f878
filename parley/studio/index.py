"""The studio's search index: one row per user or action event of the tracker store.

Filters (intent, action, channel, confidence, fallback, handoff, free text) need fields that sit
in the events' bodies, which may be encrypted at rest. The studio decodes new events with the
store's cipher and keeps those fields in `parley_studio_turns`, so every filter is plain SQL on
SQLite and PostgreSQL. User text is kept (lower-cased, for the free-text filter) only when the
store does not encrypt: an encrypted store keeps labels and numbers, never what users wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.stores.codec import decode_event
from parley.stores.crypto import EventCipher
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import events, studio_state, studio_summaries, studio_turns

INDEXED_TYPES = ("user", "action")
_POSITION = "turns_indexed_up_to"
_BATCH = 1000
# Rows committed late by a concurrent writer can carry a lower id than rows already indexed;
# each catch-up looks this far back again (inserts of rows already there are skipped).
_LOOK_BACK = 500


def index_row(
    row_id: int, sender_id: str, sequence: int, event: dict[str, Any], keep_text: bool
) -> dict[str, Any]:
    """The index fields of one decoded user or action event."""
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    row: dict[str, Any] = {
        "event_row_id": row_id,
        "sender_id": sender_id,
        "sequence": sequence,
        "type_name": str(event.get("event")),
        "timestamp": float(event.get("timestamp") or 0.0),
        "model_id": _short((metadata or {}).get("model_id"), 128),
        "channel": None,
        "intent": None,
        "confidence": None,
        "action": None,
        "policy": None,
        "text": None,
    }
    if row["type_name"] == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        row["channel"] = _short(event.get("input_channel"), 64)
        row["intent"] = _short(parsed_intent(parse), 255)
        row["confidence"] = _number(intent.get("confidence"))
        if keep_text:
            row["text"] = str(event.get("text") or "").lower()
    else:
        row["action"] = _short(event.get("name"), 255)
        row["policy"] = _short(event.get("policy"), 255)
        row["confidence"] = _number(event.get("confidence"))
    return row


def parsed_intent(parse: dict[str, Any]) -> str | None:
    """The intent of a parse, as training data names it: the full retrieval intent
    (`faq/ask_hours`) when a response selector chose one for the parsed `faq`."""
    name = (parse.get("intent") or {}).get("name")
    if name is None:
        return None
    selectors = parse.get("response_selector") or {}
    for key in (name, "default"):
        selected = selectors.get(key) if isinstance(selectors, dict) else None
        response = selected.get("response") if isinstance(selected, dict) else None
        full = response.get("intent_response_key") if isinstance(response, dict) else None
        if isinstance(full, str) and full.split("/", 1)[0] == name:
            return full
    return str(name)


def _short(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


async def catch_up(engine: AsyncEngine, cipher: EventCipher, max_batches: int = 50) -> int:
    """Index the events stored since the last call; returns how many rows were indexed. Stops
    after `max_batches` batches (the next call goes on) so one page view stays short."""
    keep_text = cipher.key_id is None
    indexed = 0
    async with engine.connect() as connection:
        position = await _position(connection)
    start = max(position - _LOOK_BACK, 0)
    for _ in range(max_batches):
        query = (
            select(
                events.c.id, events.c.sender_id, events.c.sequence, events.c.key_id, events.c.body
            )
            .where(events.c.id > start, events.c.type_name.in_(INDEXED_TYPES))
            .order_by(events.c.id)
            .limit(_BATCH)
        )
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            break
        new = [
            index_row(row_id, sender, sequence, decode_event(cipher, sender, key, body), keep_text)
            for row_id, sender, sequence, key, body in rows
        ]
        async with writer(engine).begin() as connection:
            indexed += await _insert_new(connection, new)
            await summarise(connection, sorted({row["sender_id"] for row in new}))
            await _set_position(connection, max(position, rows[-1][0]))
        position = max(position, rows[-1][0])
        start = rows[-1][0]
        if len(rows) < _BATCH:
            break
    return indexed


async def _insert_new(connection: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Insert the rows not indexed yet; returns how many those were."""
    ids = [row["event_row_id"] for row in rows]
    present = set(
        (
            await connection.execute(
                select(studio_turns.c.event_row_id).where(studio_turns.c.event_row_id.in_(ids))
            )
        ).scalars()
    )
    new = [row for row in rows if row["event_row_id"] not in present]
    if not new:
        return 0
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    # a concurrent catch-up may insert the same rows meanwhile: theirs stand
    statement = dialect.insert(studio_turns).on_conflict_do_nothing(index_elements=["event_row_id"])
    await connection.execute(statement, new)
    return len(new)


FALLBACK_ACTIONS = ("action_default_fallback", "action_two_stage_fallback")
FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTION = "action_handoff_to_human"


async def summarise(connection: AsyncConnection, sender_ids: list[str]) -> None:
    """Recompute the summary rows of these conversations from their indexed turns."""

    t = studio_turns.c
    for start in range(0, len(sender_ids), 500):
        chunk = sender_ids[start : start + 500]
        query = (
            select(
                t.sender_id,
                func.min(t.timestamp),
                func.max(t.channel),
                func.max(t.model_id),
                func.sum(case((t.type_name == "user", 1), else_=0)),
                func.min(case((t.type_name == "user", t.confidence), else_=None)),
                func.max(case((t.action == HANDOFF_ACTION, 1), else_=0)),
                func.max(
                    case(
                        (or_(t.action.in_(FALLBACK_ACTIONS), t.intent == FALLBACK_INTENT), 1),
                        else_=0,
                    )
                ),
            )
            .where(t.sender_id.in_(chunk))
            .group_by(t.sender_id)
        )
        rows = (await connection.execute(query)).all()
        await connection.execute(
            delete(studio_summaries).where(studio_summaries.c.sender_id.in_(chunk))
        )
        if rows:
            await connection.execute(
                studio_summaries.insert(),
                [
                    {
                        "sender_id": r[0],
                        "first_at": r[1],
                        "channel": r[2],
                        "model_id": r[3],
                        "user_messages": int(r[4] or 0),
                        "min_confidence": r[5],
                        "handoff": int(r[6] or 0),
                        "fallback": int(r[7] or 0),
                    }
                    for r in rows
                ],
            )


async def _position(connection: AsyncConnection) -> int:
    value = (
        await connection.execute(
            select(studio_state.c.value).where(studio_state.c.name == _POSITION)
        )
    ).scalar()
    return int(value or 0)


async def _set_position(connection: AsyncConnection, value: int) -> None:
    await connection.execute(delete(studio_state).where(studio_state.c.name == _POSITION))
    await connection.execute(studio_state.insert().values(name=_POSITION, value=value))


async def forget(connection: AsyncConnection, sender_id: str) -> None:
    """Drop a deleted conversation's index rows."""
    await connection.execute(delete(studio_turns).where(studio_turns.c.sender_id == sender_id))
    await connection.execute(
        delete(studio_summaries).where(studio_summaries.c.sender_id == sender_id)
    )
