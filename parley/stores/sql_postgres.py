"""The per-turn statements of the SQL tracker store on PostgreSQL: one round trip each.

Through SQLAlchemy's async engine a turn cost about ten round trips to the server (pool
pre-ping, BEGIN, the upsert, the inserts, COMMIT, the rollback that resets a returned
connection, and as many for the load) and 6 ms of CPU per message, most of it in building,
compiling and sending them. Here a turn's load is one prepared SELECT and a turn's append one
prepared statement (the conversation's upsert and the rows' insert in data-modifying CTEs), on
plain psycopg connections in autocommit; appends arriving together are committed together
(see `PostgresTurns.append`). psycopg prepares a statement the first time a connection runs it.

Connections are opened on demand up to `pool_size` and kept; one broken or interrupted mid-query
is dropped, never reused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg
from psycopg import pq

from parley.stores.base import StorePosition
from parley.stores.codec import StoredEvent
from parley.stores.errors import FencedError
from parley.stores.sql_schema import conversations, events
from parley.stores.sql_turns import RetryableAppendError, TurnIO

Row = tuple[Any, ...]
Placed = tuple[int, float] | None  # (first sequence, created_at); None: fenced, nothing stored
Waiter = asyncio.Future[Placed]
_IDLE = pq.TransactionStatus.IDLE
DEFAULT_POOL_SIZE = 8  # a statement holds a connection for one round trip: 8 serve c=32 easily

_C = conversations.name
_E = events.name
_ROWS_AFTER = (
    f"SELECT c.created_at, c.event_count, e.key_id, e.body FROM {_C} AS c "
    f"LEFT OUTER JOIN {_E} AS e ON e.sender_id = c.sender_id AND e.sequence > %(skip)s "
    "WHERE c.sender_id = %(sender)s ORDER BY e.sequence"
)
# Reserve the sequence range (the row lock of the upsert orders concurrent appends to one
# conversation) and insert the rows, in one statement. No row comes back when the fencing
# token is older than the conversation's: then nothing is written.
_APPEND = (
    f"WITH reserved AS (INSERT INTO {_C} AS c "
    "(sender_id, created_at, latest_event_time, event_count, fence) "
    "VALUES (%(sender)s, %(now)s, %(latest)s, %(count)s, %(fence)s) "
    "ON CONFLICT (sender_id) DO UPDATE SET event_count = c.event_count + excluded.event_count, "
    "latest_event_time = greatest(c.latest_event_time, excluded.latest_event_time), "
    "fence = coalesce(excluded.fence, c.fence) "
    "WHERE excluded.fence IS NULL OR c.fence IS NULL OR c.fence <= excluded.fence "
    "RETURNING c.event_count, c.created_at), "
    f"inserted AS (INSERT INTO {_E} "
    '(sender_id, sequence, type_name, "timestamp", event_id, model_id, key_id, body) '
    "SELECT %(sender)s, reserved.event_count - %(count)s + 1 + r.i, r.t, r.s, r.e, r.m, r.k, "
    "r.b FROM reserved, json_to_recordset(%(rows)s::json) "
    "AS r(i int, t text, s float8, e text, m text, k text, b text)) "
    "SELECT event_count, created_at FROM reserved"
)


# Errors after which the append may be tried again (the retry first checks whether the turn
# was stored after all): a lost connection, a deadlock, a unique key conflict.
_RETRYABLE = (psycopg.OperationalError, psycopg.IntegrityError)


class PostgresTurns:
    """`TurnIO` of the SQL tracker store on PostgreSQL: one statement per load and per append;
    a retried append goes the careful way of `retries` (it looks for the turn first)."""

    def __init__(
        self,
        conninfo: str,
        retries: TurnIO,
        options: str | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self.conninfo = conninfo
        self.options = options
        self._retries = retries
        self._idle: list[psycopg.AsyncConnection[Row]] = []
        self._slots = asyncio.Semaphore(pool_size)
        self._closed = False
        self._pending: list[tuple[dict[str, Any], Waiter]] = []
        self._writer: asyncio.Task[None] | None = None

    async def _connect(self) -> psycopg.AsyncConnection[Row]:
        extra: dict[str, Any] = {"options": self.options} if self.options else {}
        return await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, prepare_threshold=0, **extra
        )

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        async with self._slots:
            if self._closed:
                raise RuntimeError("the tracker store is closed")
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                yield connection
            except BaseException:
                # interrupted mid-query or broken: its state is unknown, never reuse it
                if connection.broken or connection.info.transaction_status != _IDLE:
                    await self._drop(connection)
                else:
                    self._idle.append(connection)
                raise
            if self._closed or connection.broken:
                await self._drop(connection)
            else:
                self._idle.append(connection)

    async def _drop(self, connection: psycopg.AsyncConnection[Row]) -> None:
        """Close `connection`; when it broke, the kept ones too (the server restarted, most
        likely: they would fail one after another)."""
        doomed = [connection]
        if connection.broken:
            doomed, self._idle = doomed + self._idle, []
        for each in doomed:
            await each.close()

    async def rows_after(self, sender_id: str, skip: int) -> list[Row]:
        """(created_at, event_count, key_id, body) rows as the engine query `_rows_after`; read
        again on a new connection when a kept one turns out to be broken (server restarted)."""
        for attempt in (1, 2):
            async with self._connection() as connection:
                try:
                    cursor = await connection.execute(
                        _ROWS_AFTER, {"skip": skip, "sender": sender_id}
                    )
                    return await cursor.fetchall()
                except psycopg.OperationalError:
                    if attempt == 2 or not connection.broken:
                        raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def append(
        self,
        sender_id: str,
        records: Sequence[StoredEvent],
        latest: float,
        fence: int | None = None,
        retry: bool = False,
    ) -> StorePosition | None:
        """Store a turn; its position, FencedError when `fence` is older than the
        conversation's (nothing stored), RetryableAppendError when the attempt failed in a way
        a retry may not. A retry goes through `retries`, which first looks for the turn: it may
        have been committed by an attempt whose reply was lost."""
        if retry:
            return await self._retries.append(sender_id, records, latest, fence, retry=True)
        try:
            placed = await self._store(sender_id, records, latest, time.time(), fence)
        except _RETRYABLE as exc:
            raise RetryableAppendError(str(exc)) from exc
        if placed is None:
            raise FencedError(sender_id, fence or 0)
        return StorePosition(repr(placed[1]), placed[0] + len(records) - 1)

    async def _store(
        self,
        sender_id: str,
        records: Sequence[StoredEvent],
        latest: float,
        now: float,
        fence: int | None,
    ) -> Placed:
        """Store a turn; (first sequence, created_at), or None when `fence` is older than the
        conversation's (nothing stored).

        Turns that arrive while a write is under way are stored together in the next one
        (group commit, as on SQLite): one transaction, its statements sent in one pipeline,
        one WAL flush for all of them. A turn arriving alone is one statement in autocommit.
        When a transaction fails, its turns are written one by one, so only a turn that fails
        alone fails."""
        # the rows as one JSON text: orjson writes it in C, where psycopg adapts arrays
        # element by element in Python (a third of a turn's CPU time with six text arrays)
        rows = orjson.dumps(
            [
                {"i": i, "t": r.type_name, "s": r.timestamp, "e": r.event_id, "m": r.model_id}
                | {"k": r.key_id, "b": r.body}
                for i, r in enumerate(records)
            ]
        ).decode()
        parameters = {
            "sender": sender_id,
            "now": now,
            "latest": latest,
            "count": len(records),
            "fence": fence,
            "rows": rows,
        }
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Placed] = loop.create_future()
        self._pending.append((parameters, waiter))
        if self._writer is None:
            self._writer = loop.create_task(self._write_pending())
        return await waiter

    async def _write_pending(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    if len(batch) == 1:
                        placed = [await self._append_one(batch[0][0])]
                    else:
                        placed = await self._append_together([p for p, _ in batch])
                except Exception as exc:
                    if len(batch) > 1 and not isinstance(exc, psycopg.OperationalError):
                        # rolled back (a turn at fault): each on its own, only that one fails
                        await self._append_one_by_one(batch)
                    else:
                        # the connection failed, maybe after COMMIT: the caller retries each
                        # turn the careful way (looking for it first)
                        _fail(batch, exc)
                    continue
                except BaseException as exc:  # cancelled: so are the turns waiting here
                    _fail(batch, exc)
                    raise
                for (_, waiter), result in zip(batch, placed, strict=True):
                    if not waiter.done():
                        waiter.set_result(result)
        finally:
            self._writer = None

    async def _append_one(self, parameters: dict[str, Any]) -> Placed:
        async with self._connection() as connection:
            cursor = await connection.execute(_APPEND, parameters)
            return _placed(await cursor.fetchone(), parameters)

    async def _append_together(self, batch: list[dict[str, Any]]) -> list[Placed]:
        async with self._connection() as connection, connection.transaction():
            async with connection.pipeline():
                cursors = []
                for parameters in batch:
                    cursor = connection.cursor()
                    await cursor.execute(_APPEND, parameters)
                    cursors.append(cursor)
            rows = [await cursor.fetchone() for cursor in cursors]
        return [_placed(row, parameters) for row, parameters in zip(rows, batch, strict=True)]

    async def _append_one_by_one(self, batch: list[tuple[dict[str, Any], Waiter]]) -> None:
        for parameters, waiter in batch:
            try:
                result = await self._append_one(parameters)
            except Exception as exc:
                if not waiter.done():
                    waiter.set_exception(exc)
                continue
            if not waiter.done():
                waiter.set_result(result)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.shield(self._writer)  # the turns already handed over are written
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


def _placed(row: Row | None, parameters: dict[str, Any]) -> Placed:
    if row is None:
        return None
    total, created_at = row
    return int(total) - int(parameters["count"]) + 1, float(created_at)


def _fail(batch: list[tuple[dict[str, Any], Waiter]], error: BaseException) -> None:
    for _, waiter in batch:
        if not waiter.done():
            waiter.set_exception(error)
