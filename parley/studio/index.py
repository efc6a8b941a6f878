"""The studio's search index: one row per user, action, slot or active_loop event of the
tracker store, a summary row per conversation, and per-conversation facts.

Filters (intent, action, channel, confidence, fallback, handoff, slots, entities, free text)
need fields that sit in the events' bodies, which may be encrypted at rest. The studio decodes
new events with the store's cipher and keeps those fields in `parley_studio_turns`, so every
filter is plain SQL on SQLite and PostgreSQL. User text is kept (lower-cased, for the free-text
filter) only when the store does not encrypt: an encrypted store keeps labels and numbers, never
what users wrote; slot and entity values are then kept as keyed hashes (`values.py`).

`parley_studio_facts` says, per conversation and UTC day, which channels, models, intents,
actions, slots (with their value) and entities (with their value) it had, and on which days the
user wrote: one row where the turns table has many, so a label filter or a count of users reads
few rows. Facts are added up from the events newly indexed (never recounted), so indexing stays
incremental.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.stores.codec import decode_event
from parley.stores.crypto import EventCipher
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import (
    conversations,
    events,
    studio_facts,
    studio_state,
    studio_summaries,
    studio_turns,
)
from parley.studio.values import ValueKeeper

INDEXED_TYPES = ("user", "action", "slot", "active_loop")
DAY = 86400
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
        "loop": None,
    }
    if row["type_name"] == "active_loop":
        row["loop"] = _short(event.get("name"), 255)
    elif row["type_name"] == "slot":
        pass  # its name and value are facts
    elif row["type_name"] == "user":
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


Fact = tuple[str, str, str, str, int]  # kind, name, value, sender id, day


def facts_of(row: dict[str, Any], event: dict[str, Any], values: ValueKeeper) -> list[Fact]:
    """What one indexed event says about its conversation (see the module's docstring)."""
    sender, day, kind = row["sender_id"], int(row["timestamp"] // DAY), row["type_name"]
    found: list[tuple[str, str, str]] = []
    if kind in ("user", "action") and row["model_id"]:
        found.append(("model", "", row["model_id"]))
    if kind == "user":
        found.append(("active", "", ""))
        for label in ("channel", "intent"):
            if row[label]:
                found.append((label, "", row[label]))
        entities = (event.get("parse_data") or {}).get("entities") or []
        for entity in entities if isinstance(entities, list) else []:
            if isinstance(entity, dict) and entity.get("entity") and "value" in entity:
                found.append(
                    ("entity", str(entity["entity"])[:255], values.stored(entity["value"]))
                )
    elif kind == "action" and row["action"]:
        found.append(("action", "", row["action"]))
    elif kind == "slot" and event.get("name") and event.get("value") is not None:
        found.append(("slot", str(event["name"])[:255], values.stored(event["value"])))
    return [(k, name, value, sender, day) for k, name, value in found]


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
    values = ValueKeeper(cipher)
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
        new, facts = [], {}
        for row_id, sender, sequence, key, body in rows:
            event = decode_event(cipher, sender, key, body)
            new.append(index_row(row_id, sender, sequence, event, keep_text))
            facts[row_id] = facts_of(new[-1], event, values)
        async with writer(engine).begin() as connection:
            inserted = await _insert_new(connection, new)
            indexed += len(inserted)
            await _add_facts(connection, [f for row_id in inserted for f in facts[row_id]])
            await summarise(connection, sorted({row["sender_id"] for row in new}))
            await _set_position(connection, max(position, rows[-1][0]))
        position = max(position, rows[-1][0])
        start = rows[-1][0]
        if len(rows) < _BATCH:
            break
    if indexed >= ANALYZE_AFTER and engine.dialect.name == "postgresql":
        await refresh_statistics(engine)
    return indexed


# After indexing this many rows at once (a first catch-up, a backlog), PostgreSQL's statistics
# of the index tables are refreshed at once rather than when autovacuum gets to them: without
# them the planner takes a filter's 30,000 matches for one and picks nested loops.
ANALYZE_AFTER = 20_000


async def refresh_statistics(engine: AsyncEngine) -> None:
    """PostgreSQL: the planner statistics of the index tables, now."""
    tables = ", ".join(
        t.name for t in (studio_turns, studio_summaries, studio_facts, conversations)
    )
    async with engine.connect() as connection:
        # kind, name and value of a fact depend on each other (an "account_type" is a slot):
        # estimated as independent, "slot account_type = gold" looks a thousand times rarer
        # than it is and the planner picks nested loops over 33,000 rows.
        await connection.execute(
            text(
                "CREATE STATISTICS IF NOT EXISTS parley_studio_facts_labels (mcv, dependencies) "
                f"ON kind, name, value FROM {studio_facts.name}"
            )
        )
        await connection.execute(text(f"ANALYZE {tables}"))
        await connection.commit()


async def _insert_new(connection: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows not indexed yet; returns their event row ids."""
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
        return []
    # a concurrent catch-up may insert the same rows meanwhile: theirs stand (and their facts)
    statement = (
        _dialect(connection)
        .insert(studio_turns)
        .on_conflict_do_nothing(index_elements=["event_row_id"])
        .returning(studio_turns.c.event_row_id)
    )
    return list((await connection.execute(statement, new)).scalars())


def _dialect(connection: AsyncConnection) -> Any:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite


async def _add_facts(connection: AsyncConnection, facts: list[Fact]) -> None:
    """Add the events' facts to the counts (a fact seen before counts once more)."""
    if not facts:
        return
    rows = [
        {"kind": k, "name": n, "value": v, "sender_id": s, "day": d, "events": count}
        for (k, n, v, s, d), count in sorted(Counter(facts).items())
    ]
    statement = _dialect(connection).insert(studio_facts)
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "name", "value", "sender_id", "day"],
        set_={"events": studio_facts.c.events + statement.excluded.events},
    )
    await connection.execute(statement, rows)


FALLBACK_ACTIONS = ("action_default_fallback", "action_two_stage_fallback")
FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTION = "action_handoff_to_human"


async def summarise(connection: AsyncConnection, sender_ids: list[str]) -> None:
    """Recompute the summary rows of these conversations from their indexed turns."""
    t = studio_turns.c
    columns = (t.sender_id, t.type_name, t.timestamp, t.channel, t.model_id, t.intent,
               t.confidence, t.action, t.loop)  # fmt: skip
    for start in range(0, len(sender_ids), 500):
        chunk = sender_ids[start : start + 500]
        query = select(*columns).where(t.sender_id.in_(chunk)).order_by(t.sender_id, t.sequence)
        turns: dict[str, list[Any]] = {}
        for row in await connection.execute(query):
            turns.setdefault(row.sender_id, []).append(row)
        await connection.execute(
            delete(studio_summaries).where(studio_summaries.c.sender_id.in_(chunk))
        )
        if turns:
            await connection.execute(
                studio_summaries.insert(), [summary(sender, rows) for sender, rows in turns.items()]
            )


def summary(sender_id: str, turns: list[Any]) -> dict[str, Any]:
    """A conversation's summary row from its indexed turns, in order."""
    users = [t for t in turns if t.type_name == "user"]
    confidences = [t.confidence for t in users if t.confidence is not None]
    return {
        "sender_id": sender_id,
        "first_at": min(t.timestamp for t in turns),
        "last_at": max(t.timestamp for t in turns),
        "first_day": int(min(t.timestamp for t in turns) // DAY),
        "channel": max((t.channel for t in turns if t.channel), default=None),
        "model_id": max((t.model_id for t in turns if t.model_id), default=None),
        "user_messages": len(users),
        "min_confidence": min(confidences, default=None),
        "handoff": int(any(t.action == HANDOFF_ACTION for t in turns)),
        "fallback": int(any(_fell_back(t) for t in turns)),
        "abandoned": int(abandoned(turns)),
    }


def _fell_back(turn: Any) -> bool:
    return bool(turn.action in FALLBACK_ACTIONS or turn.intent == FALLBACK_INTENT)


def abandoned(turns: list[Any]) -> bool:
    """The conversation ends unresolved: its last user message got a fallback (parsed as
    `nlu_fallback` or answered by a fallback action) or a form was still active at its end, and
    no handoff to a human came after that message. (Whether the user has gone is decided when
    counting: the conversation has been quiet for `ABANDONED_AFTER` seconds.)"""
    last_user = max((n for n, t in enumerate(turns) if t.type_name == "user"), default=None)
    if last_user is None:
        return False
    after = turns[last_user:]
    if any(t.action == HANDOFF_ACTION for t in after):
        return False
    loop = None
    for turn in turns:
        if turn.type_name == "active_loop":
            loop = turn.loop
    return loop is not None or any(_fell_back(t) for t in after)


ABANDONED_AFTER = 30 * 60  # seconds without an event before an unresolved conversation counts


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
    await connection.execute(delete(studio_facts).where(studio_facts.c.sender_id == sender_id))
