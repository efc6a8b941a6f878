"""A turn's I/O in the SQL tracker store: what `TurnIO` promises, and its generic implementation.

The store chooses one `TurnIO` when it is built (`sql.turn_io_for`): `SQLiteTurns` on a SQLite
file (`sql_lite`), `PostgresTurns` on PostgreSQL through psycopg (`sql_postgres`), and
`EngineTurns` here, through SQLAlchemy's async engine, for any other database (an in-memory
SQLite) and for the careful retry of a PostgreSQL append.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.stores.base import StorePosition
from parley.stores.codec import StoredEvent
from parley.stores.errors import FencedError
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import conversations, events

Row = Sequence[Any]  # (created_at, event_count, key_id, body)


class RetryableAppendError(Exception):
    """An append attempt failed in a way another attempt may not (a lost connection, a
    conflict); the turn may have been committed all the same, so the next attempt looks first."""


class TurnIO(Protocol):
    """Load the events after a position and store a turn, for one kind of database."""

    async def rows_after(self, sender_id: str, skip: int) -> Sequence[Row]:
        """(created_at, event_count, key_id, body) of the conversation: its creation time and
        counter on every row, with the events whose sequence is above `skip` (one row with null
        event columns when there are none); no row when the conversation does not exist."""
        ...

    async def append(
        self,
        sender_id: str,
        records: Sequence[StoredEvent],
        latest: float,
        fence: int | None = None,
        retry: bool = False,
    ) -> StorePosition | None:
        """Store the turn's rows in one transaction; its position, or None when `retry` finds
        the turn stored already (by an attempt whose reply was lost). Raises FencedError when
        `fence` is older than the conversation's (nothing stored); RetryableAppendError or the
        driver's error when the attempt failed (the store decides whether to try again)."""
        ...

    async def close(self) -> None: ...


class WriteTransactions:
    """Write transactions on the engine (BEGIN IMMEDIATE on SQLite). SQLite has one write lock
    per file: writers of this process queue on an asyncio lock, in the event loop, instead of
    each pooled connection sleeping in SQLite's busy handler (which turned 32 concurrent turns
    into seconds of back-off)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self._lock is None:
            async with self._writer.begin() as connection:
                yield connection
            return
        async with self._lock, self._writer.begin() as connection:
            yield connection


class EngineTurns:
    """`TurnIO` through SQLAlchemy's async engine: works on every database it supports."""

    def __init__(self, engine: AsyncEngine, writes: WriteTransactions) -> None:
        self.engine = engine
        self._writes = writes

    async def rows_after(self, sender_id: str, skip: int) -> Sequence[Row]:
        async with self.engine.connect() as connection:
            return (await connection.execute(_rows_after(sender_id, skip))).all()

    async def append(
        self,
        sender_id: str,
        records: Sequence[StoredEvent],
        latest: float,
        fence: int | None = None,
        retry: bool = False,
    ) -> StorePosition | None:
        async with self._writes.begin() as connection:
            if retry and await _already_stored(connection, sender_id, records[0]):
                # the failed attempt had committed after all: never store twice (the position
                # is unknown, so a caching reader reloads)
                return None
            first, generation = await _reserve(connection, sender_id, len(records), latest, fence)
            await connection.execute(
                events.insert(),
                [
                    {
                        "sender_id": sender_id,
                        "sequence": first + offset,
                        "type_name": record.type_name,
                        "timestamp": record.timestamp,
                        "event_id": record.event_id,
                        "model_id": record.model_id,
                        "key_id": record.key_id,
                        "body": record.body,
                    }
                    for offset, record in enumerate(records)
                ],
            )
        return StorePosition(generation, first + len(records) - 1)

    async def close(self) -> None:
        """Nothing of its own to close: the store disposes of the engine."""


async def _already_stored(connection: AsyncConnection, sender_id: str, record: StoredEvent) -> bool:
    if record.event_id is None:
        return False
    found = await connection.execute(
        select(events.c.id)
        .where(events.c.sender_id == sender_id, events.c.event_id == record.event_id)
        .limit(1)
    )
    return found.first() is not None


async def _reserve(
    connection: AsyncConnection, sender_id: str, count: int, latest: float, fence: int | None
) -> tuple[int, str]:
    """Claim `count` sequence numbers, creating the conversation row if needed (one upsert: the
    row lock it takes serialises concurrent appends to this conversation); returns the first of
    them and the conversation's generation (its creation time). FencedError when `fence` is
    older than the conversation's."""
    is_postgres = connection.dialect.name == "postgresql"
    # The dialect modules are imported by the store that uses them.
    if is_postgres:
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    statement = dialect.insert(conversations).values(
        sender_id=sender_id,
        created_at=time.time(),
        latest_event_time=latest,
        event_count=count,
        fence=fence,
    )
    newest = func.greatest if is_postgres else func.max
    upsert = statement.on_conflict_do_update(
        index_elements=["sender_id"],
        set_={
            "event_count": conversations.c.event_count + count,
            "latest_event_time": newest(
                conversations.c.latest_event_time, statement.excluded.latest_event_time
            ),
            "fence": func.coalesce(statement.excluded.fence, conversations.c.fence),
        },
        where=or_(
            statement.excluded.fence.is_(None),
            conversations.c.fence.is_(None),
            conversations.c.fence <= statement.excluded.fence,
        ),
    ).returning(conversations.c.event_count, conversations.c.created_at)
    row = (await connection.execute(upsert)).first()
    if row is None:
        raise FencedError(sender_id, fence or 0)
    total, created_at = row
    return int(total) - count + 1, repr(float(created_at))


def _rows_after(sender_id: str, skip: int) -> Select[float, int, str | None, str | None]:
    after = and_(events.c.sender_id == conversations.c.sender_id, events.c.sequence > skip)
    return (
        select(
            conversations.c.created_at,
            conversations.c.event_count,
            events.c.key_id,
            events.c.body,
        )
        .select_from(conversations.outerjoin(events, after))
        .where(conversations.c.sender_id == sender_id)
        .order_by(events.c.sequence)
    )
