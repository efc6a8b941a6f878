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
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.stores.base import EventDict, EventsAfter, StorePosition
from parley.stores.codec import StoredEvent, decode_event, encode_event
from parley.stores.crypto import EventCipher
from parley.stores.errors import FencedError, StoreError
from parley.stores.sql_engine import (
    SQLSettings,
    create_engine,
    describe_error,
    ensure_database,
    migrate,
    writer,
)
from parley.stores.sql_lite import Fenced, SQLiteTurns
from parley.stores.sql_schema import conversations, events

if TYPE_CHECKING:
    from parley.stores.sql_postgres import PostgresTurns

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
        self._writer = writer(engine)
        # SQLite has one write lock per file: writers of this process queue here, in the event
        # loop, instead of each pooled connection sleeping in SQLite's busy handler (which
        # turned 32 concurrent turns into seconds of back-off).
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        # On a SQLite file a turn's load and append skip the async driver (see sql_lite), on
        # PostgreSQL they are one statement each on plain psycopg connections (sql_postgres).
        database = engine.url.database
        self._turns = (
            SQLiteTurns(database)
            if self._write_lock is not None and database and database != ":memory:"
            else None
        )
        self._pg_turns = _postgres_turns(engine, schema)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite)."""
        if self._write_lock is None:
            async with self._writer.begin() as connection:
                yield connection
            return
        async with self._write_lock, self._writer.begin() as connection:
            yield connection

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
        rows = await self._rows_after(sender_id, skip)
        if not rows:
            return EventsAfter([], None, complete=True)
        position = StorePosition(repr(float(rows[0][0])), int(rows[0][1]))
        stale = after is not None and (
            after.generation != position.generation or after.sequence > position.sequence
        )
        if stale:
            rows = await self._rows_after(sender_id, 0)
            if not rows:
                return EventsAfter([], None, complete=True)
            position = StorePosition(repr(float(rows[0][0])), int(rows[0][1]))
        decoded = [
            decode_event(self.cipher, sender_id, key_id, body)
            for _, _, key_id, body in rows
            if body is not None
        ]
        return EventsAfter(decoded, position, complete=after is None or stale)

    async def _rows_after(self, sender_id: str, skip: int) -> list[Any]:
        if self._turns is not None:
            return await self._turns.rows_after(sender_id, skip)
        if self._pg_turns is not None:
            return await self._pg_turns.rows_after(sender_id, skip)
        async with self.engine.connect() as connection:
            return list((await connection.execute(_rows_after(sender_id, skip))).all())

    async def append(
        self, sender_id: str, new_events: Sequence[EventDict], fence: int | None = None
    ) -> StorePosition | None:
        if not new_events:
            return None
        records = [encode_event(self.cipher, sender_id, event) for event in new_events]
        latest = max(record.timestamp for record in records)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                if self._turns is not None:
                    # not under the write lock: turns arriving together commit together
                    done = await self._turns.append(sender_id, records, latest, attempt > 1, fence)
                    if isinstance(done, Fenced):
                        raise FencedError(sender_id, fence or 0)
                    if done is None:
                        return None  # a failed attempt had committed after all
                    first, created_at = done
                    return StorePosition(repr(created_at), first + len(records) - 1)
                if self._pg_turns is not None and attempt == 1:
                    # a retry goes the engine's way below: it first looks for the turn, which
                    # may have been committed by an attempt whose reply was lost
                    try:
                        placed = await self._pg_turns.append(
                            sender_id, records, latest, time.time(), fence
                        )
                    except self._pg_turns.retryable as exc:
                        logger.debug("append to %s failed (%s); retrying", sender_id, exc)
                        await asyncio.sleep(random.uniform(0, 0.005))
                        continue
                    if placed is None:
                        raise FencedError(sender_id, fence or 0)
                    return StorePosition(repr(placed[1]), placed[0] + len(records) - 1)
                async with self._write() as connection:
                    if attempt > 1 and await self._already_stored(
                        connection, sender_id, records[0]
                    ):
                        # the failed attempt had committed after all: never store twice (the
                        # position is unknown, so a caching reader reloads)
                        return None
                    first, generation = await self._reserve(
                        connection, sender_id, len(records), latest, fence
                    )
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
            except (IntegrityError, OperationalError, sqlite3.Error) as exc:
                if attempt == _MAX_ATTEMPTS or not _retryable(exc):
                    raise StoreError(
                        f"could not append {len(records)} event(s) to conversation "
                        f"{sender_id!r} after {attempt} attempt(s): {describe_error(exc)}"
                    ) from exc
                logger.debug("append to %s conflicted (%s); retrying", sender_id, exc)
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _already_stored(
        self, connection: AsyncConnection, sender_id: str, record: StoredEvent
    ) -> bool:
        if record.event_id is None:
            return False
        found = await connection.execute(
            select(events.c.id)
            .where(events.c.sender_id == sender_id, events.c.event_id == record.event_id)
            .limit(1)
        )
        return found.first() is not None

    async def _reserve(
        self,
        connection: AsyncConnection,
        sender_id: str,
        count: int,
        latest: float,
        fence: int | None,
    ) -> tuple[int, str]:
        """Claim `count` sequence numbers, creating the conversation row if needed (one upsert:
        the row lock it takes serialises concurrent appends to this conversation); returns the
        first of them and the conversation's generation (its creation time). FencedError when
        `fence` is older than the conversation's."""
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

    async def delete(self, sender_id: str) -> bool:
        async with self._write() as connection:
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
        async with self._write() as connection:
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
            async with self._write() as connection:
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
        if self._turns is not None:
            await self._turns.close()
        if self._pg_turns is not None:
            await self._pg_turns.close()
        await self.engine.dispose()


def _postgres_turns(engine: AsyncEngine, schema: str | None) -> PostgresTurns | None:
    """The one-statement turns on PostgreSQL through psycopg, on the engine's database."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return None
    from parley.stores.sql_postgres import PostgresTurns

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresTurns(conninfo, f"-csearch_path={schema}" if schema else None)


def _rows_after(sender_id: str, skip: int) -> Select[float, int, str | None, str | None]:
    """The conversation's creation time and counter on every row, with the events whose
    sequence is above `skip` (one row with null event columns when there are none)."""
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


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError | sqlite3.IntegrityError):
        return True
    message = str(exc).lower()
    return any(hint in message for hint in ("locked", "busy", "deadlock", "serializ"))
