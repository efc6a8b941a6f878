"""SQL tracker store (SQLAlchemy 2, async): SQLite by default, PostgreSQL in production.

Events are append-only rows keyed by (sender_id, sequence). A turn reserves its sequence range by
incrementing the conversation's counter (a row lock on PostgreSQL, the write lock on SQLite) and
inserts its rows in the same transaction, so a turn is stored whole or not at all and concurrent
appends from several processes never interleave; the unique (sender_id, sequence) constraint
backs this up, and a conflicting transaction is retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.base import EventDict, EventsAfter, StorePosition
from parley.stores.codec import decode_event, encode_event
from parley.stores.crypto import EventCipher
from parley.stores.errors import StoreError
from parley.stores.sql_engine import (
    SQLSettings,
    create_engine,
    describe_error,
    ensure_database,
    migrate,
)
from parley.stores.sql_lite import SQLiteTurns
from parley.stores.sql_schema import conversations, events
from parley.stores.sql_turns import (
    EngineTurns,
    RetryableAppendError,
    TurnIO,
    WriteTransactions,
)

logger = logging.getLogger(__name__)

_MAX_ATTEMPTS = 12
_BATCH = 500


class SQLTrackerStore:
    """Tracker store on a SQL database; call `await store.start()` (or use `open`) first."""

    def __init__(
        self, engine: AsyncEngine, cipher: EventCipher | None = None, schema: str | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher or EventCipher(None)
        self.schema = schema
        self._writes = WriteTransactions(engine)
        self._turns = turn_io_for(engine, schema, self._writes)

    @classmethod
    async def open(
        cls, settings: SQLSettings, project_root: Path, cipher: EventCipher | None = None
    ) -> SQLTrackerStore:
        """Connect and bring the schema up to date (migrations run here)."""
        store = cls(create_engine(settings, project_root), cipher, settings.schema)
        await store.start(settings.login_url(project_root))
        return store

    async def start(self, login_url: URL | None = None) -> None:
        """Create the database if `login_url` is given and it is missing, then migrate."""
        try:
            if login_url is not None and self.engine.url.database:
                await ensure_database(login_url, self.engine.url.database)
            await migrate(self.engine, self.schema)
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StoreError(
                f"cannot open the SQL tracker store at {self.engine.url.render_as_string()}: "
                f"{describe_error(exc)}; check tracker_store in endpoints.yml and that the "
                "database is running"
            ) from exc

    async def load(self, sender_id: str) -> list[EventDict] | None:
        query = (
            select(events.c.key_id, events.c.body)
            .where(events.c.sender_id == sender_id)
            .order_by(events.c.sequence)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return None
        return [decode_event(self.cipher, sender_id, key_id, body) for key_id, body in rows]

    async def load_after(self, sender_id: str, after: StorePosition | None) -> EventsAfter:
        """One query for the conversation's counter and the events after `after`; a second one
        only when `after` belongs to an earlier incarnation of the conversation."""
        skip = after.sequence if after is not None else 0
        rows = await self._turns.rows_after(sender_id, skip)
        if not rows:
            return EventsAfter([], None, complete=True)
        position = StorePosition(repr(float(rows[0][0])), int(rows[0][1]))
        stale = after is not None and (
            after.generation != position.generation or after.sequence > position.sequence
        )
        if stale:
            rows = await self._turns.rows_after(sender_id, 0)
            if not rows:
                return EventsAfter([], None, complete=True)
            position = StorePosition(repr(float(rows[0][0])), int(rows[0][1]))
        decoded = [
            decode_event(self.cipher, sender_id, key_id, body)
            for _, _, key_id, body in rows
            if body is not None
        ]
        return EventsAfter(decoded, position, complete=after is None or stale)

    async def append(
        self, sender_id: str, new_events: Sequence[EventDict], fence: int | None = None
    ) -> StorePosition | None:
        if not new_events:
            return None
        records = [encode_event(self.cipher, sender_id, event) for event in new_events]
        latest = max(record.timestamp for record in records)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                # a retry first looks for the turn: a failed attempt may have committed it
                return await self._turns.append(sender_id, records, latest, fence, attempt > 1)
            except (IntegrityError, OperationalError, sqlite3.Error, RetryableAppendError) as exc:
                if attempt == _MAX_ATTEMPTS or not _retryable(exc):
                    raise StoreError(
                        f"could not append {len(records)} event(s) to conversation "
                        f"{sender_id!r} after {attempt} attempt(s): {describe_error(exc)}"
                    ) from exc
                logger.debug("append to %s failed (%s); retrying", sender_id, exc)
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def delete(self, sender_id: str) -> bool:
        async with self._writes.begin() as connection:
            await connection.execute(delete(events).where(events.c.sender_id == sender_id))
            result = await connection.execute(
                delete(conversations).where(conversations.c.sender_id == sender_id)
            )
        return bool(result.rowcount)

    async def senders(self) -> list[str]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(conversations.c.sender_id).order_by(conversations.c.created_at)
            )
            return [row[0] for row in rows]

    async def purge(self, before: float) -> int:
        """Delete every conversation whose latest event is older than `before` (epoch seconds)."""
        stale = select(conversations.c.sender_id).where(conversations.c.latest_event_time < before)
        async with self._writes.begin() as connection:
            await connection.execute(delete(events).where(events.c.sender_id.in_(stale)))
            result = await connection.execute(
                delete(conversations).where(conversations.c.latest_event_time < before)
            )
        return int(result.rowcount or 0)

    async def stream_events(
        self,
        sender_ids: Sequence[str] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> AsyncIterator[tuple[str, EventDict]]:
        """Stored events in (conversation, sequence) order, filtered by sender and time."""
        query = select(events.c.id, events.c.sender_id, events.c.key_id, events.c.body)
        if sender_ids:
            query = query.where(events.c.sender_id.in_(list(sender_ids)))
        if since is not None:
            query = query.where(events.c.timestamp >= since)
        if until is not None:
            query = query.where(events.c.timestamp < until)
        async with self.engine.connect() as connection:
            result = await connection.stream(query.order_by(events.c.sender_id, events.c.sequence))
            async for _row_id, sender_id, key_id, body in result:
                yield sender_id, decode_event(self.cipher, sender_id, key_id, body)

    async def reencrypt(self) -> int:
        """Re-seal every event not under the current key; returns how many were rewritten."""
        changed = 0
        last_id = -1
        while True:
            query = (
                select(events.c.id, events.c.sender_id, events.c.key_id, events.c.body)
                .where(events.c.id > last_id)
                .order_by(events.c.id)
                .limit(_BATCH)
            )
            async with self._writes.begin() as connection:
                rows = (await connection.execute(query)).all()
                if not rows:
                    return changed
                for row_id, sender_id, key_id, body in rows:
                    if key_id == self.cipher.key_id:
                        continue
                    event = decode_event(self.cipher, sender_id, key_id, body)
                    record = encode_event(self.cipher, sender_id, event)
                    await connection.execute(
                        update(events)
                        .where(events.c.id == row_id)
                        .values(key_id=record.key_id, body=record.body)
                    )
                    changed += 1
                last_id = rows[-1][0]

    async def close(self) -> None:
        await self._turns.close()
        await self.engine.dispose()


def turn_io_for(engine: AsyncEngine, schema: str | None, writes: WriteTransactions) -> TurnIO:
    """The store's turn I/O for its database: on a SQLite file, inline `sqlite3` calls without
    the async driver's hops (`sql_lite`); on PostgreSQL through psycopg, one statement per load
    and per append (`sql_postgres`), retried the careful way through the engine; else the
    engine's statements."""
    through_engine = EngineTurns(engine, writes)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SQLiteTurns(database)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        from parley.stores.sql_postgres import PostgresTurns

        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        options = f"-csearch_path={schema}" if schema else None
        return PostgresTurns(conninfo, through_engine, options)
    return through_engine


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError | sqlite3.IntegrityError | RetryableAppendError):
        return True
    message = str(exc).lower()
    return any(hint in message for hint in ("locked", "busy", "deadlock", "serializ"))
